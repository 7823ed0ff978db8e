/**
 * Winternitz digits → limbs: turns a committed 32-byte value, as `appendWotsVerify` leaves it, into the
 * 9 × 29-bit limb form of `limbs.ts`, so the limb gadgets can work on committed values.
 *
 * The value is read big-endian (byte 0 most significant, the EVM's uint256). Input (bottom first): its 64
 * message digits in signing order (`messageToDigits`): d_0 d_1 … d_63 with d_{2i} the high and d_{2i+1}
 * the low nibble of byte 31 − i, so d_0 d_1 are the least significant byte and d_63 (the low nibble of
 * byte 0) is on top. Output: the 9 limbs, most significant deepest, L_0 on top (the `limbs.ts` layout).
 *
 * How: the most significant nibbles are the topmost, so each limb is built by Horner's rule from the top
 * (acc = 16·acc + nibble, the ×16 as four OP_DUP OP_ADD). Limb boundaries fall every 29 bits, inside a
 * nibble for 6 of the 8 boundaries; such a nibble is split bit by bit (`OP_GREATERTHANOREQUAL OP_IF
 * <2^b> OP_SUB OP_ENDIF`), its high bits finishing the upper limb and its low bits starting the next
 * one. Finished limbs wait on the altstack and come back reversed into place. Inputs must be nibbles
 * (0..15), which Winternitz verification guarantees.
 */
import { Op } from '../src/bitcoin/script/opcodes.ts';
import { fromLimbs, LIMB_BITS, toLimbs, UINT256_LIMBS } from './limbs.ts';
import { type ItemId, StackModel } from './stack-model.ts';

export type DigitsToLimbsGadget = {
  script: Uint8Array;
  maxStack: number;
  inputItems: number;
  outputItems: number;
};

const VALUE_BYTES = 32;
const NIBBLES = 2 * VALUE_BYTES;

/** Value nibble index (0 = least significant) of signing-order digit i. */
function nibbleOfDigit(i: number): number {
  return 2 * (i >> 1) + (i % 2 === 0 ? 1 : 0);
}

/** The gadget: 64 digits (signing order) → 9 limbs (most significant deepest). */
export function digitsToLimbsGadget(): DigitsToLimbsGadget {
  const m = new StackModel();
  const digits = m.inputs(NIBBLES);
  const byNibble: ItemId[] = [];
  digits.forEach((id, i) => {
    byNibble[nibbleOfDigit(i)] = id;
  });

  /** acc·2^bits + x, with x brought up from wherever it sits; consumes both. */
  const shiftAdd = (acc: ItemId, x: ItemId, bits: number): ItemId => {
    m.roll(x);
    let cur = m.roll(acc);
    for (let s = 0; s < bits; s++) {
      m.pick(cur);
      cur = m.add();
    }
    return m.add();
  };

  let acc: ItemId | undefined;
  const parked: ItemId[] = [];
  for (let v = NIBBLES - 1; v >= 0; v--) {
    const nib = byNibble[v] as ItemId;
    const lowBit = 4 * v;
    // A limb boundary strictly inside this nibble: bits [lowBit, boundary) belong to the lower limb.
    const boundary = Math.ceil((lowBit + 1) / LIMB_BITS) * LIMB_BITS;
    const k = boundary - lowBit;
    if (k > 0 && k < 4) {
      if (acc === undefined) throw new Error('unreachable: a split nibble always has an upper limb');
      // [acc n]: move n's bits 3 … k into acc one at a time, leaving n's low k bits.
      m.roll(acc);
      m.roll(nib);
      let a: ItemId = acc;
      let n: ItemId = nib;
      for (let b = 3; b >= k; b--) {
        const w = 1 << b;
        m.pick(n);
        m.number(w);
        m.op(Op.OP_GREATERTHANOREQUAL, 2, 1); // [a n c]
        m.op(Op.OP_ROT, 3, 3); // [n c a]   (ids refreshed below)
        m.op(Op.OP_DUP, 1, 2);
        m.op(Op.OP_ADD, 2, 1); // [n c 2a]
        m.op(Op.OP_OVER, 2, 3);
        m.op(Op.OP_ADD, 2, 1); // [n c a']
        m.op(Op.OP_ROT, 3, 3);
        m.op(Op.OP_ROT, 3, 3); // [a' n c]
        m.op(Op.OP_IF, 3, 2); // [a' n]
        m.number(w);
        m.op(Op.OP_SUB, 2, 1); // [a' n'] (both paths: two items)
        m.op(Op.OP_ENDIF, 0, 0);
        const s = m.stack;
        a = s[s.length - 2] as ItemId;
        n = s[s.length - 1] as ItemId;
      }
      m.toAlt(a);
      parked.push(a);
      acc = n;
      continue;
    }
    acc = acc === undefined ? m.roll(nib) : shiftAdd(acc, nib, 4);
    if (lowBit % LIMB_BITS === 0 && lowBit > 0) {
      m.toAlt(acc);
      parked.push(acc);
      acc = undefined;
    }
  }
  if (acc === undefined || parked.length !== UINT256_LIMBS - 1) throw new Error('unreachable: 9 limbs');
  // Main: [L0]; altstack: L8 … L1 (L1 on top). Bring them back and reverse into L8 … L0.
  const limbs = [acc];
  for (let i = 0; i < parked.length; i++) limbs.push(m.fromAlt());
  for (let j = UINT256_LIMBS - 1; j >= 0; j--) m.roll(limbs[j] as ItemId);
  return { script: m.build(), maxStack: m.maxStack, inputItems: NIBBLES, outputItems: UINT256_LIMBS };
}

let cached: DigitsToLimbsGadget | undefined;
/** The script alone (built once). */
export function digitsToLimbsScript(): Uint8Array {
  cached ??= digitsToLimbsGadget();
  return cached.script;
}

// ---- TypeScript twins ----

/** The 32-byte big-endian value as a bigint. */
export function valueOfBytes(value: Uint8Array): bigint {
  if (value.length !== VALUE_BYTES)
    throw new RangeError(`expected ${VALUE_BYTES} bytes, got ${value.length}`);
  let x = 0n;
  for (const byte of value) x = (x << 8n) | BigInt(byte);
  return x;
}

/** The 32-byte big-endian encoding of x < 2^256. */
export function bytesOfValue(x: bigint): Uint8Array {
  if (x < 0n || x >> 256n !== 0n) throw new RangeError(`${x} is not a uint256`);
  const out = new Uint8Array(VALUE_BYTES);
  for (let i = VALUE_BYTES - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** What the gadget computes: 64 signing-order digits → 9 limbs, most significant first (stack order). */
export function digitsToLimbs(digits: readonly number[]): number[] {
  if (digits.length !== NIBBLES) throw new RangeError(`expected ${NIBBLES} digits, got ${digits.length}`);
  let x = 0n;
  digits.forEach((d, i) => {
    if (!Number.isInteger(d) || d < 0 || d > 15) throw new RangeError(`digit ${i} is ${d}, not a nibble`);
    x |= BigInt(d) << BigInt(4 * nibbleOfDigit(i));
  });
  return toLimbs(x, UINT256_LIMBS).reverse();
}

/** The inverse: 9 limbs (most significant first) → the 64 signing-order digits. */
export function limbsToDigits(limbs: readonly number[]): number[] {
  if (limbs.length !== UINT256_LIMBS) throw new RangeError(`expected ${UINT256_LIMBS} limbs`);
  const x = fromLimbs(limbs.slice().reverse());
  if (x >> 256n !== 0n) throw new RangeError('the limbs exceed 256 bits');
  return Array.from({ length: NIBBLES }, (_, i) => Number((x >> BigInt(4 * nibbleOfDigit(i))) & 0xfn));
}
