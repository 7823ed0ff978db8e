/**
 * The uint256 word gadgets of the GVM-1 leaves against bigint: mul mod 2^256 (45 limb products, columns
 * normalised) and the division check (q = y = 0 ? 0 : ⌊x/y⌋, the full product q·y below 2^256), each
 * as a TypeScript twin on limbs and as a script in the interpreter, on random values of every bit length
 * and the edges 0, 1, 2^256 − 1 and powers of two.
 */
import { describe, expect, it } from 'vitest';
import {
  divCheckGadget,
  divCheckLimbs,
  isQuotient,
  mulModGadget,
  mulModLimbs,
  mulWord,
} from '../../../circuits/gvm/word-ops.ts';
import { fromLimbs, toLimbs, UINT256_LIMBS } from '../../../circuits/limbs.ts';
import { runScript } from '../../../src/bitcoin/script/interpreter.ts';
import { castToBool, decodeScriptNum, encodeScriptNum } from '../../../src/bitcoin/script/num.ts';
import { rng } from '../helpers.ts';

const MAX = (1n << 256n) - 1n;
const N = UINT256_LIMBS;
const EDGES = [
  0n,
  1n,
  2n,
  3n,
  MAX,
  MAX - 1n,
  1n << 255n,
  1n << 128n,
  1n << 29n,
  (1n << 29n) - 1n,
  1n << 232n,
  1n << 58n,
];
const CASES = 150;

function word(next: () => number): bigint {
  const r = next() % 4;
  if (r === 0) return EDGES[next() % EDGES.length] as bigint;
  if (r === 1) return 1n << BigInt(next() % 256);
  const bits = next() % 257;
  let x = 0n;
  for (let i = 0; i < 8; i++) x = (x << 32n) | BigInt(next());
  return bits === 256 ? x : x & ((1n << BigInt(bits)) - 1n);
}

const limbs = (x: bigint) => toLimbs(x, N);
const stackOf = (...xs: bigint[]) =>
  xs.flatMap((x) =>
    limbs(x)
      .reverse()
      .map((l) => encodeScriptNum(l)),
  );

function pairs(next: () => number): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  for (const a of EDGES) for (const b of [0n, 1n, MAX, 1n << 255n]) out.push([a, b]);
  for (let c = 0; c < CASES; c++) out.push([word(next), word(next)]);
  return out;
}

describe('GVM-1 word ops: mul mod 2^256', () => {
  const g = mulModGadget();

  it('the limb twin agrees with bigint', () => {
    for (const [a, b] of pairs(rng(5)))
      expect(fromLimbs(mulModLimbs(limbs(a), limbs(b)))).toBe(mulWord(a, b));
  });

  it('the script agrees with bigint', () => {
    const cases = pairs(rng(6)).filter((_, i) => i % 3 === 0);
    for (const [a, b] of cases) {
      const r = runScript(g.script, { stack: stackOf(a, b) });
      expect(r.error).toBe('OK');
      expect(r.stack.length).toBe(N);
      const out = r.stack.map((it) => decodeScriptNum(it, true, 4)).reverse();
      expect(fromLimbs(out), `${a} · ${b}`).toBe(mulWord(a, b));
    }
    expect(g.maxStack).toBeLessThan(100);
  }, 120_000);
});

describe('GVM-1 word ops: division check', () => {
  const g = divCheckGadget();

  /** The true quotient, and near misses (±1, ±2^k, the wrapped product's neighbours). */
  function candidates(x: bigint, y: bigint, next: () => number): bigint[] {
    const q = y === 0n ? 0n : x / y;
    const wrap = (v: bigint) => ((v % (1n << 256n)) + (1n << 256n)) % (1n << 256n);
    return [q, wrap(q + 1n), wrap(q - 1n), wrap(q + (1n << BigInt(next() % 256))), word(next), MAX, 0n];
  }

  it('the limb twin agrees with bigint', () => {
    const next = rng(7);
    for (const [x, y] of pairs(next)) {
      for (const q of candidates(x, y, next)) {
        expect(divCheckLimbs(limbs(x), limbs(y), limbs(q)), `${x} / ${y} = ${q}`).toBe(isQuotient(x, y, q));
      }
    }
  });

  it('the script agrees with bigint, on true quotients and near misses', () => {
    const next = rng(8);
    let right = 0;
    let wrong = 0;
    const cases = pairs(next).filter((_, i) => i % 4 === 0);
    for (const [x, y] of cases) {
      const all = candidates(x, y, next);
      // The true quotient always; one near miss in turn (the script is slow).
      for (const q of [all[0] as bigint, all[1 + ((right + wrong) % (all.length - 1))] as bigint]) {
        const r = runScript(g.script, { stack: stackOf(x, y, q) });
        expect(r.error).toBe('OK');
        expect(r.stack.length).toBe(1);
        const ok = castToBool(r.stack[0] as Uint8Array);
        expect(ok, `${x} / ${y} = ${q}`).toBe(isQuotient(x, y, q));
        if (ok) right++;
        else wrong++;
      }
    }
    expect(right).toBeGreaterThan(0);
    expect(wrong).toBeGreaterThan(0);
  }, 120_000);

  it('catches a quotient whose product overflows 2^256 where only one check sees it', () => {
    // Each product is 2^256 or more with its low 256 bits 0 (≤ x, and x − 0 < y): the pairs above
    // column 8 (2^261), column 9's spill (2^283), the top limb's bits 24 … 28 (2^256).
    for (const [y, q] of [
      [1n << 232n, 1n << 29n],
      [1n << 255n, 1n << 28n],
      [1n << 255n, 2n],
    ] as [bigint, bigint][]) {
      const r = runScript(g.script, { stack: stackOf(5n, y, q) });
      expect(r.error).toBe('OK');
      expect(castToBool(r.stack[0] as Uint8Array), `${y} · ${q}`).toBe(false);
      expect(divCheckLimbs(limbs(5n), limbs(y), limbs(q))).toBe(false);
    }
  });
});
