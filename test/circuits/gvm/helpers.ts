/**
 * What the GVM-1 leaf tests share: the case count (small by default, VIGIL_LONG=1 for the full runs),
 * Winternitz keys derived as a graph derives them for any set of committed values (each sized to its
 * message), one signature per committed field, a leaf run measured in the interpreter (result and stack
 * peak), the honest-run check, and a one-bit perturbation. Re-exports the circuit tests' generator,
 * spend rule and forgeries (`../helpers.ts`).
 */
import { expect } from 'vitest';
import { tapscriptWitnessWeight } from '../../../circuits/wots-values.ts';
import { NoSignatureChecker } from '../../../src/bitcoin/script/checker.ts';
import { CONSENSUS_FLAGS } from '../../../src/bitcoin/script/flags.ts';
import { runScript, ScriptExecution } from '../../../src/bitcoin/script/interpreter.ts';
import { castToBool } from '../../../src/bitcoin/script/num.ts';
import { type ParsedScript, parseScript } from '../../../src/bitcoin/script/script.ts';
import { hexToBytes } from '../../../src/core/bytes.ts';
import { signedDigits } from '../../../src/dispute/winternitz/digits.ts';
import {
  deriveWotsSecretKey,
  digitSecret,
  hashChain,
  type WotsPublicKey,
  type WotsSecretKey,
  wotsPublicKey,
} from '../../../src/dispute/winternitz/keys.ts';
import { WOTS_MAX_DIGIT, wotsParameters } from '../../../src/dispute/winternitz/parameters.ts';
import type { WotsSignature } from '../../../src/dispute/winternitz/sign.ts';

import { sampleTraces, type TraceSamples } from '../../machine/trace-samples.ts';
import { hasOpSuccess, withDigitChanged, withDigitRaised } from '../helpers.ts';

export { randomBytes, rng, withDigitChanged, withDigitRaised } from '../helpers.ts';

/** A leaf script parsed once, for the many runs of a soundness test (the interpreter takes either). */
export type Leaf = Uint8Array | ParsedScript;
export const parsedLeaf = (script: Uint8Array): ParsedScript => parseScript(script);

/**
 * Tapscript spend rule: an OP_SUCCESSx anywhere, or no error and exactly one true item left
 * (`../helpers.ts`'s, on a parsed leaf too).
 */
export function spends(script: Leaf, stack: Uint8Array[]): boolean {
  if (hasOpSuccess(script)) return true;
  const r = runScript(script, { stack, flags: CONSENSUS_FLAGS });
  return r.error === 'OK' && r.stack.length === 1 && castToBool(r.stack[0] as Uint8Array);
}

/**
 * Every chain value of a key, by digit position then digit (`hashChain(digitSecret(key, i), d)`),
 * computed once per key: signing a value is then a table look-up. The tests check it signs as `wotsSign`.
 */
const chainTables = new WeakMap<WotsSecretKey, Uint8Array[][]>();
function chainTable(key: WotsSecretKey): Uint8Array[][] {
  let table = chainTables.get(key);
  if (table === undefined) {
    const { totalDigits } = wotsParameters(key.messageBytes);
    table = Array.from({ length: totalDigits }, (_, i) => {
      const chain = [digitSecret(key, i)];
      for (let d = 1; d <= WOTS_MAX_DIGIT; d++) chain.push(hashChain(chain[d - 1] as Uint8Array, 1));
      return chain;
    });
    chainTables.set(key, table);
  }
  return table;
}

/** `wotsSign` from the key's chain table: the same signature, without re-hashing the chains. */
export function wotsSign(key: WotsSecretKey, message: Uint8Array): WotsSignature {
  if (message.length !== key.messageBytes) {
    throw new RangeError(`key signs ${key.messageBytes}-byte values; the message has ${message.length}`);
  }
  const table = chainTable(key);
  const digits = signedDigits(message, wotsParameters(key.messageBytes));
  return { digits, hashes: digits.map((d, i) => (table[i] as Uint8Array[])[d] as Uint8Array) };
}

export const LONG = process.env.VIGIL_LONG === '1';

/** Cases per test: `small` in the default suite; 10,000 (or VIGIL_GVM_CASES) under VIGIL_LONG=1. */
export const gvmCases = (small: number): number =>
  LONG ? Number(process.env.VIGIL_GVM_CASES ?? 10_000) : small;

/**
 * Cases per test on random values, beside the real traces' `gvmCases`: `small` in the default suite;
 * 10,000 (or VIGIL_GVM_RANDOM) under VIGIL_LONG=1, as before the traces came.
 */
export const gvmRandomCases = (small: number): number =>
  LONG ? Number(process.env.VIGIL_GVM_RANDOM ?? 10_000) : small;

/** Workload seeds the real traces come from: 1 in the default suite, 96 (or VIGIL_TRACE_SEEDS) long. */
export const TRACE_SEEDS = Number(process.env.VIGIL_TRACE_SEEDS ?? (LONG ? 96 : 1));

/** The real traces' samples, at most `perKind` of each kind (test/machine/trace-samples.ts). */
export const gvmTraces = (perKind: number): TraceSamples =>
  sampleTraces({ seeds: Array.from({ length: TRACE_SEEDS }, (_, i) => i + 1), perKind });

/** A Winternitz secret key for one committed value of `messageBytes` bytes (regtest, epoch 14). */
export function valueSecret(
  seedByte: string,
  instance: number,
  valueIndex: number,
  messageBytes: number,
): WotsSecretKey {
  return deriveWotsSecretKey(hexToBytes(seedByte.repeat(32)), {
    network: 'regtest',
    operator: hexToBytes('66'.repeat(32)),
    epoch: 14n,
    instance,
    valueIndex,
    messageBytes,
  });
}

/** One secret per field, its value index the field's position and its size `bytesOf(field)`. */
export function fieldSecrets<F extends string>(
  fields: readonly F[],
  seedByte: string,
  instance: number,
  bytesOf: (f: F) => number,
): Record<F, WotsSecretKey> {
  return Object.fromEntries(
    fields.map((f, valueIndex) => [f, valueSecret(seedByte, instance, valueIndex, bytesOf(f))]),
  ) as Record<F, WotsSecretKey>;
}

/** The public key of each field's secret. */
export function publicKeysOf<F extends string>(
  fields: readonly F[],
  secrets: Record<F, WotsSecretKey>,
): Record<F, WotsPublicKey> {
  return Object.fromEntries(fields.map((f) => [f, wotsPublicKey(secrets[f])])) as Record<F, WotsPublicKey>;
}

/** Each field's message signed under its own secret, in `fields` order. */
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

/** One run of `script` on `items` under tapscript rules, step by step: result, items left, stack peak. */
export function measure(
  script: Leaf,
  items: Uint8Array[],
): { error: string | undefined; max: number; left: number; top: boolean } {
  const e = new ScriptExecution({
    script,
    stack: items,
    flags: CONSENSUS_FLAGS,
    checker: NoSignatureChecker,
    sigVersion: 'tapscript',
  });
  let max = items.length;
  while (e.step() === 'running') max = Math.max(max, e.stack.length + e.altstack.length);
  const top = e.stack.length === 1 && castToBool(e.stack[0] as Uint8Array);
  return { error: e.error, max, left: e.stack.length, top };
}

/**
 * The spending witness `items` spends `script` (no error, one true item) within tapscript's limits:
 * stack + altstack ≤ 1,000 items, and the input ≤ 400,000 WU at tree depth 8.
 */
export function expectStandardSpend(script: Uint8Array, items: Uint8Array[]): void {
  const r = measure(script, items);
  expect([r.error, r.top]).toEqual(['OK', true]);
  expect(r.max).toBeLessThanOrEqual(1_000);
  expect(tapscriptWitnessWeight(items, script, 8)).toBeLessThanOrEqual(400_000);
}

/**
 * An honest witness must run without error to exactly one false item (signatures good, claim correct):
 * undefined when it does, else what happened instead.
 */
export function honestRunFault(script: Leaf, items: Uint8Array[]): string | undefined {
  if (hasOpSuccess(script)) return 'an OP_SUCCESSx in the script: anyone can spend it';
  const r = runScript(script, { stack: items, flags: CONSENSUS_FLAGS });
  if (r.error === 'OK' && r.stack.length === 1 && !castToBool(r.stack[0] as Uint8Array)) return undefined;
  return `${r.error}, ${r.stack.length} items`;
}

/**
 * The two digit forgeries of an honest witness, built in this order (each reads `next` twice): one digit
 * changed with its hash kept, one digit raised with its hash advanced. Neither may spend a correct claim.
 */
export const digitForgeries = (witness: readonly Uint8Array[], next: () => number): Uint8Array[][] => [
  withDigitChanged(witness, next),
  withDigitRaised(witness, next),
];

/** Whether an honest witness runs as it must (see `honestRunFault`). */
export const refusesHonest = (script: Leaf, items: Uint8Array[]): boolean =>
  honestRunFault(script, items) === undefined;

/** Draws allowed per wanted wrong case before `untilWrong` gives up. */
export const WRONG_DRAWS_PER_CASE = 20;

/**
 * The wrong-case loop of every GVM-1 leaf test: calls `draw(attempt)` (attempt 0, 1, …) until exactly
 * `wanted` drawn cases were really wrong, and fails loudly after `WRONG_DRAWS_PER_CASE × wanted` draws.
 * Each draw builds one perturbed case, checks the leaf against its twin on it (whatever the twin says:
 * a perturbation that left the claim correct is still checked, and must not spend) and returns the
 * twin's verdict. Returns how many draws it took; the wrong count is `wanted`, asserted.
 */
export function untilWrong(wanted: number, draw: (attempt: number) => boolean): { draws: number } {
  const cap = WRONG_DRAWS_PER_CASE * wanted;
  let wrong = 0;
  let draws = 0;
  while (wrong < wanted) {
    if (draws >= cap) expect.fail(`only ${wrong} of ${wanted} wrong cases in ${draws} draws (the cap)`);
    if (draw(draws++)) wrong++;
  }
  expect(wrong).toBe(wanted);
  return { draws };
}

/** `bytes` with one bit flipped (reads `next` once). */
export function withBitFlipped(next: () => number, bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const bit = next() % (8 * out.length);
  out[bit >> 3] = (out[bit >> 3] as number) ^ (1 << (bit & 7));
  return out;
}
