import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bitcoinNetworks } from '../../src/bitcoin/network.ts';
import { bytesToHex, equalBytes, hexToBytes } from '../../src/core/bytes.ts';
import { hash160 } from '../../src/core/hashes.ts';
import { digitsToMessage, messageToDigits, signedDigits } from '../../src/dispute/winternitz/digits.ts';
import { type WotsFailure, WotsVerificationError } from '../../src/dispute/winternitz/errors.ts';
import {
  deriveWotsSecretKey,
  type WotsDomain,
  type WotsPublicKey,
  type WotsSecretKey,
  wotsPublicKey,
} from '../../src/dispute/winternitz/keys.ts';
import { WotsParameterError, wotsParameters } from '../../src/dispute/winternitz/parameters.ts';
import {
  encodeWotsCompact,
  encodeWotsSignatureBytes,
  encodeWotsWitness,
  wotsSign,
} from '../../src/dispute/winternitz/sign.ts';
import {
  extractWotsValues,
  isValidWotsSignature,
  recoverWotsMessage,
  recoverWotsMessageFromCompact,
} from '../../src/dispute/winternitz/verify.ts';
import vectors from '../fixtures/wots-test-vectors.json' with { type: 'json' };

type Vector = (typeof vectors)[number];

const hexList = (list: readonly string[]) => list.map((h) => hexToBytes(h));
const hexOf = (list: readonly Uint8Array[]) => list.map(bytesToHex);
const keyOf = (v: Vector): WotsSecretKey => ({
  messageBytes: v.message.length / 2,
  secret: hexToBytes(v.secretKey),
});
const publicKeyOf = (v: Vector): WotsPublicKey => ({
  messageBytes: v.message.length / 2,
  hashes: hexList(v.publicKey),
});

function failureOf(fn: () => unknown): WotsFailure | 'none' {
  try {
    fn();
    return 'none';
  } catch (err) {
    if (err instanceof WotsVerificationError) return err.failure;
    throw err;
  }
}

describe('Winternitz: BitVM vectors, byte for byte', () => {
  it('covers 4-, 16- and 32-byte messages and the grinded zero-byte cases', () => {
    const sizes = new Set(vectors.map((v) => v.message.length / 2));
    expect([...sizes].sort((a, b) => a - b)).toEqual([4, 16, 32]);
    const leading = vectors.filter((v) => v.compact_witness.some((h) => h.startsWith('00')));
    const trailing = vectors.filter((v) => v.compact_witness.some((h) => h.endsWith('00')));
    expect(leading.length).toBeGreaterThan(0);
    expect(trailing.length).toBeGreaterThan(0);
  });

  it.each(vectors.map((v, i) => [i, v] as const))('vector %i: key, signature and witness', (_i, v) => {
    const message = hexToBytes(v.message);
    const params = wotsParameters(message.length);
    expect(v.publicKey).toHaveLength(params.totalDigits);
    const pk = wotsPublicKey(keyOf(v));
    expect(hexOf(pk.hashes)).toEqual(v.publicKey);
    const sig = wotsSign(keyOf(v), message);
    expect(hexOf(encodeWotsWitness(sig))).toEqual(v.witness);
    expect(hexOf(encodeWotsSignatureBytes(sig))).toEqual(v.signature);
    expect(hexOf(encodeWotsCompact(sig))).toEqual(v.compact_witness);
    expect(hexOf(encodeWotsCompact(sig))).toEqual(v.compact_signature);
    // Verification of the vector's own witness, not only of ours.
    expect(bytesToHex(recoverWotsMessage(publicKeyOf(v), hexList(v.witness)))).toBe(v.message);
    expect(bytesToHex(recoverWotsMessageFromCompact(publicKeyOf(v), hexList(v.compact_witness)))).toBe(
      v.message,
    );
    expect(isValidWotsSignature(publicKeyOf(v), message, sig)).toBe(true);
  });

  it('pins the digit order: bytes reversed, high nibble first, checksum most significant first', () => {
    expect(messageToDigits(hexToBytes('0416e38a'))).toEqual([8, 10, 14, 3, 1, 6, 0, 4]);
    // checksum 120 - 46 = 74 = 0x4a
    expect(signedDigits(hexToBytes('0416e38a'))).toEqual([8, 10, 14, 3, 1, 6, 0, 4, 4, 10]);
  });
});

describe('Winternitz: forgeries fail', () => {
  const cases = vectors.filter((v) => v.message !== 'f'.repeat(v.message.length));

  it.each(cases.map((v, i) => [i, v] as const))('vector %i: altered digits and checksums', (_i, v) => {
    const pk = publicKeyOf(v);
    const params = wotsParameters(pk.messageBytes);
    const witness = hexList(v.witness);
    const digitAt = (i: number) => (witness[2 * i + 1]!.length === 0 ? 0 : witness[2 * i + 1]![0]!);
    const lowDigit = [...Array(params.messageDigits).keys()].find((i) => digitAt(i) < 15)!;

    // The digit changed, its hash kept: the chain no longer reaches the public key.
    const changed = [...witness];
    changed[2 * lowDigit + 1] = Uint8Array.of(digitAt(lowDigit) + 1);
    expect(failureOf(() => recoverWotsMessage(pk, changed))).toBe('CHAIN_MISMATCH');

    // The classic forgery: raise a message digit by hashing its signature forward. The chain is valid,
    // so only the checksum can catch it.
    const raised = [...witness];
    raised[2 * lowDigit] = hash160(witness[2 * lowDigit]!);
    raised[2 * lowDigit + 1] = Uint8Array.of(digitAt(lowDigit) + 1);
    expect(failureOf(() => recoverWotsMessage(pk, raised))).toBe('CHECKSUM');

    // Raising a checksum digit the same way breaks the checksum too.
    const csIndex = [...Array(params.checksumDigits).keys()]
      .map((k) => params.messageDigits + k)
      .find((i) => digitAt(i) < 15)!;
    const cs = [...witness];
    cs[2 * csIndex] = hash160(witness[2 * csIndex]!);
    cs[2 * csIndex + 1] = Uint8Array.of(digitAt(csIndex) + 1);
    expect(failureOf(() => recoverWotsMessage(pk, cs))).toBe('CHECKSUM');
  });

  it('rejects a signature under another key of the same size', () => {
    for (const v of vectors) {
      const other = vectors.find(
        (o) => o.message.length === v.message.length && o.secretKey !== v.secretKey,
      )!;
      expect(failureOf(() => recoverWotsMessage(publicKeyOf(other), hexList(v.witness)))).toBe(
        'CHAIN_MISMATCH',
      );
      expect(
        isValidWotsSignature(
          publicKeyOf(other),
          hexToBytes(v.message),
          wotsSign(keyOf(v), hexToBytes(v.message)),
        ),
      ).toBe(false);
    }
  });

  it('rejects a valid signature of a different message', () => {
    const v = vectors[4]!;
    const sig = wotsSign(keyOf(v), hexToBytes(v.message));
    expect(isValidWotsSignature(publicKeyOf(v), hexToBytes('0416e38b'), sig)).toBe(false);
  });

  const v = vectors[4]!;
  const witness = hexList(v.witness);
  const withItem = (i: number, item: Uint8Array) => witness.map((w, j) => (j === i ? item : w));
  const table: [string, Uint8Array[], WotsFailure | 'none', boolean][] = [
    ['too few items', witness.slice(1), 'ITEM_COUNT', true],
    ['too many items', [...witness, new Uint8Array()], 'ITEM_COUNT', true],
    ['digit 16', withItem(1, Uint8Array.of(16)), 'DIGIT_RANGE', true],
    ['digit -1', withItem(1, Uint8Array.of(0x81)), 'DIGIT_RANGE', true],
    ['digit of 5 bytes', withItem(1, Uint8Array.of(8, 0, 0, 0, 0)), 'DIGIT_ENCODING', false],
    ['digit 8 as 0x0800 (policy)', withItem(1, Uint8Array.of(8, 0)), 'DIGIT_ENCODING', true],
    ['digit 8 as 0x0800 (consensus)', withItem(1, Uint8Array.of(8, 0)), 'none', false],
    ['digit 0 as 0x00 (policy)', withItem(13, Uint8Array.of(0)), 'DIGIT_ENCODING', true],
    ['digit 0 as negative zero (consensus)', withItem(13, Uint8Array.of(0x80)), 'none', false],
    ['hash of 21 bytes', withItem(0, hexToBytes(v.signature[0]!)), 'HASH_SIZE', true],
  ];
  it.each(table)('witness defect: %s', (_name, items, failure, requireMinimal) => {
    expect(failureOf(() => recoverWotsMessage(publicKeyOf(v), items, { requireMinimal }))).toBe(failure);
  });
});

describe('Winternitz: key derivation with domain separation', () => {
  const seed = hexToBytes('11'.repeat(32));
  const base: WotsDomain = {
    network: 'regtest',
    operator: hexToBytes('22'.repeat(32)),
    epoch: 7n,
    instance: 0,
    valueIndex: 1,
    messageBytes: 32,
  };

  it('signs and verifies with a derived key', () => {
    const key = deriveWotsSecretKey(seed, base);
    const message = hexToBytes('ab'.repeat(32));
    expect(
      equalBytes(recoverWotsMessage(wotsPublicKey(key), encodeWotsWitness(wotsSign(key, message))), message),
    ).toBe(true);
  });

  it('gives unrelated keys when any one field of the domain changes', () => {
    const variants: WotsDomain[] = [
      ...bitcoinNetworks.filter((n) => n !== base.network).map((network) => ({ ...base, network })),
      { ...base, operator: hexToBytes('23'.repeat(32)) },
      { ...base, epoch: 8n },
      { ...base, epoch: 7n + (1n << 32n) },
      { ...base, instance: 1 },
      { ...base, valueIndex: 2 },
      { ...base, messageBytes: 16 },
    ];
    const baseHashes = new Set(wotsPublicKey(deriveWotsSecretKey(seed, base)).hashes.map(bytesToHex));
    const seen = new Set([bytesToHex(deriveWotsSecretKey(seed, base).secret)]);
    for (const d of variants) {
      const key = deriveWotsSecretKey(seed, d);
      seen.add(bytesToHex(key.secret));
      for (const h of wotsPublicKey(key).hashes) expect(baseHashes.has(bytesToHex(h))).toBe(false);
    }
    expect(seen.size).toBe(variants.length + 1);
    expect(bytesToHex(deriveWotsSecretKey(hexToBytes('12'.repeat(32)), base).secret)).not.toBe(
      bytesToHex(deriveWotsSecretKey(seed, base).secret),
    );
  });

  it('is injective over random domains (no two domains share a key)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...bitcoinNetworks),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        fc.constantFrom(4, 16, 32),
        (network, epoch, instance, valueIndex, messageBytes) => {
          const d = { ...base, network, epoch, instance, valueIndex, messageBytes };
          const a = deriveWotsSecretKey(seed, d);
          const b = deriveWotsSecretKey(seed, { ...d, valueIndex: (valueIndex + 1) % 2 ** 32 });
          return !equalBytes(a.secret, b.secret) && equalBytes(a.secret, deriveWotsSecretKey(seed, d).secret);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses short seeds and out-of-range domain fields', () => {
    expect(() => deriveWotsSecretKey(new Uint8Array(31), base)).toThrow(WotsParameterError);
    expect(() => deriveWotsSecretKey(seed, { ...base, operator: new Uint8Array(33) })).toThrow(
      WotsParameterError,
    );
    expect(() => deriveWotsSecretKey(seed, { ...base, epoch: -1n })).toThrow(WotsParameterError);
    expect(() => deriveWotsSecretKey(seed, { ...base, epoch: 1n << 64n })).toThrow(WotsParameterError);
    expect(() => deriveWotsSecretKey(seed, { ...base, valueIndex: 2 ** 32 })).toThrow(WotsParameterError);
    expect(() => deriveWotsSecretKey(seed, { ...base, messageBytes: 0 })).toThrow(WotsParameterError);
    expect(() => wotsSign(deriveWotsSecretKey(seed, base), new Uint8Array(31))).toThrow(WotsParameterError);
  });
});

describe('Winternitz: digits and extraction', () => {
  it('round-trips any message through its digits', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (m) =>
        equalBytes(digitsToMessage(messageToDigits(m)), m),
      ),
    );
  });

  it('extracts several signed values from one witness and names the bad one', () => {
    const seed = hexToBytes('33'.repeat(32));
    const domain = (valueIndex: number, messageBytes: number): WotsDomain => ({
      network: 'regtest',
      operator: hexToBytes('44'.repeat(32)),
      epoch: 1n,
      instance: 0,
      valueIndex,
      messageBytes,
    });
    const keys = [deriveWotsSecretKey(seed, domain(0, 4)), deriveWotsSecretKey(seed, domain(1, 32))];
    const messages = [hexToBytes('00000001'), hexToBytes('5a'.repeat(32))];
    const items = keys.flatMap((k, i) => encodeWotsWitness(wotsSign(k, messages[i]!)));
    const pks = keys.map(wotsPublicKey);
    const prefix = [hexToBytes('aa'), hexToBytes('bb')];
    const got = extractWotsValues([...prefix, ...items], pks, { offset: 2 });
    expect(got.map(bytesToHex)).toEqual(messages.map(bytesToHex));

    const broken = [...items];
    broken[items.length - 1] = Uint8Array.of(1);
    expect(() => extractWotsValues(broken, pks)).toThrow(/Committed value 1/);
    expect(() => extractWotsValues(items.slice(0, -2), pks)).toThrow(WotsVerificationError);
  });
});
