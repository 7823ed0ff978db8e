/** Canonical fixed-width big-endian encodings of leaves and actions (docs/protocol.md §8). */
import { hexToBytes } from '../core/bytes.ts';
import type { Address, ProposalAction } from './inputs.ts';

const U256 = (1n << 256n) - 1n;

/**
 * A fixed-size big-endian writer; overflowing values are taken modulo the field width. `LeafWriter.shared`
 * writes into one reused buffer (leaves are encoded by the hundred thousand and hashed at once): its
 * result is a view valid until the next shared encoding, so callers that keep it must copy it.
 */
export class LeafWriter {
  bytes: Uint8Array;
  private view: DataView;
  private off = 0;
  private size: number;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.size = size;
  }

  private static scratch: LeafWriter | undefined;

  /** The shared writer, reset for a leaf of `size` bytes. */
  static shared(size: number): LeafWriter {
    let w = LeafWriter.scratch;
    if (!w || w.bytes.length < size) {
      w = new LeafWriter(Math.max(size, 512));
      LeafWriter.scratch = w;
    }
    w.bytes.fill(0, 0, size);
    w.off = 0;
    w.size = size;
    return w;
  }

  u8(v: number): this {
    this.view.setUint8(this.off, v & 0xff);
    this.off += 1;
    return this;
  }
  u16(v: number): this {
    this.view.setUint16(this.off, v & 0xffff);
    this.off += 2;
    return this;
  }
  u32(v: number): this {
    this.view.setUint32(this.off, v >>> 0);
    this.off += 4;
    return this;
  }
  u64(v: bigint): this {
    this.view.setBigUint64(this.off, BigInt.asUintN(64, v));
    this.off += 8;
    return this;
  }
  u256(v: bigint): this {
    let x = v & U256;
    for (let i = 3; i >= 0; i--) {
      this.view.setBigUint64(this.off + i * 8, x & 0xffffffffffffffffn);
      x >>= 64n;
    }
    this.off += 32;
    return this;
  }
  raw(b: Uint8Array): this {
    this.bytes.set(b, this.off);
    this.off += b.length;
    return this;
  }
  address(a: Address | null): this {
    if (a !== null) writeAddress(this.bytes, this.off, a);
    this.off += 20;
    return this;
  }
  name32(name: string): this {
    for (let i = 0; i < name.length && i < 32; i++) this.bytes[this.off + i] = name.charCodeAt(i) & 0x7f;
    this.off += 32;
    return this;
  }
  done(): Uint8Array {
    if (this.off !== this.size) throw new Error(`leaf encoding wrote ${this.off} of ${this.size} bytes`);
    return this.size === this.bytes.length ? this.bytes : this.bytes.subarray(0, this.size);
  }
}

const HEX_VAL = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_VAL[48 + i] = i;
for (let i = 0; i < 6; i++) HEX_VAL[97 + i] = 10 + i;

/** Writes a lowercase 0x address into 20 bytes without allocating (hot path of every leaf). */
function writeAddress(out: Uint8Array, off: number, a: Address): void {
  for (let i = 0; i < 20; i++) {
    const hi = HEX_VAL[a.charCodeAt(2 + 2 * i)] ?? -1;
    const lo = HEX_VAL[a.charCodeAt(3 + 2 * i)] ?? -1;
    out[off + i] = (hi << 4) | lo;
  }
}

export const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000' as Address;

/** The action encoding hashed into a proposal's actionsHash. */
export function encodeAction(action: ProposalAction): Uint8Array {
  if (action.kind === 'setParameter') {
    return new LeafWriter(1 + 32 + 32).u8(0).name32(action.key).u256(action.value).done();
  }
  return new LeafWriter(1 + 32 + 8 + 32)
    .u8(1)
    .name32(action.moduleId)
    .u64(action.version)
    .raw(hexToBytes(action.codeHash, 'codeHash'))
    .done();
}
