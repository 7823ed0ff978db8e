/**
 * Winternitz digits → one script number, for the 4-byte fields of a GVM-1 step record (pc, addresses,
 * next pc: big-endian u32, `isa.ts`). The operator signs any u32 it likes, but only values up to
 * `NONE` = 2^29 mean anything, and a 4-byte script number only holds |n| < 2^31: a value with a high
 * top nibble would overflow the arithmetic. So every value above 2^29 becomes one sentinel,
 * `SMALL_SENTINEL` = 2^29 + 1, which equals no address, pc or `NONE`: a garbage field makes the step
 * wrong (the leaf compares it with what the instruction expects) instead of making the script fail.
 *
 * Input (bottom first): the 8 message digits in signing order, as `appendWotsVerify` leaves them:
 * d_0 d_1 are the high and low nibble of byte 3 (least significant), …, d_6 d_7 those of byte 0, so
 * d_6 (the top nibble, bits 28..31) sits below d_7 on top. Output: the value, or the sentinel.
 *
 * How: the top nibble is clamped to 3 first (`3 OP_MIN`), then Horner's rule over the other seven
 * nibbles (×16 as four OP_DUP OP_ADD) gives at most 3·2^28 + 2^28 − 1 < 2^30; the clamped value is
 * exactly the value when it is ≤ 2^29 and above 2^29 otherwise, and `<2^29 + 1> OP_MIN` finishes.
 * Inputs must be nibbles (0..15), which Winternitz verification guarantees.
 */
import { ScriptBuilder } from '../../src/bitcoin/script/builder.ts';
import { Op } from '../../src/bitcoin/script/opcodes.ts';
import { NONE, SMALL_BYTES, smallOf } from '../../src/machine/isa.ts';
import type { ValueTransform } from '../committed-values.ts';

/** What every 4-byte value above `NONE` reads as in script: no address, pc or `NONE` equals it. */
export const SMALL_SENTINEL = NONE + 1;

/** Digits a 4-byte value's verification leaves (2 per byte). */
export const SMALL_DIGITS = 2 * SMALL_BYTES;

function times16(b: ScriptBuilder): void {
  for (let i = 0; i < 4; i++) b.op(Op.OP_DUP, Op.OP_ADD);
}

/** The gadget: 8 digits (signing order) → one number ≤ 2^29 + 1. */
export function smallValueScript(): Uint8Array {
  const b = new ScriptBuilder();
  // [… d_6 d_7]: the top nibble d_6, clamped, then ×16 + d_7.
  b.op(Op.OP_SWAP).number(3).op(Op.OP_MIN);
  times16(b);
  b.op(Op.OP_ADD);
  // Bytes 1, 2, 3: [hi lo acc] → acc·256 + hi·16 + lo.
  for (let byte = 1; byte < SMALL_BYTES; byte++) {
    b.op(Op.OP_ROT, Op.OP_SWAP);
    times16(b);
    b.op(Op.OP_ADD);
    times16(b);
    b.op(Op.OP_ADD);
  }
  b.number(SMALL_SENTINEL).op(Op.OP_MIN);
  return b.build();
}

let cached: Uint8Array | undefined;

/** The transform `appendValuesVerify` applies to a 4-byte value (built once). */
export function smallValueTransform(): ValueTransform {
  cached ??= smallValueScript();
  return { script: cached, outputItems: 1 };
}

/** The TypeScript twin: what the gadget leaves for a committed 4-byte big-endian value. */
export function smallValueOf(bytes: Uint8Array): number {
  if (bytes.length !== SMALL_BYTES)
    throw new RangeError(`expected ${SMALL_BYTES} bytes, got ${bytes.length}`);
  return clampSmall(smallOf(bytes));
}

/** A u32 as the leaf reads it: itself up to `NONE`, the sentinel above. */
export function clampSmall(n: number): number {
  return n > NONE ? SMALL_SENTINEL : n;
}
