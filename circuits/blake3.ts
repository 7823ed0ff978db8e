/**
 * BLAKE3 of one 64-byte message in tapscript: the hash of a Merkle node `H(left ‖ right)`.
 *
 * One compression (chaining value IV, counter 0, block length 64, flags CHUNK_START | CHUNK_END |
 * ROOT), which is exactly BLAKE3's hash of a 64-byte input (`blake3Node` in `blake3-reference.ts`).
 *
 * Stack layout (bottom first), the order Winternitz commitments arrive in (`messageToDigits`):
 * - the message: its 128 nibbles, last byte first, each byte high nibble then low nibble, so the top
 *   item is the low nibble of byte 0. For `H(left ‖ right)` that is the digits of `right` followed by
 *   the digits of `left`;
 * - `blake3Script('digest')` leaves the 32-byte digest the same way (64 nibbles, the low nibble of
 *   byte 0 on top) and nothing else;
 * - `blake3Script('equal' | 'notEqual')` expects the 64 nibbles of an expected digest (same order)
 *   below the message and leaves one item: 1 when the digest equals it (resp. differs from it), else 0.
 *   A disprove leaf uses 'notEqual': it ends true exactly when the committed node hash is wrong.
 *
 * How: every u32 is 8 nibbles (nibble 0 least significant) tracked by a symbolic stack
 * (`stack-model.ts`). Four lookup tables sit above the message: XOR (256 entries, x ^ y at index
 * 16x + y), ROW (16x), MOD (v mod 16) and DIV (v div 16) for sums up to 47. A u32 addition adds the
 * nibbles with the previous carry and splits each sum with MOD and DIV; an XOR is a ROW lookup, an
 * addition and an XOR lookup. Every table entry carries a constant offset (`BLAKE3_TUNING`): nibbles
 * are stored as value + E_NIBBLE, carries as carry + E_CARRY, rows as 16x + E_ROW. The generator
 * knows the offset of every item, so it folds the offsets into the lookup indices, and the offsets
 * are chosen so that the index usually needs no correction at all (a bare OP_PICK): they match the
 * depths at which most lookups happen. The digest's nibbles lose their offset at the end. Rotations by
 * 16, 12 and 8 are renamings of nibbles; the rotation by 7 is one by 8 followed by a one-bit left
 * rotation computed like an addition (each nibble doubled, its high bit carried into the next
 * nibble). Constants (the IV, counter, length and flags) never touch the stack: they fold into lookup
 * indices. Nothing branches, so the script's size and its maximum stack are properties of the
 * generator, measured in the tests.
 *
 * Inputs must be nibbles (0..15), which Winternitz verification guarantees for committed digits; any
 * other value makes a lookup read the wrong entry or fail.
 */
import { Op } from '../src/bitcoin/script/opcodes.ts';
import {
  BLAKE3_G_INDICES,
  BLAKE3_IV,
  BLAKE3_SCHEDULE,
  CHUNK_END,
  CHUNK_START,
  ROOT,
} from './blake3-reference.ts';
import { type ItemId, StackModel, type StackTable } from './stack-model.ts';

/** A nibble: an item on the stack, or a constant known when the script is generated. */
type Nib = ItemId | { readonly k: number };
type Word = Nib[];

const isConst = (n: Nib): n is { readonly k: number } => typeof n !== 'number';

/**
 * The offsets the tables' entries carry, chosen by scanning for the smallest script (E_NIBBLE makes
 * the ROW lookup of a nibble a bare OP_PICK, E_ROW then the XOR lookup, E_CARRY the MOD lookup of a
 * sum). Any values give a correct script; these give 52,953 bytes instead of 74,286 with all zero.
 */
export type Blake3Tuning = { eNibble: number; eRow: number; eCarry: number };
export const BLAKE3_TUNING: Blake3Tuning = { eNibble: 224, eRow: 15, eCarry: -272 };

export type Blake3Mode = 'digest' | 'equal' | 'notEqual';

export type Blake3Gadget = {
  script: Uint8Array;
  /** Largest stack + altstack size during execution, inputs included. */
  maxStack: number;
  /** Items the script expects on the stack: 128 message nibbles (+ 64 expected-digest nibbles). */
  inputItems: number;
};

class Blake3Generator {
  readonly m = new StackModel();
  private readonly xorT: StackTable;
  private readonly rowT: StackTable;
  private readonly modT: StackTable;
  private readonly divT: StackTable;
  private readonly expected: ItemId[];
  private readonly msg: Word[];
  /** The constant each stack item carries above its value (items not listed carry 0). */
  private readonly offsets = new Map<ItemId, number>();

  constructor(
    expectedCount: number,
    private readonly t: Blake3Tuning,
  ) {
    this.expected = this.m.inputs(expectedCount);
    this.msg = messageWords(this.m.inputs(128));
    this.xorT = this.m.table(Array.from({ length: 256 }, (_, z) => ((z >> 4) ^ (z & 15)) + t.eNibble));
    this.rowT = this.m.table(Array.from({ length: 16 }, (_, x) => 16 * x + t.eRow));
    this.modT = this.m.table(Array.from({ length: 48 }, (_, v) => (v & 15) + t.eNibble));
    this.divT = this.m.table(Array.from({ length: 48 }, (_, v) => (v >> 4) + t.eCarry));
  }

  private off(id: ItemId): number {
    return this.offsets.get(id) ?? 0;
  }

  /** Looks the top value up in `table` and records the offset the result carries. */
  private lookup(table: StackTable, valueOffset: number, resultOffset: number): ItemId {
    const id = this.m.lookup(table, valueOffset);
    if (resultOffset !== 0) this.offsets.set(id, resultOffset);
    return id;
  }

  /** [v] (carrying `off`) → [v mod 16, v div 16] as nibble and carry. */
  private split(off: number): { nib: ItemId; carry: ItemId } {
    const m = this.m;
    const v = m.top();
    m.pick(v);
    const nib = this.lookup(this.modT, off, this.t.eNibble);
    m.roll(v);
    const carry = this.lookup(this.divT, off, this.t.eCarry);
    return { nib, carry };
  }

  /** (Σ terms) mod 2^32, nibble by nibble; terms with `consume` are rolled, the others picked. */
  add(terms: readonly { w: Word; consume: boolean }[]): Word {
    const m = this.m;
    const out: Word = [];
    let carry: Nib | undefined;
    for (let i = 0; i < 8; i++) {
      let constSum = 0;
      let off = 0;
      let onStack = false;
      if (carry !== undefined) {
        if (isConst(carry)) constSum += carry.k;
        else {
          m.roll(carry);
          onStack = true;
          off = this.off(carry);
        }
      }
      for (const t of terms) {
        const n = t.w[i] as Nib;
        if (isConst(n)) constSum += n.k;
        else {
          m.fetch(n, t.consume);
          off += this.off(n);
          if (onStack) m.add();
          onStack = true;
        }
      }
      if (!onStack) {
        out.push({ k: constSum & 15 });
        carry = { k: constSum >> 4 };
        continue;
      }
      off -= constSum;
      if (i < 7) {
        const r = this.split(off);
        out.push(r.nib);
        carry = r.carry;
      } else {
        out.push(this.lookup(this.modT, off, this.t.eNibble));
      }
    }
    return out;
  }

  /** x ^ y for one nibble. */
  xorNib(x: Nib, y: Nib, consumeX: boolean, consumeY: boolean): Nib {
    const m = this.m;
    if (isConst(x) && isConst(y)) return { k: x.k ^ y.k };
    if (isConst(x) || isConst(y)) {
      const [k, s, c] = isConst(x) ? [x.k, y as ItemId, consumeY] : [(y as { k: number }).k, x, consumeX];
      m.fetch(s, c);
      return this.lookup(this.xorT, this.off(s) - 16 * k, this.t.eNibble);
    }
    // The shallower one becomes the row.
    const [r, col, cr, cc] =
      m.depth(x) <= m.depth(y) ? [x, y, consumeX, consumeY] : [y, x, consumeY, consumeX];
    m.fetch(r, cr);
    this.lookup(this.rowT, this.off(r), 0);
    m.fetch(col, cc);
    m.add();
    return this.lookup(this.xorT, this.t.eRow + this.off(col), this.t.eNibble);
  }

  /** x ^ y, nibbles computed in `order` (which matters only for where the results land). */
  xor(x: Word, y: Word, consumeX: boolean, consumeY: boolean, order: readonly number[] = IDENT8): Word {
    const out: Word = new Array<Nib>(8);
    for (const i of order) out[i] = this.xorNib(x[i] as Nib, y[i] as Nib, consumeX, consumeY);
    return out;
  }

  /** Rotation left by one bit (consumes w): nibble j is 2·w_j mod 16 plus the top bit of w_(j-1). */
  rotl1(w: Word): Word {
    const m = this.m;
    const ids = w.map((n) => (isConst(n) ? m.number(n.k) : n));
    // The carry into nibble 0 is the top bit of nibble 7.
    const y7 = ids[7] as ItemId;
    m.pick(y7);
    m.pick(m.top());
    m.add();
    let carry = this.lookup(this.divT, 2 * this.off(y7), this.t.eCarry);
    const out: Word = [];
    for (let j = 0; j < 8; j++) {
      m.roll(carry);
      const y = m.roll(ids[j] as ItemId);
      m.pick(y);
      m.add();
      m.add();
      const off = this.off(carry) + 2 * this.off(y);
      if (j < 7) {
        const r = this.split(off);
        out.push(r.nib);
        carry = r.carry;
      } else out.push(this.lookup(this.modT, off, this.t.eNibble));
    }
    return out;
  }

  /** Makes a nibble a plain stack value (its offset removed, a constant pushed). */
  plain(n: Nib): ItemId {
    const m = this.m;
    if (isConst(n)) return m.number(n.k);
    m.roll(n);
    const e = this.off(n);
    if (e === 0) return n;
    m.number(e);
    return m.op(Op.OP_SUB, 2, 1)[0] as ItemId;
  }

  compress(mode: Blake3Mode): void {
    const m = this.m;
    const msg = this.msg;
    const expected = this.expected;
    // Output word i = s[i] ^ s[i + 8]; digit k of the digest (bottom first) is nibble
    // (k odd ? low : high) of byte 31 - floor(k / 2).
    const digit = (k: number): [number, number] => {
      const byte = 31 - (k >> 1);
      return [byte >> 2, 2 * (byte & 3) + (k & 1 ? 0 : 1)];
    };
    const outNib = (k: number): ItemId => {
      const [w, n] = digit(k);
      return this.plain(this.xorNib((s[w] as Word)[n] as Nib, (s[w + 8] as Word)[n] as Nib, true, true));
    };
    const konst = (x: number): Word => Array.from({ length: 8 }, (_, i) => ({ k: (x >>> (4 * i)) & 15 }));
    const s: Word[] = [
      ...BLAKE3_IV.map(konst),
      ...BLAKE3_IV.slice(0, 4).map(konst),
      konst(0),
      konst(0),
      konst(64),
      konst(CHUNK_START | CHUNK_END | ROOT),
    ];
    for (let r = 0; r < 7; r++) {
      const sched = BLAKE3_SCHEDULE[r] as readonly number[];
      const last = r === 6;
      for (let g = 0; g < 8; g++) {
        const [a, b, c, d] = BLAKE3_G_INDICES[g] as readonly [number, number, number, number];
        const mx = msg[sched[2 * g] as number] as Word;
        const my = msg[sched[2 * g + 1] as number] as Word;
        let A = s[a] as Word;
        let B = s[b] as Word;
        let C = s[c] as Word;
        let D = s[d] as Word;
        A = this.add([
          { w: A, consume: true },
          { w: B, consume: false },
          { w: mx, consume: last },
        ]);
        D = rotr(this.xor(D, A, true, false, ROT16_ORDER), 4);
        C = this.add([
          { w: C, consume: true },
          { w: D, consume: false },
        ]);
        B = rotr(this.xor(B, C, true, false, ROT12_ORDER), 3);
        A = this.add([
          { w: A, consume: true },
          { w: B, consume: false },
          { w: my, consume: last },
        ]);
        D = rotr(this.xor(D, A, true, false, ROT8_ORDER), 2);
        C = this.add([
          { w: C, consume: true },
          { w: D, consume: false },
        ]);
        B = this.rotl1(rotr(this.xor(B, C, true, false, ROT8_ORDER), 2));
        s[a] = A;
        s[b] = B;
        s[c] = C;
        s[d] = D;
      }
    }
    if (mode === 'digest') {
      for (let k = 63; k >= 0; k--) m.toAlt(outNib(k));
      m.dropTop(m.height);
      for (let k = 0; k < 64; k++) m.fromAlt();
      return;
    }
    let acc: ItemId | undefined;
    for (let k = 63; k >= 0; k--) {
      outNib(k);
      m.roll(expected[k] as ItemId);
      m.op(Op.OP_NUMEQUAL, 2, 1);
      if (acc !== undefined) {
        m.roll(acc);
        m.op(Op.OP_BOOLAND, 2, 1);
      }
      acc = m.top();
    }
    m.toAlt(acc as ItemId);
    m.dropTop(m.height);
    m.fromAlt();
    if (mode === 'notEqual') m.op(Op.OP_NOT, 1, 1);
  }
}

const IDENT8 = [0, 1, 2, 3, 4, 5, 6, 7] as const;
/** XOR nibble orders that produce the rotated word's nibbles from least significant up. */
const ROT16_ORDER = [4, 5, 6, 7, 0, 1, 2, 3] as const;
const ROT12_ORDER = [3, 4, 5, 6, 7, 0, 1, 2] as const;
const ROT8_ORDER = [2, 3, 4, 5, 6, 7, 0, 1] as const;

/** Rotation right by 4·k bits: a renaming of nibbles. */
function rotr(w: Word, k: number): Word {
  return Array.from({ length: 8 }, (_, j) => w[(j + k) % 8] as Nib);
}

/** Message word w, nibble n (least significant first), in the Winternitz digit layout. */
function messageWords(ids: readonly ItemId[]): Word[] {
  return Array.from({ length: 16 }, (_, w) =>
    Array.from({ length: 8 }, (_, n) => {
      const byte = 4 * w + (n >> 1);
      return ids[2 * (63 - byte) + (n % 2 === 0 ? 1 : 0)] as ItemId;
    }),
  );
}

/** The BLAKE3 gadget (see the module comment for the stack layout). */
export function blake3Gadget(mode: Blake3Mode = 'digest', tuning = BLAKE3_TUNING): Blake3Gadget {
  const expectedCount = mode === 'digest' ? 0 : 64;
  const g = new Blake3Generator(expectedCount, tuning);
  g.compress(mode);
  return { script: g.m.build(), maxStack: g.m.maxStack, inputItems: 128 + expectedCount };
}

/** The script alone. */
export function blake3Script(mode: Blake3Mode = 'digest'): Uint8Array {
  return blake3Gadget(mode).script;
}
