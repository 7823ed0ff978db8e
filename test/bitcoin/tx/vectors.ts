/** Readers for Bitcoin Core's vendored test vectors (test/fixtures), shared by the tx tests. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ALL_FLAG_NAMES, ScriptFlag } from '../../../src/bitcoin/script/flags.ts';
import { createRng } from '../../../src/governance/workload.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(`${FIXTURES}${name}`, 'utf8')) as T;
}

export type TxVectorRow = {
  /** Index in the file, for messages. */
  row: number;
  prevouts: { txid: string; vout: number; script: string; amount?: number }[];
  tx: string;
  flags: string;
};

/** tx_valid.json / tx_invalid.json: rows whose first element is an array; the others are comments. */
export function readTxVectors(name: 'tx_valid.json' | 'tx_invalid.json'): TxVectorRow[] {
  const raw = readFixture<unknown[][]>(name);
  const rows: TxVectorRow[] = [];
  raw.forEach((entry, row) => {
    if (!Array.isArray(entry[0])) return;
    const inputs = entry[0] as [string, number, string, number?][];
    rows.push({
      row,
      prevouts: inputs.map(([txid, vout, script, amount]) => ({
        txid,
        vout,
        script,
        ...(amount === undefined ? {} : { amount }),
      })),
      tx: entry[1] as string,
      flags: entry[2] as string,
    });
  });
  return rows;
}

/** Every script verification flag bit Vigil knows (Core's mapFlagNames). */
export const FLAG_BITS: readonly number[] = ALL_FLAG_NAMES.map((n) => ScriptFlag[n]);
export const ALL_FLAGS = FLAG_BITS.reduce((a, b) => a | b, 0);

/** A deterministic PRNG: random flag combinations that are the same every run. */
export const prng = createRng;
