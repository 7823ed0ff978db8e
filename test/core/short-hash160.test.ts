/**
 * HASH160 of short items in JavaScript (src/core/short-hash160.ts), and core/hashes' `hash160` that
 * routes to it: held to OpenSSL's RIPEMD-160 of SHA-256 at every length, on Winternitz-sized chains, to
 * fixed digests, and with no digest overwritten by later calls (the compressions reuse scratch buffers).
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { hash160, ripemd160, sha256 } from '../../src/core/hashes.ts';
import { SHORT_HASH160_MAX, shortHash160 } from '../../src/core/short-hash160.ts';
import { rng } from '../circuits/helpers.ts';

const openssl = (x: Uint8Array): Uint8Array => ripemd160(sha256(x));

describe('shortHash160', () => {
  it('equals OpenSSL at every length 0 … 55, on random and on all-0xff items', () => {
    const next = rng(1601);
    for (let n = 0; n <= SHORT_HASH160_MAX; n++) {
      for (let k = 0; k < 8; k++) {
        const item = Uint8Array.from({ length: n }, () => next() & 0xff);
        expect(shortHash160(item)).toEqual(openssl(item));
      }
      const ones = new Uint8Array(n).fill(0xff);
      expect(shortHash160(ones)).toEqual(openssl(ones));
    }
  });

  it('gives the known digests of the empty item and of one zero byte', () => {
    expect(bytesToHex(shortHash160(new Uint8Array(0)))).toBe('b472a266d0bd89c13706a4132ccfb16f7c3b9fcb');
    expect(bytesToHex(shortHash160(Uint8Array.of(0)))).toBe('9f7fd096d37ed2c0e3f7f0cfc924beef4ffceb68');
  });

  it('refuses an item longer than one SHA-256 block can hold', () => {
    expect(() => shortHash160(new Uint8Array(SHORT_HASH160_MAX + 1))).toThrow(RangeError);
  });

  it('never overwrites a digest it returned', () => {
    const kept: { digest: Uint8Array; copy: Uint8Array }[] = [];
    let h: Uint8Array = Uint8Array.of(7);
    for (let i = 0; i < 2000; i++) {
      h = shortHash160(h);
      kept.push({ digest: h, copy: h.slice() });
    }
    for (const { digest, copy } of kept) expect(digest).toEqual(copy);
    expect(new Set(kept.map((k) => bytesToHex(k.copy))).size).toBe(2000);
  });
});

describe('hash160', () => {
  it('equals OpenSSL on both sides of the 55-byte switch and past a second SHA-256 block', () => {
    const next = rng(1602);
    for (let n = 0; n <= 130; n++) {
      const item = Uint8Array.from({ length: n }, () => next() & 0xff);
      expect(hash160(item)).toEqual(openssl(item));
    }
  });

  it('walks a Winternitz chain (15 steps from a 20-byte secret) as OpenSSL does', () => {
    const next = rng(1603);
    for (let c = 0; c < 50; c++) {
      let mine: Uint8Array = Uint8Array.from({ length: 20 }, () => next() & 0xff);
      let theirs = mine;
      for (let step = 0; step < 15; step++) {
        mine = hash160(mine);
        theirs = openssl(theirs);
      }
      expect(mine).toEqual(theirs);
    }
  });
});
