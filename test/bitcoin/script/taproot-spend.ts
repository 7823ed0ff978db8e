/**
 * Builds real taproot script-path (and key-path) spends for the tapscript rule tests: a P2TR output
 * committing to one leaf (plus a sibling, so the control block has a path), a spending transaction, and
 * BIP-341 signatures from the project's own sighash code, signed with tiny-secp256k1.
 */
import * as ecc from 'tiny-secp256k1';
import type { SignatureChecker } from '../../../src/bitcoin/script/checker.ts';
import {
  buildControlBlock,
  tapbranchHash,
  tapleafHash,
  taptweakHash,
  tweakXOnlyKey,
} from '../../../src/bitcoin/script/taproot.ts';
import { type VerifyScriptResult, verifyScript } from '../../../src/bitcoin/script/verify.ts';
import { TransactionSignatureChecker } from '../../../src/bitcoin/tx/checker.ts';
import { PrecomputedTxData } from '../../../src/bitcoin/tx/precomputed.ts';
import { taprootSighash } from '../../../src/bitcoin/tx/sighash.ts';
import type { Tx, TxOutput } from '../../../src/bitcoin/tx/types.ts';
import { concatBytes, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/hashes.ts';
import { buildCreditingTransaction, buildSpendingTransaction } from './vectors.ts';

export function privateKey(label: string): Uint8Array {
  return sha256(utf8(`vigil script engine test key: ${label}`));
}
export function xOnly(d: Uint8Array): Uint8Array {
  return ecc.xOnlyPointFromScalar(d);
}

export const INTERNAL_KEY = privateKey('internal');
export const SIBLING = sha256(utf8('a sibling leaf'));

export type SignOptions = { hashType?: number; codesepPos?: number; annex?: Uint8Array | null };
export type Signer = (d: Uint8Array, options?: SignOptions) => Uint8Array;

export type LeafSpendSpec = {
  script: Uint8Array;
  leafVersion?: number;
  /** The witness stack below script and control block (bottom first). */
  stack: (sign: Signer) => Uint8Array[];
  annex?: Uint8Array;
  /** Tamper with the control block after it is built. */
  control?: (cb: Uint8Array) => Uint8Array;
  outputs?: TxOutput[];
};

export type Spend = {
  scriptPubKey: Uint8Array;
  witness: Uint8Array[];
  tx: Tx;
  checker: SignatureChecker;
  verify: (flags: number) => VerifyScriptResult;
};

function finish(
  scriptPubKey: Uint8Array,
  spend: Tx,
  pre: PrecomputedTxData,
  value: bigint,
  witness: Uint8Array[],
): Spend {
  (spend.inputs[0] as { witness: Uint8Array[] }).witness = witness;
  const checker = new TransactionSignatureChecker(spend, 0, value, { precomputed: pre });
  return {
    scriptPubKey,
    witness,
    tx: spend,
    checker,
    verify: (flags) => verifyScript(new Uint8Array(0), scriptPubKey, witness, flags, checker),
  };
}

function prepare(outputKey: Uint8Array, outputs: TxOutput[] | undefined) {
  const value = 100_000n;
  const scriptPubKey = concatBytes(Uint8Array.of(0x51, 0x20), outputKey);
  const credit = buildCreditingTransaction(scriptPubKey, value);
  const spend = buildSpendingTransaction(new Uint8Array(0), [], credit);
  if (outputs !== undefined) spend.outputs = outputs;
  const pre = new PrecomputedTxData(spend, [{ value, script: scriptPubKey }]);
  return { value, scriptPubKey, spend, pre };
}

function sign(hash: Uint8Array, d: Uint8Array, hashType: number): Uint8Array {
  const sig = ecc.signSchnorr(hash, d, new Uint8Array(32));
  return hashType === 0 ? sig : concatBytes(sig, Uint8Array.of(hashType));
}

/** A script-path spend of `spec.script`. */
export function leafSpend(spec: LeafSpendSpec): Spend {
  const leafVersion = spec.leafVersion ?? 0xc0;
  const leafHash = tapleafHash(leafVersion, spec.script);
  const root = tapbranchHash(leafHash, SIBLING);
  const internal = xOnly(INTERNAL_KEY);
  const tweaked = tweakXOnlyKey(internal, root);
  if (tweaked === undefined) throw new Error('tweak failed');
  const { value, scriptPubKey, spend, pre } = prepare(tweaked.outputKey, spec.outputs);
  const signer: Signer = (d, o = {}) => {
    const hashType = o.hashType ?? 0;
    const annex = o.annex === undefined ? spec.annex : (o.annex ?? undefined);
    const h = taprootSighash(pre, 0, hashType === 0xff ? 0 : hashType, 'tapscript', {
      tapleafHash: leafHash,
      codeseparatorPos: o.codesepPos ?? 0xffffffff,
      ...(annex === undefined ? {} : { annex }),
    });
    // Hash types the sighash refuses are signed over SIGHASH_DEFAULT, so only the type byte is wrong.
    const fallback = taprootSighash(pre, 0, 0, 'tapscript', { tapleafHash: leafHash });
    const hash = h.ok ? h.hash : fallback.ok ? fallback.hash : new Uint8Array(32);
    return sign(hash, d, hashType);
  };
  let control = buildControlBlock(leafVersion, tweaked.parity, internal, [SIBLING]);
  if (spec.control) control = spec.control(control);
  const witness = [...spec.stack(signer), spec.script, control];
  if (spec.annex !== undefined) witness.push(spec.annex);
  return finish(scriptPubKey, spend, pre, value, witness);
}

/** A key-path spend of a key-only output (internal key tweaked with an empty Merkle root). */
export function keySpend(options: {
  annex?: Uint8Array;
  signAnnex?: Uint8Array | null;
  hashType?: number;
  outputs?: TxOutput[];
}): Spend {
  const internal = xOnly(INTERNAL_KEY);
  const tweaked = tweakXOnlyKey(internal);
  if (tweaked === undefined) throw new Error('tweak failed');
  const { value, scriptPubKey, spend, pre } = prepare(tweaked.outputKey, options.outputs);
  // The tweaked private key: negate d when P has odd y, then add the tweak.
  const P = ecc.pointFromScalar(INTERNAL_KEY, true);
  const d = P !== null && P[0] === 0x03 ? ecc.privateNegate(INTERNAL_KEY) : INTERNAL_KEY;
  const tweak = taptweakHash(internal);
  const dt = ecc.privateAdd(d, tweak);
  if (dt === null) throw new Error('tweak add failed');
  const hashType = options.hashType ?? 0;
  const annex = options.signAnnex === undefined ? options.annex : (options.signAnnex ?? undefined);
  const h = taprootSighash(pre, 0, hashType, 'taproot', annex === undefined ? {} : { annex });
  const hash = h.ok ? h.hash : new Uint8Array(32);
  const witness = [sign(hash, dt, hashType)];
  if (options.annex !== undefined) witness.push(options.annex);
  return finish(scriptPubKey, spend, pre, value, witness);
}
