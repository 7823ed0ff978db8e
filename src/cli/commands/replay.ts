import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { addConfigOptions, loadConfigFromCommand } from '../../config/cli-options.ts';
import { bytesToHex } from '../../core/bytes.ts';
import { VigilError, type VigilErrorCategory } from '../../core/errors.ts';
import {
  type Divergence,
  type EpochRoot,
  executorByName,
  firstDivergence,
  type GovernanceInput,
  InputsFileError,
  parseInputsFile,
  type ReexecuteResult,
  reexecute,
  type TraceStep,
} from '../../governance/index.ts';
import { withExamples } from '../help.ts';

export type ReplayOptions = { inputs?: string; trace?: boolean; fault?: string; json?: boolean };

class ReplayUsageError extends VigilError {
  override name = 'ReplayUsageError';
  override readonly category: VigilErrorCategory = 'usage';
}

const rootHex = (root: Uint8Array): string => `0x${bytesToHex(root)}`;

function describeInput(i: GovernanceInput): string {
  const p = i.position;
  return `block ${p.block} tx ${p.txIndex} log ${p.logIndex} ${i.kind} from ${i.sender}`;
}

const epochJson = (e: EpochRoot) => ({ epoch: e.epoch.toString(), step: e.stepIndex, root: rootHex(e.root) });

function stepJson(s: TraceStep) {
  return {
    index: s.index,
    kind: s.input.kind,
    block: s.input.position.block.toString(),
    txIndex: s.input.position.txIndex,
    logIndex: s.input.position.logIndex,
    accepted: s.accepted,
    ...(s.accepted ? {} : { rejectedBy: s.rejectedBy, reason: s.reason }),
    rules: s.rules,
    root: rootHex(s.root),
  };
}

function divergenceJson(d: Divergence) {
  return {
    step: d.index,
    kind: d.input.kind,
    block: d.input.position.block.toString(),
    txIndex: d.input.position.txIndex,
    logIndex: d.input.position.logIndex,
    expectedRoot: rootHex(d.expected.root),
    actualRoot: rootHex(d.actual.root),
    expectedAccepted: d.expected.accepted,
    actualAccepted: d.actual.accepted,
    rules: d.rules,
  };
}

/** Reads and re-executes an inputs file; returns the text to print and how many inputs were rejected. */
export function runReplay(options: ReplayOptions): { text: string; rejected: number } {
  if (!options.inputs) {
    throw new ReplayUsageError('vigil replay needs --inputs <file>', {
      metaMessages: ['The file format is described in docs/inputs-format.md.'],
    });
  }
  const fault = options.fault === undefined ? undefined : executorByName(options.fault);
  let source: string;
  try {
    source = readFileSync(options.inputs, 'utf8');
  } catch (err) {
    throw new InputsFileError(`cannot read inputs file ${options.inputs}`, { cause: err });
  }
  const file = parseInputsFile(source, options.inputs);
  const wantTrace = options.trace === true || fault !== undefined;
  const ref = reexecute(file.inputs, { genesis: file.genesis, trace: wantTrace });
  const bad = fault
    ? reexecute(file.inputs, { genesis: file.genesis, trace: true, executor: fault })
    : undefined;
  const divergence = bad ? firstDivergence(ref.trace ?? [], bad.trace ?? []) : undefined;

  if (options.json) {
    const out: Record<string, unknown> = {
      inputs: file.inputs.length,
      accepted: ref.accepted,
      rejected: ref.rejected,
      epochs: ref.epochs.map(epochJson),
      root: rootHex(ref.root),
    };
    if (options.trace) out.trace = (ref.trace ?? []).map(stepJson);
    if (fault && bad) {
      out.fault = {
        name: fault.name,
        breaks: fault.breaks,
        description: fault.description,
        epochs: bad.epochs.map(epochJson),
        root: rootHex(bad.root),
        divergence: divergence ? divergenceJson(divergence) : null,
      };
    }
    return { text: `${JSON.stringify(out, null, 2)}\n`, rejected: ref.rejected };
  }
  const text = formatText(ref, options.trace === true, fault && bad ? { fault, bad, divergence } : undefined);
  return { text, rejected: ref.rejected };
}

function formatText(
  ref: ReexecuteResult,
  trace: boolean,
  faulty?: {
    fault: { name: string; breaks: string | null; description: string };
    bad: ReexecuteResult;
    divergence: Divergence | undefined;
  },
): string {
  const lines: string[] = [];
  lines.push(`inputs ${ref.accepted + ref.rejected} (accepted ${ref.accepted}, rejected ${ref.rejected})`);
  if (trace) {
    for (const s of ref.trace ?? []) {
      const verdict = s.accepted ? 'ok' : `rejected by ${s.rejectedBy}: ${s.reason}`;
      lines.push(`step ${s.index}  ${describeInput(s.input)}  ${verdict}  root ${rootHex(s.root)}`);
    }
  }
  for (const e of ref.epochs) lines.push(`epoch ${e.epoch}  (step ${e.stepIndex})  root ${rootHex(e.root)}`);
  lines.push(`final root ${rootHex(ref.root)}`);
  if (faulty) {
    const { fault, bad, divergence } = faulty;
    lines.push('', `fault ${fault.name} (breaks ${fault.breaks}): ${fault.description}`);
    for (const e of bad.epochs)
      lines.push(`epoch ${e.epoch}  (step ${e.stepIndex})  root ${rootHex(e.root)}`);
    lines.push(`final root ${rootHex(bad.root)}`);
    if (divergence) {
      lines.push(
        `first divergent step ${divergence.index}: ${describeInput(divergence.input)}`,
        `  reference ${divergence.expected.accepted ? 'accepts' : `rejects (${divergence.expected.rejectedBy})`}, root ${rootHex(divergence.expected.root)}`,
        `  faulty    ${divergence.actual.accepted ? 'accepts' : `rejects (${divergence.actual.rejectedBy})`}, root ${rootHex(divergence.actual.root)}`,
        `  rules evaluated: ${divergence.rules.join(', ')}`,
      );
    } else {
      lines.push('no divergence: these inputs do not exercise the broken rule');
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Largest bundle file read (the codec's own limit applies to the text). */
const MAX_BUNDLE_FILE_BYTES = 512 * 1024 * 1024;

async function readBundleFile(path: string) {
  const { readFile, stat } = await import('node:fs/promises');
  const { parseBundle } = await import('../../replay/bundle-codec.ts');
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new ReplayUsageError(`cannot read bundle ${path}`, { cause: err });
  }
  if (size > MAX_BUNDLE_FILE_BYTES) {
    throw new ReplayUsageError(
      `bundle ${path} is ${size} bytes, more than the ${MAX_BUNDLE_FILE_BYTES} a bundle may be`,
    );
  }
  return parseBundle(await readFile(path, 'utf8'), path);
}

export type BundleReplayOptions = { json?: boolean; report?: string; debug?: string };

/** `vigil replay <bundle>`: replays a dispute bundle offline; returns whether it passed (exit 0). */
export async function runBundleReplay(path: string, options: BundleReplayOptions): Promise<boolean> {
  if (options.debug !== undefined && (options.report !== undefined || options.json)) {
    throw new ReplayUsageError(
      '--debug runs one interactive session: it does not go with --report or --json',
    );
  }
  const bundle = await readBundleFile(path);
  if (options.debug !== undefined) {
    const { runBundleDebug } = await import('../../replay/debug.ts');
    const { CONSENSUS_FLAGS } = await import('../../bitcoin/script/flags.ts');
    // The flags the replay verifies with, so that the session and the replay give one verdict.
    const verdict = await runBundleDebug(bundle, options.debug, {
      input: process.stdin,
      output: process.stdout,
      options: { flags: CONSENSUS_FLAGS },
    });
    return verdict?.ok === true;
  }
  const { replayBundle } = await import('../../replay/engine.ts');
  const { formatReplayText, replayJson, replayPassed } = await import('../../replay/format.ts');
  const result = replayBundle(bundle);
  if (options.report !== undefined) {
    const { renderReplayReport } = await import('../../replay/report/render.ts');
    const { scriptTracesOf } = await import('../../replay/script-traces.ts');
    // Transactions the replay's work budget refused are not run again for their traces.
    const skip = new Set(result.transactions.filter((t) => t.inputs.length === 0).map((t) => t.txid));
    const { writeOutputFile } = await import('../../store/atomic-file.ts');
    writeOutputFile(
      options.report,
      renderReplayReport(result, bundle, scriptTracesOf(bundle, { skip })),
      'the report',
    );
    process.stderr.write(`wrote ${options.report}\n`);
  }
  process.stdout.write(options.json ? replayJson(result) : formatReplayText(result));
  return replayPassed(result);
}

export function replayCommand(): Command {
  const cmd = new Command('replay')
    .description(
      'Replay a dispute bundle offline (verdict, first divergent step, every transaction re-verified), or re-execute a governance inputs file',
    )
    .argument('[bundle]', 'a dispute bundle (vigil disputes export, vigil replay fetch)')
    .option('--inputs <file>', 'an inputs file (docs/inputs-format.md) instead of a bundle')
    .option('--trace', 'with --inputs: print the root after every step')
    .option(
      '--fault <name>',
      'with --inputs: run a faulty executor of the catalogue and show the first divergent step',
    )
    .option('--report <file>', 'with a bundle: also write a self-contained HTML report')
    .option(
      '--debug <tx[:input]>',
      'with a bundle: step through one input of one transaction (role, txid or prefix)',
    )
    .option('--json', 'print JSON')
    .action(async (bundle: string | undefined, options: ReplayOptions & BundleReplayOptions) => {
      if (bundle !== undefined) {
        if (options.inputs !== undefined || options.trace || options.fault !== undefined) {
          throw new ReplayUsageError('a bundle and --inputs/--trace/--fault do not go together');
        }
        const passed = await runBundleReplay(bundle, options);
        if (!passed) process.exitCode = 1;
        return;
      }
      if (options.report !== undefined || options.debug !== undefined) {
        throw new ReplayUsageError(
          '--report and --debug need a bundle: vigil replay <bundle> --report out.html',
        );
      }
      const { text, rejected } = runReplay(options);
      process.stdout.write(text);
      if (rejected > 0) {
        process.stderr.write(
          `vigil replay: warning: the reference model rejected ${rejected} input(s); a valid feed has none (see --trace)\n`,
        );
      }
    });
  cmd.addCommand(replayFetchCommand());
  return withExamples(cmd, [
    ['vigil replay dispute.json', 'replay an exported or fetched dispute offline'],
    ['vigil replay dispute.json --report dispute.html', 'and write an HTML report'],
    ['vigil replay dispute.json --debug disprove:0', 'step through input 0 of the disprove'],
    ['vigil replay fetch -c vigil.yaml --epoch 12 -o dispute.json', 'build a bundle from the two chains'],
    ['vigil replay --inputs inputs.json', 'every epoch root of an inputs file'],
    ['vigil replay --inputs inputs.json --fault timelock-ignored', 'where a faulty executor departs'],
  ]);
}

function replayFetchCommand(): Command {
  const cmd = new Command('fetch')
    .description(
      "Build a dispute bundle from the L2 and Bitcoin alone (no Vigil state): the epoch's inputs, commitments, graph and dispute transactions",
    )
    .option('--epoch <n>', 'the epoch (required)', (v: string) => {
      if (!/^(0|[1-9][0-9]{0,18})$/.test(v))
        throw new ReplayUsageError(`--epoch must be a decimal epoch number, not ${v}`);
      return BigInt(v);
    })
    .option('-c, --config <file>', 'YAML configuration file')
    .option(
      '--graph <file>',
      "the operator's graph document (default: the configured graph directory's file for the epoch)",
    )
    .option('-o, --out <file>', 'output file (default: stdout)');
  addConfigOptions(cmd);
  cmd.action(async (opts: { epoch?: bigint; graph?: string; out?: string }, command: Command) => {
    // Checked here, not by commander: an unknown flag must be reported before a missing one.
    if (opts.epoch === undefined) throw new ReplayUsageError('vigil replay fetch needs --epoch <n>');
    const config = loadConfigFromCommand(command).config;
    const { runReplayFetch } = await import('../../replay/fetch.ts');
    const r = await runReplayFetch(
      config,
      {
        epoch: opts.epoch,
        ...(opts.graph !== undefined ? { graph: opts.graph } : {}),
        ...(opts.out !== undefined ? { out: opts.out } : {}),
      },
      { stderr: process.stderr },
    );
    if (r.out !== undefined) process.stderr.write(`wrote ${r.out}\n`);
    else process.stdout.write(r.text);
  });
  return withExamples(cmd, [
    ['vigil replay fetch -c vigil.yaml --epoch 12 -o dispute.json', 'a bundle of epoch 12'],
  ]);
}
