/**
 * Builds correctly signed transactions of every spend type with tiny-secp256k1, for the verifier tests
 * and bench/tx.bench.ts. Signing uses Vigil's own sighash code; verification is then checked by the
 * interpreter, so a sighash bug shows up as a failing verdict.
 */
import * as ecc from 'tiny-secp256k1';
import {
  buildControlBlock,
  tapleafHash,
  taptweakHash,
  tweakXOnlyKey,
} from '../../../src/bitcoin/script/taproot.ts';
import { PrecomputedTxData } from '../../../src/bitcoin/tx/precomputed.ts';
import { legacySighash, segwitV0Sighash, taprootSighash } from '../../../src/bitcoin/tx/sighash.ts';
import type { Prevout, Tx } from '../../../src/bitcoin/tx/types.ts';
import { concatBytes } from '../../../src/core/bytes.ts';
import { hash160, sha256 } from '../../../src/core/hashes.ts';

export type SpendKind = 'p2pkh' | 'p2wpkh' | 'p2tr-key' | 'p2tr-script';

export type SignedFixture = {
  tx: Tx;
  prevouts: Prevout[];
  /** What a raw verification of each signature needs: the baseline of the bench. */
  raw: { kind: 'ecdsa' | 'schnorr'; msg: Uint8Array; key: Uint8Array; sig: Uint8Array }[];
  /** The taproot commitment checks of script-path spends (internal key, tweak, output key, parity). */
  commitments: { internal: Uint8Array; tweak: Uint8Array; output: Uint8Array; parity: 0 | 1 }[];
};

function keyFor(i: number): Uint8Array {
  return sha256(Uint8Array.of(0x76, 0x69, 0x67, i & 0xff, i >> 8));
}

function der(compact: Uint8Array): Uint8Array {
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0 && (b[i + 1] as number) < 0x80) i++;
    let v = b.subarray(i);
    if ((v[0] as number) >= 0x80) v = concatBytes(Uint8Array.of(0), v);
    return concatBytes(Uint8Array.of(0x02, v.length), v);
  };
  const body = concatBytes(int(compact.subarray(0, 32)), int(compact.subarray(32)));
  return concatBytes(Uint8Array.of(0x30, body.length), body);
}

const push = (data: Uint8Array) => concatBytes(Uint8Array.of(data.length), data);

/** A transaction spending one output of each kind listed, every input signed (SIGHASH_ALL / default). */
export function signedFixture(kinds: readonly SpendKind[]): SignedFixture {
  const keys = kinds.map((_, i) => keyFor(i));
  const pubs = keys.map((k) => ecc.pointFromScalar(k, true) as Uint8Array);
  const xonly = pubs.map((p) => p.subarray(1));
  const leafScripts = xonly.map((x) => concatBytes(push(x), Uint8Array.of(0xac)));
  const leafHashes = leafScripts.map((s) => tapleafHash(0xc0, s));
  const prevouts: Prevout[] = kinds.map((kind, i) => {
    const value = 100_000n + BigInt(i);
    if (kind === 'p2pkh') {
      return {
        value,
        script: concatBytes(Uint8Array.of(0x76, 0xa9, 0x14), hash160(pubs[i]!), Uint8Array.of(0x88, 0xac)),
      };
    }
    if (kind === 'p2wpkh')
      return { value, script: concatBytes(Uint8Array.of(0x00, 0x14), hash160(pubs[i]!)) };
    const tweaked = tweakXOnlyKey(xonly[i]!, kind === 'p2tr-script' ? leafHashes[i]! : new Uint8Array())!;
    return { value, script: concatBytes(Uint8Array.of(0x51, 0x20), tweaked.outputKey) };
  });
  const tx: Tx = {
    version: 2,
    locktime: 0,
    inputs: kinds.map((_, i) => ({
      prevTxid: sha256(Uint8Array.of(i & 0xff, i >> 8)),
      vout: i % 3,
      scriptSig: new Uint8Array(),
      sequence: 0xfffffffd,
      witness: [],
    })),
    outputs: [
      {
        value: 50_000n * BigInt(kinds.length),
        script: concatBytes(Uint8Array.of(0x00, 0x14), new Uint8Array(20).fill(7)),
      },
    ],
  };
  // Signatures commit to the outputs and prevouts, not to other inputs' scriptSigs or witnesses
  // (legacy sighashes blank the other scriptSigs), so every input can be signed against the same data.
  const pre = new PrecomputedTxData(tx, prevouts);
  const raw: SignedFixture['raw'] = [];
  const commitments: SignedFixture['commitments'] = [];
  kinds.forEach((kind, i) => {
    const input = tx.inputs[i]!;
    if (kind === 'p2pkh' || kind === 'p2wpkh') {
      const scriptCode =
        kind === 'p2pkh'
          ? prevouts[i]!.script
          : concatBytes(Uint8Array.of(0x76, 0xa9, 0x14), hash160(pubs[i]!), Uint8Array.of(0x88, 0xac));
      const msg =
        kind === 'p2pkh'
          ? legacySighash(tx, i, scriptCode, 1)
          : segwitV0Sighash(tx, i, scriptCode, prevouts[i]!.value, 1, pre);
      const compact = ecc.sign(msg, keys[i]!);
      const sig = concatBytes(der(compact), Uint8Array.of(1));
      if (kind === 'p2pkh') input.scriptSig = concatBytes(push(sig), push(pubs[i]!));
      else input.witness = [sig, pubs[i]!];
      raw.push({ kind: 'ecdsa', msg, key: pubs[i]!, sig: compact });
      return;
    }
    if (kind === 'p2tr-key') {
      const tweak = tweakXOnlyKey(xonly[i]!)!;
      // Signing key for the tweaked output key: negate the secret when its point has odd y, then add t.
      const d = ecc.privateAdd(
        (ecc.pointFromScalar(keys[i]!, true) as Uint8Array)[0] === 3
          ? (ecc.privateNegate(keys[i]!) as Uint8Array)
          : keys[i]!,
        tapTweak(xonly[i]!),
      ) as Uint8Array;
      const h = taprootSighash(pre, i, 0, 'taproot');
      if (!h.ok) throw new Error(h.reason);
      const sig = ecc.signSchnorr(h.hash, d);
      input.witness = [sig];
      raw.push({ kind: 'schnorr', msg: h.hash, key: tweak.outputKey, sig });
      return;
    }
    const tweak = tweakXOnlyKey(xonly[i]!, leafHashes[i]!)!;
    const h = taprootSighash(pre, i, 0, 'tapscript', {
      tapleafHash: leafHashes[i]!,
      codeseparatorPos: 0xffffffff,
    });
    if (!h.ok) throw new Error(h.reason);
    const sig = ecc.signSchnorr(h.hash, keys[i]!);
    input.witness = [sig, leafScripts[i]!, buildControlBlock(0xc0, tweak.parity, xonly[i]!, [])];
    raw.push({ kind: 'schnorr', msg: h.hash, key: xonly[i]!, sig });
    commitments.push({
      internal: xonly[i]!,
      tweak: taptweakHash(xonly[i]!, leafHashes[i]!),
      output: tweak.outputKey,
      parity: tweak.parity,
    });
  });
  return { tx, prevouts, raw, commitments };
}

function tapTweak(internal: Uint8Array): Uint8Array {
  // Same tag as taptweakHash, kept local so the fixture states the BIP-341 formula it relies on.
  const t = sha256(new TextEncoder().encode('TapTweak'));
  return sha256(concatBytes(t, t, internal));
}

/** Verifies the raw signatures directly with tiny-secp256k1 (the bench baseline). */
export function verifyRaw(raw: SignedFixture['raw']): boolean {
  let ok = true;
  for (const r of raw) {
    ok =
      (r.kind === 'ecdsa' ? ecc.verify(r.msg, r.key, r.sig) : ecc.verifySchnorr(r.msg, r.key, r.sig)) && ok;
  }
  return ok;
}

/** The taproot commitment checks done directly with tiny-secp256k1 (the rest of the curve work). */
export function verifyCommitmentsRaw(commitments: SignedFixture['commitments']): boolean {
  let ok = true;
  for (const c of commitments)
    ok = ecc.xOnlyPointAddTweakCheck(c.internal, c.tweak, c.output, c.parity) && ok;
  return ok;
}
