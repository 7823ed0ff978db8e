/**
 * The memory disprove leaves of GVM-1 (docs/protocol.md §22.5), and the digit comparisons every GVM-1
 * leaf in this folder judges committed values with.
 *
 * Each leaf: covenant keys, the Winternitz verification of its committed values (`appendValuesVerify`),
 * then a judgement leaving exactly one item, true exactly when the disputed claim is wrong:
 * - `readAfterWriteLeaf`: a read (raddr, rvalue) and the latest earlier write (waddr, wvalue) to the
 *   same address disagree: raddr = waddr and rvalue ≠ wvalue;
 * - `unwrittenReadLeaf`: a read of an address nothing wrote returned a non-zero word (raddr ≠ NONE,
 *   rvalue ≠ 0; memory starts all zero);
 * - `differLeaf(bytes)`: two committed values of the same size differ (the halting result vs the
 *   claimed root, a tape word vs its path's node_0, a step's pc vs the previous step's next pc);
 * - `equivocationLeaf(key)`: two signatures under one key sign different values (§24.7);
 * - `differsFromLeaf(constant)`: a committed value differs from a constant of the graph (the kick-off's
 *   pre-state image root against the previous epoch's root);
 * - `pcRangeLeaf(programLength)`: a committed pc is outside the program (pc ≥ programLength, any u32).
 *
 * Digits stay digits: a value is compared digit by digit (against another value's digits or a
 * constant's), never converted to a number, so any u32 and any word is judged without overflow.
 * Digit layout (`messageToDigits`): a value's bytes last first, each byte high nibble then low nibble;
 * the digit at signing index p is nibble p ^ 1 of the big-endian value (nibble 0 least significant).
 */
import { ScriptBuilder } from '../../src/bitcoin/script/builder.ts';
import { Op } from '../../src/bitcoin/script/opcodes.ts';
import { equalBytes } from '../../src/core/bytes.ts';
import type { WotsPublicKey } from '../../src/dispute/winternitz/keys.ts';
import type { WotsSignature } from '../../src/dispute/winternitz/sign.ts';
import { NONE, SMALL_BYTES, smallBytes, WORD_BYTES, wordBytes } from '../../src/machine/isa.ts';
import {
  appendValuesVerify,
  type CommittedValue,
  type ValueTransform,
  valuesWitness,
} from '../committed-values.ts';
import { type ItemId, StackModel } from '../stack-model.ts';

/** A GVM-1 leaf script, with its two parts measured. */
export type GvmLeaf = {
  script: Uint8Array;
  /** Bytes of the covenant checks and the Winternitz verifications (transforms and altstack moves). */
  verifyBytes: number;
  /** Bytes of the judgement that follows. */
  judgeBytes: number;
};

// ---------------------------------------------------------------------------------------------------
// Digit comparisons on a symbolic stack (shared by every leaf in circuits/gvm/).

/** The digits a value is committed as (signing order): its bytes last first, high nibble first. */
export function digitsOf(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = bytes.length - 1; i >= 0; i--) out.push((bytes[i] as number) >> 4, (bytes[i] as number) & 15);
  return out;
}

/** Combines the judgement `next` (on top) into the running one (`acc`, somewhere below) with `op`. */
function combine(m: StackModel, acc: ItemId | undefined, op: number): ItemId {
  if (acc === undefined) return m.top();
  m.roll(acc);
  return m.op(op, 2, 1)[0] as ItemId;
}

/**
 * 1 when the digits `a` and `b` (same length, any positions) differ anywhere, else 0. Consumes them
 * when `consume`, else copies them (they stay where they are).
 */
export function digitsDiffer(
  m: StackModel,
  a: readonly ItemId[],
  b: readonly ItemId[],
  consume = true,
): ItemId {
  if (a.length !== b.length || a.length === 0) throw new RangeError('comparing digit lists of other lengths');
  let acc: ItemId | undefined;
  for (let k = 0; k < a.length; k++) {
    m.fetch(a[k] as ItemId, consume);
    m.fetch(b[k] as ItemId, consume);
    m.op(Op.OP_NUMNOTEQUAL, 2, 1);
    acc = combine(m, acc, Op.OP_BOOLOR);
  }
  return acc as ItemId;
}

/** 1 when the digits `ids` (consumed) are not those of the constant `bytes`, else 0. */
export function digitsDifferFrom(m: StackModel, ids: readonly ItemId[], bytes: Uint8Array): ItemId {
  const want = digitsOf(bytes);
  if (want.length !== ids.length) throw new RangeError('comparing digits with a constant of another size');
  // The zero digits together: their sum is non-zero exactly when one of them is (digits are 0..15).
  const zeros = ids.filter((_, k) => want[k] === 0);
  let acc: ItemId | undefined;
  if (zeros.length > 0) {
    for (let k = 0; k < zeros.length; k++) {
      m.roll(zeros[k] as ItemId);
      if (k > 0) m.add();
    }
    acc = m.op(Op.OP_0NOTEQUAL, 1, 1)[0] as ItemId;
  }
  for (let k = 0; k < ids.length; k++) {
    const c = want[k] as number;
    if (c === 0) continue;
    m.roll(ids[k] as ItemId);
    m.number(c);
    m.op(Op.OP_NUMNOTEQUAL, 2, 1);
    acc = combine(m, acc, Op.OP_BOOLOR);
  }
  return acc as ItemId;
}

/**
 * 1 when the big-endian value whose digits are `ids` (consumed) is ≥ the constant `bytes` (same size),
 * else 0. Lexicographic from the least significant nibble up: with g the verdict on the lower nibbles
 * (1 = "≥"), the verdict including nibble d against c is d > c or (d = c and g), which for g ∈ {0, 1}
 * and digits is exactly 2d + g > 2c. Starting from g = 1 makes equality count as ≥.
 */
export function digitsAtLeast(m: StackModel, ids: readonly ItemId[], bytes: Uint8Array): ItemId {
  const want = digitsOf(bytes);
  if (want.length !== ids.length) throw new RangeError('comparing digits with a constant of another size');
  let g = m.number(1);
  for (let n = 0; n < ids.length; n++) {
    // Nibble n (least significant first) sits at signing index n ^ 1.
    const d = m.roll(ids[n ^ 1] as ItemId);
    m.pick(d);
    m.add();
    m.roll(g);
    m.add();
    m.number(2 * (want[n ^ 1] as number));
    g = m.op(Op.OP_GREATERTHAN, 2, 1)[0] as ItemId;
  }
  return g;
}

/** Bit `b` (0..3) of the nibble `id` (consumed), as 0 or 1, without branches. */
export function nibbleBit(m: StackModel, id: ItemId, b: number): ItemId {
  m.roll(id);
  for (let t = 3; t > b; t--) {
    // d ← d − 2^t·[d ≥ 2^t]: clears bit t.
    m.pick(m.top());
    m.number(1 << t);
    m.op(Op.OP_GREATERTHANOREQUAL, 2, 1);
    for (let s = 0; s < t; s++) {
      m.pick(m.top());
      m.add();
    }
    m.op(Op.OP_SUB, 2, 1);
  }
  m.number(1 << b);
  return m.op(Op.OP_GREATERTHANOREQUAL, 2, 1)[0] as ItemId;
}

/** Leaves only `keep` (in that order) on the model's stack, dropping everything else it holds. */
export function keepOnly(m: StackModel, keep: readonly ItemId[]): void {
  for (let k = keep.length - 1; k >= 0; k--) m.toAlt(keep[k] as ItemId);
  m.dropTop(m.height);
  for (let k = 0; k < keep.length; k++) m.fromAlt();
}

/** A transform of one verified value: `judge` turns its digits into one or more items, nothing else. */
export function digitTransform(
  digits: number,
  judge: (m: StackModel, ids: ItemId[]) => readonly ItemId[],
): ValueTransform {
  const m = new StackModel();
  const ids = m.inputs(digits);
  const out = judge(m, ids);
  keepOnly(m, out);
  return { script: m.build(), outputItems: out.length };
}

/** Covenant + verification of `values`, then the judgement script. */
export function assembleLeaf(
  values: readonly CommittedValue[],
  covenant: readonly Uint8Array[],
  judge: Uint8Array,
): GvmLeaf {
  const b = new ScriptBuilder();
  appendValuesVerify(b, values, covenant);
  const verify = b.build();
  const script = new Uint8Array(verify.length + judge.length);
  script.set(verify, 0);
  script.set(judge, verify.length);
  return { script, verifyBytes: verify.length, judgeBytes: judge.length };
}

/** Refuses a key made for another message size (the leaf would never verify its signature). */
export function checkKeySize(key: WotsPublicKey, bytes: number, what: string): WotsPublicKey {
  if (key.messageBytes !== bytes) {
    throw new RangeError(`${what} is committed as ${bytes} bytes, not ${key.messageBytes}`);
  }
  return key;
}

const smallDigits = 2 * SMALL_BYTES;
const wordDigits = 2 * WORD_BYTES;
const NONE_BYTES = smallBytes(NONE);
const ZERO_WORD = new Uint8Array(WORD_BYTES);

// ---------------------------------------------------------------------------------------------------
// Read after write.

export type ReadAfterWriteKeys = {
  raddr: WotsPublicKey;
  rvalue: WotsPublicKey;
  waddr: WotsPublicKey;
  wvalue: WotsPublicKey;
};
export type ReadAfterWriteSignatures = {
  raddr: WotsSignature;
  rvalue: WotsSignature;
  waddr: WotsSignature;
  wvalue: WotsSignature;
};

/**
 * Spendable exactly when raddr = waddr and rvalue ≠ wvalue. Values bottom first: raddr, rvalue,
 * waddr, wvalue (4, 32, 4, 32 bytes).
 */
export function readAfterWriteLeaf(keys: ReadAfterWriteKeys, covenant: readonly Uint8Array[] = []): GvmLeaf {
  const values: CommittedValue[] = [
    { key: checkKeySize(keys.raddr, SMALL_BYTES, 'raddr') },
    { key: checkKeySize(keys.rvalue, WORD_BYTES, 'rvalue') },
    { key: checkKeySize(keys.waddr, SMALL_BYTES, 'waddr') },
    { key: checkKeySize(keys.wvalue, WORD_BYTES, 'wvalue') },
  ];
  const m = new StackModel();
  const raddr = m.inputs(smallDigits);
  const rvalue = m.inputs(wordDigits);
  const waddr = m.inputs(smallDigits);
  const wvalue = m.inputs(wordDigits);
  const valueDiffers = digitsDiffer(m, rvalue, wvalue);
  digitsDiffer(m, raddr, waddr);
  m.op(Op.OP_NOT, 1, 1); // the addresses agree
  m.roll(valueDiffers);
  m.op(Op.OP_BOOLAND, 2, 1);
  return assembleLeaf(values, covenant, m.build());
}

export function readAfterWriteWitness(
  sigs: ReadAfterWriteSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness([sigs.raddr, sigs.rvalue, sigs.waddr, sigs.wvalue], covenantSigs);
}

/** The twin: a read of the address a write set returned another word. */
export function isFaultyReadAfterWrite(
  raddr: number,
  rvalue: bigint,
  waddr: number,
  wvalue: bigint,
): boolean {
  smallBytes(raddr);
  smallBytes(waddr);
  wordBytes(rvalue);
  wordBytes(wvalue);
  return raddr === waddr && rvalue !== wvalue;
}

// ---------------------------------------------------------------------------------------------------
// Unwritten read.

export type UnwrittenReadKeys = { raddr: WotsPublicKey; rvalue: WotsPublicKey };
export type UnwrittenReadSignatures = { raddr: WotsSignature; rvalue: WotsSignature };

/** Spendable exactly when raddr ≠ NONE and rvalue ≠ 0. Values bottom first: raddr (4 B), rvalue (32 B). */
export function unwrittenReadLeaf(keys: UnwrittenReadKeys, covenant: readonly Uint8Array[] = []): GvmLeaf {
  const values: CommittedValue[] = [
    { key: checkKeySize(keys.raddr, SMALL_BYTES, 'raddr') },
    { key: checkKeySize(keys.rvalue, WORD_BYTES, 'rvalue') },
  ];
  const m = new StackModel();
  const raddr = m.inputs(smallDigits);
  const rvalue = m.inputs(wordDigits);
  const nonZero = digitsDifferFrom(m, rvalue, ZERO_WORD);
  digitsDifferFrom(m, raddr, NONE_BYTES);
  m.roll(nonZero);
  m.op(Op.OP_BOOLAND, 2, 1);
  return assembleLeaf(values, covenant, m.build());
}

export function unwrittenReadWitness(
  sigs: UnwrittenReadSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness([sigs.raddr, sigs.rvalue], covenantSigs);
}

/** The twin: a real read (not NONE) of never-written memory returned a non-zero word. */
export function isFaultyUnwrittenRead(raddr: number, rvalue: bigint): boolean {
  smallBytes(raddr);
  wordBytes(rvalue);
  return raddr !== NONE && rvalue !== 0n;
}

// ---------------------------------------------------------------------------------------------------
// Two values differ.

export type DifferKeys = { a: WotsPublicKey; b: WotsPublicKey };
export type DifferSignatures = { a: WotsSignature; b: WotsSignature };

/** Spendable exactly when the committed `a` and `b` (`bytes` each) differ. Values bottom first: a, b. */
export function differLeaf(bytes: number, keys: DifferKeys, covenant: readonly Uint8Array[] = []): GvmLeaf {
  const values: CommittedValue[] = [
    { key: checkKeySize(keys.a, bytes, 'a') },
    { key: checkKeySize(keys.b, bytes, 'b') },
  ];
  const m = new StackModel();
  const a = m.inputs(2 * bytes);
  const b = m.inputs(2 * bytes);
  digitsDiffer(m, a, b);
  return assembleLeaf(values, covenant, m.build());
}

export function differWitness(
  sigs: DifferSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness([sigs.a, sigs.b], covenantSigs);
}

export function isFaultyDiffer(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) throw new RangeError('the two values have different sizes');
  return !equalBytes(a, b);
}

// ---------------------------------------------------------------------------------------------------
// Equivocation: two values under one key.

/**
 * Spendable exactly when two signatures under the one key `key` sign different values
 * (docs/protocol.md §24.7): a mover that published two witnesses of one presigned move, so one of them
 * is a lie. It is `differLeaf` with the same key on both sides. The values are compared as numbers,
 * digit by digit, so the same value signed with a digit encoded non-minimally (`00` for 0, which
 * consensus accepts) is not an equivocation; and anyone holding one signature can only raise its
 * digits, which the checksum refuses, so no one but the signer can make a second. That is also why both
 * signatures are verified in full: two chain values of one digit position at different depths prove
 * nothing, since anyone can hash a published one further. Values bottom first: a, b.
 */
export function equivocationLeaf(key: WotsPublicKey, covenant: readonly Uint8Array[] = []): GvmLeaf {
  return differLeaf(key.messageBytes, { a: key, b: key }, covenant);
}

export function equivocationWitness(
  a: WotsSignature,
  b: WotsSignature,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness([a, b], covenantSigs);
}

/** The twin: the two signed values differ. */
export const isEquivocation = (a: Uint8Array, b: Uint8Array): boolean => isFaultyDiffer(a, b);

// ---------------------------------------------------------------------------------------------------
// A value differs from a constant of the graph.

/**
 * Spendable exactly when the committed value differs from `constant` (any size the key signs). The
 * game's use: the kick-off's pre-state image root against the root the graph fixes (the previous
 * epoch's, docs/protocol.md §24.11 fix 5), so a claim built on another pre-state is disproved at once.
 */
export function differsFromLeaf(
  constant: Uint8Array,
  key: WotsPublicKey,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const m = new StackModel();
  digitsDifferFrom(m, m.inputs(2 * constant.length), constant);
  return assembleLeaf([{ key: checkKeySize(key, constant.length, 'value') }], covenant, m.build());
}

export function differsFromWitness(
  sig: WotsSignature,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness([sig], covenantSigs);
}

export function isFaultyDiffersFrom(value: Uint8Array, constant: Uint8Array): boolean {
  if (value.length !== constant.length)
    throw new RangeError('the value and the constant have different sizes');
  return !equalBytes(value, constant);
}

// ---------------------------------------------------------------------------------------------------
// Program counter in range.

/** Spendable exactly when the committed pc (4 B, any u32) is ≥ `programLength`. */
export function pcRangeLeaf(
  programLength: number,
  key: WotsPublicKey,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const bound = smallBytes(programLength);
  const m = new StackModel();
  const pc = m.inputs(smallDigits);
  digitsAtLeast(m, pc, bound);
  return assembleLeaf([{ key: checkKeySize(key, SMALL_BYTES, 'pc') }], covenant, m.build());
}

export function pcRangeWitness(sig: WotsSignature, covenantSigs: readonly Uint8Array[] = []): Uint8Array[] {
  return valuesWitness([sig], covenantSigs);
}

export function isFaultyPc(pc: number, programLength: number): boolean {
  smallBytes(pc);
  smallBytes(programLength);
  return pc >= programLength;
}
