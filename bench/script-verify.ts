/**
 * Signed transactions for the verification benchmarks: a 1-input taproot script-path spend and a
 * 100-input transaction mixing P2PKH, P2WPKH, P2TR key path and P2TR script path, with the sighashes
 * and signatures the raw-secp256k1 baseline verifies.
 */
import { script as bscript } from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { ScriptBuilder } from '../src/bitcoin/script/builder.ts';
import { Op } from '../src/bitcoin/script/opcodes.ts';
import {
  buildControlBlock,
  tapleafHash,
  taptweakHash,
  tweakXOnlyKey,
} from '../src/bitcoin/script/taproot.ts';
import { PrecomputedTxData } from '../src/bitcoin/tx/precomputed.ts';
import { legacySighash, segwitV0Sighash, taprootSighash } from '../src/bitcoin/tx/sighash.ts';
import type { Prevout, Tx } from '../src/bitcoin/tx/types.ts';
import { concatBytes, utf8 } from '../src/core/bytes.ts';
import { hash160, sha256 } from '../src/core/hashes.ts';

export type InputKind = 'p2pkh' | 'p2wpkh' | 'p2tr-key' | 'p2tr-script';

/** What the raw baseline verifies for one input: exactly the curve operation the input needs. */
export type RawCheck = { kind: 'ecdsa' | 'schnorr'; hash: Uint8Array; key: Uint8Array; sig: Uint8Array };

/** A script-path spend's commitment check (Q = P + t·G), also curve work. */
export type TweakCheck = { internal: Uint8Array; tweak: Uint8Array; outputKey: Uint8Array; parity: 0 | 1 };

export type SignedTx = { tx: Tx; prevouts: Prevout[]; raw: RawCheck[]; tweaks: TweakCheck[] };

const key = (i: number) => sha256(utf8(`vigil bench key ${i}`));

type Prepared = {
  tweak?: TweakCheck;
  prevout: Prevout;
  sign: (tx: Tx, pre: PrecomputedTxData, index: number) => RawCheck & { apply: (tx: Tx) => void };
};

function prepare(kind: InputKind, i: number): Prepared {
  const d = key(i);
  const value = 10_000n;
  if (kind === 'p2pkh' || kind === 'p2wpkh') {
    const pub = ecc.pointFromScalar(d, true) as Uint8Array;
    const h = hash160(pub);
    const p2pkh = new ScriptBuilder()
      .op(Op.OP_DUP, Op.OP_HASH160)
      .pushData(h)
      .op(Op.OP_EQUALVERIFY, Op.OP_CHECKSIG)
      .build();
    const script = kind === 'p2pkh' ? p2pkh : concatBytes(Uint8Array.of(0x00, 0x14), h);
    return {
      prevout: { value, script },
      sign: (tx, pre, index) => {
        const hash =
          kind === 'p2pkh'
            ? legacySighash(tx, index, p2pkh, 1)
            : segwitV0Sighash(tx, index, p2pkh, value, 1, pre);
        const sig64 = ecc.sign(hash, d);
        const sig = bscript.signature.encode(sig64, 1);
        return {
          kind: 'ecdsa',
          hash,
          key: pub,
          sig: sig64,
          apply: (t) => {
            const input = t.inputs[index] as Tx['inputs'][number];
            if (kind === 'p2pkh') input.scriptSig = new ScriptBuilder().pushData(sig).pushData(pub).build();
            else input.witness = [sig, pub];
          },
        };
      },
    };
  }
  const internal = ecc.xOnlyPointFromScalar(d);
  if (kind === 'p2tr-key') {
    const tweaked = tweakXOnlyKey(internal) as { outputKey: Uint8Array; parity: 0 | 1 };
    const P = ecc.pointFromScalar(d, true) as Uint8Array;
    const dd = P[0] === 0x03 ? ecc.privateNegate(d) : d;
    const dt = ecc.privateAdd(dd, taptweakHash(internal)) as Uint8Array;
    return {
      prevout: { value, script: concatBytes(Uint8Array.of(0x51, 0x20), tweaked.outputKey) },
      sign: (_tx, pre, index) => {
        const h = taprootSighash(pre, index, 0, 'taproot');
        if (!h.ok) throw new Error(h.reason);
        const sig = ecc.signSchnorr(h.hash, dt, new Uint8Array(32));
        return {
          kind: 'schnorr',
          hash: h.hash,
          key: tweaked.outputKey,
          sig,
          apply: (t) => {
            (t.inputs[index] as Tx['inputs'][number]).witness = [sig];
          },
        };
      },
    };
  }
  // Script path: leaf `<key> OP_CHECKSIG` under an internal key nobody signs with.
  const leafKey = ecc.xOnlyPointFromScalar(d);
  const leaf = new ScriptBuilder().pushData(leafKey).op(Op.OP_CHECKSIG).build();
  const leafHash = tapleafHash(0xc0, leaf);
  const nums = ecc.xOnlyPointFromScalar(key(100_000 + i));
  const tweaked = tweakXOnlyKey(nums, leafHash) as { outputKey: Uint8Array; parity: 0 | 1 };
  const control = buildControlBlock(0xc0, tweaked.parity, nums, []);
  return {
    prevout: { value, script: concatBytes(Uint8Array.of(0x51, 0x20), tweaked.outputKey) },
    tweak: {
      internal: nums,
      tweak: taptweakHash(nums, leafHash),
      outputKey: tweaked.outputKey,
      parity: tweaked.parity,
    },
    sign: (_tx, pre, index) => {
      const h = taprootSighash(pre, index, 0, 'tapscript', {
        tapleafHash: leafHash,
        codeseparatorPos: 0xffffffff,
      });
      if (!h.ok) throw new Error(h.reason);
      const sig = ecc.signSchnorr(h.hash, d, new Uint8Array(32));
      return {
        kind: 'schnorr',
        hash: h.hash,
        key: leafKey,
        sig,
        apply: (t) => {
          (t.inputs[index] as Tx['inputs'][number]).witness = [sig, leaf, control];
        },
      };
    },
  };
}

/** A signed transaction spending one input of each kind in `kinds`, in order. */
export function signedTx(kinds: readonly InputKind[]): SignedTx {
  const prepared = kinds.map((k, i) => prepare(k, i));
  const tx: Tx = {
    version: 2,
    locktime: 0,
    inputs: kinds.map((_, i) => ({
      prevTxid: sha256(utf8(`prev ${i}`)),
      vout: 0,
      scriptSig: new Uint8Array(0),
      sequence: 0xffffffff,
      witness: [],
    })),
    outputs: [{ value: 1000n * BigInt(kinds.length), script: Uint8Array.of(0x51) }],
  };
  const prevouts = prepared.map((p) => p.prevout);
  const pre = new PrecomputedTxData(tx, prevouts);
  const signed = prepared.map((p, i) => p.sign(tx, pre, i));
  for (const s of signed) s.apply(tx);
  return {
    tx,
    prevouts,
    raw: signed.map(({ kind, hash, key: k, sig }) => ({ kind, hash, key: k, sig })),
    tweaks: prepared.flatMap((p) => (p.tweak ? [p.tweak] : [])),
  };
}

/**
 * The raw curve work: tiny-secp256k1 verification of every input's signature, nothing else; with
 * `tweaks`, also the taproot commitment checks.
 */
export function rawVerify(raw: readonly RawCheck[], tweaks: readonly TweakCheck[] = []): boolean {
  let ok = true;
  for (const t of tweaks) ok = ecc.xOnlyPointAddTweakCheck(t.internal, t.tweak, t.outputKey, t.parity) && ok;
  for (const r of raw)
    ok =
      (r.kind === 'ecdsa' ? ecc.verify(r.hash, r.key, r.sig) : ecc.verifySchnorr(r.hash, r.key, r.sig)) && ok;
  return ok;
}
