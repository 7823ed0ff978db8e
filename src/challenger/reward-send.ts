/**
 * Sending the transactions whose reward output Vigil fills in (assert-timeout, disprove) through the
 * sender, and what happens when one does not take effect: a fee refusal rebuilds it at the rate the
 * node asked for (input 0 is signed SINGLE|ANYONECANPAY, so only the reward changes) and writes the new
 * bytes ahead before they leave; a conflict (someone else spent the stake or the asserted output) is
 * reported to the caller, which reads the chain and follows whoever spent it.
 */
import { decodeTx, txVsize } from '../bitcoin/codec/codec.ts';
import { feeRateFromSatPerKvb } from '../bitcoin/codec/fee-rate.ts';
import type { BuiltReward } from '../dispute/plan/reward-tx.ts';
import { asTxid, type DisputeRecord, type RewardTxFacts } from '../dispute/records/types.ts';
import {
  type Actionable,
  boundedRate,
  broadcastRaw,
  checkBuilt,
  type SendContext,
  settle,
} from '../sender/send.ts';

export type RewardSendResult = 'sent' | 'known' | 'conflict' | 'absent' | 'rebuilt';

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/** The rate a fee refusal asks for, in sat/kvB, for a transaction of `vsize` that paid `fee`. */
export function rateAfterRefusal(
  refusal: Extract<Actionable, { kind: 'fee-too-low' }>,
  fee: bigint,
  vsize: number,
  stepKvb: bigint,
): bigint {
  const paid = ceilDiv(fee * 1000n, BigInt(vsize));
  let rate = paid + stepKvb;
  const up = (r: bigint) => {
    if (r > rate) rate = r;
  };
  if (refusal.neededRate !== undefined) up(refusal.neededRate);
  if (refusal.neededFee !== undefined) up(ceilDiv(refusal.neededFee * 1000n, BigInt(vsize)));
  if (refusal.neededExtra !== undefined) up(ceilDiv((fee + refusal.neededExtra) * 1000n, BigInt(vsize)));
  return rate;
}

/** The stored transaction of `what`: the assert-timeout or the disprove. */
function storedOf(rec: DisputeRecord, what: 'assert-timeout' | 'disprove'): RewardTxFacts {
  return what === 'disprove' ? rec.disprove : rec.timeout;
}

function feeOf(rec: DisputeRecord, what: 'assert-timeout' | 'disprove'): bigint {
  return storedOf(rec, what).fee ?? 0n;
}

export async function sendStoredReward(
  ctx: SendContext & { fees: SendContext['fees'] & { bumpStepSatVb?: number } },
  rec: DisputeRecord,
  what: 'assert-timeout' | 'disprove',
  result: 'sent' | 'rebroadcast',
  rebuild: (rateKvb: bigint) => BuiltReward,
  /** Called once before `rebuild`, when a rebuild is needed (fetches what the builder needs). */
  prepare?: () => Promise<void>,
): Promise<RewardSendResult> {
  const { raw, txid } = storedOf(rec, what);
  if (raw === undefined || txid === undefined) return 'absent';
  const outcome = await settle(ctx, rec.id, txid, what, await broadcastRaw(ctx, raw, what, result));
  if (outcome === 'ok') return 'sent';
  if (outcome.kind === 'conflict') {
    ctx.metrics?.sendConflicts.inc({ tx: what, action: 'follow' });
    await ctx.store.note(
      rec.id,
      { type: 'send-conflict', detail: { tx: what, txid, reason: outcome.reason } },
      { key: `conflict-${txid}` },
    );
    return 'conflict';
  }
  // Fee too low: rebuild at what the node asked for, within the caps, written ahead, then sent.
  const vsize = txVsize(decodeTx(raw));
  const step = feeRateFromSatPerKvb(BigInt(Math.round((ctx.fees.bumpStepSatVb ?? 1) * 1000))).satPerKvb;
  const wanted = rateAfterRefusal(outcome, feeOf(rec, what), vsize, step);
  const rate = boundedRate(ctx, feeRateFromSatPerKvb(wanted)).satPerKvb;
  if (rate * BigInt(vsize) <= feeOf(rec, what) * 1000n) {
    // The cap leaves no room above what was refused: alert and try again later (the mempool may clear).
    ctx.metrics?.feeCapped.set({ dispute: rec.id }, 1);
    await ctx.store.note(
      rec.id,
      { type: 'fee-capped', detail: { tx: what, txid, reason: outcome.reason } },
      { key: `capped-${txid}` },
    );
    throw new Error(`The ${what} ${txid} pays too little for the node and the fee cap allows no more`);
  }
  await prepare?.();
  const built = rebuild(rate);
  await checkBuilt(ctx, rec.id, what, built);
  const rebuilt: RewardTxFacts = { txid: asTxid(built.txid), raw: built.raw, fee: built.fee };
  await ctx.store.note(
    rec.id,
    {
      type: `${what}-rebuilt`,
      detail: { replaces: txid, txid: asTxid(built.txid), fee: built.fee, reason: outcome.reason },
    },
    {
      key: `rebuilt-from-${txid}`,
      patch: what === 'disprove' ? { disprove: rebuilt } : { timeout: rebuilt },
    },
  );
  ctx.metrics?.sendConflicts.inc({ tx: what, action: 'rebuild' });
  const again = await settle(ctx, rec.id, built.txid, what, await broadcastRaw(ctx, built.raw, what, 'sent'));
  // A second refusal is handled on the next run, from the new stored bytes.
  if (again !== 'ok') throw new Error(`The rebuilt ${what} ${built.txid} was not accepted: ${again.reason}`);
  return 'rebuilt';
}
