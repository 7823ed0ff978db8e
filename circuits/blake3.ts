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
 * 16x + y), ROW (16x + E_ROW), MOD (v & 15) and DIV ((v >> 4) + E_CARRY) for sums up to 47. A u32
 * addition adds the nibbles with the previous carry and splits the sum with MOD and DIV; an XOR is a
 * ROW lookup, an addition and an XOR lookup. The constant offsets E_ROW and E_CARRY ride along in the
 * values so that most lookups need no index correction. Rotations by 16, 12 and 8 are renamings of
 * nibbles; the rotation by 7 is one by 8 followed by a one-bit left rotation computed like an addition
 * (each nibble doubled, its high bit carried into the next nibble). Constants (the IV, counter, length
 * and flags) never touch the stack: they fold into lookup indices. Nothing branches, so the script's
 * size and its maximum stack are properties of the generator, measured in the tests.
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
 * The offsets folded into the ROW and DIV tables, chosen by scanning 0..900 for each (the other fixed)
 * for the smallest script: they match the depths at which most XOR and MOD lookups happen.
 */
export const BLAKE3_TUNING = { eRow: 239, eCarry: 176 };

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

  constructor(
    expectedCount: number,
    private readonly eRow: number,
    private readonly eCarry: number,
  ) {
    this.expected = this.m.inputs(expectedCount);
    this.msg = messageWords(this.m.inputs(128));
    this.xorT = this.m.table(Array.from({ length: 256 }, (_, z) => (z >> 4) ^ (z & 15)));
    this.rowT = this.m.table(Array.from({ length: 16 }, (_, x) => 16 * x + eRow));
    this.modT = this.m.table(Array.from({ length: 48 }, (_, v) => v & 15));
    this.divT = this.m.table(Array.from({ length: 48 }, (_, v) => (v >> 4) + eCarry));
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
          off = this.eCarry;
        }
      }
      for (const t of terms) {
        const n = t.w[i] as Nib;
        if (isConst(n)) constSum += n.k;
        else {
          m.fetch(n, t.consume);
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
        const v = m.top();
        m.pick(v);
        out.push(m.lookup(this.modT, off));
        m.roll(v);
        carry = m.lookup(this.divT, off);
      } else {
        out.push(m.lookup(this.modT, off));
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
      return m.lookup(this.xorT, -16 * k);
    }
    // The shallower one becomes the row.
    const [r, col, cr, cc] =
      m.depth(x) <= m.depth(y) ? [x, y, consumeX, consumeY] : [y, x, consumeY, consumeX];
    m.fetch(r, cr);
    m.lookup(this.rowT, 0);
    m.fetch(col, cc);
    m.add();
    return m.lookup(this.xorT, this.eRow);
  }

  /** x ^ y, nibbles computed in `order` (which matters only for where the results land). */
  xor(x: Word, y: Word, consumeX: boolean, consumeY: boolean, order: readonly number[] = IDENT8): Word {
    const out: Word = new Array<Nib>(8);
    for (const i of order) out[i] = this.xorNib(x[i] as Nib, y[i] as Nib, consumeX, consumeY);
    return out;
  }

  /** Rotation left by one bit (consumes w). */
  rotl1(w: Word): Word {
    const m = this.m;
    const ids = w.map((n) => (isConst(n) ? m.number(n.k) : n));
    // The carry into nibble 0 is the top bit of nibble 7.
    m.pick(ids[7] as ItemId);
    m.pick(m.top());
    m.add();
    let carry = m.lookup(this.divT, 0);
    const out: Word = [];
    for (let j = 0; j < 8; j++) {
      m.roll(carry);
      const y = m.roll(ids[j] as ItemId);
      m.pick(y);
      m.add();
      const v = m.add();
      if (j < 7) {
        m.pick(v);
        out.push(m.lookup(this.modT, this.eCarry));
        m.roll(v);
        carry = m.lookup(this.divT, this.eCarry);
      } else out.push(m.lookup(this.modT, this.eCarry));
    }
    return out;
  }

  compress(mode: Blake3Mode): void {
    const m = this.m;
    const msg = this.msg;
    const expected = this.expected;
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
    // Output word i = s[i] ^ s[i + 8]; digit k of the digest (bottom first) is nibble
    // (k odd ? low : high) of byte 31 - floor(k / 2).
    const digit = (k: number): [number, number] => {
      const byte = 31 - (k >> 1);
      return [byte >> 2, 2 * (byte & 3) + (k & 1 ? 0 : 1)];
    };
    if (mode === 'digest') {
      for (let k = 63; k >= 0; k--) {
        const [w, n] = digit(k);
        const h = this.xorNib((s[w] as Word)[n] as Nib, (s[w + 8] as Word)[n] as Nib, true, true);
        m.toAlt(typeof h === 'number' ? h : m.number(h.k));
      }
      m.dropTop(m.height);
      for (let k = 0; k < 64; k++) m.fromAlt();
      return;
    }
    let acc: ItemId | undefined;
    for (let k = 63; k >= 0; k--) {
      const [w, n] = digit(k);
      const h = this.xorNib((s[w] as Word)[n] as Nib, (s[w + 8] as Word)[n] as Nib, true, true);
      if (typeof h !== 'number') m.number(h.k);
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
  const g = new Blake3Generator(expectedCount, tuning.eRow, tuning.eCarry);
  g.compress(mode);
  return { script: g.m.build(), maxStack: g.m.maxStack, inputItems: 128 + expectedCount };
}

/** The script alone. */
export function blake3Script(mode: Blake3Mode = 'digest'): Uint8Array {
  return blake3Gadget(mode).script;
}
