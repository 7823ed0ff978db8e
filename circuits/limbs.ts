/**
 * Limb arithmetic in tapscript for governance values (uint256 amounts), with TypeScript twins.
 *
 * Representation: a value is a sequence of 29-bit limbs (each 0 ≤ limb < 2^29), so a sum of two limbs
 * and a carry (< 2^30) and the running value of a limb product (< 3·2^29) stay inside 4-byte script
 * numbers (|n| < 2^31) without any further split. A uint256 takes 9 limbs (261 bits; the top limb holds
 * 24 of them). On the stack a number is its limbs with the MOST significant deepest and the least
 * significant on top (the order of the nibble gadgets, limb by limb); two operands A, B sit with A
 * below B: `[A_{n-1} … A_0  B_{n-1} … B_0]`.
 *
 * Gadgets (each consumes its operands):
 * - `limbAddScript(n)`: A + B → `[carry  S_{n-1} … S_0]` (n + 1 limbs: the sum, carry on the bottom);
 * - `limbSubScript(n)`: A − B → `[borrow  D_{n-1} … D_0]` (D = A − B mod 2^(29n); borrow = 1 iff A < B);
 * - `limbLessThanScript(n)`: → `[A < B]` (1 or 0);
 * - `limbEqualScript(n)`: → `[A = B]` (1 or 0);
 * - `limbMulScript()`: two limbs `[a  b]` → `[hi  lo]` with a·b = hi·2^29 + lo (tapscript has no
 *   OP_MUL: b's bits are read from the top by doubling it against 2^29, and the product is built by
 *   Horner's rule, acc = 2·acc + bit·a, over a two-limb accumulator).
 * Branches are `OP_IF … OP_ENDIF` blocks with the same stack effect on both paths.
 */
import { Op } from '../src/bitcoin/script/opcodes.ts';
import { type ItemId, StackModel } from './stack-model.ts';

export const LIMB_BITS = 29;
export const LIMB_BASE = 1 << LIMB_BITS;
/** Limbs of a uint256. */
export const UINT256_LIMBS = 9;

export type LimbGadget = { script: Uint8Array; maxStack: number; inputItems: number; outputItems: number };

// ---- TypeScript twins (limbs least significant first) ----

/** The n limbs of x (least significant first); x must fit. */
export function toLimbs(x: bigint, n: number): number[] {
  if (x < 0n || x >> BigInt(LIMB_BITS * n) !== 0n) throw new RangeError(`${x} does not fit ${n} limbs`);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Number((x >> BigInt(LIMB_BITS * i)) & BigInt(LIMB_BASE - 1)));
  return out;
}

export function fromLimbs(limbs: readonly number[]): bigint {
  let x = 0n;
  for (let i = limbs.length - 1; i >= 0; i--) x = (x << BigInt(LIMB_BITS)) + BigInt(limbs[i] as number);
  return x;
}

/** A + B limb by limb: n sum limbs and the carry out. */
export function limbAdd(a: readonly number[], b: readonly number[]): { sum: number[]; carry: number } {
  const sum: number[] = [];
  let carry = 0;
  for (let i = 0; i < a.length; i++) {
    const v = (a[i] as number) + (b[i] as number) + carry;
    carry = v >= LIMB_BASE ? 1 : 0;
    sum.push(v - carry * LIMB_BASE);
  }
  return { sum, carry };
}

/** A − B limb by limb: n difference limbs (mod 2^(29n)) and the borrow out. */
export function limbSub(a: readonly number[], b: readonly number[]): { diff: number[]; borrow: number } {
  const diff: number[] = [];
  let borrow = 0;
  for (let i = 0; i < a.length; i++) {
    const v = (a[i] as number) - (b[i] as number) - borrow;
    borrow = v < 0 ? 1 : 0;
    diff.push(v + borrow * LIMB_BASE);
  }
  return { diff, borrow };
}

export function limbLessThan(a: readonly number[], b: readonly number[]): boolean {
  return limbSub(a, b).borrow === 1;
}

export function limbEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** a·b for two limbs, as hi·2^29 + lo, by the same Horner steps as the script. */
export function limbMul(a: number, b: number): { hi: number; lo: number } {
  let hi = 0;
  let lo = 0;
  let rest = b;
  for (let k = LIMB_BITS - 1; k >= 0; k--) {
    rest *= 2;
    const bit = rest >= LIMB_BASE ? 1 : 0;
    rest -= bit * LIMB_BASE;
    lo = 2 * lo + bit * a;
    let carry = 0;
    while (lo >= LIMB_BASE) {
      lo -= LIMB_BASE;
      carry++;
    }
    hi = 2 * hi + carry;
  }
  return { hi, lo };
}

// ---- Scripts ----

/** [v] → [c  v − c·M] with c = (v ≥ M), M the item `base`. */
function splitCarry(m: StackModel, base: ItemId): { carry: ItemId; value: ItemId } {
  const v = m.top();
  m.pick(v);
  m.pick(base);
  m.op(Op.OP_GREATERTHANOREQUAL, 2, 1);
  const [carry] = m.op(Op.OP_TUCK, 2, 3) as [ItemId, ItemId, ItemId];
  m.op(Op.OP_IF, 1, 0);
  m.pick(base);
  m.op(Op.OP_SUB, 2, 1);
  m.op(Op.OP_ENDIF, 0, 0);
  return { carry, value: m.top() };
}

/** [M v] → [M c v − c·M] with c = (v ≥ M): the short form when M sits right below v. */
function splitCarryOverBase(m: StackModel, base: ItemId): { carry: ItemId; value: ItemId } {
  if (m.depth(base) !== 1) throw new RangeError('splitCarryOverBase needs the base right below the value');
  m.op(Op.OP_2DUP, 0, 2);
  m.op(Op.OP_LESSTHANOREQUAL, 2, 1);
  const [carry] = m.op(Op.OP_TUCK, 2, 3) as [ItemId, ItemId, ItemId];
  m.op(Op.OP_IF, 1, 0);
  m.pick(base);
  m.op(Op.OP_SUB, 2, 1);
  m.op(Op.OP_ENDIF, 0, 0);
  return { carry, value: m.top() };
}

/** [v] → [b  v + b·M] with b = (v < 0). */
function splitBorrow(m: StackModel, base: ItemId): { borrow: ItemId; value: ItemId } {
  const v = m.top();
  m.pick(v);
  m.number(0);
  m.op(Op.OP_LESSTHAN, 2, 1);
  const [borrow] = m.op(Op.OP_TUCK, 2, 3) as [ItemId, ItemId, ItemId];
  m.op(Op.OP_IF, 1, 0);
  m.pick(base);
  m.op(Op.OP_ADD, 2, 1);
  m.op(Op.OP_ENDIF, 0, 0);
  return { borrow, value: m.top() };
}

/** Two n-limb operands; `a[i]`, `b[i]` are the ids of limb i (least significant first). */
function operands(m: StackModel, n: number): { a: ItemId[]; b: ItemId[] } {
  const a = m.inputs(n).reverse();
  const b = m.inputs(n).reverse();
  return { a, b };
}

function finish(m: StackModel, inputItems: number, outputItems: number): LimbGadget {
  return { script: m.build(), maxStack: m.maxStack, inputItems, outputItems };
}

export function limbAddGadget(n = UINT256_LIMBS): LimbGadget {
  const m = new StackModel();
  const { a, b } = operands(m, n);
  const base = m.number(LIMB_BASE);
  let carry: ItemId | undefined;
  for (let i = 0; i < n; i++) {
    // [M carry] → [M v]: 2^29 stays right below the sum.
    m.roll(a[i] as ItemId);
    if (carry !== undefined) m.add();
    m.roll(b[i] as ItemId);
    m.add();
    const r = splitCarryOverBase(m, base);
    m.toAlt(r.value);
    carry = r.carry;
  }
  // [M carry] → [carry]
  m.op(Op.OP_NIP, 2, 1);
  for (let i = 0; i < n; i++) m.fromAlt();
  return finish(m, 2 * n, n + 1);
}

export function limbSubGadget(n = UINT256_LIMBS): LimbGadget {
  const m = new StackModel();
  const { a, b } = operands(m, n);
  const base = m.number(LIMB_BASE);
  let borrow: ItemId | undefined;
  for (let i = 0; i < n; i++) {
    m.roll(a[i] as ItemId);
    m.roll(b[i] as ItemId);
    m.op(Op.OP_SUB, 2, 1);
    if (borrow !== undefined) {
      m.roll(borrow);
      m.op(Op.OP_SUB, 2, 1);
    }
    const r = splitBorrow(m, base);
    m.toAlt(r.value);
    borrow = r.borrow;
  }
  m.roll(base);
  m.dropTop(1);
  for (let i = 0; i < n; i++) m.fromAlt();
  return finish(m, 2 * n, n + 1);
}

export function limbLessThanGadget(n = UINT256_LIMBS): LimbGadget {
  const m = new StackModel();
  const { a, b } = operands(m, n);
  let borrow: ItemId | undefined;
  for (let i = 0; i < n; i++) {
    m.roll(a[i] as ItemId);
    m.roll(b[i] as ItemId);
    m.op(Op.OP_SUB, 2, 1);
    if (borrow !== undefined) {
      m.roll(borrow);
      m.op(Op.OP_SUB, 2, 1);
    }
    m.number(0);
    borrow = m.op(Op.OP_LESSTHAN, 2, 1)[0] as ItemId;
  }
  return finish(m, 2 * n, 1);
}

export function limbEqualGadget(n = UINT256_LIMBS): LimbGadget {
  const m = new StackModel();
  const { a, b } = operands(m, n);
  let acc: ItemId | undefined;
  for (let i = 0; i < n; i++) {
    m.roll(a[i] as ItemId);
    m.roll(b[i] as ItemId);
    const eq = m.op(Op.OP_NUMEQUAL, 2, 1)[0] as ItemId;
    if (acc !== undefined) {
      m.roll(acc);
      acc = m.op(Op.OP_BOOLAND, 2, 1)[0] as ItemId;
    } else acc = eq;
  }
  return finish(m, 2 * n, 1);
}

export function limbMulGadget(): LimbGadget {
  const m = new StackModel();
  const [a, b0] = m.inputs(2) as [ItemId, ItemId];
  const base = m.number(LIMB_BASE);
  let rest: ItemId = b0;
  let hi: ItemId | undefined;
  let lo: ItemId | undefined;
  for (let k = LIMB_BITS - 1; k >= 0; k--) {
    // The next bit of b: double the rest and compare it with 2^29.
    m.roll(rest);
    m.pick(rest);
    m.add();
    const r = splitCarry(m, base);
    rest = r.value;
    const bit = r.carry;
    // lo = 2·lo + bit·a (the first step: lo = bit·a).
    if (lo === undefined) m.number(0);
    else {
      m.roll(lo);
      m.pick(lo);
      m.add();
    }
    m.roll(bit);
    m.op(Op.OP_IF, 1, 0);
    m.pick(a);
    m.add();
    m.op(Op.OP_ENDIF, 0, 0);
    // lo < 3·2^29: at most two carries.
    if (k === LIMB_BITS - 1) {
      // The first step's lo is bit·a < 2^29: no carry, hi = 0.
      lo = m.top();
      hi = m.number(0);
      continue;
    }
    const c1 = splitCarry(m, base);
    const c2 = splitCarry(m, base);
    lo = c2.value;
    m.roll(c1.carry);
    m.roll(c2.carry);
    m.add();
    m.roll(hi as ItemId);
    m.pick(m.top());
    m.add();
    hi = m.add();
  }
  // Leave [hi lo]: drop a, the exhausted rest of b and 2^29.
  m.toAlt(lo as ItemId);
  m.toAlt(hi as ItemId);
  m.dropTop(m.height);
  m.fromAlt();
  m.fromAlt();
  return finish(m, 2, 2);
}
