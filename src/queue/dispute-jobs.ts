/**
 * What each dispute job does. Every processor starts from the durable record and the chain as they are
 * now, never from what the job's data says happened: a job run twice (a crash after the broadcast, a
 * stalled lock, two processes) reconciles instead of repeating. The one transaction a dispute sends is
 * written ahead into its record before it is broadcast, so a re-run rebroadcasts the same bytes and
 * never a conflicting spend.
 */
import { UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BitcoinNetwork } from '../bitcoin/backends/address.ts';
import { decodeTx, encodeTx } from '../bitcoin/backends/codec.ts';
import { BroadcastRejectedError } from '../bitcoin/backends/errors.ts';
import { type FeeRate, feeRateFromSatPerVb } from '../bitcoin/backends/fee-rate.ts';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { hashToDisplayHex, txid as txidOf } from '../bitcoin/tx/serialize.ts';
import { bytesToHex, hexToBytes } from '../core/bytes.ts';
import type { Graph } from '../dispute/graph/build.ts';
import type { PresignedSignatures } from '../dispute/graph/sign.ts';
import { completeAssertTimeout } from '../dispute/graph/spend.ts';
import { blocksLeft, disputeDeadlines } from '../dispute/records/deadlines.ts';
import type { DisputeRecord, DisputeStore } from '../dispute/records/store.ts';
import {
  buildFundedChallenge,
  ChallengeCheckError,
  type ChallengeSigner,
  checkChallenge,
} from './challenge-tx.ts';
import { Lease } from './lease.ts';
import type { WatcherMetrics } from './metrics.ts';
import { spendDecision, type WatcherMode } from './spend-policy.ts';

export type DisputeGraph = { graph: Graph; sigs: PresignedSignatures };

export type DisputeJobContext = {
  store: DisputeStore;
  backend: BitcoinBackend;
  mode: WatcherMode;
  network: BitcoinNetwork;
  allowMainnetSpending: boolean;
  /** The verified graph of a dispute (re-imported from the record's document, cached by the caller). */
  graphOf(record: DisputeRecord): Promise<DisputeGraph>;
  /** The watcher wallet: its address (to list coins) and key-path signer. Absent in mode watch. */
  wallet: (ChallengeSigner & { address: string }) | undefined;
  fees: { targetBlocks: number; maxFeeRateSatVb: number; fallbackSatVb: number };
  /** Depth at which Vigil's challenge counts as confirmed. */
  confirmations: number;
  /** Key prefix (for the wallet lock). */
  prefix: string;
  redis: Redis;
  metrics: WatcherMetrics | undefined;
  logger: Logger | undefined;
  /** Starts tracking a dispute (a repeating job per dispute). */
  track(disputeId: string): Promise<void>;
  /** Stops tracking it (resolved). */
  untrack(disputeId: string): Promise<void>;
};

export type OpenJobData = {
  disputeId: string;
  epoch: string;
  kickoffTxid: string;
  kickoffHeight: number;
  /** The graph document (JSON), kept in the record for re-import and export. */
  graph: string;
  verdict: string;
  /** When the fraudulent kick-off was seen at depth (ms), for the detection-latency metric. */
  seenAt: number;
  challengeWindow: number;
  assertWindow: number;
};

export type DisputeJobData = { disputeId: string };

/** Creates the record (idempotent); the caller enqueues the challenge job after it. */
export async function processOpen(ctx: DisputeJobContext, data: OpenJobData): Promise<string> {
  const d = disputeDeadlines(data.kickoffHeight, {
    challengeWindow: data.challengeWindow,
    assertWindow: data.assertWindow,
    disproveWindow: 0,
  });
  const r = await ctx.store.open({
    id: data.disputeId,
    epoch: BigInt(data.epoch),
    kickoffTxid: data.kickoffTxid,
    kickoffHeight: data.kickoffHeight,
    fields: {
      graph: data.graph,
      verdict: data.verdict,
      seenAt: String(data.seenAt),
      challengeBy: String(d.challengeBy),
      assertTimeoutFrom: String(d.assertTimeoutFrom),
    },
    detail: { epoch: data.epoch, kickoffTxid: data.kickoffTxid },
  });
  return r.status;
}

async function feeRateNow(ctx: DisputeJobContext): Promise<FeeRate> {
  const cap = feeRateFromSatPerVb(ctx.fees.maxFeeRateSatVb);
  const est = await ctx.backend.estimateFee(ctx.fees.targetBlocks);
  const rate = est?.rate ?? feeRateFromSatPerVb(ctx.fees.fallbackSatVb);
  // Never above the cap, whatever the estimator says.
  return rate.satPerKvb > cap.satPerKvb ? cap : rate;
}

/** Outpoints already committed to by stored (unresolved) transactions of any dispute. */
async function reservedOutpoints(ctx: DisputeJobContext): Promise<Set<string>> {
  const out = new Set<string>();
  for (const rec of await ctx.store.active()) {
    const raw = rec.fields.challengeRaw;
    if (raw === undefined) continue;
    for (const input of decodeTx(hexToBytes(raw)).inputs) {
      out.add(`${hashToDisplayHex(input.prevTxid)}:${input.vout}`);
    }
  }
  return out;
}

/**
 * The challenge: build from the operator's graph and the wallet's coins, check with the interpreter
 * and testmempoolaccept, write ahead, broadcast, move to `challenged`.
 */
export async function processChallenge(ctx: DisputeJobContext, data: DisputeJobData): Promise<string> {
  let rec = await ctx.store.require(data.disputeId);
  if (rec.state !== 'detected') {
    await ctx.track(rec.id);
    return `already ${rec.state}`;
  }
  const decision = spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending);
  if (decision === 'withhold') {
    await ctx.store.note(rec.id, 'challenge-withheld', { key: 'withheld', detail: { mode: ctx.mode } });
    return 'withheld (mode watch)';
  }
  // Someone else's challenge already spent the connector: the operator must assert either way.
  const spend = await ctx.backend.getOutspend(rec.kickoffTxid, 0);
  if (spend.spent && spend.txid !== undefined && spend.txid !== rec.fields.challengeTxid) {
    if (rec.fields.challengeRaw === undefined) {
      await ctx.store.transition(rec.id, 'challenged', {
        key: `challenged-by-${spend.txid}`,
        fields: { challengeTxid: spend.txid, challengeBy: 'other' },
        detail: { txid: spend.txid, ours: false },
      });
      await ctx.track(rec.id);
      return 'challenged by another watcher';
    }
  }
  if (rec.fields.challengeRaw === undefined) {
    const wallet = ctx.wallet;
    if (!wallet) throw new UnrecoverableError('No watcher wallet: cannot fund a challenge');
    const { graph, sigs } = await ctx.graphOf(rec);
    // One dispute at a time picks wallet coins, so two disputes never spend the same coin.
    const lock = new Lease(ctx.redis, `${ctx.prefix}:wallet:lock`, 30_000);
    if (!(await lock.acquire())) throw new Error('The wallet is busy funding another transaction; retrying');
    try {
      const reserved = await reservedOutpoints(ctx);
      const coins = (await ctx.backend.getUtxos(wallet.address)).filter(
        (u) => u.confirmed && !reserved.has(`${u.txid}:${u.vout}`),
      );
      const built = buildFundedChallenge(graph, sigs, coins, wallet, await feeRateNow(ctx));
      try {
        checkChallenge(built);
      } catch (err) {
        // A challenge the interpreter refuses will never become valid by retrying.
        throw new UnrecoverableError(err instanceof ChallengeCheckError ? err.message : String(err));
      }
      if (ctx.backend.testAccept) {
        const [res] = await ctx.backend.testAccept([built.raw]);
        if (!res?.allowed) {
          throw new Error(`testmempoolaccept refused the challenge: ${res?.reason ?? 'no answer'}`);
        }
      }
      if (decision === 'build-only') {
        await ctx.store.note(rec.id, 'dry-run-built', {
          key: `dry-run-${built.txid}`,
          fields: { dryRunTxid: built.txid, dryRunRaw: bytesToHex(built.raw) },
          detail: { txid: built.txid, fee: String(built.fee), vsize: built.vsize },
        });
        ctx.metrics?.broadcasts.inc({ tx: 'challenge', result: 'dry-run' });
        return `dry-run: built and checked ${built.txid}`;
      }
      await ctx.store.note(rec.id, 'challenge-built', {
        key: `built-${built.txid}`,
        onlyIfAbsent: 'challengeTxid',
        fields: {
          challengeTxid: built.txid,
          challengeRaw: bytesToHex(built.raw),
          challengeFee: String(built.fee),
          challengeFeeRate: String(built.feeRate.satPerKvb),
        },
        detail: { txid: built.txid, fee: String(built.fee), vsize: built.vsize },
      });
    } finally {
      await lock.release();
    }
    rec = await ctx.store.require(rec.id);
  }
  const txid = rec.fields.challengeTxid as string;
  await broadcastStored(ctx, rec, 'challenge');
  const moved = await ctx.store.transition(rec.id, 'challenged', {
    key: `challenged-${txid}`,
    fields: { challengeTxid: txid },
    detail: { txid },
  });
  if (moved.status === 'applied' && rec.fields.seenAt !== undefined) {
    ctx.metrics?.challengeLatency.observe((Date.now() - Number(rec.fields.seenAt)) / 1000);
  }
  await ctx.track(rec.id);
  return `challenged ${txid}`;
}

/** Broadcasts the record's stored challenge; "already known" and "already in chain" are success. */
async function broadcastStored(ctx: DisputeJobContext, rec: DisputeRecord, why: 'challenge' | 'rebroadcast') {
  const raw = rec.fields.challengeRaw;
  const txid = rec.fields.challengeTxid;
  if (raw === undefined || txid === undefined) return;
  try {
    await ctx.backend.broadcast(hexToBytes(raw), {
      maxFeeRate: feeRateFromSatPerVb(ctx.fees.maxFeeRateSatVb),
    });
    ctx.metrics?.broadcasts.inc({ tx: 'challenge', result: why === 'challenge' ? 'sent' : 'rebroadcast' });
  } catch (err) {
    if (err instanceof BroadcastRejectedError && /already|txn-already-known|known/i.test(err.reason)) return;
    ctx.metrics?.broadcasts.inc({ tx: 'challenge', result: 'rejected' });
    throw err;
  }
  await ctx.store.note(rec.id, why === 'challenge' ? 'broadcast' : 'rebroadcast', {
    key: `${why}-${txid}-v${rec.version}`,
    detail: { txid },
  });
}

/**
 * Tracks a challenged dispute: confirmation at depth, a reorg or eviction that drops the challenge
 * (rebroadcast, the same bytes), and the deadline gauges. Runs repeatedly until resolved.
 */
export async function processTrack(ctx: DisputeJobContext, data: DisputeJobData): Promise<string> {
  const rec = await ctx.store.get(data.disputeId);
  if (!rec || rec.state === 'resolved') {
    await ctx.untrack(data.disputeId);
    return 'resolved';
  }
  const tip = await ctx.backend.getTipHeight();
  const challengeBy = Number(rec.fields.challengeBy ?? Number.NaN);
  if (Number.isFinite(challengeBy)) {
    ctx.metrics?.deadlineBlocksLeft.set(
      { dispute: rec.id, deadline: 'challenge' },
      blocksLeft(challengeBy, tip),
    );
  }
  if (rec.state === 'confirmed') {
    const next = await followAssert(ctx, rec, tip);
    if (next !== undefined) return next;
  }
  if (rec.state === 'timed-out') return followTimeout(ctx, rec, tip);
  const txid = rec.fields.challengeTxid;
  if (txid === undefined || (rec.state !== 'challenged' && rec.state !== 'confirmed'))
    return `state ${rec.state}`;
  const status = await ctx.backend.getTxStatus(txid);
  if (status?.confirmed) {
    const depth = tip - status.blockHeight + 1;
    if (rec.state === 'challenged' && depth >= ctx.confirmations) {
      await ctx.store.transition(rec.id, 'confirmed', {
        key: `confirmed-${txid}-${status.blockHash}`,
        detail: { txid, blockHash: status.blockHash, height: status.blockHeight },
      });
      return `confirmed at ${status.blockHeight}`;
    }
    return `confirmed, depth ${depth}`;
  }
  if (status && !status.confirmed && status.inMempool) return 'in mempool';
  // Neither in a block nor in the mempool: a reorg or an eviction dropped it.
  if (rec.state === 'confirmed') {
    await ctx.store.transition(rec.id, 'challenged', {
      key: `reorged-${txid}-v${rec.version}`,
      detail: { txid, reason: 'the confirmed challenge left the chain' },
    });
  }
  if (
    rec.fields.challengeRaw !== undefined &&
    spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) === 'broadcast'
  ) {
    await broadcastStored(ctx, await ctx.store.require(rec.id), 'rebroadcast');
    return 'rebroadcast';
  }
  return 'dropped';
}

/**
 * After a confirmed challenge the operator must assert before the assert window closes. If the stake is
 * spent by the graph's assert, the dispute moves to `asserted`; if the window has closed and the stake is
 * still there, Vigil takes the assert-timeout (the slash) itself. Undefined: nothing to do yet.
 */
async function followAssert(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  tip: number,
): Promise<string | undefined> {
  const { graph, sigs } = await ctx.graphOf(rec);
  const stake = await ctx.backend.getOutspend(rec.kickoffTxid, 2);
  const assertTxid = hashToDisplayHex(txidOf(graph.txs.assert));
  if (stake.spent && stake.txid === assertTxid) {
    await ctx.store.transition(rec.id, 'asserted', {
      key: `asserted-${assertTxid}`,
      detail: { txid: assertTxid },
    });
    return 'asserted';
  }
  const from = Number(rec.fields.assertTimeoutFrom);
  ctx.metrics?.deadlineBlocksLeft.set({ dispute: rec.id, deadline: 'assert-timeout' }, from - tip - 1);
  if (stake.spent || tip + 1 < from) return undefined;
  if (spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) !== 'broadcast' || !ctx.wallet)
    return undefined;
  if (rec.fields.timeoutRaw === undefined) {
    const t = completeAssertTimeout(graph, sigs, {
      script: ctx.wallet.script,
      fee: graph.spec.params.fees.assertTimeout,
    });
    try {
      checkChallenge(t);
    } catch (err) {
      throw new UnrecoverableError(`The assert-timeout fails Vigil's checks: ${String(err)}`);
    }
    const txid = hashToDisplayHex(txidOf(t.tx));
    await ctx.store.note(rec.id, 'timeout-built', {
      key: `timeout-built-${txid}`,
      onlyIfAbsent: 'timeoutTxid',
      fields: { timeoutTxid: txid, timeoutRaw: bytesToHex(encodeTx(t.tx)) },
      detail: { txid },
    });
  }
  const stored = await ctx.store.require(rec.id);
  await sendStored(ctx, stored, 'timeoutRaw', 'assert-timeout');
  await ctx.store.transition(rec.id, 'timed-out', {
    key: `timed-out-${stored.fields.timeoutTxid}`,
    detail: { txid: stored.fields.timeoutTxid },
  });
  return 'assert-timeout sent';
}

/** The slash confirmed at depth resolves the dispute; dropped, it is sent again. */
async function followTimeout(ctx: DisputeJobContext, rec: DisputeRecord, tip: number): Promise<string> {
  const txid = rec.fields.timeoutTxid;
  if (txid === undefined) return 'timed out by someone else';
  const status = await ctx.backend.getTxStatus(txid);
  if (status?.confirmed) {
    if (tip - status.blockHeight + 1 >= ctx.confirmations) {
      await ctx.store.transition(rec.id, 'resolved', {
        key: `resolved-${txid}-${status.blockHash}`,
        outcome: 'operator-slashed',
        detail: { txid, blockHash: status.blockHash },
      });
      await ctx.untrack(rec.id);
      return 'resolved: operator slashed';
    }
    return 'assert-timeout confirming';
  }
  if (status && !status.confirmed && status.inMempool) return 'assert-timeout in mempool';
  await sendStored(ctx, rec, 'timeoutRaw', 'assert-timeout');
  return 'assert-timeout rebroadcast';
}

async function sendStored(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  field: string,
  tx: string,
): Promise<void> {
  const raw = rec.fields[field];
  if (raw === undefined) return;
  try {
    await ctx.backend.broadcast(hexToBytes(raw), {
      maxFeeRate: feeRateFromSatPerVb(ctx.fees.maxFeeRateSatVb),
    });
    ctx.metrics?.broadcasts.inc({ tx, result: 'sent' });
  } catch (err) {
    if (err instanceof BroadcastRejectedError && /already|known/i.test(err.reason)) return;
    ctx.metrics?.broadcasts.inc({ tx, result: 'rejected' });
    throw err;
  }
}
