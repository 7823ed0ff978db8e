/**
 * The graph transactions whose reward output the submitter fills in (assert-timeout, disprove_i): the
 * fee is the current rate times the transaction's own size, and the reward takes the rest. Input 0 is
 * signed SINGLE|ANYONECANPAY, so the reward output's value changes nothing but the fee; its size does
 * not depend on the value, so one measurement suffices.
 */
import { encodeTx, txidHex, txVsize } from '../../bitcoin/codec/codec.ts';
import { type FeeRate, feeForVsize } from '../../bitcoin/codec/fee-rate.ts';
import type { RewardClaim, SpendableTx } from '../graph/spend.ts';
import type { CheckedTx } from './challenge-tx.ts';

export type BuiltReward = CheckedTx;

/**
 * Builds with `complete` twice: once to measure, once with the fee for `rate` (already capped), never
 * more than `maxFee` sats (the absolute cap: on a large disprove the rate cap alone could spend much of
 * the reward on fees).
 */
export function buildRewardSpend(
  complete: (reward: RewardClaim) => SpendableTx,
  script: Uint8Array,
  rate: FeeRate,
  maxFee?: bigint,
): BuiltReward {
  const probe = complete({ script, fee: 0n });
  const atRate = feeForVsize(rate, txVsize(probe.tx));
  const fee = maxFee !== undefined && atRate > maxFee ? maxFee : atRate;
  const built = complete({ script, fee });
  return {
    tx: built.tx,
    prevouts: built.prevouts,
    raw: encodeTx(built.tx),
    txid: txidHex(built.tx),
    fee,
    vsize: txVsize(built.tx),
  };
}
