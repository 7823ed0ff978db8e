/**
 * Every row of Bitcoin Core's script_tests.json (only one-element comment rows are not cases), run
 * through verifyScript with Core's crediting/spending transactions and the real signature checker;
 * the expected error is matched exactly. As in Core's DoTest, each row is also re-run with flags
 * removed (passing rows) or added (failing rows), which must not change the verdict.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { asmToScript } from '../../../src/bitcoin/script/asm.ts';
import { parseFlags, ScriptFlag } from '../../../src/bitcoin/script/flags.ts';
import { verifyScript } from '../../../src/bitcoin/script/verify.ts';
import { hexToBytes } from '../../../src/core/bytes.ts';
import { buildCreditingTransaction, buildSpendingTransaction, spendChecker, xorshift } from './vectors.ts';

type Row = unknown[];
const rows = JSON.parse(readFileSync('test/fixtures/script_tests.json', 'utf8')) as Row[];

type Case = {
  line: number;
  witness: Uint8Array[];
  value: bigint;
  scriptSig: string;
  scriptPubKey: string;
  flags: string;
  expected: string;
  comment: string;
};

function toCase(row: Row, line: number): Case | undefined {
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

const cases = rows.flatMap((row, i) => {
  const c = toCase(row, i);
  return c === undefined ? [] : [c];
});

function run(c: Case, flags: number): string {
  const scriptSig = asmToScript(c.scriptSig);
  const scriptPubKey = asmToScript(c.scriptPubKey);
  const credit = buildCreditingTransaction(scriptPubKey, c.value);
  const spend = buildSpendingTransaction(scriptSig, c.witness, credit);
  const r = verifyScript(scriptSig, scriptPubKey, c.witness, flags, spendChecker(spend, credit));
  return r.ok ? 'OK' : r.error;
}

function baseFlags(c: Case): number {
  let flags = parseFlags(c.flags);
  if ((flags & ScriptFlag.CLEANSTACK) !== 0) flags |= ScriptFlag.P2SH | ScriptFlag.WITNESS;
  return flags;
}

describe('script_tests.json', () => {
  it('has the expected number of cases', () => {
    expect(cases.length).toBeGreaterThan(1200);
    expect(rows.length - cases.length).toBe(rows.filter((r) => r.length === 1).length);
  });

  it.each(
    cases.map(
      (c) => [`#${c.line} ${c.scriptSig} | ${c.scriptPubKey} [${c.flags}] → ${c.expected}`, c] as const,
    ),
  )('%s', (_name, c) => {
    const flags = baseFlags(c);
    expect(run(c, flags), c.comment).toBe(c.expected);
    // Removing flags from a passing test or adding flags to a failing test keeps the verdict.
    const expectOk = c.expected === 'OK';
    const rand = xorshift(c.line * 2654435761);
    for (let k = 0; k < 4; k++) {
      const extra = rand() & 0xffff;
      const combined = expectOk ? flags & ~extra : flags | extra;
      if (
        (combined & ScriptFlag.CLEANSTACK) !== 0 &&
        (~combined & (ScriptFlag.P2SH | ScriptFlag.WITNESS)) !== 0
      )
        continue;
      if ((combined & ScriptFlag.WITNESS) !== 0 && (~combined & ScriptFlag.P2SH) !== 0) continue;
      expect(run(c, combined) === 'OK', `with flags 0x${combined.toString(16)}`).toBe(expectOk);
    }
  });
});
