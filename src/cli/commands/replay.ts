import { readFileSync } from 'node:fs';
import { Command } from 'commander';
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

export function replayCommand(): Command {
  const cmd = new Command('replay')
    .description('Re-execute governance inputs offline and print the state root of every epoch')
    .option('--inputs <file>', 'an inputs file (docs/inputs-format.md)')
    .option('--trace', 'print the root after every step')
    .option('--fault <name>', 'run a faulty executor of the catalogue and show the first divergent step')
    .option('--json', 'print JSON')
    .action((options: ReplayOptions) => {
      const { text, rejected } = runReplay(options);
      process.stdout.write(text);
      if (rejected > 0) {
        process.stderr.write(
          `vigil replay: warning: the reference model rejected ${rejected} input(s); a valid feed has none (see --trace)\n`,
        );
      }
    });
  return withExamples(cmd, [
    ['vigil replay --inputs inputs.json', 'every epoch root of an inputs file'],
    ['vigil replay --inputs inputs.json --fault timelock-ignored', 'where a faulty executor departs'],
  ]);
}
