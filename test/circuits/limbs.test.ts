/**
 * Limb arithmetic: every gadget executed in Vigil's interpreter (tapscript, consensus limits) on
 * 10,000 random cases against bigint, and its TypeScript twin on the same cases.
 */
import { describe, expect, it } from 'vitest';
import {
  fromLimbs,
  LIMB_BASE,
  LIMB_BITS,
  type LimbGadget,
  limbAdd,
  limbAddGadget,
  limbEqual,
  limbEqualGadget,
  limbLessThan,
  limbLessThanGadget,
  limbMul,
  limbMulGadget,
  limbSub,
  limbSubGadget,
  toLimbs,
  UINT256_LIMBS,
} from '../../circuits/limbs.ts';
import { NoSignatureChecker } from '../../src/bitcoin/script/checker.ts';
import { runScript, ScriptExecution } from '../../src/bitcoin/script/interpreter.ts';
import { decodeScriptNumOrNaN, encodeScriptNum } from '../../src/bitcoin/script/num.ts';
import { rng } from './helpers.ts';

const CASES = 10_000;
const N = UINT256_LIMBS;
const U256 = (1n << 256n) - 1n;

/** Random uint256 values that often hit limb boundaries: 0, all ones, single limbs at 0 or 2^29 − 1. */
function valueSource(seed: number): () => bigint {
  const next = rng(seed);
  const rand256 = () => {
    let x = 0n;
    for (let i = 0; i < 8; i++) x = (x << 32n) | BigInt(next());
    return x;
  };
  return () => {
    const kind = next() % 8;
    if (kind === 0) return 0n;
    if (kind === 1) return U256;
    if (kind === 2) return rand256() >> BigInt(next() % 256);
    if (kind === 3) {
      // Limbs at the extremes: long carry and borrow chains.
      const limbs = toLimbs(rand256(), N).map((l) =>
        next() % 2 === 0 ? 0 : next() % 3 === 0 ? l : LIMB_BASE - 1,
      );
      return fromLimbs(limbs) & U256;
    }
    return rand256();
  };
}

const limbStack = (x: bigint) =>
  toLimbs(x, N)
    .reverse()
    .map((l) => encodeScriptNum(l));

function run(g: LimbGadget, stack: Uint8Array[]): number[] {
  const r = runScript(g.script, { stack });
  if (r.error !== 'OK') throw new Error(`script failed: ${r.error} at ${r.opcodeIndex}`);
  if (r.altstack.length !== 0) throw new Error('altstack not empty');
  if (r.stack.length !== g.outputItems) throw new Error(`${r.stack.length} items left, not ${g.outputItems}`);
  return r.stack.map((x) => decodeScriptNumOrNaN(x, true, 4));
}

/** [carry-or-borrow, limb n-1 … limb 0] → the number its n + 1 limbs spell. */
const spell = (out: number[]) => fromLimbs(out.slice().reverse());

/** Pairs of operands; every 7th pair is equal, every 5th differs from its first operand by one. */
function pairs(seed: number): [bigint, bigint][] {
  const value = valueSource(seed);
  const out: [bigint, bigint][] = [];
  for (let i = 0; i < CASES; i++) {
    const a = value();
    let b = value();
    if (i % 7 === 0) b = a;
    else if (i % 5 === 0) b = a === U256 ? a - 1n : a + 1n;
    out.push(i % 2 === 0 ? [a, b] : [b, a]);
  }
  return out;
}

describe('limb arithmetic (29-bit limbs, uint256 = 9 limbs)', () => {
  it('toLimbs / fromLimbs round-trip and refuse what does not fit', () => {
    expect(LIMB_BITS * N).toBeGreaterThanOrEqual(256);
    const v = valueSource(1);
    for (let i = 0; i < 200; i++) {
      const x = v();
      expect(fromLimbs(toLimbs(x, N))).toBe(x);
    }
    expect(() => toLimbs(1n << BigInt(LIMB_BITS * N), N)).toThrow(RangeError);
    expect(() => toLimbs(-1n, N)).toThrow(RangeError);
  });

  it(`add with carry: ${CASES} cases`, () => {
    const g = limbAddGadget();
    for (const [a, b] of pairs(11)) {
      const want = a + b;
      expect(spell(run(g, [...limbStack(a), ...limbStack(b)]))).toBe(want);
      const t = limbAdd(toLimbs(a, N), toLimbs(b, N));
      expect(fromLimbs([...t.sum, t.carry])).toBe(want);
    }
  });

  it(`sub with borrow: ${CASES} cases`, () => {
    const g = limbSubGadget();
    const mod = 1n << BigInt(LIMB_BITS * N);
    for (const [a, b] of pairs(12)) {
      const out = run(g, [...limbStack(a), ...limbStack(b)]);
      const borrow = a < b ? 1 : 0;
      const diff = (((a - b) % mod) + mod) % mod;
      expect(out[0]).toBe(borrow);
      expect(fromLimbs(out.slice(1).reverse())).toBe(diff);
      const t = limbSub(toLimbs(a, N), toLimbs(b, N));
      expect(t.borrow).toBe(borrow);
      expect(fromLimbs(t.diff)).toBe(diff);
    }
  });

  it(`less-than: ${CASES} cases`, () => {
    const g = limbLessThanGadget();
    for (const [a, b] of pairs(13)) {
      expect(run(g, [...limbStack(a), ...limbStack(b)])).toEqual([a < b ? 1 : 0]);
      expect(limbLessThan(toLimbs(a, N), toLimbs(b, N))).toBe(a < b);
    }
  });

  it(`equality: ${CASES} cases`, () => {
    const g = limbEqualGadget();
    for (const [a, b] of pairs(14)) {
      expect(run(g, [...limbStack(a), ...limbStack(b)])).toEqual([a === b ? 1 : 0]);
      expect(limbEqual(toLimbs(a, N), toLimbs(b, N))).toBe(a === b);
    }
  });

  it(`multiplication of two limbs: ${CASES} cases`, () => {
    const g = limbMulGadget();
    const next = rng(15);
    const limb = () => {
      const k = next() % 6;
      if (k === 0) return 0;
      if (k === 1) return LIMB_BASE - 1;
      if (k === 2) return next() % (1 << (next() % 30));
      return next() % LIMB_BASE;
    };
    for (let i = 0; i < CASES; i++) {
      const a = limb();
      const b = limb();
      const want = BigInt(a) * BigInt(b);
      const [hi, lo] = run(g, [encodeScriptNum(a), encodeScriptNum(b)]) as [number, number];
      expect(lo).toBeLessThan(LIMB_BASE);
      expect((BigInt(hi) << BigInt(LIMB_BITS)) + BigInt(lo)).toBe(want);
      const t = limbMul(a, b);
      expect((BigInt(t.hi) << BigInt(LIMB_BITS)) + BigInt(t.lo)).toBe(want);
    }
  });

  it('the gadgets stay small and shallow: the interpreter never goes deeper than the generator says', () => {
    const a = toLimbs(U256, N).reverse();
    const b = toLimbs(U256 - 5n, N).reverse();
    const wide = [...a, ...b].map((l) => encodeScriptNum(l));
    const two = [encodeScriptNum(LIMB_BASE - 1), encodeScriptNum(LIMB_BASE - 1)];
    const cases: [LimbGadget, Uint8Array[]][] = [
      [limbAddGadget(), wide],
      [limbSubGadget(), wide],
      [limbLessThanGadget(), wide],
      [limbEqualGadget(), wide],
      [limbMulGadget(), two],
    ];
    for (const [g, stack] of cases) {
      expect(g.maxStack).toBeLessThanOrEqual(2 * N + 4);
      const e = new ScriptExecution({
        script: g.script,
        stack,
        flags: 0,
        checker: NoSignatureChecker,
        sigVersion: 'tapscript',
      });
      let max = stack.length;
      while (e.step() === 'running') max = Math.max(max, e.stack.length + e.altstack.length);
      expect(e.error).toBe('OK');
      // Branches: the generator counts the taken path of every OP_IF, an upper bound.
      expect(max).toBeLessThanOrEqual(g.maxStack);
    }
    expect(limbMulGadget().script.length).toBeLessThan(11_700);
  });
});
