import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NoSignatureChecker } from '../../src/bitcoin/script/checker.ts';
import { CONSENSUS_FLAGS, STANDARD_FLAGS } from '../../src/bitcoin/script/flags.ts';
import { ScriptExecution } from '../../src/bitcoin/script/interpreter.ts';
import { decodeScriptNum, encodeScriptNum } from '../../src/bitcoin/script/num.ts';
import { bytesToHex, hexToBytes } from '../../src/core/bytes.ts';
import { hash160 } from '../../src/core/hashes.ts';
import { signedDigits } from '../../src/dispute/winternitz/digits.ts';
import { WotsVerificationError } from '../../src/dispute/winternitz/errors.ts';
import { deriveWotsSecretKey, type WotsPublicKey, wotsPublicKey } from '../../src/dispute/winternitz/keys.ts';
import { wotsParameters } from '../../src/dispute/winternitz/parameters.ts';
import { wotsVerifyScript } from '../../src/dispute/winternitz/script.ts';
import { encodeWotsWitness, wotsSign } from '../../src/dispute/winternitz/sign.ts';
import { recoverWotsMessage } from '../../src/dispute/winternitz/verify.ts';
import vectors from '../fixtures/wots-test-vectors.json' with { type: 'json' };

type Vector = (typeof vectors)[number];
const publicKeyOf = (v: Vector): WotsPublicKey => ({
  messageBytes: v.message.length / 2,
  hashes: v.publicKey.map((h) => hexToBytes(h)),
});

/** Runs the fragment as tapscript over `items`; returns the error name and the final stack. */
function runFragment(key: WotsPublicKey, items: readonly Uint8Array[], flags = CONSENSUS_FLAGS) {
  const exec = new ScriptExecution({
    script: wotsVerifyScript(key),
    stack: items,
    flags,
    checker: NoSignatureChecker,
    sigVersion: 'tapscript',
    execData: { codeseparatorPos: 0xffffffff, tapleafHash: new Uint8Array(32) },
  });
  const error = exec.run();
  return { error, stack: exec.stack.map(bytesToHex), altstack: exec.altstack.length };
}

const expectedDigits = (message: Uint8Array) => {
  const n = wotsParameters(message.length).messageDigits;
  return signedDigits(message)
    .slice(0, n)
    .map((d) => bytesToHex(encodeScriptNum(d)));
};

const asNumber = (hex: string): number => decodeScriptNum(hexToBytes(hex));

describe('Winternitz locking fragment, run in the interpreter', () => {
  it.each(vectors.map((v, i) => [i, v] as const))(
    'vector %i: passes and leaves the message digits',
    (_i, v) => {
      const r = runFragment(
        publicKeyOf(v),
        v.witness.map((h) => hexToBytes(h)),
        STANDARD_FLAGS,
      );
      expect(r.error).toBe('OK');
      expect(r.stack).toEqual(expectedDigits(hexToBytes(v.message)));
      expect(r.altstack).toBe(0);
    },
  );

  const v = vectors[4]!;
  const witness = v.witness.map((h) => hexToBytes(h));
  const other = vectors.find((o) => o.message.length === v.message.length && o.secretKey !== v.secretKey)!;
  const withItems = (changes: Record<number, Uint8Array>) => witness.map((w, j) => changes[j] ?? w);
  const digit0 = witness[1]![0]!;
  const table: [string, WotsPublicKey, Uint8Array[], string, number][] = [
    [
      'an altered digit',
      publicKeyOf(v),
      withItems({ 1: Uint8Array.of(digit0 + 1) }),
      'EQUALVERIFY',
      CONSENSUS_FLAGS,
    ],
    [
      'a digit raised by hashing forward (checksum catches it)',
      publicKeyOf(v),
      withItems({ 0: hash160(witness[0]!), 1: Uint8Array.of(digit0 + 1) }),
      'EQUALVERIFY',
      CONSENSUS_FLAGS,
    ],
    [
      'a checksum digit raised by hashing forward',
      publicKeyOf(v),
      withItems({ 16: hash160(witness[16]!), 17: Uint8Array.of(witness[17]![0]! + 1) }),
      'EQUALVERIFY',
      CONSENSUS_FLAGS,
    ],
    ['the wrong key', publicKeyOf(other), witness, 'EQUALVERIFY', CONSENSUS_FLAGS],
    ['digit 16', publicKeyOf(v), withItems({ 1: Uint8Array.of(16) }), 'VERIFY', CONSENSUS_FLAGS],
    ['digit -1', publicKeyOf(v), withItems({ 1: Uint8Array.of(0x81) }), 'VERIFY', CONSENSUS_FLAGS],
    [
      'a 5-byte digit',
      publicKeyOf(v),
      withItems({ 1: Uint8Array.of(8, 0, 0, 0, 0) }),
      'UNKNOWN_ERROR',
      CONSENSUS_FLAGS,
    ],
    [
      'a non-minimal digit under policy',
      publicKeyOf(v),
      withItems({ 1: Uint8Array.of(8, 0) }),
      'UNKNOWN_ERROR',
      STANDARD_FLAGS,
    ],
    [
      'a non-minimal digit under consensus',
      publicKeyOf(v),
      withItems({ 1: Uint8Array.of(8, 0) }),
      'OK',
      CONSENSUS_FLAGS,
    ],
    ['a missing item', publicKeyOf(v), witness.slice(1), 'INVALID_STACK_OPERATION', CONSENSUS_FLAGS],
  ];
  it.each(table)('%s', (_name, key, items, error, flags) => {
    expect(runFragment(key, items, flags).error).toBe(error);
  });

  it('passes a non-minimal digit under consensus and leaves it numerically equal to the signed digit', () => {
    const items = witness.slice();
    const at = items.findIndex((w, j) => j % 2 === 1 && w.length === 0);
    expect(at).toBeGreaterThan(0);
    items[at] = Uint8Array.of(0);
    const r = runFragment(publicKeyOf(v), items, CONSENSUS_FLAGS);
    expect(r.error).toBe('OK');
    expect(r.stack).toContain('00');
    expect(r.stack.map(asNumber)).toEqual(expectedDigits(hexToBytes(v.message)).map(asNumber));
    expect(runFragment(publicKeyOf(v), items, STANDARD_FLAGS).error).toBe('UNKNOWN_ERROR');
  });

  it('agrees with the TypeScript verifier on random corruptions of random signatures', () => {
    const seed = hexToBytes('55'.repeat(32));
    const corruption = fc.oneof(
      fc.record({
        kind: fc.constant('digit' as const),
        at: fc.nat(),
        value: fc.integer({ min: -2, max: 17 }),
      }),
      fc.record({ kind: fc.constant('forward' as const), at: fc.nat() }),
      fc.record({
        kind: fc.constant('bytes' as const),
        at: fc.nat(),
        bytes: fc.uint8Array({ maxLength: 3 }),
      }),
      fc.record({ kind: fc.constant('none' as const) }),
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.nat({ max: 1000 }),
        corruption,
        (m, idx, c) => {
          const key = deriveWotsSecretKey(seed, {
            network: 'regtest',
            operator: hexToBytes('66'.repeat(32)),
            epoch: 1n,
            instance: 0,
            valueIndex: idx,
            messageBytes: 4,
          });
          const pk = wotsPublicKey(key);
          const items = encodeWotsWitness(wotsSign(key, m));
          const digits = items.length / 2;
          if (c.kind === 'digit') items[2 * (c.at % digits) + 1] = encodeScriptNum(c.value);
          if (c.kind === 'bytes') items[2 * (c.at % digits) + 1] = c.bytes;
          if (c.kind === 'forward') {
            const i = c.at % digits;
            const d = items[2 * i + 1]!.length === 0 ? 0 : items[2 * i + 1]![0]!;
            items[2 * i] = hash160(items[2 * i]!);
            items[2 * i + 1] = encodeScriptNum(d + 1);
          }
          let tsMessage: Uint8Array | undefined;
          try {
            tsMessage = recoverWotsMessage(pk, items, { requireMinimal: false });
          } catch (err) {
            if (!(err instanceof WotsVerificationError)) throw err;
          }
          const r = runFragment(pk, items);
          expect(r.error === 'OK').toBe(tsMessage !== undefined);
          // Consensus lets a digit item be non-minimal (`00` for 0), and the fragment leaves the item as
          // given: the digits must be equal as numbers, which is how every consumer reads them.
          if (tsMessage) expect(r.stack.map(asNumber)).toEqual(expectedDigits(tsMessage).map(asNumber));
        },
      ),
      { numRuns: 150 },
    );
  });
});
