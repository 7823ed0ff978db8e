import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { addConfigOptions, loadConfigFromCommand } from '../../config/cli-options.ts';
import { VigilError, type VigilErrorCategory } from '../../core/errors.ts';
import { ExitCode, exitCodeFor } from '../exit-codes.ts';
import { withExamples } from '../help.ts';

type VerifyFlags = {
  epoch?: string;
  latest?: boolean;
  root?: string;
  graph?: string;
  bitcoin: boolean;
  cacheDir?: string;
  cache: boolean;
  crossCheck: boolean;
  json?: boolean;
  textfile?: string;
  progress: boolean;
  account?: string;
  proofOut?: string;
};

/** An account's proof file holds a dozen leaves of a few dozen siblings: a megabyte is far beyond. */
const PROOF_FILE_MAX_BYTES = 1024 * 1024;

class VerifyFlagError extends VigilError {
  override name = 'VerifyFlagError';
  override readonly category: VigilErrorCategory = 'usage';
}

function epochFlag(f: VerifyFlags): bigint | 'latest' {
  if (f.latest === true && f.epoch !== undefined)
    throw new VerifyFlagError('give --epoch <n> or --latest, not both');
  if (f.latest === true) return 'latest';
  if (f.epoch === undefined) throw new VerifyFlagError('vigil verify needs --epoch <n> or --latest');
  if (!/^(0|[1-9][0-9]{0,18})$/.test(f.epoch)) {
    throw new VerifyFlagError(`--epoch ${f.epoch} is not an epoch number (a non-negative integer)`);
  }
  return BigInt(f.epoch);
}

/** A one-line progress bar on stderr, redrawn in place; only when stderr is a terminal. */
function progressBar(): {
  update: (p: { start: bigint; cursor: bigint; head: bigint }) => void;
  done: () => void;
} {
  let drawn = false;
  return {
    update: ({ start, cursor, head }) => {
      const total = head > start ? Number(head - start) : 1;
      const done = Math.min(total, Math.max(0, Number(cursor - start)));
      const width = 30;
      const filled = Math.round((done / total) * width);
      const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
      process.stderr.write(`\rL2 blocks [${bar}] ${cursor}/${head}`);
      drawn = true;
    },
    done: () => {
      if (drawn) process.stderr.write('\n');
    },
  };
}

async function verifyAction(flags: VerifyFlags, command: Command): Promise<void> {
  const started = Date.now();
  const { runVerifyEpoch } = await import('../../verify/run.ts');
  const { verificationJson, verificationText } = await import('../../verify/report.ts');
  const { writeTextfile } = await import('../../verify/textfile.ts');
  const bar = flags.progress && process.stderr.isTTY ? progressBar() : undefined;
  let verification: Awaited<ReturnType<typeof runVerifyEpoch>> | undefined;
  let exitCode: number = ExitCode.Ok;
  try {
    // Inside the try: a cron job's textfile must say so when the flags or the configuration are wrong.
    const epoch = epochFlag(flags);
    if (flags.proofOut !== undefined && flags.account === undefined) {
      throw new VerifyFlagError('--proof-out writes the proofs of --account <address>: give both');
    }
    const loaded = loadConfigFromCommand(command);
    for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
    verification = await runVerifyEpoch(loaded.config, {
      epoch,
      ...(flags.root !== undefined ? { root: flags.root } : {}),
      ...(flags.graph !== undefined ? { graph: flags.graph } : {}),
      bitcoin: flags.bitcoin,
      cacheDir: flags.cache ? flags.cacheDir : false,
      crossCheck: flags.crossCheck,
      ...(flags.account !== undefined ? { account: flags.account } : {}),
      ...(bar ? { onProgress: bar.update } : {}),
      onCacheDiscarded: (reason) =>
        process.stderr.write(`warning: the L2 cache could not be read and starts over: ${reason}\n`),
    });
    exitCode = verification.disagreement ? ExitCode.Failed : ExitCode.Ok;
  } catch (err) {
    exitCode = exitCodeFor(err);
    throw err;
  } finally {
    bar?.done();
    if (flags.textfile !== undefined) {
      try {
        await writeTextfile(flags.textfile, {
          verification,
          exitCode,
          durationSeconds: (Date.now() - started) / 1000,
          finishedAt: Math.floor(Date.now() / 1000),
        });
      } catch (err) {
        // Never instead of the verdict or the error the run ended with.
        process.stderr.write(
          `warning: the textfile ${flags.textfile} could not be written: ${err instanceof Error ? err.message : String(err)}\n`,
        );
      }
    }
  }
  if (flags.proofOut !== undefined && verification.account) {
    const { encodeProofFile } = await import('../../verify/proof-file.ts');
    writeFileSync(flags.proofOut, `${encodeProofFile(verification.account.proofs)}\n`);
  }
  process.stdout.write(
    flags.json
      ? `${JSON.stringify(verificationJson(verification), null, 2)}\n`
      : verificationText(verification),
  );
  process.exitCode = exitCode;
}

async function proofAction(file: string, flags: { root?: string; json?: boolean }): Promise<void> {
  const { parseProofFile, verifyProofFile } = await import('../../verify/proof-file.ts');
  const { jsonValue, proofVerdictText } = await import('../../verify/account-report.ts');
  const { readAtMost } = await import('../../verify/run.ts');
  let text: string | undefined;
  try {
    // Bounded: a proof file is a few kilobytes, and /dev/zero or a pipe must not hold the command forever.
    text = readAtMost(file, PROOF_FILE_MAX_BYTES);
  } catch (err) {
    throw new VerifyFlagError(`the proof file ${file} cannot be read`, { cause: err });
  }
  if (text === undefined) {
    throw new VerifyFlagError(
      `the proof file ${file} is larger than ${PROOF_FILE_MAX_BYTES} bytes: not a proof file`,
    );
  }
  const verdict = verifyProofFile(parseProofFile(text), flags.root);
  process.stdout.write(
    flags.json ? `${JSON.stringify(verdict, jsonValue, 2)}\n` : proofVerdictText(file, verdict),
  );
  process.exitCode = verdict.ok ? ExitCode.Ok : ExitCode.Failed;
}

export function verifyCommand(): Command {
  const cmd = new Command('verify')
    .description(
      "Check one epoch from the chains alone (no Redis): Vigil's root against a validator's root, the L2 commitment and the Bitcoin kick-off",
    )
    .option('--epoch <n>', 'the epoch to check')
    .option('--latest', 'check the last epoch that ended on the L2 (l2.confirmations deep)')
    .option('--root <hex|file>', 'the root you are about to commit (32 bytes of hex, or a file holding it)')
    .option(
      '--graph <file>',
      "the operator's graph document (default: dispute.graphDir/epoch-<n>.json if present)",
    )
    .option('--no-bitcoin', 'do not read the kick-off on Bitcoin, even with a graph')
    .option(
      '--cache-dir <dir>',
      'where the L2 journal is kept between runs (default: $XDG_CACHE_HOME/vigil/verify)',
    )
    .option('--no-cache', 'keep nothing between runs: read the L2 from the start block')
    .option('--no-cross-check', "do not read the contracts' state at the epoch's end")
    .option('--textfile <path>', 'also write the outcome as Prometheus metrics (textfile collector)')
    .option('--no-progress', 'no progress bar on stderr')
    .option(
      '--account <address>',
      "also show a validator's or delegator's figures, proofs and the contracts' answers",
    )
    .option(
      '--proof-out <file>',
      "with --account: write the account's proofs as JSON (check with `vigil verify proof`)",
    )
    .option('--json', 'print the verdict as JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 every compared root agrees, 1 a root disagrees or the L2 broke a rule, 2 bad usage,\n3 bad configuration, 4 the L2 (or the Bitcoin backend) is unreachable. See docs/verify.md.',
    );
  withExamples(cmd, [
    ['vigil verify -c vigil.yaml --latest', 'the last epoch that ended, against the L2 commitment'],
    ['vigil verify -c vigil.yaml --epoch 42 --root 0x…', 'the root you are about to commit'],
    ['vigil verify -c vigil.yaml --epoch 42 --account 0x… --proof-out p.json', 'your own figures and proofs'],
    ['vigil verify proof p.json --root 0x…', 'check a proof file against a root alone'],
  ]);
  addConfigOptions(cmd);
  // `vigil verify proof <file> --root <hex>`: the options after `proof` are its own, not verify's.
  cmd.enablePositionalOptions();
  cmd.action(verifyAction);
  cmd
    .command('proof <file>')
    .description('Check a proof file written by --proof-out against its root alone (no chain, no config)')
    .option('--root <hex>', 'the root the proofs must be against (the committed root of the epoch)')
    .option('--json', 'print the verdict as JSON')
    .action(proofAction)
    .addHelpText(
      'after',
      '\nExamples:\n  vigil verify proof p.json --root 0x…  # every leaf against the root you trust',
    );
  return cmd;
}
