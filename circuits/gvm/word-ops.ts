/**
 * uint256 word operations for the GVM-1 execution leaves, written on a `StackModel` so a leaf names the
 * limbs it works on by id and the model emits the picks: constants, equality (with a constant or another
 * word), zero tests, add mod 2^256, less-than, mul mod 2^256 and the division check. A word is its 9
 * × 29-bit limbs (`limbs.ts`); every array of ids here is LEAST significant first (ids[0] = L_0), and
 * every operation copies its operands (nothing is consumed), so a leaf can reuse a committed value; the
 * leaf clears the stack at the end.
 *
 * The finished gadgets of `limbs.ts` (add, sub, less-than, the 29 × 29-bit limb product) run inside a
 * model through `embed`: their script is appended as is, and their stack effect is booked on one OP_NOP
 * (the model can only account for an opcode it emits itself; the NOP costs one byte per call).
 *
 * Products: a·b = Σ a_i·b_j·2^(29(i+j)). Only columns i + j ≤ 8 reach below 2^261, so mul mod 2^256
 * needs 45 limb products; each column is summed with a carry count, every addition normalised back
 * below 2^29 (a column holds up to 18 terms of up to 2^29, far past a 4-byte script number otherwise).
 * The division check needs the FULL product q·y to be below 2^256: a pair with i + j ≥ 9 and both limbs
 * non-zero already puts it at or above 2^261, so those 36 pairs are only tested for zero (no product),
 * and the 45 others are summed exactly, column 9 included.
 *
 * Every input limb must be below 2^29 (and a uint256's top limb below 2^24), which `digits-to-limbs`
 * guarantees for any committed 32-byte value.
 */
import { Op } from '../../src/bitcoin/script/opcodes.ts';
import {
  fromLimbs,
  LIMB_BASE,
  LIMB_BITS,
  type LimbGadget,
  limbAddGadget,
  limbLessThanGadget,
  limbMul,
  limbMulGadget,
  limbSubGadget,
  toLimbs,
  UINT256_LIMBS,
} from '../limbs.ts';
import { type ItemId, StackModel } from '../stack-model.ts';

const N = UINT256_LIMBS;
/** Bits of a uint256 in its top limb (256 − 8·29). */
const TOP_BITS = 256 - (N - 1) * LIMB_BITS;
const TOP_BASE = 1 << TOP_BITS;
const TWO_256 = 1n << 256n;

let gadgets: { mul: LimbGadget; add: LimbGadget; sub: LimbGadget; lt: LimbGadget } | undefined;
function lib() {
  gadgets ??= {
    mul: limbMulGadget(),
    add: limbAddGadget(N),
    sub: limbSubGadget(N),
    lt: limbLessThanGadget(N),
  };
  return gadgets;
}

/** Runs a finished gadget whose inputs are the top `g.inputItems` items; returns its outputs, bottom first. */
export function embed(m: StackModel, g: LimbGadget): ItemId[] {
  m.builder.raw(g.script);
  return m.op(Op.OP_NOP, g.inputItems, g.outputItems);
}

/** Pushes the constant word x; returns its limb ids (least significant first). */
export function pushWord(m: StackModel, x: bigint): ItemId[] {
  const limbs = toLimbs(x, N);
  const ids: ItemId[] = [];
  for (let i = N - 1; i >= 0; i--) ids[i] = m.number(limbs[i] as number);
  return ids;
}

/** Copies a word to the top in the limb gadgets' layout (most significant deepest); returns the copies. */
export function pickWord(m: StackModel, w: readonly ItemId[]): ItemId[] {
  const ids: ItemId[] = [];
  for (let i = w.length - 1; i >= 0; i--) ids[i] = m.pick(w[i] as ItemId);
  return ids;
}

/** The AND of booleans (consumed); an empty list is true. */
export function all(m: StackModel, bools: readonly ItemId[]): ItemId {
  if (bools.length === 0) return m.number(1);
  let acc = m.roll(bools[0] as ItemId);
  for (let i = 1; i < bools.length; i++) {
    m.roll(bools[i] as ItemId);
    acc = m.op(Op.OP_BOOLAND, 2, 1)[0] as ItemId;
  }
  return acc;
}

/** The OR of two booleans (consumed). */
export function either(m: StackModel, a: ItemId, b: ItemId): ItemId {
  m.roll(a);
  m.roll(b);
  return m.op(Op.OP_BOOLOR, 2, 1)[0] as ItemId;
}

/** `cond ? a : b` on booleans (all consumed), branch-free: (cond ∧ a) ∨ (¬cond ∧ b). */
export function select(m: StackModel, cond: ItemId, a: ItemId, b: ItemId): ItemId {
  m.pick(cond);
  m.roll(a);
  const t = m.op(Op.OP_BOOLAND, 2, 1)[0] as ItemId;
  m.roll(cond);
  m.op(Op.OP_NOT, 1, 1);
  m.roll(b);
  const f = m.op(Op.OP_BOOLAND, 2, 1)[0] as ItemId;
  return either(m, t, f);
}

/** A number item equals the constant c. */
export function numberIs(m: StackModel, id: ItemId, c: number): ItemId {
  m.pick(id);
  m.number(c);
  return m.op(Op.OP_NUMEQUAL, 2, 1)[0] as ItemId;
}

/** Two number items are equal. */
export function numbersEqual(m: StackModel, a: ItemId, b: ItemId): ItemId {
  m.pick(a);
  m.pick(b);
  return m.op(Op.OP_NUMEQUAL, 2, 1)[0] as ItemId;
}

/** Every limb of `w` is zero (any number of limbs). */
export function isZero(m: StackModel, w: readonly ItemId[]): ItemId {
  if (w.length === 0) return m.number(1);
  // OR of the limbs (each below 2^29, so any non-zero one is true), then NOT.
  m.pick(w[0] as ItemId);
  for (let i = 1; i < w.length; i++) {
    m.pick(w[i] as ItemId);
    m.op(Op.OP_BOOLOR, 2, 1);
  }
  return m.op(Op.OP_NOT, 1, 1)[0] as ItemId;
}

/** The word `w` equals the constant c. */
export function wordIs(m: StackModel, w: readonly ItemId[], c: bigint): ItemId {
  if (c === 0n) return isZero(m, w);
  const limbs = toLimbs(c, N);
  return all(
    m,
    w.map((id, i) => numberIs(m, id, limbs[i] as number)),
  );
}

/** Two words are equal. */
export function wordsEqual(m: StackModel, a: readonly ItemId[], b: readonly ItemId[]): ItemId {
  return all(
    m,
    a.map((id, i) => numbersEqual(m, id, b[i] as ItemId)),
  );
}

/** a < b (uint256). */
export function lessThan(m: StackModel, a: readonly ItemId[], b: readonly ItemId[]): ItemId {
  pickWord(m, a);
  pickWord(m, b);
  return embed(m, lib().lt)[0] as ItemId;
}

/** The top item v < 2^29 (consumed) → v mod 2^24, the top limb of a word mod 2^256. */
function reduceTop(m: StackModel, v: ItemId): ItemId {
  let cur = m.roll(v);
  for (let b = LIMB_BITS - 1; b >= TOP_BITS; b--) {
    m.pick(cur);
    m.number(2 ** b);
    m.op(Op.OP_GREATERTHANOREQUAL, 2, 1);
    m.op(Op.OP_IF, 1, 0);
    m.number(2 ** b);
    cur = m.op(Op.OP_SUB, 2, 1)[0] as ItemId;
    m.op(Op.OP_ENDIF, 0, 0);
  }
  return cur;
}

/** (a + b) mod 2^256. */
export function addMod(m: StackModel, a: readonly ItemId[], b: readonly ItemId[]): ItemId[] {
  pickWord(m, a);
  pickWord(m, b);
  const out = embed(m, lib().add); // [carry S_8 … S_0]: a sum of two words never carries out of 261 bits.
  m.roll(out[0] as ItemId);
  m.dropTop(1);
  const sum = out.slice(1).reverse();
  sum[N - 1] = reduceTop(m, sum[N - 1] as ItemId);
  return sum;
}

/** [v] on top → [c  v − c·2^29] with c = (v ≥ 2^29), `base` the item 2^29. */
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

/**
 * Columns 0 … 8 of a·b, each normalised below 2^29 (`limbs`), and what spills into column 9: the high
 * halves of column 8's products (`high`) and column 8's carry count (`carry`). Nothing is consumed but
 * the partial results; `base` (2^29) is left on the stack for the caller to drop.
 */
function productColumns(
  m: StackModel,
  a: readonly ItemId[],
  b: readonly ItemId[],
): { limbs: ItemId[]; high: ItemId[]; carry: ItemId | undefined; base: ItemId } {
  const base = m.number(LIMB_BASE);
  const limbs: ItemId[] = [];
  let pendingHigh: ItemId[] = [];
  let carryIn: ItemId | undefined;
  for (let k = 0; k < N; k++) {
    let acc: ItemId | undefined;
    let carryOut: ItemId | undefined;
    const absorb = (t: ItemId) => {
      m.roll(t);
      if (acc === undefined) {
        acc = t;
        return;
      }
      m.roll(acc);
      m.add();
      const r = splitCarry(m, base);
      acc = r.value;
      if (carryOut === undefined) carryOut = r.carry;
      else {
        m.roll(carryOut);
        m.roll(r.carry);
        carryOut = m.add();
      }
    };
    const high: ItemId[] = [];
    for (let i = 0; i <= k; i++) {
      m.pick(a[i] as ItemId);
      m.pick(b[k - i] as ItemId);
      const [hi, lo] = embed(m, lib().mul) as [ItemId, ItemId];
      high.push(hi);
      absorb(lo);
    }
    for (const h of pendingHigh) absorb(h);
    if (carryIn !== undefined) absorb(carryIn);
    limbs.push(acc as ItemId);
    pendingHigh = high;
    carryIn = carryOut;
  }
  return { limbs, high: pendingHigh, carry: carryIn, base };
}

function drop(m: StackModel, ids: readonly (ItemId | undefined)[]): void {
  for (const id of ids) {
    if (id === undefined) continue;
    m.roll(id);
    m.dropTop(1);
  }
}

/** (a · b) mod 2^256. */
export function mulMod(m: StackModel, a: readonly ItemId[], b: readonly ItemId[]): ItemId[] {
  const p = productColumns(m, a, b);
  drop(m, [...p.high, p.carry, p.base]);
  const out = p.limbs.slice();
  out[N - 1] = reduceTop(m, out[N - 1] as ItemId);
  return out;
}

/**
 * Whether q = (y = 0 ? 0 : ⌊x / y⌋): for y ≠ 0, q·y (the full product) < 2^256, q·y ≤ x and
 * x − q·y < y; for y = 0, q = 0.
 */
export function divCheck(
  m: StackModel,
  x: readonly ItemId[],
  y: readonly ItemId[],
  q: readonly ItemId[],
): ItemId {
  // Pairs above column 8: q_i ≠ 0 needs y_j = 0 for every j ≥ 9 − i (suffix zero flags of y).
  const yHighZero: ItemId[] = [];
  for (let j = N - 1; j >= 1; j--) {
    m.pick(y[j] as ItemId);
    let z = m.op(Op.OP_NOT, 1, 1)[0] as ItemId;
    if (j < N - 1) {
      m.pick(yHighZero[j + 1] as ItemId);
      z = m.op(Op.OP_BOOLAND, 2, 1)[0] as ItemId;
    }
    yHighZero[j] = z;
  }
  const pairs: ItemId[] = [];
  for (let i = 1; i < N; i++) {
    m.pick(q[i] as ItemId);
    const qz = m.op(Op.OP_NOT, 1, 1)[0] as ItemId;
    m.pick(yHighZero[N - i] as ItemId);
    pairs.push(either(m, qz, m.top()));
  }
  const noHighPairs = all(m, pairs);
  drop(m, yHighZero.slice(1));

  const p = productColumns(m, q, y);
  drop(m, [p.base]);
  // Column 9 and the top limb's bits 24..28 must be empty.
  const spill = isZero(m, p.carry === undefined ? p.high : [...p.high, p.carry]);
  drop(m, [...p.high, p.carry]);
  m.pick(p.limbs[N - 1] as ItemId);
  m.number(TOP_BASE);
  const topFits = m.op(Op.OP_LESSTHAN, 2, 1)[0] as ItemId;
  const product = p.limbs;

  lessThan(m, x, product);
  const notAbove = m.op(Op.OP_NOT, 1, 1)[0] as ItemId;
  pickWord(m, x);
  pickWord(m, product);
  const diff = embed(m, lib().sub); // [borrow D_8 … D_0]: exact when q·y ≤ x.
  const rest = lessThan(m, diff.slice(1).reverse(), y);
  drop(m, [...diff, ...product]);

  const quotientOk = all(m, [noHighPairs, spill, topFits, notAbove, rest]);
  const yZero = isZero(m, y);
  const qZero = isZero(m, q);
  return select(m, yZero, qZero, quotientOk);
}

// ---- Stand-alone gadgets (tests, bench): operands on the stack, most significant limb deepest ----

function operands(m: StackModel, count: number): ItemId[][] {
  const out: ItemId[][] = [];
  for (let k = 0; k < count; k++) out.push(m.inputs(N).reverse());
  return out;
}

/** Leaves exactly `outputs` (bottom first) on the stack, dropping everything else. */
function keepOnly(m: StackModel, outputs: readonly ItemId[]): void {
  for (let i = outputs.length - 1; i >= 0; i--) m.toAlt(outputs[i] as ItemId);
  m.dropTop(m.height);
  for (let i = 0; i < outputs.length; i++) m.fromAlt();
}

/** `[A B]` → `[(A·B) mod 2^256]` (9 limbs, most significant deepest). */
export function mulModGadget(): LimbGadget {
  const m = new StackModel();
  const [a, b] = operands(m, 2) as [ItemId[], ItemId[]];
  keepOnly(m, mulMod(m, a, b).slice().reverse());
  return { script: m.build(), maxStack: m.maxStack, inputItems: 2 * N, outputItems: N };
}

/** `[X Y Q]` → `[Q = (Y = 0 ? 0 : ⌊X / Y⌋)]`. */
export function divCheckGadget(): LimbGadget {
  const m = new StackModel();
  const [x, y, q] = operands(m, 3) as [ItemId[], ItemId[], ItemId[]];
  keepOnly(m, [divCheck(m, x, y, q)]);
  return { script: m.build(), maxStack: m.maxStack, inputItems: 3 * N, outputItems: 1 };
}

// ---- TypeScript twins (limbs least significant first) ----

/** The column algorithm of `mulMod` on limbs: (a·b) mod 2^256. */
export function mulModLimbs(a: readonly number[], b: readonly number[]): number[] {
  const { limbs } = columnsOf(a, b);
  limbs[N - 1] = (limbs[N - 1] as number) % TOP_BASE;
  return limbs;
}

function columnsOf(a: readonly number[], b: readonly number[]): { limbs: number[]; spill: number } {
  const limbs: number[] = [];
  let pendingHigh: number[] = [];
  let carryIn = 0;
  for (let k = 0; k < N; k++) {
    let acc = 0;
    let carryOut = 0;
    const absorb = (t: number) => {
      acc += t;
      if (acc >= LIMB_BASE) {
        acc -= LIMB_BASE;
        carryOut++;
      }
    };
    const high: number[] = [];
    for (let i = 0; i <= k; i++) {
      const { hi, lo } = limbMul(a[i] as number, b[k - i] as number);
      high.push(hi);
      absorb(lo);
    }
    for (const h of pendingHigh) absorb(h);
    absorb(carryIn);
    limbs.push(acc);
    pendingHigh = high;
    carryIn = carryOut;
  }
  return { limbs, spill: pendingHigh.reduce((s, h) => s + h, carryIn) };
}

/** The limb algorithm of `divCheck`. */
export function divCheckLimbs(x: readonly number[], y: readonly number[], q: readonly number[]): boolean {
  const X = fromLimbs(x);
  const Y = fromLimbs(y);
  if (Y === 0n) return q.every((l) => l === 0);
  let noHighPairs = true;
  for (let i = 1; i < N; i++) {
    for (let j = N - i; j < N; j++) if (q[i] !== 0 && y[j] !== 0) noHighPairs = false;
  }
  const { limbs, spill } = columnsOf(q, y);
  const P = fromLimbs(limbs);
  return noHighPairs && spill === 0 && (limbs[N - 1] as number) < TOP_BASE && P <= X && X - P < Y;
}

/** The specification of the division check, on words. */
export function isQuotient(x: bigint, y: bigint, q: bigint): boolean {
  return q === (y === 0n ? 0n : x / y);
}

/** (a·b) mod 2^256 on words. */
export const mulWord = (a: bigint, b: bigint): bigint => (a * b) % TWO_256;
