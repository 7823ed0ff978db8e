/**
 * Sending what a slot recorded (write-ahead.ts): the first send and every rebroadcast put the recorded
 * bytes on the wire, never freshly built ones, so a re-run after a crash sends what was written ahead.
 * The node's answer is settled by `settle` and what the caller must act on is told to the slot.
 *
 * The transactions whose reward output Vigil fills in (assert-timeout, disprove) are also rebuilt here
 * when refused for their fee: input 0 is signed SINGLE|ANYONECANPAY, so only the reward changes; the
 * sender picks the rate the node asked for within the caps, the caller's builder builds, the sender
 * checks, writes the new bytes ahead and sends them. A conflict (someone else spent the stake or the
 * asserted output) goes back to the caller, which reads the chain and follows whoever spent it.
 */
import { decodeTx, txVsize } from '../bitcoin/codec/codec.ts';
import { feeRateFromSatPerKvb } from '../bitcoin/codec/fee-rate.ts';
import type { BuiltReward } from '../dispute/plan/reward-tx.ts';
import type { Txid } from '../dispute/records/types.ts';
import { type Actionable, boundedRate, broadcastRaw, checkBuilt, type SendContext, settle } from './send.ts';
import type { RecordSlot } from './write-ahead.ts';

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

/**
 * Broadcasts the slot's recorded bytes. 'absent' when nothing is recorded; 'ok' when the node has them
 * (accepted, told to the slot, or already known); a conflict or fee refusal, told to the slot, for the
 * caller to rebuild or follow. Unavailable and refused answers throw (`settle`).
 */
export async function sendRecorded<Entry>(
  ctx: SendContext,
  slot: RecordSlot<Entry>,
  result: 'sent' | 'rebroadcast',
): Promise<'absent' | 'ok' | Actionable> {
  const recorded = slot.recorded();
  if (recorded === undefined) return 'absent';
  const { raw, txid } = recorded;
  const outcome = await broadcastRaw(ctx, raw, slot.what, result);
  const settled = await settle(ctx, slot.disputeId, txid, slot.what, outcome);
  if (settled !== 'ok') {
    await slot.noteActionable(txid, settled);
    return settled;
  }
  if (outcome.kind === 'accepted') await slot.noteAccepted(txid, result);
  return 'ok';
}

/** A reward transaction rebuilt at a higher fee, to be written ahead in place of `replaces`. */
export type RebuiltReward = { kind: 'rebuilt'; replaces: Txid; built: BuiltReward; reason: string };

export type RewardSendResult = 'sent' | 'known' | 'conflict' | 'absent' | 'rebuilt';

/**
 * Sends a reward transaction's recorded bytes; refused for its fee, rebuilds it (`rebuild` at a rate in
 * sat/kvB) at what the node asked for within the caps, checks it, writes it ahead and sends it.
 */
export async function sendRecordedReward(
  ctx: SendContext,
  slot: RecordSlot<RebuiltReward>,
  result: 'sent' | 'rebroadcast',
  rebuild: (rateKvb: bigint) => BuiltReward,
  /** Called once before `rebuild`, when a rebuild is needed (fetches what the builder needs). */
  prepare?: () => Promise<void>,
): Promise<RewardSendResult> {
  const recorded = slot.recorded();
  const outcome = await sendRecorded(ctx, slot, result);
  if (outcome === 'absent' || recorded === undefined) return 'absent';
  if (outcome === 'ok') return 'sent';
  if (outcome.kind === 'conflict') return 'conflict';
  const { raw, txid, fee } = recorded;
  const what = slot.what;
  // Fee too low: rebuild at what the node asked for, within the caps, written ahead, then sent.
  const vsize = txVsize(decodeTx(raw));
  const step = feeRateFromSatPerKvb(BigInt(Math.round((ctx.fees.bumpStepSatVb ?? 1) * 1000))).satPerKvb;
  const wanted = rateAfterRefusal(outcome, fee, vsize, step);
  const rate = boundedRate(ctx, feeRateFromSatPerKvb(wanted)).satPerKvb;
  if (rate * BigInt(vsize) <= fee * 1000n) {
    // The cap leaves no room above what was refused: alert and try again later (the mempool may clear).
    ctx.metrics?.feeCapped.set({ dispute: slot.disputeId }, 1);
    await ctx.store.note(
      slot.disputeId,
      { type: 'fee-capped', detail: { tx: what, txid, reason: outcome.reason } },
      { key: `capped-${txid}` },
    );
    throw new Error(`The ${what} ${txid} pays too little for the node and the fee cap allows no more`);
  }
  await prepare?.();
  const built = rebuild(rate);
  await checkBuilt(ctx, slot.disputeId, what, built);
  await slot.record({ kind: 'rebuilt', replaces: txid, built, reason: outcome.reason });
  ctx.metrics?.sendConflicts.inc({ tx: what, action: 'rebuild' });
  const again = await settle(
    ctx,
    slot.disputeId,
    built.txid,
    what,
    await broadcastRaw(ctx, built.raw, what, 'sent'),
  );
  // A second refusal is handled on the next run, from the new recorded bytes.
  if (again !== 'ok') throw new Error(`The rebuilt ${what} ${built.txid} was not accepted: ${again.reason}`);
  return 'rebuilt';
}
