/** Bitcoin's CompactSize integer encoding (the "varint" of transactions, scripts and tapleaf hashes). */

export class CompactSizeError extends Error {
  override name = 'CompactSizeError';
}

export function compactSizeLength(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

export function encodeCompactSize(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new CompactSizeError(`CompactSize out of range: ${n}`);
  const out = new Uint8Array(compactSizeLength(n));
  const view = new DataView(out.buffer);
  if (n < 0xfd) out[0] = n;
  else if (n <= 0xffff) {
    out[0] = 0xfd;
    view.setUint16(1, n, true);
  } else if (n <= 0xffffffff) {
    out[0] = 0xfe;
    view.setUint32(1, n, true);
  } else {
    out[0] = 0xff;
    view.setBigUint64(1, BigInt(n), true);
  }
  return out;
}

/**
 * Reads a CompactSize at `offset`. Rejects non-canonical encodings as Core does
 * ("non-canonical ReadCompactSize()"), and values above `max` (Core's MAX_SIZE is 0x02000000).
 */
export function decodeCompactSize(
  bytes: Uint8Array,
  offset: number,
  max = 0x02000000,
): { value: number; length: number } {
  const first = bytes[offset];
  if (first === undefined) throw new CompactSizeError('CompactSize: unexpected end of data');
  let value: number;
  let length: number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (n: number) => {
    if (offset + n > bytes.length) throw new CompactSizeError('CompactSize: unexpected end of data');
  };
  if (first < 0xfd) {
    value = first;
    length = 1;
  } else if (first === 0xfd) {
    need(3);
    value = view.getUint16(offset + 1, true);
    length = 3;
    if (value < 0xfd) throw new CompactSizeError('non-canonical ReadCompactSize()');
  } else if (first === 0xfe) {
    need(5);
    value = view.getUint32(offset + 1, true);
    length = 5;
    if (value < 0x10000) throw new CompactSizeError('non-canonical ReadCompactSize()');
  } else {
    need(9);
    const big = view.getBigUint64(offset + 1, true);
    if (big < 0x100000000n) throw new CompactSizeError('non-canonical ReadCompactSize()');
    if (big > BigInt(max)) throw new CompactSizeError('ReadCompactSize(): size too large');
    value = Number(big);
    length = 9;
  }
  if (value > max) throw new CompactSizeError('ReadCompactSize(): size too large');
  return { value, length };
}
