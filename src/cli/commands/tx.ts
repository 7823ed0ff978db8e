import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { runDebugRepl } from '../../bitcoin/debug-repl.ts';
import { formatFlags } from '../../bitcoin/script/flags.ts';
import { TxDebugSession } from '../../bitcoin/tx/debug-session.ts';
import {
  checkPrevoutCount,
  parsePrevoutsText,
  readBatchLine,
  readFlags,
  readTxHex,
  TxInputError,
} from '../../bitcoin/tx/inputs.ts';
import { SignatureCache } from '../../bitcoin/tx/sig-cache.ts';
import type { Prevout, Tx } from '../../bitcoin/tx/types.ts';
import { type TxVerdict, verifyTransaction } from '../../bitcoin/tx/verify.ts';
import { VigilError, type VigilErrorCategory } from '../../core/errors.ts';
import { ExitCode } from '../exit-codes.ts';
import { withExamples } from '../help.ts';

/** Bad input (unreadable file, invalid hex or JSON, wrong prevout count, unknown flag): exit 2. */
class TxToolInputError extends VigilError {
  override name = 'TxToolInputError';
  override readonly category: VigilErrorCategory = 'usage';
}

function asInputError(err: unknown): never {
  if (err instanceof TxInputError) {
    throw new TxToolInputError(err.shortMessage, {
      cause: err,
      metaMessages: err.metaMessages,
      ...(err.details === undefined ? {} : { details: err.details }),
    });
  }
  throw err;
}

function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new TxToolInputError(`Cannot read the ${what} "${path}"`, { cause: err });
  }
}

function loadTxAndPrevouts(
  txArg: string | undefined,
  prevoutsPath: string | undefined,
): { tx: Tx; prevouts: Prevout[] } {
  if (txArg === undefined) throw new TxToolInputError('Give the transaction hex, or - to read it from stdin');
  if (prevoutsPath === undefined) {
    throw new TxToolInputError('--prevouts <file> is required', {
      metaMessages: ['A JSON array of { "amount": "<sats>", "scriptPubKey": "<hex>" }, one per input.'],
    });
  }
  const hex = txArg === '-' ? readTextFile('-', 'transaction from stdin') : txArg;
  try {
    const tx = readTxHex(hex);
    const prevouts = parsePrevoutsText(
      readTextFile(prevoutsPath, 'prevouts file'),
      `prevouts file ${prevoutsPath}`,
    );
    checkPrevoutCount(tx, prevouts, `prevouts file ${prevoutsPath}`);
    return { tx, prevouts };
  } catch (err) {
    return asInputError(err);
  }
}

function flagsOrExit(list: string | undefined): number {
  try {
    return readFlags(list);
  } catch (err) {
    return asInputError(err);
  }
}

/** The JSON verdict: stable field names (documented in docs/tx-tools.md). */
function verdictJson(verdict: TxVerdict, flags: number): Record<string, unknown> {
  return {
    ok: verdict.ok,
    txid: verdict.txid,
    flags: formatFlags(flags),
    check: verdict.check,
    inputs: verdict.inputs,
  };
}

function verdictText(verdict: TxVerdict, flags: number): string {
  const lines = [`tx ${verdict.txid}: ${verdict.ok ? 'VALID' : 'INVALID'} (flags ${formatFlags(flags)})`];
  if (!verdict.check.ok) lines.push(`  CheckTransaction: ${verdict.check.reason}`);
  for (const i of verdict.inputs) {
    if (i.ok) lines.push(`  input ${i.index}: ok`);
    else {
      const where = [i.script, i.opcodeIndex === undefined ? undefined : `instruction #${i.opcodeIndex}`]
        .filter((x) => x !== undefined)
        .join(', ');
      lines.push(`  input ${i.index}: ${i.error}${where === '' ? '' : ` (${where})`}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

type VerifyOptions = { prevouts?: string; flags?: string; batch?: string; json?: boolean };

function runBatch(path: string): number {
  const text = readTextFile(path, 'batch file');
  const cache = new SignatureCache();
  let failed = false;
  let malformed = false;
  const lines = text.split('\n');
  const out: string[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const lineNo = i + 1;
    try {
      const c = readBatchLine(line, lineNo);
      const verdict = verifyTransaction(c.tx, c.prevouts, c.flags, {
        cache,
        ...(c.input === undefined ? {} : { inputs: [c.input] }),
      });
      if (!verdict.ok) failed = true;
      out.push(JSON.stringify({ line: lineNo, ...verdictJson(verdict, c.flags) }));
    } catch (err) {
      if (!(err instanceof VigilError)) throw err;
      malformed = true;
      out.push(JSON.stringify({ line: lineNo, ok: false, error: err.shortMessage, details: err.details }));
    }
    if (out.length >= 256) process.stdout.write(`${out.splice(0).join('\n')}\n`);
  });
  if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
  return malformed ? ExitCode.Usage : failed ? ExitCode.Failed : ExitCode.Ok;
}

function runVerify(txArg: string | undefined, opts: VerifyOptions): number {
  if (opts.batch !== undefined) {
    if (txArg !== undefined || opts.prevouts !== undefined) {
      throw new TxToolInputError(
        '--batch takes its transactions and prevouts from the file; drop the others',
      );
    }
    return runBatch(opts.batch);
  }
  const { tx, prevouts } = loadTxAndPrevouts(txArg, opts.prevouts);
  const flags = flagsOrExit(opts.flags);
  let verdict: TxVerdict;
  try {
    verdict = verifyTransaction(tx, prevouts, flags);
  } catch (err) {
    if (err instanceof VigilError) throw new TxToolInputError(err.shortMessage, { cause: err });
    throw err;
  }
  process.stdout.write(
    opts.json ? `${JSON.stringify(verdictJson(verdict, flags))}\n` : verdictText(verdict, flags),
  );
  return verdict.ok ? ExitCode.Ok : ExitCode.Failed;
}

type DebugOptions = { prevouts?: string; input: string; flags?: string };

async function runDebug(txArg: string | undefined, opts: DebugOptions): Promise<number> {
  if (txArg === '-') {
    throw new TxToolInputError('tx debug reads its commands from stdin: pass the transaction hex itself');
  }
  const { tx, prevouts } = loadTxAndPrevouts(txArg, opts.prevouts);
  const flags = flagsOrExit(opts.flags);
  const index = Number(opts.input);
  if (!Number.isInteger(index) || index < 0 || index >= tx.inputs.length) {
    throw new TxToolInputError(
      `--input ${opts.input} does not exist (the transaction has ${tx.inputs.length} inputs)`,
    );
  }
  let session: TxDebugSession;
  try {
    session = new TxDebugSession(tx, prevouts, index, flags);
  } catch (err) {
    if (err instanceof VigilError) throw new TxToolInputError(err.shortMessage, { cause: err });
    throw err;
  }
  const r = await runDebugRepl(session, session.banner(), { input: process.stdin, output: process.stdout });
  return r?.ok === true ? ExitCode.Ok : ExitCode.Failed;
}

export function txCommand(): Command {
  const cmd = new Command('tx').description(
    'Verify and debug Bitcoin transactions with Vigil’s script engine',
  );
  cmd
    .command('verify [txhex]')
    .description('Verify every input of a transaction against its prevouts (txhex or - for stdin)')
    .option(
      '--prevouts <file>',
      'JSON array of { "amount": "<sats>", "scriptPubKey": "<hex>" }, one per input',
    )
    .option(
      '--flags <list>',
      'comma-separated verification flags (default: all consensus and standard flags)',
    )
    .option('--batch <file>', 'JSON lines of { "tx", "prevouts", "flags", "input"? }; one verdict line each')
    .option('--json', 'print JSON')
    .action((txArg: string | undefined, opts: VerifyOptions) => {
      process.exitCode = runVerify(txArg, opts);
    });
  withExamples(cmd.commands[0] as Command, [
    ['vigil tx verify 0200… --prevouts prevouts.json', 'every input against its prevouts'],
    ['vigil tx verify --batch cases.jsonl --json', 'one verdict line per case'],
  ]);
  cmd
    .command('debug [txhex]')
    .description('Step through an input’s scripts opcode by opcode (btcdeb-like)')
    .option('--prevouts <file>', 'JSON array of prevouts, one per input')
    .option('--input <n>', 'the input to debug', '0')
    .option(
      '--flags <list>',
      'comma-separated verification flags (default: all consensus and standard flags)',
    )
    .action(async (txArg: string | undefined, opts: DebugOptions) => {
      process.exitCode = await runDebug(txArg, opts);
    });
  withExamples(cmd.commands[1] as Command, [
    ['vigil tx debug 0200… --prevouts prevouts.json --input 1', 'step through input 1'],
  ]);
  return cmd;
}
