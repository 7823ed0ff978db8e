/**
 * The challenge Vigil sends: the graph's challenge template (input 0 with the covenant's presigned
 * SINGLE|ANYONECANPAY signatures, output 0 paying the operator's challenge amount) funded by the
 * watcher wallet's coins, each signed SIGHASH_ALL|ANYONECANPAY, with change back to the wallet. The
 * fee is exact for the rate (Schnorr signatures have a fixed size, so one measurement suffices) and
 * never above the cap.
 *
 * `checkChallenge` runs Vigil's own interpreter over every input with the standard flags, then relay
 * policy; nothing is broadcast that fails either.
 */
import { encodeTx, txidHex, txVsize } from '../bitcoin/backends/codec.ts';
import { type FeeRate, feeForVsize } from '../bitcoin/backends/fee-rate.ts';
import { STANDARD_FLAGS } from '../bitcoin/script/flags.ts';
import { checkPolicy, dustThreshold } from '../bitcoin/tx/policy.ts';
import { PrecomputedTxData } from '../bitcoin/tx/precomputed.ts';
import { taprootSighash } from '../bitcoin/tx/sighash.ts';
import type { Prevout, Tx } from '../bitcoin/tx/types.ts';
import { verifyTransaction } from '../bitcoin/tx/verify.ts';
import { concatBytes, hexToBytes } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import type { Graph } from '../dispute/graph/build.ts';
import { buildChallenge, SIGHASH_ALL_ACP } from '../dispute/graph/challenge.ts';
import type { PresignedSignatures } from '../dispute/graph/sign.ts';

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
    const h = taprootSighash(cache, i, SIGHASH_ALL_ACP, 'taproot');
    if (!h.ok) throw new ChallengeFundingError(`Cannot sign challenge input ${i}: ${h.reason}`);
    (spend.tx.inputs[i] as Tx['inputs'][number]).witness = [
      concatBytes(signer.signSchnorrTweaked(h.hash), Uint8Array.from([SIGHASH_ALL_ACP])),
    ];
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
