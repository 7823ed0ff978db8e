/**
 * A decoder fed by a possibly hostile backend: counts that cannot fit are refused before anything is
 * allocated, and millions of empty witness items share one empty array instead of costing a buffer each.
 */
import { describe, expect, it } from 'vitest';
import { parseTx, serializeTx, TxDecodeError } from '../../../src/bitcoin/tx/serialize.ts';
import { hexToBytes } from '../../../src/core/bytes.ts';

const MiB = 1024 * 1024;

/** version 2, segwit marker, one input, one 1-byte output, a witness of `items` items of `itemSize` bytes. */
function witnessHeavyTx(items: number, itemSize: number): Uint8Array {
  const head = [
    ...[2, 0, 0, 0, 0, 1, 1],
    ...new Array<number>(32).fill(7),
    ...[0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
    ...[1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x51],
  ];
  const count = [0xfe, items & 0xff, (items >>> 8) & 0xff, (items >>> 16) & 0xff, (items >>> 24) & 0xff];
  const bytes = new Uint8Array(head.length + count.length + items * (1 + itemSize) + 4);
  bytes.set(head, 0);
  bytes.set(count, head.length);
  let at = head.length + count.length;
  for (let i = 0; i < items; i++) {
    bytes[at] = itemSize;
    at += 1 + itemSize;
  }
  return bytes;
}

function measure<T>(fn: () => T): { value: T; ms: number; heapMiB: number } {
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const value = fn();
  const ms = performance.now() - t0;
  return { value, ms, heapMiB: (process.memoryUsage().heapUsed - before) / MiB };
}

describe('transaction decoding bounds', () => {
  it('decodes a 4 MB transaction of 4 million empty witness items in little memory and time', () => {
    const raw = witnessHeavyTx(4_000_000, 0);
    expect(raw.length).toBeGreaterThan(4_000_000);
    const { value: tx, ms, heapMiB } = measure(() => parseTx(raw));
    const witness = tx.inputs[0]?.witness ?? [];
    expect(witness.length).toBe(4_000_000);
    // One shared, frozen empty array, not four million buffers.
    expect(witness[0]).toBe(witness[3_999_999]);
    expect(Object.isFrozen(witness[0])).toBe(true);
    expect(heapMiB).toBeLessThan(128);
    expect(ms).toBeLessThan(2000);
    // Nothing was lost: the bytes come back exactly.
    // Compared as a Buffer: a deep toEqual over 4 MB is slower than the decode under test.
    expect(Buffer.from(serializeTx(tx)).equals(raw)).toBe(true);
  });

  it('refuses a witness count that cannot fit in the bytes left, before allocating', () => {
    // 33,554,432 items (Core's MAX_SIZE) announced, four bytes follow.
    const raw = witnessHeavyTx(0, 0);
    const countAt = raw.length - 9;
    raw.set([0xfe, 0, 0, 0, 2], countAt);
    const {
      value: err,
      ms,
      heapMiB,
    } = measure(() => {
      try {
        parseTx(raw);
        return undefined;
      } catch (e) {
        return e;
      }
    });
    expect(err).toBeInstanceOf(TxDecodeError);
    expect((err as TxDecodeError).reason).toBe('end-of-data');
    expect((err as TxDecodeError).shortMessage).toBe(
      'Cannot decode transaction: count 33554432 needs at least 33554432 more bytes, 4 left',
    );
    expect(heapMiB).toBeLessThan(16);
    expect(ms).toBeLessThan(100);
  });

  it('keeps decoded fields independent of the caller bytes', () => {
    // A P2WPKH spend from Core's tx_valid.json-style vectors: one input, one witness of two items.
    const raw = hexToBytes(
      '02000000000101' +
        '11'.repeat(32) +
        '0000000000ffffffff0100e1f50500000000160014' +
        '22'.repeat(20) +
        '0201aa02bbcc00000000',
    );
    const tx = parseTx(raw);
    raw.fill(0);
    expect(tx.inputs[0]?.prevTxid).toEqual(new Uint8Array(32).fill(0x11));
    expect(tx.inputs[0]?.witness).toEqual([Uint8Array.from([0xaa]), Uint8Array.from([0xbb, 0xcc])]);
    expect(tx.inputs[0]?.scriptSig.length).toBe(0);
  });
});
