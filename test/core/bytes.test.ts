import { describe, expect, it } from 'vitest';
import {
  bytesToHex,
  compareBytes,
  concatBytes,
  equalBytes,
  hexToBytes,
  InvalidHexError,
} from '../../src/core/bytes.ts';
import { hash160, sha256, taggedHash } from '../../src/core/hashes.ts';

describe('bytes', () => {
  it('round-trips hex with and without 0x', () => {
    expect(bytesToHex(hexToBytes('00ff10'))).toBe('00ff10');
    expect(bytesToHex(hexToBytes('0xABcd'))).toBe('abcd');
    expect(hexToBytes('')).toEqual(new Uint8Array());
  });
  it('rejects odd-length and non-hex input with a specific error', () => {
    expect(() => hexToBytes('abc', 'txid')).toThrow(InvalidHexError);
    expect(() => hexToBytes('zz', 'txid')).toThrow(/Invalid hex for txid/);
  });
  it('concatenates, compares and tests equality', () => {
    const a = hexToBytes('0102');
    const b = hexToBytes('0103');
    expect(bytesToHex(concatBytes(a, b))).toBe('01020103');
    expect(compareBytes(a, b)).toBe(-1);
    expect(compareBytes(b, a)).toBe(1);
    expect(compareBytes(a, hexToBytes('010200'))).toBe(-1);
    expect(equalBytes(a, hexToBytes('0102'))).toBe(true);
    expect(equalBytes(a, b)).toBe(false);
  });
});

describe('hashes', () => {
  it('match known digests', () => {
    expect(bytesToHex(sha256(new Uint8Array()))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    // hash160 of the empty string
    expect(bytesToHex(hash160(new Uint8Array()))).toBe('b472a266d0bd89c13706a4132ccfb16f7c3b9fcb');
  });
  it('computes BIP-340 tagged hashes', () => {
    // TapLeaf tag of an empty message, computed independently: sha256(sha256("TapLeaf")*2)
    const t = sha256(new TextEncoder().encode('TapLeaf'));
    expect(taggedHash('TapLeaf')).toEqual(sha256(concatBytes(t, t)));
  });
});
