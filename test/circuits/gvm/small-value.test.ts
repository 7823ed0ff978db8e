/**
 * The 4-byte committed-value gadget of the GVM-1 leaves: any u32's 8 Winternitz digits become the value
 * itself up to NONE = 2^29, and the sentinel 2^29 + 1 above, with no script error (the top nibble is
 * clamped before any arithmetic could leave 4-byte script numbers).
 */
import { describe, expect, it } from 'vitest';
import {
  clampSmall,
  SMALL_SENTINEL,
  smallValueOf,
  smallValueScript,
} from '../../../circuits/gvm/small-value.ts';
import { runScript } from '../../../src/bitcoin/script/interpreter.ts';
import { decodeScriptNum, encodeScriptNum } from '../../../src/bitcoin/script/num.ts';
import { messageToDigits } from '../../../src/dispute/winternitz/digits.ts';
import { NONE, smallBytes } from '../../../src/machine/isa.ts';
import { rng } from '../helpers.ts';

const script = smallValueScript();

/** What the gadget leaves for the u32 n (its digits as `appendWotsVerify` leaves them). */
function inScript(n: number): number {
  const stack = messageToDigits(smallBytes(n)).map((d) => encodeScriptNum(d));
  const r = runScript(script, { stack });
  if (r.error !== 'OK' || r.stack.length !== 1) throw new Error(`${n}: ${r.error}, ${r.stack.length} items`);
  return decodeScriptNum(r.stack[0] as Uint8Array, true, 4);
}

describe('GVM-1 small-value gadget (4-byte value → one script number)', () => {
  it('reads every value up to NONE as itself and everything above as the sentinel', () => {
    const edges = [
      0,
      1,
      15,
      16,
      255,
      256,
      0x0fffffff,
      0x10000000,
      NONE - 1,
      NONE,
      NONE + 1,
      NONE + 2,
      0x2fffffff,
      0x30000000,
      0x3fffffff,
      0x7fffffff,
      0x80000000,
      0xf0000000,
      0xffffffff,
    ];
    const next = rng(77);
    const values = [
      ...edges,
      ...Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? next() % (NONE + 1) : next())),
    ];
    for (const n of values) {
      const expected = n > NONE ? SMALL_SENTINEL : n;
      expect(clampSmall(n), `${n}`).toBe(expected);
      expect(smallValueOf(smallBytes(n)), `${n}`).toBe(expected);
      expect(inScript(n), `${n}`).toBe(expected);
    }
  });

  it('is short and refuses other sizes in its twin', () => {
    expect(script.length).toBeLessThan(80);
    expect(() => smallValueOf(new Uint8Array(3))).toThrow(RangeError);
  });
});
