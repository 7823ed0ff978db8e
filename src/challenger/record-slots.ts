/**
 * The dispute record's side of the sender's write-ahead port (src/sender/write-ahead.ts): for each
 * transaction a dispute sends, which record fields hold its bytes, and which events and idempotency
 * keys say it was written, taken or answered. The keys and fields are the record's schema: records
 * already in Redis and jobs in flight depend on them, so they do not change here.
 */
import type { BuiltChallenge, FundingCoin } from '../dispute/plan/challenge-tx.ts';
import { challengeVersions, currentChallenge, versionOf } from '../dispute/plan/fee-bump.ts';
import type { BuiltReward } from '../dispute/plan/reward-tx.ts';
import {
  asTxid,
  type DisputeRecord,
  type NoteBody,
  type RewardTxFacts,
  type Txid,
} from '../dispute/records/types.ts';
import type { RebuiltReward } from '../sender/rebroadcast.ts';
import type { RecordedTx, RecordSlot } from '../sender/write-ahead.ts';
import type { DisputeJobContext } from './context.ts';
import { usedCoins } from './funding.ts';

type SlotContext = Pick<DisputeJobContext, 'store' | 'metrics' | 'logger'>;

/**
 * The write-ahead on a replica before the bytes leave (src/store/replication.ts). A replica that does
 * not answer in time is no reason to hold a transaction back from a closing window: it is logged, and
 * a failover in that instant would leave Vigil following its own transaction as someone else's.
 */
async function durable(ctx: SlotContext, rec: DisputeRecord, what: string): Promise<void> {
  const ack = await ctx.store.replicated(rec.id);
  if (ack.replicas > 0 && ack.acked === 0) {
    ctx.logger?.warn(
      { dispute: rec.id, tx: what, replicas: ack.replicas },
      'the write-ahead record is not on a replica yet (WAIT timed out): sending anyway',
    );
  }
}

const recordedOf = (facts: RewardTxFacts): RecordedTx | undefined =>
  facts.raw === undefined || facts.txid === undefined
    ? undefined
    : { txid: facts.txid, raw: facts.raw, fee: facts.fee ?? 0n };

/** What a written challenge version's event says beyond the version itself. */
export type VersionEvent =
  | { type: 'challenge-built' }
  | { type: 'challenge-rebuilt'; replaces: string; reason: string }
  | { type: 'challenge-bumped'; replaces: string; feeRate: bigint; estimate?: bigint };

/**
 * A new version of Vigil's challenge. `key` makes it idempotent: two runs that build from the same state
 * record one version, and both then send what the record holds. `onlyIfAbsent` (the first challenge):
 * written only if no challenge is stored yet.
 */
export type ChallengeEntry = {
  event: VersionEvent;
  key: string;
  built: BuiltChallenge;
  coins: FundingCoin[];
  /** The tip height when it is written (the bump timer counts from it). */
  tip: number;
  onlyIfAbsent?: 'challenge';
};

/** The challenge's slot in `rec`: its current version's bytes, every version kept. */
export function challengeSlot(ctx: SlotContext, rec: DisputeRecord): RecordSlot<ChallengeEntry> {
  return {
    disputeId: rec.id,
    what: 'challenge',
    recorded: () => recordedOf(rec.challenge),
    async record(entry) {
      const { event: e, built: b } = entry;
      const version = versionOf(b);
      const versions = [...challengeVersions(rec.challenge), version];
      const built = { txid: version.txid, fee: b.fee, vsize: b.vsize };
      let body: NoteBody;
      if (e.type === 'challenge-built') body = { type: e.type, detail: built };
      else if (e.type === 'challenge-rebuilt')
        body = { type: e.type, detail: { ...built, replaces: e.replaces, reason: e.reason } };
      else {
        const { type, ...extra } = e;
        body = { type, detail: { ...built, ...extra } };
      }
      const r = await ctx.store.note(rec.id, body, {
        key: entry.key,
        ...(entry.onlyIfAbsent === undefined ? {} : { onlyIfAbsent: entry.onlyIfAbsent }),
        patch: {
          challenge: {
            ...currentChallenge(version),
            versions,
            coins: usedCoins(entry.coins, b).map((c) => ({ ...c, txid: asTxid(c.txid) })),
            sentHeight: entry.tip,
            by: 'vigil',
          },
        },
      });
      return r.status;
    },
    durable: () => durable(ctx, rec, 'challenge'),
    async noteAccepted(txid, result) {
      // A first send is `broadcast` under `challenge-…`, a resend `rebroadcast`; per record version, so
      // each version sent is one event.
      const why = result === 'sent' ? 'challenge' : 'rebroadcast';
      await ctx.store.note(
        rec.id,
        { type: result === 'sent' ? 'broadcast' : 'rebroadcast', detail: { txid } },
        { key: `${why}-${txid}-v${rec.version}` },
      );
    },
    async noteActionable(txid, outcome) {
      ctx.metrics?.sendConflicts.inc({ tx: 'challenge', action: outcome.kind });
      await ctx.store.note(
        rec.id,
        {
          type: 'send-conflict',
          detail: { tx: 'challenge', txid, kind: outcome.kind, reason: outcome.reason },
        },
        { key: `conflict-${txid}-v${rec.version}` },
      );
    },
  };
}

/** A reward transaction's slot: only a conflict is recorded (the caller follows the spender). */
function rewardNotes(
  ctx: SlotContext,
  rec: DisputeRecord,
  what: 'assert-timeout' | 'disprove',
): Pick<RecordSlot<never>, 'noteAccepted' | 'noteActionable'> {
  return {
    // The callers record a send as their step needs (`timed-out`, `disprove-broadcast`...).
    noteAccepted: async () => {},
    async noteActionable(txid, outcome) {
      // A fee refusal is rebuilt by the sender, which records the rebuilt transaction.
      if (outcome.kind !== 'conflict') return;
      ctx.metrics?.sendConflicts.inc({ tx: what, action: 'follow' });
      await ctx.store.note(
        rec.id,
        { type: 'send-conflict', detail: { tx: what, txid, reason: outcome.reason } },
        { key: `conflict-${txid}` },
      );
    },
  };
}

const rebuiltFacts = (b: BuiltReward): RewardTxFacts => ({ txid: asTxid(b.txid), raw: b.raw, fee: b.fee });

/** A rebuilt reward transaction's event detail, idempotency key (one rebuild per refused txid) and facts. */
function rebuiltWrite({ replaces, built, reason }: RebuiltReward) {
  const facts = rebuiltFacts(built);
  return {
    detail: { replaces, txid: asTxid(built.txid), fee: built.fee, reason },
    key: `rebuilt-from-${replaces}`,
    facts,
  };
}

/** The assert-timeout built first (written only if none is stored yet), or rebuilt at a higher fee. */
export type TimeoutEntry = { kind: 'built'; built: BuiltReward } | RebuiltReward;

export function timeoutSlot(ctx: SlotContext, rec: DisputeRecord): RecordSlot<TimeoutEntry> {
  return {
    disputeId: rec.id,
    what: 'assert-timeout',
    recorded: () => recordedOf(rec.timeout),
    async record(entry) {
      if (entry.kind === 'rebuilt') {
        const { detail, key, facts } = rebuiltWrite(entry);
        return (
          await ctx.store.note(
            rec.id,
            { type: 'assert-timeout-rebuilt', detail },
            { key, patch: { timeout: facts } },
          )
        ).status;
      }
      const t = entry.built;
      const txid = asTxid(t.txid);
      const r = await ctx.store.note(
        rec.id,
        { type: 'timeout-built', detail: { txid, fee: t.fee, vsize: t.vsize } },
        {
          key: `timeout-built-${txid}`,
          onlyIfAbsent: 'timeout',
          patch: { timeout: { txid, raw: t.raw, fee: t.fee } },
        },
      );
      return r.status;
    },
    durable: () => durable(ctx, rec, 'assert-timeout'),
    ...rewardNotes(ctx, rec, 'assert-timeout'),
  };
}

/**
 * The disprove of `step` built first, keyed by the assert (one disprove per assert; written only if
 * none is stored yet), or rebuilt at a higher fee.
 */
export type DisproveEntry =
  | { kind: 'built'; built: BuiltReward; step: number; tip: number; assertTxid: string }
  | RebuiltReward;

export function disproveSlot(ctx: SlotContext, rec: DisputeRecord): RecordSlot<DisproveEntry> {
  return {
    disputeId: rec.id,
    what: 'disprove',
    recorded: () => recordedOf(rec.disprove),
    async record(entry) {
      if (entry.kind === 'rebuilt') {
        const { detail, key, facts } = rebuiltWrite(entry);
        return (
          await ctx.store.note(
            rec.id,
            { type: 'disprove-rebuilt', detail },
            { key, patch: { disprove: facts } },
          )
        ).status;
      }
      const { built, step, tip } = entry;
      const txid: Txid = asTxid(built.txid);
      const r = await ctx.store.note(
        rec.id,
        { type: 'disprove-built', detail: { txid, step, fee: built.fee, vsize: built.vsize } },
        {
          key: `disprove-built-${entry.assertTxid}`,
          onlyIfAbsent: 'disprove',
          patch: { disprove: { txid, raw: built.raw, step, fee: built.fee, sentHeight: tip } },
        },
      );
      return r.status;
    },
    durable: () => durable(ctx, rec, 'disprove'),
    ...rewardNotes(ctx, rec, 'disprove'),
  };
}
