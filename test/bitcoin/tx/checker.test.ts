import * as ecc from 'tiny-secp256k1';
import { describe, expect, it } from 'vitest';
import { TransactionSignatureChecker } from '../../../src/bitcoin/tx/checker.ts';
import { normalizeS, parseDerLax, parsePubkey } from '../../../src/bitcoin/tx/ecdsa.ts';
import { PrecomputedTxData } from '../../../src/bitcoin/tx/precomputed.ts';
import { SignatureCache } from '../../../src/bitcoin/tx/sig-cache.ts';
import { legacySighash, segwitV0Sighash, taprootSighash } from '../../../src/bitcoin/tx/sighash.ts';
import type { Prevout, Tx } from '../../../src/bitcoin/tx/types.ts';
import { bytesToHex, concatBytes, hexToBytes } from '../../../src/core/bytes.ts';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const priv = hexToBytes('0101010101010101010101010101010101010101010101010101010101010101');
const compressed = ecc.pointFromScalar(priv, true)!;
const uncompressed = ecc.pointFromScalar(priv, false)!;
const yOdd = (uncompressed[64]! & 1) === 1;
const hybrid = (header: number) => concatBytes(Uint8Array.of(header), uncompressed.subarray(1));

function toDer(compact: Uint8Array): Uint8Array {
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0 && b[i + 1]! < 0x80) i++;
    let v = b.subarray(i);
    if (v[0]! >= 0x80) v = concatBytes(Uint8Array.of(0), v);
    return concatBytes(Uint8Array.of(0x02, v.length), v);
  };
  const body = concatBytes(int(compact.subarray(0, 32)), int(compact.subarray(32)));
  return concatBytes(Uint8Array.of(0x30, body.length), body);
}

function highS(compact: Uint8Array): Uint8Array {
  const out = compact.slice();
  let s = 0n;
  for (const b of out.subarray(32)) s = (s << 8n) | BigInt(b);
  s = N - s;
  for (let i = 63; i >= 32; i--) {
    out[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return out;
}

const tx: Tx = {
  version: 2,
  locktime: 0,
  inputs: [0, 1].map((n) => ({
    prevTxid: new Uint8Array(32).fill(n + 1),
    vout: n,
    scriptSig: new Uint8Array(),
    sequence: 0xfffffffe,
    witness: [],
  })),
  outputs: [{ value: 1000n, script: hexToBytes('51') }],
};
const scriptCode = concatBytes(Uint8Array.of(0x21), compressed, Uint8Array.of(0xac));

describe('ECDSA as CPubKey::Verify', () => {
  const sighash = legacySighash(tx, 0, scriptCode, 1);
  const compact = ecc.sign(sighash, priv);
  const checker = new TransactionSignatureChecker(tx, 0, 0n);
  const sigWith = (c: Uint8Array, hashType = 1) => concatBytes(toDer(c), Uint8Array.of(hashType));

  const cases: [string, Uint8Array, Uint8Array, boolean][] = [
    ['low S, compressed key', sigWith(compact), compressed, true],
    ['high S (normalized before verifying)', sigWith(highS(compact)), compressed, true],
    ['uncompressed key', sigWith(compact), uncompressed, true],
    ['hybrid key with the right parity', sigWith(compact), hybrid(yOdd ? 7 : 6), true],
    ['hybrid key with the wrong parity', sigWith(compact), hybrid(yOdd ? 6 : 7), false],
    [
      'key with a header/size mismatch',
      sigWith(compact),
      concatBytes(Uint8Array.of(4), compressed.subarray(1)),
      false,
    ],
    ['empty signature', new Uint8Array(), compressed, false],
    [
      'compressed key not on the curve',
      sigWith(compact),
      concatBytes(Uint8Array.of(2), new Uint8Array(32).fill(0xff)),
      false,
    ],
    [
      'uncompressed key not on the curve',
      sigWith(compact),
      concatBytes(Uint8Array.of(4), new Uint8Array(64).fill(1)),
      false,
    ],
    ['signature of the wrong hash type', sigWith(compact, 2), compressed, false],
    ['garbage signature', hexToBytes('300201'), compressed, false],
  ];
  it.each(cases)('%s', (_name, sig, key, expected) => {
    expect(checker.checkEcdsaSignature(sig, key, scriptCode, 'base')).toBe(expected);
  });

  it('verifies BIP-143 signatures with the amount committed', () => {
    const h = segwitV0Sighash(tx, 1, scriptCode, 5000n, 0x83);
    const sig = concatBytes(toDer(ecc.sign(h, priv)), Uint8Array.of(0x83));
    expect(
      new TransactionSignatureChecker(tx, 1, 5000n).checkEcdsaSignature(
        sig,
        compressed,
        scriptCode,
        'witness_v0',
      ),
    ).toBe(true);
    expect(
      new TransactionSignatureChecker(tx, 1, 5001n).checkEcdsaSignature(
        sig,
        compressed,
        scriptCode,
        'witness_v0',
      ),
    ).toBe(false);
    expect(
      new TransactionSignatureChecker(tx, 1, 5000n).checkEcdsaSignature(sig, compressed, scriptCode, 'base'),
    ).toBe(false);
  });
});

describe('ecdsa_signature_parse_der_lax', () => {
  const r = hexToBytes(`${'00'.repeat(31)}05`);
  const s = hexToBytes(`${'00'.repeat(31)}07`);
  const expected = bytesToHex(concatBytes(r, s));
  const table: [string, string, string | undefined][] = [
    ['strict DER', '3006020105020107', expected],
    ['wrong short-form sequence length is ignored', '3000020105020107', expected],
    ['long-form sequence length past the end', '30ff020105020107', undefined],
    ['long-form sequence length', '3081060201050201070000', expected],
    ['long-form integer length with zero padding', '300a02830000010502020007', expected],
    ['leading zeros in r', '30080203000005020107', expected],
    [
      'r longer than 32 significant bytes: zero signature',
      `3027022101${'11'.repeat(32)}020107`,
      '00'.repeat(64),
    ],
    ['r equal to n: zero signature', `3026022100${N.toString(16)}020107`, '00'.repeat(64)],
    ['missing sequence tag', '3106020105020107', undefined],
    ['truncated s', '30060201050201', undefined],
    ['4 significant length bytes', '300c0284010000000502010700', undefined],
    ['zero-padded 4-byte integer length', '300c0284000000010502010700', expected],
    ['empty', '', undefined],
  ];
  it.each(table)('%s', (_name, hex, want) => {
    const got = parseDerLax(hexToBytes(hex));
    expect(got === undefined ? undefined : bytesToHex(got)).toBe(want);
  });

  it('normalizes high S to n - S and leaves low S alone', () => {
    const c = concatBytes(r, hexToBytes((N - 7n).toString(16).padStart(64, '0')));
    expect(normalizeS(c)).toBe(true);
    expect(bytesToHex(c)).toBe(expected);
    expect(normalizeS(c)).toBe(false);
  });

  it('parses keys as libsecp256k1 does', () => {
    expect(parsePubkey(compressed)).toEqual(compressed);
    expect(parsePubkey(hybrid(yOdd ? 7 : 6))).toEqual(uncompressed);
    expect(parsePubkey(hybrid(yOdd ? 6 : 7))).toBeUndefined();
    expect(parsePubkey(concatBytes(Uint8Array.of(2), new Uint8Array(32).fill(0xff)))).toBeUndefined();
    expect(parsePubkey(new Uint8Array())).toBeUndefined();
  });
});

describe('Schnorr as Core’s CheckSchnorrSignature', () => {
  const prevouts: Prevout[] = tx.inputs.map(() => ({
    value: 1000n,
    script: hexToBytes(`5120${'22'.repeat(32)}`),
  }));
  const pre = new PrecomputedTxData(tx, prevouts);
  const xonly = compressed.subarray(1);
  const sign = (index: number, hashType: number) => {
    const h = taprootSighash(pre, index, hashType, 'taproot');
    if (!h.ok) throw new Error(h.reason);
    const sig = ecc.signSchnorr(h.hash, priv);
    return hashType === 0 ? sig : concatBytes(sig, Uint8Array.of(hashType));
  };
  const exec = { codeseparatorPos: 0xffffffff };
  const check = (index: number, sig: Uint8Array, key: Uint8Array = xonly, cache?: SignatureCache) =>
    new TransactionSignatureChecker(tx, index, 1000n, {
      precomputed: pre,
      ...(cache ? { cache } : {}),
    }).checkSchnorrSignature(sig, key, 'taproot', exec);

  it.each([
    ['default hash type', () => check(0, sign(0, 0)), { ok: true }],
    ['explicit ALL|ANYONECANPAY', () => check(1, sign(1, 0x81)), { ok: true }],
    ['SINGLE with its output', () => check(0, sign(0, 3)), { ok: true }],
    [
      '63-byte signature',
      () => check(0, sign(0, 0).subarray(0, 63)),
      { ok: false, error: 'SCHNORR_SIG_SIZE' },
    ],
    ['empty signature', () => check(0, new Uint8Array()), { ok: false, error: 'SCHNORR_SIG_SIZE' }],
    [
      'explicit 0x00 hash type',
      () => check(0, concatBytes(sign(0, 0), Uint8Array.of(0))),
      { ok: false, error: 'SCHNORR_SIG_HASHTYPE' },
    ],
    [
      'undefined hash type 0x84',
      () => check(0, concatBytes(sign(0, 0), Uint8Array.of(0x84))),
      { ok: false, error: 'SCHNORR_SIG_HASHTYPE' },
    ],
    [
      'SINGLE without a matching output',
      () => check(1, concatBytes(sign(0, 0), Uint8Array.of(0x83))),
      { ok: false, error: 'SCHNORR_SIG_HASHTYPE' },
    ],
    ['signature for another input', () => check(1, sign(0, 0)), { ok: false, error: 'SCHNORR_SIG' }],
    [
      'key not on the curve',
      () => check(0, sign(0, 0), new Uint8Array(32).fill(0xff)),
      { ok: false, error: 'SCHNORR_SIG' },
    ],
  ] as const)('%s', (_name, run, expected) => {
    expect(run()).toEqual(expected);
  });

  it('a signature cache gives the same answers and skips repeated curve work', () => {
    const cache = new SignatureCache();
    const good = sign(0, 0);
    const bad = sign(1, 0);
    for (let i = 0; i < 3; i++) {
      expect(check(0, good, xonly, cache)).toEqual({ ok: true });
      expect(check(0, bad, xonly, cache)).toEqual({ ok: false, error: 'SCHNORR_SIG' });
    }
    expect(cache.misses).toBe(2);
    expect(cache.hits).toBe(4);
  });
});

describe('CheckLockTime and CheckSequence', () => {
  const withTx = (over: Partial<Tx>, sequence: number) =>
    new TransactionSignatureChecker({ ...tx, ...over, inputs: [{ ...tx.inputs[0]!, sequence }] }, 0, 0n);
  it.each([
    ['height lock reached', 100, 0, 100n, true],
    ['height lock not reached', 99, 0, 100n, false],
    ['time lock reached', 500_000_100, 0, 500_000_000n, true],
    ['height against time', 500_000_100, 0, 100n, false],
    ['time against height', 100, 0, 500_000_000n, false],
    ['final sequence disables it', 100, 0xffffffff, 100n, false],
    ['max locktime', 0xffffffff, 0, 0xffffffffn, true],
  ] as const)('CLTV: %s', (_name, locktime, sequence, arg, expected) => {
    expect(withTx({ locktime }, sequence).checkLockTime(arg)).toBe(expected);
  });
  it.each([
    ['blocks reached', 2, 10, 10n, true],
    ['blocks not reached', 2, 9, 10n, false],
    ['version 1', 1, 10, 10n, false],
    ['negative version reads as large unsigned', -1, 10, 10n, true],
    ['disable flag on the input', 2, 0x80000000 | 10, 10n, false],
    ['time-based reached', 2, (1 << 22) | 10, BigInt((1 << 22) | 5), true],
    ['time against blocks', 2, (1 << 22) | 10, 5n, false],
    ['bits outside the mask are ignored', 2, 10 | 0x10000, 10n | 0x20000n, true],
  ] as const)('CSV: %s', (_name, version, sequence, arg, expected) => {
    expect(withTx({ version }, sequence).checkSequence(arg)).toBe(expected);
  });
});
