import { encodeCompactSize } from './compact-size.ts';

/**
 * A growable little-endian byte writer for Bitcoin serializations (transactions, sighash preimages):
 * one buffer that doubles when full, so building a preimage allocates nothing per field.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(capacity = 512) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, v >>> 0, true);
    this.length += 4;
  }

  i64(v: bigint): void {
    this.ensure(8);
    this.view.setBigInt64(this.length, BigInt.asIntN(64, v), true);
    this.length += 8;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  compact(n: number): void {
    if (n < 0xfd) this.u8(n);
    else this.bytes(encodeCompactSize(n));
  }

  /** A CompactSize length, then the bytes (scripts, witness items). */
  varBytes(b: Uint8Array): void {
    this.compact(b.length);
    this.bytes(b);
  }

  /** The bytes written, as a view that the next write may overwrite: hash it at once. */
  written(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** The bytes written, as a copy of their own. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
