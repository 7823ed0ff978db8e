/**
 * The challenge: input 0 spends the challenge connector with the covenant's presigned
 * SIGHASH_SINGLE|ANYONECANPAY signatures (bound to output 0, the operator's challenge amount); the
 * challengers add their own inputs and change.
 *
 * Funding inputs are signed SIGHASH_DEFAULT (every input and output). An input signed
 * ALL|ANYONECANPAY commits to the outputs but not to the other inputs: anyone who sees it (the
 * operator first) can drop input 0, add a coin of its own and broadcast a valid transaction that pays
 * the operator the challenge amount from the challengers' coins while the connector stays unspent for
 * the take. So several challengers crowdfund one challenge in two rounds: first they agree on the
 * complete transaction (every input, every output: `buildChallenge` over all their coins and change),
 * then each signs its own inputs DEFAULT over exactly that transaction (`signChallengeFunding`). A
 * rearrangement by a co-funder or an observer invalidates every signature; the price is that a
 * challenger who joins late needs the others to sign again.
 */
import * as ecc from 'tiny-secp256k1';
import { controlBlock, taprootOutput } from '../../bitcoin/taproot/output.ts';
import { PrecomputedTxData } from '../../bitcoin/tx/precomputed.ts';
import { cloneTx } from '../../bitcoin/tx/serialize.ts';
import {
  SIGHASH_ALL,
  SIGHASH_ANYONECANPAY,
  SIGHASH_DEFAULT,
  taprootSighash,
} from '../../bitcoin/tx/sighash.ts';
import type { Prevout, Tx, TxOutput } from '../../bitcoin/tx/types.ts';
import { equalBytes } from '../../core/bytes.ts';
import { type Graph, graphPrevouts, Leaf, SEQUENCE_NO_LOCK } from './build.ts';
import { GraphSpendError } from './errors.ts';
import type { PresignedSignatures } from './sign.ts';
import { schnorrSign } from './sign.ts';

export const SIGHASH_ALL_ACP = SIGHASH_ALL | SIGHASH_ANYONECANPAY;

/** One challenger's coin. */
export type ChallengeFunding = { txid: Uint8Array; vout: number; prevout: Prevout };

/** The challenge with input 0 complete and the challengers' inputs unsigned. */
export function buildChallenge(
  graph: Graph,
  sigs: PresignedSignatures,
  funding: readonly ChallengeFunding[],
  change: readonly TxOutput[],
): { tx: Tx; prevouts: Prevout[] } {
  const at = graph.presigned.findIndex((p) => p.tx === 'challenge');
  const list = sigs[at];
  if (!list || list.length !== graph.covenant.length)
    throw new GraphSpendError('Missing the presigned challenge signatures');
  const out = graph.outputs.challengeConnector;
  const leaf = out.leaves[Leaf.challengeConnector.challenge];
  if (!leaf) throw new GraphSpendError('The challenge connector has no challenge leaf');
  const tx = cloneTx(graph.txs.challenge);
  (tx.inputs[0] as Tx['inputs'][number]).witness = [
    ...[...list].reverse(),
    leaf.script,
    controlBlock(out, Leaf.challengeConnector.challenge),
  ];
  for (const f of funding) {
    tx.inputs.push({
      prevTxid: f.txid,
      vout: f.vout,
      scriptSig: new Uint8Array(),
      sequence: SEQUENCE_NO_LOCK,
      witness: [],
    });
  }
  tx.outputs.push(...change);
  return { tx, prevouts: [...graphPrevouts(graph, 'challenge'), ...funding.map((f) => f.prevout)] };
}

/** The BIP-341 key-path secret for a key-path-only P2TR output of `secretKey`. */
export function tweakedKeyPathSecret(secretKey: Uint8Array): Uint8Array {
  const point = ecc.pointFromScalar(secretKey, true);
  if (!point) throw new GraphSpendError('Invalid secret key');
  const d = point[0] === 0x03 ? ecc.privateNegate(secretKey) : secretKey;
  const out = taprootOutput(point.subarray(1));
  const tweaked = ecc.privateAdd(d, out.tweak);
  if (!tweaked) throw new GraphSpendError('The taproot tweak gives an invalid secret key');
  return Uint8Array.from(tweaked);
}

/** Signs input `index` (a key-path-only P2TR coin of `secretKey`) in place. */
export function signKeyPathInput(
  spend: { tx: Tx; prevouts: readonly Prevout[] },
  index: number,
  secretKey: Uint8Array,
  hashType: number = SIGHASH_DEFAULT,
): void {
  const prevout = spend.prevouts[index];
  const input = spend.tx.inputs[index];
  if (!prevout || !input) throw new GraphSpendError(`No input ${index} to sign`);
  const point = ecc.xOnlyPointFromScalar(secretKey);
  if (!equalBytes(prevout.script, taprootOutput(point).scriptPubKey)) {
    throw new GraphSpendError(`Input ${index} is not a key-path P2TR coin of this key`);
  }
  const r = taprootSighash(new PrecomputedTxData(spend.tx, spend.prevouts), index, hashType, 'taproot');
  if (!r.ok) throw new GraphSpendError(`Cannot sign input ${index}: ${r.reason}`);
  input.witness = [schnorrSign(r.hash, tweakedKeyPathSecret(secretKey), hashType)];
}

/**
 * A challenger signs its funding input `index` of the agreed challenge: SIGHASH_DEFAULT only, and only
 * when input 0 is the graph's connector A, so its coin can never end up in a transaction that leaves
 * the connector unspent.
 */
export function signChallengeFunding(
  graph: Graph,
  spend: { tx: Tx; prevouts: readonly Prevout[] },
  index: number,
  secretKey: Uint8Array,
): void {
  const input0 = spend.tx.inputs[0];
  const a = graph.txs.challenge.inputs[0];
  if (!input0 || !a || !equalBytes(input0.prevTxid, a.prevTxid) || input0.vout !== a.vout) {
    throw new GraphSpendError("Input 0 is not the graph's challenge connector: refusing to sign the funding");
  }
  if (index === 0) throw new GraphSpendError('Input 0 is the connector, signed by the covenant');
  signKeyPathInput(spend, index, secretKey, SIGHASH_DEFAULT);
}
