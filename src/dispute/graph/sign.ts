/**
 * Presigning the graph (what the operator and the committee do once per claim) and checking presigned
 * signatures (what every watcher does at import). Script-path Schnorr signatures over BIP-341 sighashes.
 */
import * as ecc from 'tiny-secp256k1';
import { PrecomputedTxData } from '../../bitcoin/tx/precomputed.ts';
import { SIGHASH_DEFAULT, taprootSighash } from '../../bitcoin/tx/sighash.ts';
import type { Prevout, Tx } from '../../bitcoin/tx/types.ts';
import { bytesToHex, concatBytes } from '../../core/bytes.ts';
import { type Graph, graphPrevouts, type PresignedInput, presignedTx } from './build.ts';
import { GraphSpendError } from './errors.ts';

/** The covenant's signatures: for each presigned input (in `graph.presigned` order), one per key. */
export type PresignedSignatures = Uint8Array[][];

export function presignedKey(p: PresignedInput): string {
  return p.tx === 'disprove' ? `disprove[${p.step}].input${p.input}` : `${p.tx}.input${p.input}`;
}

/** The BIP-341 script-path sighash of a presigned input, over the graph's own inputs. */
export function presignedSighash(graph: Graph, p: PresignedInput): Uint8Array {
  const tx = presignedTx(graph, p);
  return scriptPathSighash(tx, graphPrevouts(graph, p.tx), p.input, p.hashType, leafHashOf(p));
}

function leafHashOf(p: PresignedInput): Uint8Array {
  const leaf = p.output.leaves[p.leafIndex];
  if (!leaf)
    throw new GraphSpendError(`Presigned input ${presignedKey(p)} names a missing leaf ${p.leafIndex}`);
  return leaf.leafHash;
}

export function scriptPathSighash(
  tx: Tx,
  prevouts: readonly Prevout[],
  input: number,
  hashType: number,
  tapleafHash: Uint8Array,
): Uint8Array {
  const r = taprootSighash(new PrecomputedTxData(tx, prevouts), input, hashType, 'tapscript', {
    tapleafHash,
  });
  if (!r.ok) throw new GraphSpendError(`Cannot compute the sighash of input ${input}: ${r.reason}`);
  return r.hash;
}

/** A Schnorr signature with the hash-type byte appended unless it is SIGHASH_DEFAULT. */
export function schnorrSign(
  sighash: Uint8Array,
  secretKey: Uint8Array,
  hashType: number,
  aux?: Uint8Array,
): Uint8Array {
  const sig = ecc.signSchnorr(sighash, secretKey, aux ?? new Uint8Array(32));
  return hashType === SIGHASH_DEFAULT ? Uint8Array.from(sig) : concatBytes(sig, Uint8Array.of(hashType));
}

/** Signs every presigned input with one covenant member's key. */
export function presignGraph(graph: Graph, secretKey: Uint8Array): Uint8Array[] {
  return graph.presigned.map((p) => schnorrSign(presignedSighash(graph, p), secretKey, p.hashType));
}

/** Merges the members' signature lists (each in `graph.presigned` order) into per-input lists. */
export function collectSignatures(graph: Graph, perMember: readonly Uint8Array[][]): PresignedSignatures {
  if (perMember.length !== graph.covenant.length) {
    throw new GraphSpendError(
      `The covenant has ${graph.covenant.length} members; got ${perMember.length} signature sets`,
    );
  }
  return graph.presigned.map((_, i) => perMember.map((m) => m[i] as Uint8Array));
}

export type SignatureCheck = { ok: true } | { ok: false; member: number; reason: string };

/** Checks one presigned input's signatures: right hash type, valid for its sighash, one per member. */
export function checkPresigned(graph: Graph, p: PresignedInput, sigs: readonly Uint8Array[]): SignatureCheck {
  if (sigs.length !== graph.covenant.length) {
    return {
      ok: false,
      member: sigs.length,
      reason: `${sigs.length} signatures for ${graph.covenant.length} members`,
    };
  }
  const sighash = presignedSighash(graph, p);
  for (let m = 0; m < sigs.length; m++) {
    const sig = sigs[m] as Uint8Array;
    const expectedLength = p.hashType === SIGHASH_DEFAULT ? 64 : 65;
    if (sig.length !== expectedLength || (sig.length === 65 && sig[64] !== p.hashType)) {
      return {
        ok: false,
        member: m,
        reason: `signature ${bytesToHex(sig).slice(0, 16)}… has the wrong hash type or size`,
      };
    }
    if (!ecc.verifySchnorr(sighash, graph.covenant[m] as Uint8Array, sig.subarray(0, 64))) {
      return { ok: false, member: m, reason: 'signature does not verify for the sighash' };
    }
  }
  return { ok: true };
}
