/**
 * The steps the challenge job and the tracker share: the record must exist, the current version is sent
 * through the sender (which writes versions ahead through `record-slots.ts`), someone else's challenge
 * or the operator's take is recorded, the fee cap is noted.
 */
import { UnrecoverableError } from 'bullmq';
import { asBlockHash, asTxid, type DisputeRecord } from '../dispute/records/types.ts';
import { sendRecorded } from '../sender/rebroadcast.ts';
import type { Actionable } from '../sender/send.ts';
import type { ConnectorSpend } from './connector-spend.ts';
import type { DisputeJobContext } from './context.ts';
import { clearMetDeadlines } from './deadline-gauges.ts';
import { challengeSlot } from './record-slots.ts';

/** A record that a job names must exist: a missing one is lost state, alerted on, never "resolved". */
export async function requireRecord(ctx: DisputeJobContext, id: string): Promise<DisputeRecord> {
  const rec = await ctx.store.get(id);
  if (rec) return rec;
  ctx.metrics?.disputeRecordMissing.set({ dispute: id }, 1);
  ctx.logger?.error({ dispute: id }, 'a dispute job runs but its record is missing from Redis');
  throw new UnrecoverableError(`Dispute ${id} has jobs but no record in Redis`);
}

export function warnUnverified(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  a: Extract<ConnectorSpend, { kind: 'unverified' }>,
) {
  ctx.metrics?.sendConflicts.inc({ tx: 'challenge', action: 'unverified' });
  ctx.logger?.warn(
    { dispute: rec.id, spender: a.txid, reason: a.reason },
    "the backend's answer about connector A does not hold up: acting as if it were unspent",
  );
}

/**
 * Sends the record's current challenge version through the sender (the first send or a rebroadcast of
 * the recorded bytes); nothing recorded is nothing to send.
 */
export async function sendChallenge(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  why: 'challenge' | 'rebroadcast',
): Promise<'ok' | Actionable> {
  const sent = await sendRecorded(ctx, challengeSlot(ctx, rec), why === 'challenge' ? 'sent' : 'rebroadcast');
  return sent === 'absent' ? 'ok' : sent;
}

/** Someone else's challenge spent connector A: recorded once, with the height Vigil first saw it. */
export async function noteForeign(ctx: DisputeJobContext, rec: DisputeRecord, txid: string, tip: number) {
  const r = await ctx.store.note(
    rec.id,
    { type: 'challenge-conflicted', detail: { by: asTxid(txid) } },
    {
      key: `foreign-${txid}`,
      patch: { challenge: { txid: asTxid(txid), by: 'other', foreignSeenHeight: tip } },
    },
  );
  if (r.status === 'applied') {
    ctx.metrics?.sendConflicts.inc({ tx: 'challenge', action: 'follow' });
    ctx.logger?.info(
      { dispute: rec.id, txid },
      "connector A is spent by someone else's challenge: following it",
    );
  }
}

/** The take spent connector A: the challenge window was lost. Resolved `missed` once deep, and alerted. */
export async function challengeLost(ctx: DisputeJobContext, rec: DisputeRecord, txid: string, why: string) {
  ctx.metrics?.sendConflicts.inc({ tx: 'challenge', action: 'lost' });
  ctx.logger?.error({ dispute: rec.id, take: txid }, `the operator's take spent connector A: ${why}`);
  const status = await ctx.backend.getTxStatus(txid);
  const tip = await ctx.backend.getTipHeight();
  if (status?.confirmed && tip - status.blockHeight + 1 >= ctx.confirmations) {
    await ctx.store.transition(rec.id, 'resolved', {
      key: `missed-${txid}-${status.blockHash}`,
      outcome: 'missed',
      detail: { take: asTxid(txid), blockHash: asBlockHash(status.blockHash) },
    });
    clearMetDeadlines(ctx.metrics, rec.id, 'resolved');
    await ctx.untrack(rec.id);
    return 'resolved: missed (the operator took the stake)';
  }
  await ctx.track(rec.id);
  return `the operator's take ${txid} spent connector A`;
}

export async function noteCapped(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  rate: bigint,
  reason: string,
): Promise<string> {
  ctx.metrics?.feeCapped.set({ dispute: rec.id }, 1);
  const txid = rec.challenge.txid ?? 'none';
  const r = await ctx.store.note(
    rec.id,
    { type: 'fee-capped', detail: { txid, feeRate: rate, reason } },
    { key: `capped-${txid}` },
  );
  if (r.status === 'applied') {
    ctx.logger?.warn(
      { dispute: rec.id, txid, capSatPerKvb: String(rate), reason },
      'the challenge needs more than the fee cap allows: not paying more',
    );
  }
  return `at the fee cap (${rate} sat/kvB): ${reason}`;
}
