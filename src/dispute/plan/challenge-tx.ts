/**
 * The challenge Vigil sends: the graph's challenge template (input 0 with the covenant's presigned
 * SINGLE|ANYONECANPAY signatures, output 0 paying the operator's challenge amount) funded by the
 * watcher wallet's coins, each signed SIGHASH_DEFAULT, with change back to the wallet. The fee is exact
 * for the rate (Schnorr signatures have a fixed size, so one measurement suffices) and never above the
 * cap.
 *
 * Why SIGHASH_DEFAULT: a funding input signed ALL|ANYONECANPAY commits to the outputs but not to the
 * other inputs, so whoever sees the challenge in the mempool (the operator first) can drop input 0,
 * the connector, add a coin of its own and broadcast the rest: a valid transaction that pays the
 * operator the challenge amount out of Vigil's coins and leaves the connector unspent for the take.
 * Signed DEFAULT, every input and output is committed: the only valid transaction with Vigil's coins
 * in it is the one Vigil built.
 *
 * `checkChallenge` runs Vigil's own interpreter over every input with the standard flags, then relay
 * policy; nothing is broadcast that fails either. `checkChallengeShape` checks what only a challenge
 * must be: input 0 is connector A and every other input carries a DEFAULT signature.
 */
import { encodeTx, txidHex, txVsize } from '../../bitcoin/codec/codec.ts';
import { type FeeRate, feeForVsize } from '../../bitcoin/codec/fee-rate.ts';
import { STANDARD_FLAGS } from '../../bitcoin/script/flags.ts';
import { checkPolicy, dustThreshold } from '../../bitcoin/tx/policy.ts';
import { PrecomputedTxData } from '../../bitcoin/tx/precomputed.ts';
import { hashToDisplayHex } from '../../bitcoin/tx/serialize.ts';
import { SIGHASH_DEFAULT, taprootSighash } from '../../bitcoin/tx/sighash.ts';
import type { Prevout, Tx } from '../../bitcoin/tx/types.ts';
import { verifyTransaction } from '../../bitcoin/tx/verify.ts';
import { hexToBytes } from '../../core/bytes.ts';
import { VigilError } from '../../core/errors.ts';
import type { Graph } from '../graph/build.ts';
import { buildChallenge } from '../graph/challenge.ts';
import type { PresignedSignatures } from '../graph/sign.ts';

export class ChallengeFundingError extends VigilError {
  override name = 'ChallengeFundingError';
}

export class ChallengeCheckError extends VigilError {
  override name = 'ChallengeCheckError';
}

export type FundingCoin = { txid: string; vout: number; value: bigint };

/** The watcher wallet's BIP-86 key: its output script and a key-path Schnorr signer. */
export type ChallengeSigner = {
  script: Uint8Array;
  signSchnorrTweaked(hash: Uint8Array): Uint8Array;
};

export type BuiltChallenge = {
  tx: Tx;
  prevouts: Prevout[];
  raw: Uint8Array;
  txid: string;
  fee: bigint;
  vsize: number;
  feeRate: FeeRate;
};

function assemble(
  graph: Graph,
  sigs: PresignedSignatures,
  coins: readonly FundingCoin[],
  signer: ChallengeSigner,
  change: bigint | undefined,
): { tx: Tx; prevouts: Prevout[] } {
  const funding = coins.map((c) => ({
    txid: hexToBytes(c.txid).reverse(),
    vout: c.vout,
    prevout: { value: c.value, script: signer.script },
  }));
  const outputs = change === undefined ? [] : [{ value: change, script: signer.script }];
  const spend = buildChallenge(graph, sigs, funding, outputs);
  const cache = new PrecomputedTxData(spend.tx, spend.prevouts);
  for (let i = 1; i < spend.tx.inputs.length; i++) {
    const h = taprootSighash(cache, i, SIGHASH_DEFAULT, 'taproot');
    if (!h.ok) throw new ChallengeFundingError(`Cannot sign challenge input ${i}: ${h.reason}`);
    // A 64-byte signature is SIGHASH_DEFAULT: all inputs and all outputs.
    (spend.tx.inputs[i] as Tx['inputs'][number]).witness = [signer.signSchnorrTweaked(h.hash)];
  }
  return spend;
}

/** Builds and signs the funded challenge at `feeRate`, largest coins first. */
export function buildFundedChallenge(
  graph: Graph,
  sigs: PresignedSignatures,
  coins: readonly FundingCoin[],
  signer: ChallengeSigner,
  feeRate: FeeRate,
): BuiltChallenge {
  const p = graph.spec.params;
  // The connector brings `connectorValue`; output 0 takes `challengeAmount`: the wallet pays the rest.
  const need = p.challengeAmount - p.connectorValue;
  const dust = dustThreshold({ value: 0n, script: signer.script });
  const sorted = [...coins].sort((a, b) => (a.value === b.value ? 0 : a.value > b.value ? -1 : 1));
  let total = 0n;
  const chosen: FundingCoin[] = [];
  for (const coin of sorted) {
    chosen.push(coin);
    total += coin.value;
    // Measure with change; drop the change when it would be dust.
    const probe = assemble(graph, sigs, chosen, signer, 0n);
    const feeWithChange = feeForVsize(feeRate, txVsize(probe.tx));
    if (total < need + feeWithChange) continue;
    let change: bigint | undefined = total - need - feeWithChange;
    if (change < dust) change = undefined;
    const spend = assemble(graph, sigs, chosen, signer, change);
    const vsize = txVsize(spend.tx);
    const fee = total - need - (change ?? 0n);
    if (fee < feeForVsize(feeRate, vsize)) continue;
    return { ...spend, raw: encodeTx(spend.tx), txid: txidHex(spend.tx), fee, vsize, feeRate };
  }
  throw new ChallengeFundingError(
    `The watcher wallet cannot fund the challenge: it needs ${need} sat plus the fee and holds ${total} sat`,
    { metaMessages: [`Fee rate ${feeRate.satPerKvb} sat/kvB; ${coins.length} coins.`] },
  );
}

/**
 * The interpreter over every input (standard flags), then relay policy. Throws with the first defect.
 * Every transaction Vigil sends (challenge, assert-timeout, disprove) goes through it; `what` names it.
 */
/** A transaction built and ready to be checked and sent: its bytes, txid, fee and size. */
export type CheckedTx = {
  tx: Tx;
  prevouts: Prevout[];
  raw: Uint8Array;
  txid: string;
  fee: bigint;
  vsize: number;
};

export function checkChallenge(c: { tx: Tx; prevouts: Prevout[] }, what = 'challenge'): void {
  const v = verifyTransaction(c.tx, c.prevouts, STANDARD_FLAGS);
  if (!v.ok) {
    const bad = v.inputs.findIndex((i) => !i.ok);
    throw new ChallengeCheckError(`The ${what} fails Vigil's script check; it is not broadcast`, {
      metaMessages: [bad >= 0 ? `Input ${bad}: ${JSON.stringify(v.inputs[bad])}` : JSON.stringify(v.check)],
    });
  }
  const policy = checkPolicy(c.tx, c.prevouts);
  if (!policy.ok) {
    throw new ChallengeCheckError(`The ${what} is not standard (${policy.reason}); it is not broadcast`);
  }
}

/**
 * What only a challenge must be: input 0 spends connector A (kick-off output 0), and every funding
 * input is a key-path spend whose one signature is 64 bytes, i.e. SIGHASH_DEFAULT (a 65-byte one names
 * another hash type, ANYONECANPAY among them, which lets the inputs be moved elsewhere).
 */
export function checkChallengeShape(tx: Tx, kickoffTxid: string): void {
  const input0 = tx.inputs[0];
  if (!input0 || hashToDisplayHex(input0.prevTxid) !== kickoffTxid || input0.vout !== 0) {
    throw new ChallengeCheckError(
      `The challenge's input 0 is not connector A (${kickoffTxid}:0); it is not broadcast`,
    );
  }
  for (let i = 1; i < tx.inputs.length; i++) {
    const w = tx.inputs[i]?.witness ?? [];
    if (w.length !== 1 || w[0]?.length !== 64) {
      throw new ChallengeCheckError(
        `The challenge's funding input ${i} is not signed SIGHASH_DEFAULT; it is not broadcast`,
      );
    }
  }
}
