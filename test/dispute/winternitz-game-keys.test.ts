/** The narrowing game's Winternitz keys (docs/protocol.md §24.3): one key per game, search, round and slot. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, equalBytes, hexToBytes } from '../../src/core/bytes.ts';
import {
  deriveGameWotsSecretKey,
  SHARED_GAME,
  type WotsGameDomain,
} from '../../src/dispute/winternitz/game-keys.ts';
import { deriveWotsSecretKey, wotsPublicKey } from '../../src/dispute/winternitz/keys.ts';
import { WotsParameterError } from '../../src/dispute/winternitz/parameters.ts';
import { encodeWotsWitness, wotsSign } from '../../src/dispute/winternitz/sign.ts';
import { recoverWotsMessage } from '../../src/dispute/winternitz/verify.ts';

const seed = hexToBytes('11'.repeat(32));
const base: WotsGameDomain = {
  network: 'regtest',
  operator: hexToBytes('22'.repeat(32)),
  epoch: 7n,
  instance: 0,
  valueIndex: 0,
  messageBytes: 20,
  game: hexToBytes('33'.repeat(32)),
  search: 'first',
  round: 2,
  slot: 17,
};

describe('Winternitz keys of the narrowing game', () => {
  it('sign and verify a chain value', () => {
    const key = deriveGameWotsSecretKey(seed, base);
    const message = hexToBytes('ab'.repeat(20));
    expect(
      equalBytes(recoverWotsMessage(wotsPublicKey(key), encodeWotsWitness(wotsSign(key, message))), message),
    ).toBe(true);
  });

  it('are unrelated when any field of the position changes, and unrelated to §15 keys', () => {
    const variants: WotsGameDomain[] = [
      { ...base, game: SHARED_GAME },
      { ...base, game: hexToBytes('34'.repeat(32)) },
      { ...base, search: 'second' },
      { ...base, search: 'assert' },
      { ...base, search: 'tape' },
      { ...base, round: 3 },
      { ...base, slot: 18 },
      { ...base, slot: 17 + 256 },
      { ...base, epoch: 8n },
      { ...base, messageBytes: 4 },
    ];
    const secrets = new Set([bytesToHex(deriveGameWotsSecretKey(seed, base).secret)]);
    for (const d of variants) secrets.add(bytesToHex(deriveGameWotsSecretKey(seed, d).secret));
    expect(secrets.size).toBe(variants.length + 1);
    // The same §15 fields under the v1 tag give another key.
    expect(bytesToHex(deriveWotsSecretKey(seed, base).secret)).not.toBe(
      bytesToHex(deriveGameWotsSecretKey(seed, base).secret),
    );
    const baseHashes = new Set(wotsPublicKey(deriveGameWotsSecretKey(seed, base)).hashes.map(bytesToHex));
    for (const h of wotsPublicKey(deriveGameWotsSecretKey(seed, { ...base, slot: 18 })).hashes) {
      expect(baseHashes.has(bytesToHex(h))).toBe(false);
    }
  });

  it('never give two positions one key (random positions)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('assert', 'first', 'second', 'tape' as const),
        fc.nat({ max: 255 }),
        fc.nat({ max: 0xffff }),
        fc.nat({ max: 0xffff }),
        (search, round, slot, other) => {
          fc.pre(other !== slot);
          const d = { ...base, search, round, slot };
          return !equalBytes(
            deriveGameWotsSecretKey(seed, d).secret,
            deriveGameWotsSecretKey(seed, { ...d, slot: other }).secret,
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuse positions that do not fit their fields, with a clear error', () => {
    expect(() => deriveGameWotsSecretKey(seed, { ...base, game: new Uint8Array(31) })).toThrow(/32-byte/);
    expect(() => deriveGameWotsSecretKey(seed, { ...base, round: 256 })).toThrow(/round 256/);
    expect(() => deriveGameWotsSecretKey(seed, { ...base, slot: 65_536 })).toThrow(/slot 65536/);
    expect(() => deriveGameWotsSecretKey(seed, { ...base, slot: -1 })).toThrow(WotsParameterError);
    expect(() =>
      deriveGameWotsSecretKey(seed, { ...base, search: 'third' as WotsGameDomain['search'] }),
    ).toThrow(/search must be one of/);
    expect(() => deriveGameWotsSecretKey(new Uint8Array(16), base)).toThrow(/too short/);
  });
});
