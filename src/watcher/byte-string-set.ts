/**
 * An exact set of byte strings of one length, kept in flat typed arrays: the Winternitz hashes of every
 * graph the watcher judged for good, which the reuse check must remember for as long as the daemon runs.
 * A Map of hex strings to owner sets costs about 230 bytes a hash (350 hashes a devnet graph: some 80 KB
 * an epoch); this costs the bytes themselves plus a slot of an open-addressing table, about 30 bytes.
 *
 * Slots are picked by a hash with multipliers drawn per process: the strings are chosen by the operator,
 * and fixed multipliers would let it pick strings that all land in one run of slots.
 */
import { randomInt } from 'node:crypto';
import { hexToBytes } from '../core/bytes.ts';

const EMPTY = -1;

export class ByteStringSet {
  private store: Uint8Array;
  private count = 0;
  /** Index into `store` (in entries) per slot, EMPTY when free; its length is a power of two. */
  private slots: Int32Array;
  private readonly mul = [randomInt(1, 2 ** 31) | 1, randomInt(1, 2 ** 31) | 1, randomInt(1, 2 ** 31) | 1];

  constructor(
    /** The length of every string, in bytes (at least 12). */
    readonly width: number,
    capacity = 1024,
  ) {
    if (!Number.isInteger(width) || width < 12) throw new RangeError(`width ${width}: at least 12 bytes`);
    this.store = new Uint8Array(width * capacity);
    this.slots = new Int32Array(tableSize(capacity)).fill(EMPTY);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the arrays (what the set costs, give or take an object header). */
  get bytes(): number {
    return this.store.byteLength + this.slots.byteLength;
  }

  hasHex(hex: string): boolean {
    return this.has(hexToBytes(hex, 'hash'));
  }

  addHex(hex: string): void {
    this.add(hexToBytes(hex, 'hash'));
  }

  has(value: Uint8Array): boolean {
    this.checkWidth(value);
    return this.find(value) >= 0;
  }

  add(value: Uint8Array): void {
    this.checkWidth(value);
    if (this.find(value) >= 0) return;
    if ((this.count + 1) * this.width > this.store.length) {
      // Grow by a quarter: the store is most of the cost, and a doubling would leave up to half unused.
      const next = new Uint8Array(Math.ceil((this.store.length / this.width) * 1.25 + 1) * this.width);
      next.set(this.store);
      this.store = next;
    }
    this.store.set(value, this.count * this.width);
    this.count++;
    if (this.count * 4 > this.slots.length * 3) this.rehash(this.slots.length * 2);
    else this.place(this.count - 1);
  }

  private checkWidth(value: Uint8Array): void {
    if (value.length !== this.width) throw new RangeError(`${value.length} bytes, not ${this.width}`);
  }

  private slotOf(bytes: Uint8Array, offset: number): number {
    const word = (i: number): number =>
      ((bytes[offset + i] as number) |
        ((bytes[offset + i + 1] as number) << 8) |
        ((bytes[offset + i + 2] as number) << 16) |
        ((bytes[offset + i + 3] as number) << 24)) >>>
      0;
    const [a, b, c] = this.mul as [number, number, number];
    const h = (Math.imul(word(0), a) ^ Math.imul(word(4), b) ^ Math.imul(word(8), c)) >>> 0;
    return (h ^ (h >>> 15)) & (this.slots.length - 1);
  }

  /** The entry equal to `value`, or -1. */
  private find(value: Uint8Array): number {
    const mask = this.slots.length - 1;
    for (let s = this.slotOf(value, 0); ; s = (s + 1) & mask) {
      const e = this.slots[s] as number;
      if (e === EMPTY) return -1;
      if (this.equalsEntry(e, value)) return e;
    }
  }

  private equalsEntry(entry: number, value: Uint8Array): boolean {
    const base = entry * this.width;
    for (let i = 0; i < this.width; i++) if (this.store[base + i] !== value[i]) return false;
    return true;
  }

  private place(entry: number): void {
    const mask = this.slots.length - 1;
    let s = this.slotOf(this.store, entry * this.width);
    while (this.slots[s] !== EMPTY) s = (s + 1) & mask;
    this.slots[s] = entry;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size).fill(EMPTY);
    for (let e = 0; e < this.count; e++) this.place(e);
  }
}

function tableSize(capacity: number): number {
  let n = 16;
  while (n * 3 < capacity * 4) n *= 2;
  return n;
}
