/**
 * Shared pieces of the disprove-leaf benches (circuits.bench.ts, gvm-exec.bench.ts, gvm-trace.bench.ts):
 * Winternitz keys derived as a graph derives them, one signature per committed field, a spend measured
 * in Vigil's interpreter (stack + altstack peak), and the weight / max-stack figures every leaf reports.
 * Bench-only: the tests keep their own helpers (bench/ does not import test/).
 */
import { tapscriptWitnessWeight } from '../circuits/wots-values.ts';
import { NoSignatureChecker } from '../src/bitcoin/script/checker.ts';
import { CONSENSUS_FLAGS } from '../src/bitcoin/script/flags.ts';
import { ScriptExecution } from '../src/bitcoin/script/interpreter.ts';
import { castToBool } from '../src/bitcoin/script/num.ts';
import {
  deriveWotsSecretKey,
  type WotsPublicKey,
  type WotsSecretKey,
  wotsPublicKey,
} from '../src/dispute/winternitz/keys.ts';
import { type WotsSignature, wotsSign } from '../src/dispute/winternitz/sign.ts';
import { type BenchFigure, withRatio } from './harness.ts';

/** The tree depth the weight figures assume. */
export const DEPTH = 8;

/** A Winternitz secret key for one committed value of `messageBytes` bytes (regtest, epoch 14). */
export function benchSecret(
  seedByte: number,
  instance: number,
  valueIndex: number,
  messageBytes: number,
): WotsSecretKey {
  return deriveWotsSecretKey(new Uint8Array(32).fill(seedByte), {
    network: 'regtest',
    operator: new Uint8Array(32).fill(0x66),
    epoch: 14n,
    instance,
    valueIndex,
    messageBytes,
  });
}

/** One secret per field, made by `make` (given the field and its index, the value index a graph uses). */
export function secretsOf<F extends string>(
  fields: readonly F[],
  make: (f: F, index: number) => WotsSecretKey,
): Record<F, WotsSecretKey> {
  return Object.fromEntries(fields.map((f, i) => [f, make(f, i)])) as Record<F, WotsSecretKey>;
}

/** The public key of each field's secret. */
export function publicKeysOf<F extends string>(
  fields: readonly F[],
  secrets: Record<F, WotsSecretKey>,
): Record<F, WotsPublicKey> {
  return Object.fromEntries(fields.map((f) => [f, wotsPublicKey(secrets[f])])) as Record<F, WotsPublicKey>;
}

/** Each field's value signed under its own secret. */
export function signFields<F extends string>(
  fields: readonly F[],
  secrets: Record<F, WotsSecretKey>,
  messageOf: (f: F) => Uint8Array,
): Record<F, WotsSignature> {
  return Object.fromEntries(fields.map((f) => [f, wotsSign(secrets[f], messageOf(f))])) as Record<
    F,
    WotsSignature
  >;
}

/** One run of `script` on `items` under tapscript rules, step by step: its result and stack peak. */
export function measuredRun(
  script: Uint8Array,
  items: Uint8Array[],
): { error: string | undefined; max: number; spent: boolean } {
  const e = new ScriptExecution({
    script,
    stack: items,
    flags: CONSENSUS_FLAGS,
    checker: NoSignatureChecker,
    sigVersion: 'tapscript',
  });
  let max = items.length;
  while (e.step() === 'running') max = Math.max(max, e.stack.length + e.altstack.length);
  return { error: e.error, max, spent: e.stack.length === 1 && castToBool(e.stack[0] as Uint8Array) };
}

/** A standard transaction's weight limit (policy), in WU: every leaf's spending input must fit in it. */
export const STANDARD_WEIGHT = 400_000;
/** Tapscript's stack + altstack limit (consensus). */
export const STACK_LIMIT = 1_000;
/**
 * BitVM's largest disprove leaf as issue #14 quotes it: a 3.95 MB script at 933 stack items, beyond the
 * standard-transaction limit. Published figures, not measured here; its script bytes alone weigh
 * 3,950,000 WU (witness bytes count 1 WU each), so the weight baseline is a lower bound of its weight.
 */
export const BITVM_LARGEST_LEAF = { scriptBytes: 3_950_000, maxStack: 933 } as const;

const percentOf = (value: number, limit: number) => `${((value / limit) * 100).toFixed(1)}%`;

/**
 * The spending input's weight figure (script + witness + control block), beside BitVM's largest
 * disprove leaf (the baseline and ratio) and against the 400,000 WU standard limit (in the target).
 * Every leaf weight carries the same baseline and target.
 */
export function weightFigure(name: string, items: Uint8Array[], script: Uint8Array): BenchFigure {
  const value = tapscriptWitnessWeight(items, script, DEPTH);
  return withRatio({
    name,
    value,
    unit: `WU (script + witness + control block, tree depth ${DEPTH})`,
    baseline: BITVM_LARGEST_LEAF.scriptBytes,
    target:
      `≤ 400,000 WU standard (#14 acceptance 3): ${percentOf(value, STANDARD_WEIGHT)} of it; ` +
      "baseline: BitVM's largest disprove leaf, 3.95 MB script (non-standard)",
  });
}

/** The measured stack + altstack peak, beside BitVM's largest disprove leaf and against the limit. */
export function maxStackFigure(name: string, max: number): BenchFigure {
  return withRatio({
    name,
    value: max,
    unit: 'stack + altstack items (measured)',
    baseline: BITVM_LARGEST_LEAF.maxStack,
    target:
      `≤ 1,000 items (#14 acceptance 3): ${percentOf(max, STACK_LIMIT)} of it; ` +
      "baseline: BitVM's largest disprove leaf, 933 items",
  });
}

const compactSize = (n: number) => (n < 0xfd ? 1 : n <= 0xffff ? 3 : 5);

/**
 * The spending witness of a leaf (the items below the script and control block): `<prefix>.witness`,
 * its item count, and `<prefix>.witnessBytes`, its serialized size (each item with its length prefix).
 */
export function witnessFigures(prefix: string, items: readonly Uint8Array[]): BenchFigure[] {
  const bytes = items.reduce((n, it) => n + compactSize(it.length) + it.length, 0);
  return [
    { name: `${prefix}.witness`, value: items.length, unit: 'witness items' },
    {
      name: `${prefix}.witnessBytes`,
      value: bytes,
      unit: 'bytes (witness items with their length prefixes; no script, no control block)',
    },
  ];
}
