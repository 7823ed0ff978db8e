/**
 * Bitcoin Core's tx_valid.json and tx_invalid.json, with transaction_tests.cpp's semantics:
 * - tx_valid: the flags listed are the ones to EXCLUDE. The transaction must pass CheckTransaction and
 *   verify under all flags but those; still verify with any further flag removed (each single flag,
 *   plus random combinations); and fail when any one excluded flag is put back ("flags are maximal").
 * - tx_invalid: "BADTX" means CheckTransaction fails (and only then). Otherwise the transaction must
 *   fail under the listed flags and under any superset (each single flag added, plus random ones), and
 *   pass when any one listed flag is removed ("flags are minimal").
 */
import { describe, expect, it } from 'vitest';
import { asmToScript } from '../../../src/bitcoin/script/asm.ts';
import { parseFlags, ScriptFlag } from '../../../src/bitcoin/script/flags.ts';
import { checkTransaction } from '../../../src/bitcoin/tx/check.ts';
import { PrecomputedTxData } from '../../../src/bitcoin/tx/precomputed.ts';
import { displayHexToHash, parseTxHex } from '../../../src/bitcoin/tx/serialize.ts';
import { SignatureCache } from '../../../src/bitcoin/tx/sig-cache.ts';
import type { Prevout, Tx } from '../../../src/bitcoin/tx/types.ts';
import { verifyTransaction } from '../../../src/bitcoin/tx/verify.ts';
import { bytesToHex } from '../../../src/core/bytes.ts';
import { ALL_FLAGS, FLAG_BITS, prng, readTxVectors, type TxVectorRow } from './vectors.ts';

const cache = new SignatureCache(1_000_000);

function prevoutsFor(row: TxVectorRow, tx: Tx): Prevout[] {
  const map = new Map<string, Prevout>();
  for (const p of row.prevouts) {
    const key = `${bytesToHex(displayHexToHash(p.txid))}:${p.vout >>> 0}`;
    map.set(key, { value: BigInt(p.amount ?? 0), script: asmToScript(p.script) });
  }
  return tx.inputs.map((i) => {
    const found = map.get(`${bytesToHex(i.prevTxid)}:${i.vout >>> 0}`);
    if (found === undefined) throw new Error(`row ${row.row}: no prevout for an input`);
    return found;
  });
}

/** Core's TrimFlags: drop flags whose prerequisites are missing. */
function trimFlags(flags: number): number {
  if ((flags & ScriptFlag.P2SH) === 0) flags &= ~ScriptFlag.WITNESS;
  if ((flags & ScriptFlag.WITNESS) === 0) flags &= ~ScriptFlag.CLEANSTACK;
  return flags;
}

/** Core's FillFlags: add the prerequisites of the flags present. */
function fillFlags(flags: number): number {
  if ((flags & ScriptFlag.CLEANSTACK) !== 0) flags |= ScriptFlag.WITNESS;
  if ((flags & ScriptFlag.WITNESS) !== 0) flags |= ScriptFlag.P2SH;
  return flags;
}

/** Core's ExcludeIndividualFlags. */
function excludeIndividualFlags(flags: number): Set<number> {
  const out = new Set<number>();
  for (const bit of FLAG_BITS) {
    const without = trimFlags(flags & ~bit);
    if (without !== flags) out.add(without);
  }
  return out;
}

type Case = { tx: Tx; prevouts: Prevout[]; pre: PrecomputedTxData };

function scriptsValid(c: Case, flags: number): boolean {
  return verifyTransaction(c.tx, c.prevouts, flags & ALL_FLAGS, { cache, precomputed: c.pre }).inputs.every(
    (i) => i.ok,
  );
}

function load(row: TxVectorRow): Case {
  const tx = parseTxHex(row.tx);
  const prevouts = prevoutsFor(row, tx);
  return { tx, prevouts, pre: new PrecomputedTxData(tx, prevouts) };
}

const randomBits = (rand: () => number) => Math.floor(rand() * 2 ** FLAG_BITS.length);

/** Runs both files; `randomRounds` random flag combinations per flag (Core draws one). */
export function runTxVectors(title: string, randomRounds: number): void {
  describe(`${title}: tx_valid.json`, () => {
    const rows = readTxVectors('tx_valid.json');
    it('has rows', () => expect(rows.length).toBeGreaterThan(100));
    it.each(rows.map((r) => [r.row, r.flags, r] as const))('row %i (excluded: %s)', (_row, _flags, row) => {
      const c = load(row);
      expect(checkTransaction(c.tx)).toEqual({ ok: true });
      const excluded = parseFlags(row.flags);
      // The excluded set must leave a valid combination when inverted.
      expect(fillFlags(~excluded & ALL_FLAGS)).toBe(~excluded & ALL_FLAGS);
      const problems: string[] = [];
      if (!scriptsValid(c, ~excluded)) problems.push('fails under every flag but the excluded ones');
      const rand = prng(row.row);
      for (const bit of FLAG_BITS) {
        if (!scriptsValid(c, trimFlags(~(excluded | bit))))
          problems.push(`fails with flag ${bit} also removed`);
        for (let k = 0; k < randomRounds; k++) {
          const r = randomBits(rand);
          if (!scriptsValid(c, trimFlags(~(excluded | r))))
            problems.push(`fails with random flags ${r} removed`);
        }
      }
      for (const flags of excludeIndividualFlags(excluded)) {
        if (scriptsValid(c, ~flags))
          problems.push(`passes with flags ${~flags & ALL_FLAGS}: too many flags excluded`);
      }
      expect(problems).toEqual([]);
    });
  });

  describe(`${title}: tx_invalid.json`, () => {
    const rows = readTxVectors('tx_invalid.json');
    it('has rows', () => expect(rows.length).toBeGreaterThan(80));
    it.each(rows.map((r) => [r.row, r.flags, r] as const))('row %i (flags: %s)', (_row, _flags, row) => {
      const c = load(row);
      const check = checkTransaction(c.tx);
      if (!check.ok) {
        expect(row.flags).toBe('BADTX');
        return;
      }
      expect(row.flags).not.toBe('BADTX');
      const flags = parseFlags(row.flags);
      expect(fillFlags(flags)).toBe(flags);
      const problems: string[] = [];
      if (scriptsValid(c, flags)) problems.push('passes under its flags');
      const rand = prng(row.row);
      for (const bit of FLAG_BITS) {
        if (scriptsValid(c, fillFlags(flags | bit))) problems.push(`passes with flag ${bit} added`);
        for (let k = 0; k < randomRounds; k++) {
          const r = randomBits(rand);
          if (scriptsValid(c, fillFlags(flags | r))) problems.push(`passes with random flags ${r} added`);
        }
      }
      for (const fewer of excludeIndividualFlags(flags)) {
        if (!scriptsValid(c, fewer))
          problems.push(`fails with flags ${fewer}: more flags listed than needed`);
      }
      expect(problems).toEqual([]);
    });
  });
}
