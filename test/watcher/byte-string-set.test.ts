import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { createRng } from '../../src/governance/workload.ts';
import { ByteStringSet } from '../../src/watcher/byte-string-set.ts';

describe('ByteStringSet', () => {
  it('holds exactly what was added, as a Set of hex strings does, through every growth', () => {
    const set = new ByteStringSet(20, 4);
    const reference = new Set<string>();
    const rng = createRng(3);
    const pool: string[] = [];
    for (let i = 0; i < 60_000; i++) {
      // A third of the adds repeat an earlier string: they must not count twice.
      const hex =
        pool.length > 0 && rng() < 0.33
          ? (pool[Math.floor(rng() * pool.length)] as string)
          : bytesToHex(randomBytes(20));
      pool.push(hex);
      set.addHex(hex);
      reference.add(hex);
    }
    expect(set.size).toBe(reference.size);
    for (const hex of reference) expect(set.hasHex(hex)).toBe(true);
    for (let i = 0; i < 20_000; i++) expect(set.hasHex(bytesToHex(randomBytes(20)))).toBe(false);
  });

  it('tells apart strings that differ only in their last byte, or only past the bytes it hashes', () => {
    const set = new ByteStringSet(20);
    const base = randomBytes(20);
    const variants = Array.from({ length: 2_000 }, (_, i) => {
      const v = Uint8Array.from(base);
      v[19] = i & 0xff;
      v[18] = i >> 8;
      return v;
    });
    for (const v of variants.slice(0, 1_000)) set.add(v);
    expect(set.size).toBe(1_000);
    for (const v of variants.slice(0, 1_000)) expect(set.has(v)).toBe(true);
    for (const v of variants.slice(1_000)) expect(set.has(v)).toBe(false);
  });

  it('costs about 30 bytes a 20-byte string, not the ~230 of a Map of hex strings', () => {
    const set = new ByteStringSet(20);
    for (let i = 0; i < 100_000; i++) set.add(randomBytes(20));
    expect(set.bytes / set.size).toBeLessThan(40);
  });

  it('refuses a string of another length and a width too short to hash', () => {
    const set = new ByteStringSet(20);
    expect(() => set.add(new Uint8Array(19))).toThrow(/19 bytes, not 20/);
    expect(() => set.has(new Uint8Array(21))).toThrow(/21 bytes, not 20/);
    expect(() => new ByteStringSet(8)).toThrow(/at least 12/);
  });
});
