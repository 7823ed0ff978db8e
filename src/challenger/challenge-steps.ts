/**
 * The steps the challenge job and the tracker share: the record must exist, a new version of Vigil's
 * challenge is written ahead of its broadcast, the current version is sent through the sender, someone
 * else's challenge or the operator's take is recorded, the fee cap is noted.
 */
import { UnrecoverableError } from 'bullmq';
import type { BuiltChallenge, FundingCoin } from '../dispute/plan/challenge-tx.ts';
import { challengeVersions, currentChallenge, versionOf } from '../dispute/plan/fee-bump.ts';
import { asBlockHash, asTxid, type DisputeRecord, type NoteBody } from '../dispute/records/types.ts';
import type { BroadcastOutcome } from '../sender/broadcast-outcome.ts';
import { type Actionable, broadcastRaw, settle } from '../sender/send.ts';
import type { ConnectorSpend } from './connector-spend.ts';
import type { DisputeJobContext } from './context.ts';
import { clearMetDeadlines } from './deadline-gauges.ts';
import { usedCoins } from './funding.ts';

/** What a written version's event says beyond the version itself. */
type VersionEvent =
  | { type: 'challenge-built' }
  | { type: 'challenge-rebuilt'; replaces: string; reason: string }
  | { type: 'challenge-bumped'; replaces: string; feeRate: bigint; estimate?: bigint };

/**
 * Writes a new version of Vigil's challenge ahead of its broadcast. `key` makes it idempotent: two runs
 * that build from the same state record one version, and both then send what the record holds.
 */
export async function writeVersion(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  e: VersionEvent,
  key: string,
  r: { built: BuiltChallenge; coins: FundingCoin[] },
  tip: number,
  onlyIfAbsent?: 'challenge',
) {
  const version = versionOf(r.built);
  const versions = [...challengeVersions(rec.challenge), version];
  const built = { txid: version.txid, fee: r.built.fee, vsize: r.built.vsize };
  let body: NoteBody;
  if (e.type === 'challenge-built') body = { type: e.type, detail: built };
  else if (e.type === 'challenge-rebuilt')
    body = { type: e.type, detail: { ...built, replaces: e.replaces, reason: e.reason } };
  else {
    const { type, ...extra } = e;
    body = { type, detail: { ...built, ...extra } };
  }
  return ctx.store.note(rec.id, body, {
    key,
    ...(onlyIfAbsent === undefined ? {} : { onlyIfAbsent }),
    patch: {
      challenge: {
        ...currentChallenge(version),
        versions,
        coins: usedCoins(r.coins, r.built).map((c) => ({ ...c, txid: asTxid(c.txid) })),
        sentHeight: tip,
        by: 'vigil',
      },
    },
  });
}

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

/** Sends the record's current challenge version through the sender. */
export async function sendChallenge(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  why: 'challenge' | 'rebroadcast',
): Promise<'ok' | Actionable> {
  const { raw, txid } = rec.challenge;
  if (raw === undefined || txid === undefined) return 'ok';
  const outcome: BroadcastOutcome = await broadcastRaw(
    ctx,
    raw,
    'challenge',
    why === 'challenge' ? 'sent' : 'rebroadcast',
  );
  const settled = await settle(ctx, rec.id, txid, 'challenge', outcome);
  if (settled !== 'ok') {
    ctx.metrics?.sendConflicts.inc({ tx: 'challenge', action: settled.kind });
    await ctx.store.note(
      rec.id,
      {
        type: 'send-conflict',
        detail: { tx: 'challenge', txid, kind: settled.kind, reason: settled.reason },
      },
      { key: `conflict-${txid}-v${rec.version}` },
    );
    return settled;
  }
  if (outcome.kind === 'accepted') {
    await ctx.store.note(
      rec.id,
      { type: why === 'challenge' ? 'broadcast' : 'rebroadcast', detail: { txid } },
      { key: `${why}-${txid}-v${rec.version}` },
    );
  }
  return 'ok';
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
