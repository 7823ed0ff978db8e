/**
 * `vigil tx verify` and `vigil tx debug` as a user runs them: child processes on the real binary,
 * checked against the in-process verifier on Bitcoin Core's vector transactions.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { asmToScript } from '../../../src/bitcoin/script/asm.ts';
import { formatFlags, parseFlags } from '../../../src/bitcoin/script/flags.ts';
import { displayHexToHash, parseTxHex } from '../../../src/bitcoin/tx/serialize.ts';
import { verifyTransaction } from '../../../src/bitcoin/tx/verify.ts';
import { ExitCode } from '../../../src/cli/exit-codes.ts';
import { bytesToHex } from '../../../src/core/bytes.ts';
import { ALL_FLAGS, readTxVectors, type TxVectorRow } from './vectors.ts';

const BIN = fileURLToPath(new URL('../../../bin/vigil.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vigil-tx-cli-'));
let n = 0;
function file(text: string): string {
  const path = join(dir, `f${n++}.json`);
  writeFileSync(path, text);
  return path;
}

function vigil(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

type CliCase = {
  row: number;
  tx: string;
  prevouts: { amount: string; scriptPubKey: string }[];
  flags: string;
};

function toCase(row: TxVectorRow, valid: boolean): CliCase {
  const tx = parseTxHex(row.tx);
  const prevouts = tx.inputs.map((input) => {
    const p = row.prevouts.find(
      (q) =>
        bytesToHex(displayHexToHash(q.txid)) === bytesToHex(input.prevTxid) && q.vout >>> 0 === input.vout,
    );
    if (p === undefined) throw new Error(`row ${row.row}: missing prevout`);
    return { amount: String(p.amount ?? 0), scriptPubKey: bytesToHex(asmToScript(p.script)) };
  });
  // tx_valid lists the flags to exclude; tx_invalid the flags under which it fails.
  const flags = valid ? formatFlags(~parseFlags(row.flags) & ALL_FLAGS) : row.flags;
  return { row: row.row, tx: row.tx, prevouts, flags };
}

function expectedVerdict(c: CliCase) {
  const tx = parseTxHex(c.tx);
  const prevouts = c.prevouts.map((p) => ({
    value: BigInt(p.amount),
    script: Buffer.from(p.scriptPubKey, 'hex'),
  }));
  return verifyTransaction(tx, prevouts, parseFlags(c.flags));
}

const validCases = readTxVectors('tx_valid.json').map((r) => toCase(r, true));
const invalidCases = readTxVectors('tx_invalid.json')
  .filter((r) => r.flags !== 'BADTX')
  .map((r) => toCase(r, false));

describe.concurrent('vigil tx verify', () => {
  it('--batch: one verdict line per vector transaction, equal to the in-process verdict', async () => {
    const cases = [...validCases, ...invalidCases];
    const batch = file(
      cases.map((c) => JSON.stringify({ tx: c.tx, prevouts: c.prevouts, flags: c.flags })).join('\n'),
    );
    const r = await vigil(['tx', 'verify', '--batch', batch]);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(cases.length);
    lines.forEach((line, i) => {
      const want = expectedVerdict(cases[i]!);
      expect(line).toEqual({
        line: i + 1,
        ok: want.ok,
        txid: want.txid,
        flags: formatFlags(parseFlags(cases[i]!.flags)),
        check: want.check,
        inputs: want.inputs,
      });
    });
    // Some vectors must fail (tx_invalid), so the batch as a whole exits 1.
    expect(lines.some((l) => l.ok === false)).toBe(true);
    expect(r.code).toBe(ExitCode.Failed);
  });

  it('--json on a valid vector transaction exits 0 and reports every input ok', async () => {
    const c = validCases.find((v) => v.prevouts.length > 1)!;
    const r = await vigil([
      'tx',
      'verify',
      c.tx,
      '--prevouts',
      file(JSON.stringify(c.prevouts)),
      '--flags',
      c.flags,
      '--json',
    ]);
    const verdict = JSON.parse(r.stdout) as { ok: boolean; inputs: { ok: boolean }[]; txid: string };
    expect(verdict.ok).toBe(true);
    expect(verdict.inputs).toHaveLength(c.prevouts.length);
    expect(verdict.inputs.every((i) => i.ok)).toBe(true);
    expect(verdict.txid).toBe(expectedVerdict(c).txid);
    expect(r.code).toBe(ExitCode.Ok);
  });

  it('--json on an invalid vector transaction exits 1 naming the input, Core’s error and the position', async () => {
    const c = invalidCases.find((v) =>
      expectedVerdict(v).inputs.some((i) => !i.ok && i.opcodeIndex !== undefined),
    )!;
    const want = expectedVerdict(c);
    const r = await vigil(
      ['tx', 'verify', '-', '--prevouts', file(JSON.stringify(c.prevouts)), '--flags', c.flags, '--json'],
      c.tx,
    );
    const verdict = JSON.parse(r.stdout) as { ok: boolean; inputs: unknown[] };
    expect(verdict.ok).toBe(false);
    expect(verdict.inputs).toEqual(want.inputs);
    expect(r.code).toBe(ExitCode.Failed);
  });

  it('without --flags uses the standard flags and prints a readable verdict', async () => {
    const c = validCases[0]!;
    const r = await vigil(['tx', 'verify', c.tx, '--prevouts', file(JSON.stringify(c.prevouts))]);
    expect(r.stdout).toMatch(/^tx [0-9a-f]{64}: (VALID|INVALID) \(flags P2SH,STRICTENC,/);
    expect(r.stdout).toMatch(/input 0: /);
  });

  const c0 = validCases[0]!;
  // The parsing rules themselves are covered in-process (inputs.test.ts); here, that the CLI maps them
  // to exit 2 with one clear line and nothing on stdout.
  it.each([
    ['a prevouts file that is not JSON', () => [c0.tx, '--prevouts', file('{oops')], /not valid JSON/],
    [
      'a prevouts file that does not exist',
      () => [c0.tx, '--prevouts', join(dir, 'missing.json')],
      /Cannot read the prevouts file/,
    ],
    ['too few prevouts', () => [c0.tx, '--prevouts', file('[]')], /0 prevouts for 1 inputs/],
    [
      'an unknown flag',
      () => [c0.tx, '--prevouts', file(JSON.stringify(c0.prevouts)), '--flags', 'P2SH,NOPE'],
      /Unknown verification flag/,
    ],
  ] as const)('refuses %s with exit 2 and one clear line', async (_name, args, message) => {
    const r = await vigil(['tx', 'verify', ...args()]);
    expect(r.code).toBe(ExitCode.Usage);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    expect(r.stdout).toBe('');
  });

  it('--batch keeps going past a malformed line, reports it, and exits 2', async () => {
    const good = JSON.stringify({ tx: c0.tx, prevouts: c0.prevouts, flags: c0.flags });
    const batch = file(
      [good, '{"tx": 12}', 'not json', JSON.stringify({ ...JSON.parse(good), input: 0 })].join('\n'),
    );
    const r = await vigil(['tx', 'verify', '--batch', batch]);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; ok: boolean; error?: string });
    expect(lines.map((l) => l.line)).toEqual([1, 2, 3, 4]);
    expect(lines[0]!.ok).toBe(true);
    expect(lines[1]!.error).toMatch(/"tx" must be a hex string/);
    expect(lines[2]!.error).toMatch(/not valid JSON/);
    expect(lines[3]!.ok).toBe(true);
    expect(r.code).toBe(ExitCode.Usage);
  });
});

describe.concurrent('vigil tx debug (scripted through stdin)', () => {
  it('steps, shows stacks, stops at a breakpoint and finishes with the verifier’s verdict', async () => {
    const c = validCases[0]!;
    const prevouts = file(JSON.stringify(c.prevouts));
    const r = await vigil(
      ['tx', 'debug', c.tx, '--prevouts', prevouts, '--flags', c.flags],
      'step\nstack\nbreak scriptPubKey:1\ncontinue\ninfo\nscript\ncontinue\n',
    );
    expect(r.stdout).toMatch(/^scriptSig #0 next: OP_0 /m);
    expect(r.stdout).toMatch(/^scriptSig #0: OP_0$/m);
    expect(r.stdout).toMatch(/^stack \(top first\):\n {2}0: \[\]$/m);
    expect(r.stdout).toMatch(/^breakpoint at scriptPubKey:1$/m);
    expect(r.stdout).toMatch(/^ran \d+ instructions \(breakpoint\)\nscriptPubKey #1 next: /m);
    expect(r.stdout).toMatch(/^->\*#1 /m);
    expect(r.stdout).toMatch(/verification finished: OK\n$/);
    expect(r.code).toBe(ExitCode.Ok);
  });

  it('ends an invalid input with the same error and position as tx verify', async () => {
    const c = invalidCases.find((v) => {
      const w = expectedVerdict(v);
      return w.inputs.length === 1 && !w.inputs[0]!.ok && w.inputs[0]!.opcodeIndex !== undefined;
    })!;
    const want = expectedVerdict(c).inputs[0]!;
    if (want.ok) throw new Error('expected a failing input');
    const r = await vigil(
      ['tx', 'debug', c.tx, '--prevouts', file(JSON.stringify(c.prevouts)), '--flags', c.flags],
      'continue\n',
    );
    expect(r.stdout).toContain(
      `verification finished: ${want.error} (${want.script} at instruction #${want.opcodeIndex})`,
    );
    expect(r.code).toBe(ExitCode.Failed);
  });
});
