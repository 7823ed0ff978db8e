import { describe, expect, it } from 'vitest';
import { CompactSizeError, decodeCompactSize, encodeCompactSize } from '../../src/bitcoin/compact-size.ts';
import { bytesToHex, hexToBytes } from '../../src/core/bytes.ts';

describe('CompactSize', () => {
  it.each([
    [0, '00'],
    [0xfc, 'fc'],
    [0xfd, 'fdfd00'],
    [0xffff, 'fdffff'],
    [0x10000, 'fe00000100'],
    [0x02000000, 'fe00000002'],
  ])('encodes and decodes %i as %s', (n, hex) => {
    expect(bytesToHex(encodeCompactSize(n))).toBe(hex);
    expect(decodeCompactSize(hexToBytes(hex), 0)).toEqual({ value: n, length: hex.length / 2 });
  });
  it.each(['fd0100', 'fefc000000', 'ffffffffff00000000'])('rejects the non-canonical %s', (hex) => {
    expect(() => decodeCompactSize(hexToBytes(hex), 0)).toThrow(/non-canonical/);
  });
  it('rejects sizes above MAX_SIZE and truncated data', () => {
    expect(() => decodeCompactSize(hexToBytes('fe01000002'), 0)).toThrow(/too large/);
    expect(() => decodeCompactSize(hexToBytes('fd01'), 0)).toThrow(CompactSizeError);
    expect(() => decodeCompactSize(new Uint8Array(), 0)).toThrow(/end of data/);
  });
});
