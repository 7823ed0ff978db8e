/**
 * The SIGHASH_SINGLE edge end to end, through the interpreter: legacy signs uint256 ONE when the input
 * has no matching output (a signature of ONE is valid for any such input), BIP-143 commits to zeros,
 * and BIP-341 refuses the signature outright (SCHNORR_SIG_HASHTYPE).
 */
import * as ecc from 'tiny-secp256k1';
import { describe, expect, it } from 'vitest';
import { CONSENSUS_FLAGS, STANDARD_FLAGS } from '../../../src/bitcoin/script/flags.ts';
import { PrecomputedTxData } from '../../../src/bitcoin/tx/precomputed.ts';
import { cloneTx } from '../../../src/bitcoin/tx/serialize.ts';
import { SIGHASH_ONE, segwitV0Sighash, taprootSighash } from '../../../src/bitcoin/tx/sighash.ts';
import type { Prevout, Tx } from '../../../src/bitcoin/tx/types.ts';
import { verifyTransaction } from '../../../src/bitcoin/tx/verify.ts';
import { concatBytes } from '../../../src/core/bytes.ts';
import { hash160, sha256 } from '../../../src/core/hashes.ts';

const key = sha256(Uint8Array.of(42));
const pub = ecc.pointFromScalar(key, true) as Uint8Array;
const push = (d: Uint8Array) => concatBytes(Uint8Array.of(d.length), d);
function der(c: Uint8Array): Uint8Array {
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0 && (b[i + 1] as number) < 0x80) i++;
    let v = b.subarray(i);
    if ((v[0] as number) >= 0x80) v = concatBytes(Uint8Array.of(0), v);
    return concatBytes(Uint8Array.of(2, v.length), v);
  };
  const body = concatBytes(int(c.subarray(0, 32)), int(c.subarray(32)));
  return concatBytes(Uint8Array.of(0x30, body.length), body);
}

const p2pkh = concatBytes(Uint8Array.of(0x76, 0xa9, 0x14), hash160(pub), Uint8Array.of(0x88, 0xac));
const p2wpkh = concatBytes(Uint8Array.of(0, 0x14), hash160(pub));
const tweaked = ecc.xOnlyPointAddTweak(pub.subarray(1), taptweak(pub.subarray(1)))!;
const p2tr = concatBytes(Uint8Array.of(0x51, 0x20), tweaked.xOnlyPubkey);

function taptweak(x: Uint8Array): Uint8Array {
  const t = sha256(new TextEncoder().encode('TapTweak'));
  return sha256(concatBytes(t, t, x));
}

// Two inputs, one output: input 1 has no output at its index.
const tx: Tx = {
  version: 2,
  locktime: 0,
  inputs: [0, 1].map((i) => ({
    prevTxid: sha256(Uint8Array.of(i)),
    vout: 0,
    scriptSig: new Uint8Array(),
    sequence: 0xffffffff,
    witness: [],
  })),
  outputs: [{ value: 1000n, script: p2wpkh }],
};

describe('SIGHASH_SINGLE without a matching output', () => {
  it('legacy: a signature of uint256 ONE is valid (Core’s historical behaviour)', () => {
    const t = cloneTx(tx);
    const sig = concatBytes(der(ecc.sign(SIGHASH_ONE, key)), Uint8Array.of(0x03));
    t.inputs[1]!.scriptSig = concatBytes(push(sig), push(pub));
    const prevouts: Prevout[] = [
      { value: 1n, script: Uint8Array.of(0x51) },
      { value: 1n, script: p2pkh },
    ];
    expect(verifyTransaction(t, prevouts, CONSENSUS_FLAGS, { inputs: [1] }).inputs[0]).toEqual({
      index: 1,
      ok: true,
    });
    // The same signature on input 0, which has an output, is not valid.
    const u = cloneTx(tx);
    u.inputs[0]!.scriptSig = concatBytes(push(sig), push(pub));
    const r = verifyTransaction(u, [prevouts[1]!, prevouts[0]!], CONSENSUS_FLAGS, { inputs: [0] });
    expect(r.inputs[0]).toMatchObject({ ok: false, error: 'EVAL_FALSE' });
  });

  it('BIP-143: the signature commits to a zero hashOutputs and verifies', () => {
    const t = cloneTx(tx);
    const prevouts: Prevout[] = [
      { value: 1n, script: Uint8Array.of(0x51) },
      { value: 5000n, script: p2wpkh },
    ];
    const scriptCode = p2pkh;
    const h = segwitV0Sighash(t, 1, scriptCode, 5000n, 0x03, new PrecomputedTxData(t, prevouts));
    t.inputs[1]!.witness = [concatBytes(der(ecc.sign(h, key)), Uint8Array.of(0x03)), pub];
    expect(verifyTransaction(t, prevouts, STANDARD_FLAGS, { inputs: [1] }).inputs[0]).toEqual({
      index: 1,
      ok: true,
    });
  });

  it('BIP-341: refused with SCHNORR_SIG_HASHTYPE, while input 0 with SINGLE|ANYONECANPAY verifies', () => {
    const t = cloneTx(tx);
    const prevouts: Prevout[] = [
      { value: 7000n, script: p2tr },
      { value: 5000n, script: p2tr },
    ];
    const pre = new PrecomputedTxData(t, prevouts);
    const d = ecc.privateAdd(
      pub[0] === 3 ? (ecc.privateNegate(key) as Uint8Array) : key,
      taptweak(pub.subarray(1)),
    )!;
    const h0 = taprootSighash(pre, 0, 0x83, 'taproot');
    if (!h0.ok) throw new Error(h0.reason);
    t.inputs[0]!.witness = [concatBytes(ecc.signSchnorr(h0.hash, d), Uint8Array.of(0x83))];
    // Any 64 bytes will do for input 1: the hash type is refused before any signature check.
    t.inputs[1]!.witness = [concatBytes(ecc.signSchnorr(h0.hash, d), Uint8Array.of(0x83))];
    const v = verifyTransaction(t, prevouts, CONSENSUS_FLAGS);
    expect(v.inputs).toEqual([
      { index: 0, ok: true },
      expect.objectContaining({ index: 1, ok: false, error: 'SCHNORR_SIG_HASHTYPE' }),
    ]);
  });
});
