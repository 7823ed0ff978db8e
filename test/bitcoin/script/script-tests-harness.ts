/** Reads Core's script_tests.json rows and runs one through verifyScript (shared by the tests). */
import { readFileSync } from 'node:fs';
import { asmToScript } from '../../../src/bitcoin/script/asm.ts';
import { parseFlags, ScriptFlag } from '../../../src/bitcoin/script/flags.ts';
import { verifyScript } from '../../../src/bitcoin/script/verify.ts';
import { hexToBytes } from '../../../src/core/bytes.ts';
import { buildCreditingTransaction, buildSpendingTransaction, spendChecker, xorshift } from './vectors.ts';

export type Row = unknown[];
export const rows = JSON.parse(readFileSync('test/fixtures/script_tests.json', 'utf8')) as Row[];

export type Case = {
  line: number;
  witness: Uint8Array[];
  value: bigint;
  scriptSig: string;
  scriptPubKey: string;
  flags: string;
  expected: string;
  comment: string;
};

export function toCase(row: Row, line: number): Case | undefined {
  if (row.length === 1) return undefined; // a comment row
  let pos = 0;
  let witness: Uint8Array[] = [];
  let value = 0n;
  if (Array.isArray(row[0])) {
    const w = row[0] as unknown[];
    witness = w.slice(0, -1).map((h) => hexToBytes(h as string));
    value = BigInt(Math.round((w[w.length - 1] as number) * 1e8));
    pos = 1;
  }
  if (row.length < 4 + pos) throw new Error(`Bad test row ${line}: ${JSON.stringify(row)}`);
  return {
    line,
    witness,
    value,
    scriptSig: row[pos] as string,
    scriptPubKey: row[pos + 1] as string,
    flags: row[pos + 2] as string,
    expected: row[pos + 3] as string,
    comment: (row[pos + 4] as string | undefined) ?? '',
  };
}

export const cases = rows.flatMap((row, i) => {
  const c = toCase(row, i);
  return c === undefined ? [] : [c];
});

export function run(c: Case, flags: number): string {
  const scriptSig = asmToScript(c.scriptSig);
  const scriptPubKey = asmToScript(c.scriptPubKey);
  const credit = buildCreditingTransaction(scriptPubKey, c.value);
  const spend = buildSpendingTransaction(scriptSig, c.witness, credit);
  const r = verifyScript(scriptSig, scriptPubKey, c.witness, flags, spendChecker(spend, credit));
  return r.ok ? 'OK' : r.error;
}

export function baseFlags(c: Case): number {
  let flags = parseFlags(c.flags);
  if ((flags & ScriptFlag.CLEANSTACK) !== 0) flags |= ScriptFlag.P2SH | ScriptFlag.WITNESS;
  return flags;
}

/**
 * Core's DoTest check: removing flags from a passing row or adding flags to a failing row keeps the
 * verdict. Returns the flag sets that broke it (empty when none did).
 */
export function perturbedFlagFailures(c: Case, tries: number, seed: number): string[] {
  const flags = baseFlags(c);
  const expectOk = c.expected === 'OK';
  const rand = xorshift(seed);
  const bad: string[] = [];
  for (let k = 0; k < tries; k++) {
    const extra = rand() & 0xffff;
    const combined = expectOk ? flags & ~extra : flags | extra;
    if (
      (combined & ScriptFlag.CLEANSTACK) !== 0 &&
      (~combined & (ScriptFlag.P2SH | ScriptFlag.WITNESS)) !== 0
    )
      continue;
    if ((combined & ScriptFlag.WITNESS) !== 0 && (~combined & ScriptFlag.P2SH) !== 0) continue;
    if ((run(c, combined) === 'OK') !== expectOk) bad.push(`0x${combined.toString(16)}`);
  }
  return bad;
}
