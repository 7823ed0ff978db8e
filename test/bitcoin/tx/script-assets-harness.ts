/**
 * script_assets_test.json (Bitcoin Core's feature_taproot.py --dumptests), with script_assets_test's
 * semantics: every `success` witness must verify under every consensus flag set that is a subset of
 * the record's flags (under all of them when `final`), and every `failure` witness must fail under
 * every consensus flag set that is a superset of the record's flags.
 *
 * `runScriptAssets(select)` runs every record; `select` picks which of the applicable flag sets to
 * try: all 64 in script-assets.long.test.ts, the boundary sets in the default suite.
 */
import { describe, expect, it } from 'vitest';
import { formatFlags, parseFlags, ScriptFlag } from '../../../src/bitcoin/script/flags.ts';
import { verifyScript } from '../../../src/bitcoin/script/verify.ts';
import { TransactionSignatureChecker } from '../../../src/bitcoin/tx/checker.ts';
import { PrecomputedTxData } from '../../../src/bitcoin/tx/precomputed.ts';
import { cloneTx, parseTxHex, parseTxOutput } from '../../../src/bitcoin/tx/serialize.ts';
import { SignatureCache } from '../../../src/bitcoin/tx/sig-cache.ts';
import { hexToBytes } from '../../../src/core/bytes.ts';
import { readFixture } from './vectors.ts';

type Spend = { scriptSig: string; witness: string[] };
type AssetRecord = {
  tx: string;
  prevouts: string[];
  index: number;
  flags: string;
  comment: string;
  final?: boolean;
  success?: Spend;
  failure?: Spend;
};

/** Core's AllConsensusFlags: the 64 valid combinations of the seven consensus flags. */
function allConsensusFlags(): number[] {
  const bits = [
    ScriptFlag.P2SH,
    ScriptFlag.DERSIG,
    ScriptFlag.NULLDUMMY,
    ScriptFlag.CHECKLOCKTIMEVERIFY,
    ScriptFlag.CHECKSEQUENCEVERIFY,
    ScriptFlag.WITNESS,
    ScriptFlag.TAPROOT,
  ];
  const out: number[] = [];
  for (let i = 0; i < 128; i++) {
    let flags = 0;
    bits.forEach((b, k) => {
      if (i & (1 << k)) flags |= b;
    });
    if (flags & ScriptFlag.WITNESS && !(flags & ScriptFlag.P2SH)) continue;
    if (flags & ScriptFlag.TAPROOT && !(flags & ScriptFlag.WITNESS)) continue;
    out.push(flags);
  }
  return out;
}

export const CONSENSUS_SETS = allConsensusFlags();
export const ALL_CONSENSUS = CONSENSUS_SETS.reduce((a, b) => a | b, 0);

/** Picks, from the flag sets Core's logic applies to a record, the ones to run. */
export type FlagSelection = (applicable: number[], testFlags: number, expectValid: boolean) => number[];
const cache = new SignatureCache(1_000_000);

/** The flag sets under which `spend` gave the wrong answer. */
function wrongFlagSets(
  record: AssetRecord,
  spend: Spend,
  expectValid: boolean,
  select: FlagSelection,
): string[] {
  const base = parseTxHex(record.tx);
  const prevouts = record.prevouts.map((p) => {
    const o = parseTxOutput(hexToBytes(p));
    return { value: o.value, script: o.script };
  });
  const tx = cloneTx(base);
  const input = tx.inputs[record.index]!;
  input.scriptSig = hexToBytes(spend.scriptSig);
  input.witness = spend.witness.map((w) => hexToBytes(w));
  const pre = new PrecomputedTxData(tx, prevouts);
  const checker = new TransactionSignatureChecker(tx, record.index, prevouts[record.index]!.value, {
    precomputed: pre,
    cache,
  });
  const testFlags = parseFlags(record.flags);
  const wrong: string[] = [];
  const applicable = CONSENSUS_SETS.filter((flags) =>
    expectValid ? record.final === true || (flags & testFlags) === flags : (flags & testFlags) === testFlags,
  );
  for (const flags of select(applicable, testFlags, expectValid)) {
    const r = verifyScript(input.scriptSig, prevouts[record.index]!.script, input.witness, flags, checker);
    if (r.ok !== expectValid) wrong.push(`${formatFlags(flags)}${r.ok ? '' : ` → ${r.error}`}`);
  }
  return wrong;
}

const records = readFixture<AssetRecord[]>('script_assets_test.json');
const CHUNK = 250;
const chunks: [number, number][] = [];
for (let i = 0; i < records.length; i += CHUNK) chunks.push([i, Math.min(records.length, i + CHUNK)]);

export function runScriptAssets(title: string, select: FlagSelection): void {
  describe(title, () => {
    it('has all 2,751 records, each with a success or a failure', () => {
      expect(records).toHaveLength(2751);
      for (const r of records) expect(r.success !== undefined || r.failure !== undefined).toBe(true);
    });

    it.each(chunks)('records %i to %i', (from, to) => {
      const problems: string[] = [];
      for (let i = from; i < to; i++) {
        const r = records[i]!;
        if (r.success) {
          const wrong = wrongFlagSets(r, r.success, true, select);
          if (wrong.length > 0)
            problems.push(`#${i} ${r.comment} success rejected under ${wrong.slice(0, 3).join(' | ')}`);
        }
        if (r.failure) {
          const wrong = wrongFlagSets(r, r.failure, false, select);
          if (wrong.length > 0)
            problems.push(`#${i} ${r.comment} failure accepted under ${wrong.slice(0, 3).join(' | ')}`);
        }
      }
      expect(problems).toEqual([]);
    });
  });
}
