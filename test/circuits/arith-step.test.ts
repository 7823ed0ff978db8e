/**
 * The arithmetic-step disprove leaves (add, sub, lt), run in Vigil's interpreter under tapscript rules
 * and the consensus limits with real Winternitz keys and signatures: each can be spent exactly when its
 * step is wrong (`isFaulty`), and with no witness built from the committed values when it is correct.
 */
import { describe, expect, it } from 'vitest';
import {
  ARITH_KINDS,
  type ArithKind,
  type ArithStepSignatures,
  arithStepLeaf,
  arithStepWitness,
  isFaulty,
} from '../../circuits/arith-step.ts';
import { bytesOfValue } from '../../circuits/digits-to-limbs.ts';
import { tapscriptWitnessWeight } from '../../circuits/wots-values.ts';
import { NoSignatureChecker } from '../../src/bitcoin/script/checker.ts';
import { CONSENSUS_FLAGS } from '../../src/bitcoin/script/flags.ts';
import { runScript, ScriptExecution } from '../../src/bitcoin/script/interpreter.ts';
import { castToBool } from '../../src/bitcoin/script/num.ts';
import { type WotsSecretKey, wotsPublicKey } from '../../src/dispute/winternitz/keys.ts';
import { wotsSign } from '../../src/dispute/winternitz/sign.ts';
import { rng, spends, threeValueSecrets, withDigitChanged, withDigitRaised } from './helpers.ts';

const TWO_256 = 1n << 256n;
const MAX = TWO_256 - 1n;

/** A random uint256 of a random bit length (so short and long carry/borrow chains both occur). */
function randomValue(next: () => number): bigint {
  const bits = next() % 257;
  let x = 0n;
  for (let i = 0; i < 8; i++) x = (x << 32n) | BigInt(next());
  return bits === 256 ? x : x & ((1n << BigInt(bits)) - 1n);
}
/** Uniform-ish in [0, bound] (bound ≥ 0). */
const below = (next: () => number, bound: bigint) => (bound === 0n ? 0n : randomValue(next) % (bound + 1n));

type KeySet = { secrets: { a: WotsSecretKey; b: WotsSecretKey; c: WotsSecretKey }; leaf: Uint8Array };

/** Real keys as a graph derives them: one per committed value, bound to network, operator, epoch. */
function keySet(kind: ArithKind, instance: number): KeySet {
  const [a, b, c] = threeValueSecrets('a7', instance);
  const secrets = { a, b, c };
  const keys = { a: wotsPublicKey(secrets.a), b: wotsPublicKey(secrets.b), c: wotsPublicKey(secrets.c) };
  return { secrets, leaf: arithStepLeaf(kind, keys).script };
}

const sign = (k: KeySet, a: bigint, b: bigint, c: bigint): ArithStepSignatures => ({
  a: wotsSign(k.secrets.a, bytesOfValue(a)),
  b: wotsSign(k.secrets.b, bytesOfValue(b)),
  c: wotsSign(k.secrets.c, bytesOfValue(c)),
});

const faulty = (kind: ArithKind, a: bigint, b: bigint, c: bigint) =>
  isFaulty(kind, bytesOfValue(a), bytesOfValue(b), bytesOfValue(c));

/**
 * Two witnesses an adversary can build from the committed (published) signatures of one step: a swap
 * (operands, on even cases; result and first operand, on odd ones) and a digit forgery (one digit
 * changed with its hash kept, on cases 4k and 4k + 1; one digit raised with its hash moved one step
 * along its chain, which only the checksum catches, on the others). Each kind of forgery thus runs on
 * half (swaps) or a quarter (digits) of the cases.
 */
function forgeries(sigs: ArithStepSignatures, c: number, next: () => number): Uint8Array[][] {
  const swap =
    c % 2 === 0
      ? arithStepWitness({ a: sigs.b, b: sigs.a, c: sigs.c })
      : arithStepWitness({ a: sigs.c, b: sigs.b, c: sigs.a });
  const honest = arithStepWitness(sigs);
  return [swap, c % 4 < 2 ? withDigitChanged(honest, next) : withDigitRaised(honest, next)];
}

/** A correct step of `kind`; the first cases are the edges at 0 and 2^256 − 1. */
function correctStep(kind: ArithKind, c: number, next: () => number): [bigint, bigint, bigint] {
  const edges: Record<ArithKind, [bigint, bigint][]> = {
    add: [
      [0n, 0n],
      [MAX, 0n],
      [0n, MAX],
      [MAX - 1n, 1n],
      [1n << 255n, (1n << 255n) - 1n],
    ],
    sub: [
      [0n, 0n],
      [MAX, MAX],
      [MAX, 0n],
      [MAX, 1n],
      [1n, 1n],
    ],
    lt: [
      [0n, 0n],
      [0n, 1n],
      [MAX, MAX],
      [MAX - 1n, MAX],
      [MAX, 0n],
    ],
  };
  const e = edges[kind][c];
  let a: bigint;
  let b: bigint;
  if (e !== undefined) [a, b] = e;
  else if (kind === 'add') {
    a = randomValue(next);
    b = below(next, MAX - a);
  } else if (kind === 'sub') {
    a = randomValue(next);
    b = c % 10 === 0 ? a : below(next, a);
  } else {
    a = randomValue(next);
    // One in five: equal operands; one in five: operands differing only in a low limb.
    b = c % 5 === 0 ? a : c % 5 === 1 ? a ^ BigInt(1 + (next() % 1000)) : randomValue(next);
  }
  const result = kind === 'add' ? a + b : kind === 'sub' ? a - b : a < b ? 1n : 0n;
  return [a, b, result];
}

/** A step of `kind` with a wrong (or, for some swaps, accidentally right) result; `label` names it. */
function wrongStep(kind: ArithKind, c: number, next: () => number): [bigint, bigint, bigint, string] {
  const mode = c % 7;
  const [a, b, good] = correctStep(kind, 5 + c, next);
  const wrap = (x: bigint) => ((x % TWO_256) + TWO_256) % TWO_256;
  switch (mode) {
    case 0:
      return [a, b, wrap(good + 1n), '+1'];
    case 1:
      return [a, b, wrap(good - 1n), '−1'];
    case 2: {
      let v = randomValue(next);
      while (v === good) v = randomValue(next);
      return [a, b, v, 'random'];
    }
    case 3: {
      const bit = BigInt(next() % 256);
      return [a, b, good ^ (1n << bit), 'bit flipped'];
    }
    case 4: {
      // The result of the operands swapped (right for add, and whenever a = b).
      const swapped = kind === 'add' ? b + a : kind === 'sub' ? wrap(b - a) : b < a ? 1n : 0n;
      return [a, b, swapped, 'operands swapped'];
    }
    case 5: {
      // Overflow / underflow at the edges: the wrapped result, which mod 2^256 would accept.
      if (kind === 'add') {
        const x = c % 2 === 0 ? MAX : randomValue(next) | (1n << 255n);
        const y = TWO_256 - x + (c % 3 === 0 ? 0n : below(next, x - 1n));
        return [x, y, wrap(x + y), 'overflow'];
      }
      if (kind === 'sub') {
        const x = c % 2 === 0 ? 0n : randomValue(next) % MAX;
        const y = c % 3 === 0 ? x + 1n : x + 1n + below(next, MAX - x - 1n);
        return [x, y, wrap(x - y), 'underflow'];
      }
      const v = [2n, MAX, 1n << 29n, 1n << 255n][c % 4] as bigint;
      return [a, b, v, 'not a bit'];
    }
    default: {
      // The right low limb with garbage above it, or the right value off by 2^29 (a whole limb).
      const v = c % 2 === 0 ? good + (BigInt(1 + (next() % 7)) << 232n) : good + (1n << 29n);
      return [a, b, wrap(v), 'high limb'];
    }
  }
}

/** 250 each way per kind in `npm test`; the long suite (VIGIL_LONG=1, arith-step.long.test.ts) 1,000. */
const CASES = process.env.VIGIL_LONG === '1' ? 1_000 : 250;

describe.each(ARITH_KINDS)(
  'arithmetic-step disprove leaf: %s (three Winternitz-committed uint256)',
  (kind) => {
    const seed = { add: 1, sub: 2, lt: 3 }[kind];
    const sets = [keySet(kind, 0), keySet(kind, 1)];

    it('is a standard-size leaf with a bounded stack', () => {
      const k = sets[0] as KeySet;
      const items = arithStepWitness(sign(k, 3n, 5n, 7n));
      const e = new ScriptExecution({
        script: k.leaf,
        stack: items,
        flags: CONSENSUS_FLAGS,
        checker: NoSignatureChecker,
        sigVersion: 'tapscript',
      });
      let max = items.length;
      while (e.step() === 'running') max = Math.max(max, e.stack.length + e.altstack.length);
      expect(e.error).toBe('OK');
      expect(items.length).toBe(3 * 134);
      expect(max).toBeLessThanOrEqual(1_000);
      expect(tapscriptWitnessWeight(items, k.leaf, 8)).toBeLessThan(400_000);
    });

    it(`a correct step cannot be disproved: ${CASES} cases, honest witness and forgeries`, () => {
      const next = rng(100 + (seed as number));
      let runs = 0;
      for (let c = 0; c < CASES; c++) {
        const k = sets[c % sets.length] as KeySet;
        const [a, b, r] = correctStep(kind, c, next);
        expect(faulty(kind, a, b, r)).toBe(false);
        const sigs = sign(k, a, b, r);
        // The honest witness runs to the end and leaves false (it fails on the circuit, not before).
        const honest = runScript(k.leaf, { stack: arithStepWitness(sigs), flags: CONSENSUS_FLAGS });
        if (honest.error !== 'OK' || honest.stack.length !== 1 || castToBool(honest.stack[0] as Uint8Array)) {
          expect.fail(
            `case ${c} (${a}, ${b}, ${r}): honest run ${honest.error}, ${honest.stack.length} items`,
          );
        }
        for (const w of forgeries(sigs, c, next)) {
          runs++;
          if (spends(k.leaf, w)) expect.fail(`case ${c}: a correct step was disproved`);
        }
      }
      expect(runs).toBe(CASES * 2);
    }, 150_000);

    it(`a wrong step is disproved: ${CASES} cases (±1, random, bit flipped, swapped, over/underflow, high limb)`, () => {
      const next = rng(200 + (seed as number));
      const seen = new Map<string, number>();
      for (let c = 0; c < CASES; c++) {
        const k = sets[c % sets.length] as KeySet;
        const [a, b, r, label] = wrongStep(kind, c, next);
        const f = faulty(kind, a, b, r);
        if (f) seen.set(label, (seen.get(label) ?? 0) + 1);
        // Only a swap can be right by accident (always for add, when a = b for sub and lt).
        if (label !== 'operands swapped') expect(f, `case ${c} ${label}`).toBe(true);
        const ok = spends(k.leaf, arithStepWitness(sign(k, a, b, r)));
        if (ok !== f) expect.fail(`case ${c} ${label} (${a}, ${b}, ${r}): leaf ${ok} but isFaulty ${f}`);
      }
      for (const label of ['+1', '−1', 'random', 'bit flipped', 'high limb']) {
        expect(seen.get(label) ?? 0, label).toBeGreaterThan(0);
      }
      expect(
        seen.get(kind === 'lt' ? 'not a bit' : kind === 'add' ? 'overflow' : 'underflow') ?? 0,
      ).toBeGreaterThan(0);
    }, 150_000);
  },
);

describe('arithmetic steps: isFaulty', () => {
  it('an overflowing add is wrong whatever the result; an underflowing sub too', () => {
    for (const c of [0n, 1n, MAX]) {
      expect(faulty('add', MAX, 1n, c)).toBe(true);
      expect(faulty('sub', 0n, 1n, c)).toBe(true);
    }
    expect(faulty('add', MAX, 0n, MAX)).toBe(false);
    expect(faulty('sub', MAX, MAX, 0n)).toBe(false);
    expect(faulty('lt', 1n, 2n, 1n)).toBe(false);
    expect(faulty('lt', 2n, 1n, 2n)).toBe(true);
  });

  it('refuses values of another size', () => {
    expect(() => isFaulty('add', new Uint8Array(31), new Uint8Array(32), new Uint8Array(32))).toThrow(
      RangeError,
    );
  });
});
