/**
 * Winternitz digits → 29-bit limbs: the gadget against its TypeScript twin and bigint, in Vigil's
 * interpreter under tapscript rules and the consensus limits.
 */
import { describe, expect, it } from 'vitest';
import {
  bytesOfValue,
  digitsToLimbs,
  digitsToLimbsGadget,
  limbsToDigits,
  valueOfBytes,
} from '../../circuits/digits-to-limbs.ts';
import { limbAdd, limbAddGadget, toLimbs, UINT256_LIMBS } from '../../circuits/limbs.ts';
import { CONSENSUS_FLAGS } from '../../src/bitcoin/script/flags.ts';
import { runScript } from '../../src/bitcoin/script/interpreter.ts';
import { decodeScriptNum, encodeScriptNum } from '../../src/bitcoin/script/num.ts';
import { bytesToHex } from '../../src/core/bytes.ts';
import { messageToDigits } from '../../src/dispute/winternitz/digits.ts';
import { randomBytes, rng } from './helpers.ts';

const num = (x: Uint8Array) => decodeScriptNum(x, true, 4);

describe('digits → limbs gadget', () => {
  const g = digitsToLimbsGadget();
  const run = (value: Uint8Array) =>
    runScript(g.script, {
      stack: messageToDigits(value).map((d) => encodeScriptNum(d)),
      flags: CONSENSUS_FLAGS,
    });

  it('has a fixed size and stack', () => {
    expect(g.inputItems).toBe(64);
    expect(g.outputItems).toBe(UINT256_LIMBS);
    expect(g.maxStack).toBeLessThanOrEqual(70);
    expect(g.script.length).toBeLessThan(1_000);
  });

  it('matches bigint on edge values', () => {
    const edges = [
      0n,
      1n,
      2n ** 29n - 1n,
      2n ** 29n,
      2n ** 128n + 7n,
      2n ** 232n,
      2n ** 255n,
      2n ** 256n - 1n,
    ];
    for (let b = 0; b < 256; b += 1) edges.push(1n << BigInt(b), (1n << BigInt(b)) - 1n);
    for (const x of edges) {
      const value = bytesOfValue(x);
      const r = run(value);
      expect(r.error, `x = ${x}`).toBe('OK');
      expect(r.stack.map(num)).toEqual(toLimbs(x, UINT256_LIMBS).reverse());
      expect(r.altstack).toHaveLength(0);
    }
  });

  it('matches its twin and bigint on 10,000 random values (digits → limbs → digits round trip)', () => {
    const next = rng(1414);
    for (let i = 0; i < 10_000; i++) {
      // Mix uniform values with values made of runs of 0x00 / 0xff bytes (carries at limb edges).
      const value =
        i % 4 === 3
          ? Uint8Array.from({ length: 32 }, () =>
              (next() & 3) === 0 ? next() & 0xff : next() & 1 ? 0xff : 0,
            )
          : randomBytes(next, 32);
      const digits = messageToDigits(value);
      const expected = toLimbs(valueOfBytes(value), UINT256_LIMBS).reverse();
      expect(digitsToLimbs(digits)).toEqual(expected);
      expect(limbsToDigits(expected)).toEqual(digits);
      const r = run(value);
      if (r.error !== 'OK' || r.stack.length !== UINT256_LIMBS) expect(r.error).toBe('OK');
      const got = r.stack.map(num);
      if (got.some((l, j) => l !== expected[j])) expect(got, `value ${bytesToHex(value)}`).toEqual(expected);
    }
  });

  it('feeds the limb gadgets: two committed values added in script', () => {
    const next = rng(99);
    const add = limbAddGadget();
    for (let i = 0; i < 200; i++) {
      const a = randomBytes(next, 32);
      const b = randomBytes(next, 32);
      // A's digits → limbs, then B's: convert each separately and stack A below B.
      const la = run(a).stack;
      const lb = run(b).stack;
      const r = runScript(add.script, { stack: [...la, ...lb], flags: CONSENSUS_FLAGS });
      expect(r.error).toBe('OK');
      const ta = toLimbs(valueOfBytes(a), UINT256_LIMBS);
      const tb = toLimbs(valueOfBytes(b), UINT256_LIMBS);
      const s = limbAdd(ta, tb);
      expect(r.stack.map(num)).toEqual([s.carry, ...s.sum.slice().reverse()]);
    }
  });

  it('the twins refuse malformed input', () => {
    expect(() => digitsToLimbs(new Array(63).fill(0))).toThrow(RangeError);
    expect(() => digitsToLimbs(new Array(64).fill(16))).toThrow(RangeError);
    expect(() => limbsToDigits(new Array(9).fill(2 ** 29 - 1))).toThrow(RangeError);
    expect(() => valueOfBytes(new Uint8Array(31))).toThrow(RangeError);
  });
});
