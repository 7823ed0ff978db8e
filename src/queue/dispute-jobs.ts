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
import { decodeTx } from '../bitcoin/backends/codec.ts';
import { BroadcastRejectedError } from '../bitcoin/backends/errors.ts';
import { feeRateFromSatPerVb } from '../bitcoin/backends/fee-rate.ts';
import type { BitcoinBackend, TxStatus } from '../bitcoin/backends/types.ts';
import { hashToDisplayHex, txid as txidOf } from '../bitcoin/tx/serialize.ts';
import { isMatureCoin } from '../bitcoin/wallet/wallet.ts';
import { bytesToHex, hexToBytes } from '../core/bytes.ts';
import type { Graph } from '../dispute/graph/build.ts';
import type { PresignedSignatures } from '../dispute/graph/sign.ts';
import { completeAssertTimeout } from '../dispute/graph/spend.ts';
import { blocksLeft, disputeDeadlines } from '../dispute/records/deadlines.ts';
import type { DisputeRecord, DisputeStore } from '../dispute/records/store.ts';
import {
  type BuiltChallenge,
  buildFundedChallenge,
  ChallengeCheckError,
  ChallengeFundingError,
  type ChallengeSigner,
  checkChallenge,
  type FundingCoin,
} from './challenge-tx.ts';
import { clearMetDeadlines, pendingDeadline } from './deadline-gauges.ts';
import { followDisprove } from './disprove.ts';
import {
  type BumpSettings,
  buildReplacement,
  challengeVersions,
  currentFields,
  planBump,
  versionOf,
} from './fee-bump.ts';
import { Lease } from './lease.ts';
import type { WatcherMetrics } from './metrics.ts';
import { buildRewardSpend } from './reward-tx.ts';
import { checkBeforeSend, feeRateNow, sendStored } from './send.ts';
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
  /**
   * The watcher wallet: its address (to list coins), key-path signer, and the balance a challenge must
   * leave for fee bumps (`reserve`, default 0; bumps may spend it). Absent in mode watch.
   */
  wallet: (ChallengeSigner & { address: string; reserve?: bigint }) | undefined;
  fees: {
    targetBlocks: number;
    /** The hard cap: no challenge or replacement pays more per vB. */
    maxFeeRateSatVb: number;
    fallbackSatVb: number;
    /** Replace the challenge after it waited this many blocks below the estimate (default 2). */
    bumpAfterBlocks?: number;
    /** Each replacement raises the rate by at least this much (sat/vB, default 1). */
    bumpStepSatVb?: number;
    /** The relay's incremental fee rate (sat/vB, default 1, Core's default). */
    incrementalSatVb?: number;
  };
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
  /**
   * Vigil's own trace roots r_0 … r_k of the epoch (hex, k + 1 of them, k = the graph's traceSteps),
   * cut by `traceCheckpoints`. After an assert, the first step where the operator's roots part from
   * these is the one Vigil disproves; without them Vigil disproves nothing.
   */
  expectedTrace?: string[];
  /** Where the fraud is (JSON: governance step, rule...), informational: kept in the record and bundle. */
  diagnosis?: string;
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
      ...(data.expectedTrace === undefined ? {} : { expectedTrace: JSON.stringify(data.expectedTrace) }),
      ...(data.diagnosis === undefined ? {} : { diagnosis: data.diagnosis }),
    },
    detail: { epoch: data.epoch, kickoffTxid: data.kickoffTxid },
  });
  return r.status;
}

function bumpSettings(ctx: DisputeJobContext): BumpSettings {
  return {
    afterBlocks: ctx.fees.bumpAfterBlocks ?? 2,
    minStep: feeRateFromSatPerVb(ctx.fees.bumpStepSatVb ?? 1).satPerKvb,
    cap: feeRateFromSatPerVb(ctx.fees.maxFeeRateSatVb).satPerKvb,
    incremental: feeRateFromSatPerVb(ctx.fees.incrementalSatVb ?? 1).satPerKvb,
  };
}

/** The wallet's coins a challenge may spend now: confirmed, mature, not committed to another dispute. */
async function spendableCoins(ctx: DisputeJobContext, address: string): Promise<FundingCoin[]> {
  const [reserved, utxos, tip] = await Promise.all([
    reservedOutpoints(ctx),
    ctx.backend.getUtxos(address),
    ctx.backend.getTipHeight(),
  ]);
  return utxos
    .filter((u) => u.confirmed && isMatureCoin(u, tip) && !reserved.has(`${u.txid}:${u.vout}`))
    .map((u) => ({ txid: u.txid, vout: u.vout, value: u.value }));
}

/** Outpoints already committed to by stored (unresolved) transactions of any dispute. */
async function reservedOutpoints(ctx: DisputeJobContext): Promise<Set<string>> {
  const out = new Set<string>();
  for (const rec of await ctx.store.active()) {
    // Every version: an older one may still be the one that confirms.
    for (const v of challengeVersions(rec.fields)) {
      for (const input of decodeTx(hexToBytes(v.raw)).inputs) {
        out.add(`${hashToDisplayHex(input.prevTxid)}:${input.vout}`);
      }
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
        fields: { challengeTxid: spend.txid, challengedBy: 'other' },
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
      const coins = await spendableCoins(ctx, wallet.address);
      const built = buildFundedChallenge(graph, sigs, coins, wallet, await feeRateNow(ctx));
      checkReserve(graph, coins, built, wallet.reserve ?? 0n);
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
      const version = versionOf(built, bytesToHex(built.raw));
      await ctx.store.note(rec.id, 'challenge-built', {
        key: `built-${built.txid}`,
        onlyIfAbsent: 'challengeTxid',
        fields: {
          ...currentFields(version),
          challengeVersions: JSON.stringify([version]),
          challengeCoins: coinsJson(usedCoins(coins, built)),
          challengeSentHeight: String(await ctx.backend.getTipHeight()),
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

/** The initial challenge leaves the wallet's reserve untouched: bumps may need it. */
function checkReserve(graph: Graph, coins: readonly FundingCoin[], built: BuiltChallenge, reserve: bigint) {
  const p = graph.spec.params;
  const balance = coins.reduce((s, c) => s + c.value, 0n);
  const left = balance - (p.challengeAmount - p.connectorValue) - built.fee;
  if (left < reserve) {
    throw new ChallengeFundingError(
      `The challenge would leave ${left} sat in the watcher wallet, below its reserve of ${reserve} sat`,
      {
        metaMessages: [
          `Spendable ${balance} sat; the challenge takes ${balance - left} sat. Fund the wallet.`,
        ],
      },
    );
  }
}

/** The wallet coins a built challenge spends (inputs 1..n). */
function usedCoins(coins: readonly FundingCoin[], built: BuiltChallenge): FundingCoin[] {
  const spent = new Set(built.tx.inputs.slice(1).map((i) => `${hashToDisplayHex(i.prevTxid)}:${i.vout}`));
  return coins.filter((c) => spent.has(`${c.txid}:${c.vout}`));
}

const coinsJson = (coins: readonly FundingCoin[]): string =>
  JSON.stringify(coins.map((c) => ({ txid: c.txid, vout: c.vout, value: String(c.value) })));

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
    if (rec) clearMetDeadlines(ctx.metrics, rec.id, rec.state);
    await ctx.untrack(data.disputeId);
    return 'resolved';
  }
  const tip = await ctx.backend.getTipHeight();
  clearMetDeadlines(ctx.metrics, rec.id, rec.state);
  const challengeBy = Number(rec.fields.challengeBy ?? Number.NaN);
  if (pendingDeadline(rec.state) === 'challenge' && Number.isFinite(challengeBy)) {
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
  if (rec.state === 'asserted' || rec.state === 'disproved') return followDisprove(ctx, rec, tip);
  let txid = rec.fields.challengeTxid;
  if (txid === undefined || (rec.state !== 'challenged' && rec.state !== 'confirmed'))
    return `state ${rec.state}`;
  let status = await ctx.backend.getTxStatus(txid);
  if (!status?.confirmed) {
    // An earlier version may be the one a miner took: follow it from now on.
    const followed = await followConfirmedVersion(ctx, rec, txid);
    if (followed) {
      txid = followed.txid;
      status = followed.status;
    }
  }
  if (status?.confirmed) {
    const depth = tip - status.blockHeight + 1;
    if (rec.state === 'challenged' && depth >= ctx.confirmations) {
      await ctx.store.transition(rec.id, 'confirmed', {
        key: `confirmed-${txid}-${status.blockHash}`,
        detail: { txid, blockHash: status.blockHash, height: status.blockHeight },
      });
      ctx.metrics?.feeCapped.set({ dispute: rec.id }, 0);
      return `confirmed at ${status.blockHeight}`;
    }
    return `confirmed, depth ${depth}`;
  }
  if (status && !status.confirmed && status.inMempool) {
    if (rec.state !== 'challenged') return 'in mempool';
    return bumpIfLagging(ctx, rec, tip);
  }
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
  if (stake.spent && stake.txid !== undefined) {
    // Not the assert (above), and the take needs connector A, which the challenge spent: the stake
    // went by an assert-timeout. Ours when it is the one stored (a crash came between sending it and
    // recording the move), otherwise someone else's; the slash holds either way.
    const ours = stake.txid === rec.fields.timeoutTxid;
    await ctx.store.transition(rec.id, 'timed-out', {
      key: `timed-out-${stake.txid}`,
      detail: { txid: stake.txid, by: ours ? 'vigil' : 'other' },
      ...(ours ? {} : { fields: { timeoutTxid: stake.txid } }),
    });
    return ours ? 'assert-timeout found sent' : 'timed out by someone else';
  }
  if (tip + 1 < from) return undefined;
  if (spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) !== 'broadcast' || !ctx.wallet)
    return undefined;
  if (rec.fields.timeoutRaw === undefined) {
    const t = buildRewardSpend(
      (reward) => completeAssertTimeout(graph, sigs, reward),
      ctx.wallet.script,
      await feeRateNow(ctx),
    );
    await checkBeforeSend(ctx, t, 'assert-timeout');
    await ctx.store.note(rec.id, 'timeout-built', {
      key: `timeout-built-${t.txid}`,
      onlyIfAbsent: 'timeoutTxid',
      fields: { timeoutTxid: t.txid, timeoutRaw: bytesToHex(t.raw) },
      detail: { txid: t.txid, fee: String(t.fee), vsize: t.vsize },
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
      clearMetDeadlines(ctx.metrics, rec.id, 'resolved');
      await ctx.untrack(rec.id);
      return 'resolved: operator slashed';
    }
    return 'assert-timeout confirming';
  }
  if (status && !status.confirmed && status.inMempool) return 'assert-timeout in mempool';
  await sendStored(ctx, rec, 'timeoutRaw', 'assert-timeout', 'rebroadcast');
  return 'assert-timeout rebroadcast';
}

/** When a version other than the current one is in a block, records it as the current one. */
async function followConfirmedVersion(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  current: string,
): Promise<{ txid: string; status: TxStatus } | undefined> {
  for (const v of challengeVersions(rec.fields)) {
    if (v.txid === current) continue;
    const status = await ctx.backend.getTxStatus(v.txid);
    if (!status?.confirmed) continue;
    await ctx.store.note(rec.id, 'challenge-followed', {
      key: `followed-${v.txid}-${status.blockHash}`,
      fields: currentFields(v),
      detail: { txid: v.txid, replacedBy: current, blockHash: status.blockHash },
    });
    ctx.logger?.info({ dispute: rec.id, txid: v.txid }, 'an earlier challenge version confirmed');
    return { txid: v.txid, status };
  }
  return undefined;
}

/**
 * RBF when the challenge has waited `bumpAfterBlocks` in the mempool and the estimate for the target is
 * above its rate. The replacement is written ahead (its idempotency key names the version it
 * replaces, so two runs record one replacement) and only then broadcast; a run after a crash finds it
 * stored and unsent, and the dropped-or-replaced path below sends the stored bytes.
 */
async function bumpIfLagging(ctx: DisputeJobContext, rec: DisputeRecord, tip: number): Promise<string> {
  const wallet = ctx.wallet;
  if (
    !wallet ||
    rec.fields.challengeRaw === undefined ||
    spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) !== 'broadcast'
  )
    return 'in mempool';
  const settings = bumpSettings(ctx);
  const sentAt = Number(rec.fields.challengeSentHeight ?? rec.kickoffHeight);
  const currentRate = BigInt(rec.fields.challengeFeeRate ?? '0');
  const est = await ctx.backend.estimateFee(ctx.fees.targetBlocks);
  const plan = planBump({
    currentRate,
    estimate: est?.rate.satPerKvb,
    waitedBlocks: tip - sentAt,
    settings,
  });
  if (plan.kind === 'wait') return `in mempool (${plan.reason})`;
  if (plan.kind === 'capped') return capped(ctx, rec, plan.rate, est?.rate.satPerKvb);
  const { graph, sigs } = await ctx.graphOf(rec);
  const previous = rec.fields.challengeTxid as string;
  const lock = new Lease(ctx.redis, `${ctx.prefix}:wallet:lock`, 30_000);
  if (!(await lock.acquire())) return 'in mempool (the wallet is busy; bump on the next run)';
  try {
    // The version's own coins first (spent by it, so not listed), then free ones if the fee needs them.
    const own = JSON.parse(rec.fields.challengeCoins ?? '[]') as {
      txid: string;
      vout: number;
      value: string;
    }[];
    const coins: FundingCoin[] = [
      ...own.map((c) => ({ txid: c.txid, vout: c.vout, value: BigInt(c.value) })),
      ...(await spendableCoins(ctx, wallet.address)),
    ];
    const r = buildReplacement({
      graph,
      sigs,
      coins,
      signer: wallet,
      previousFee: BigInt(rec.fields.challengeFee ?? '0'),
      rate: plan.rate,
      settings,
    });
    if (r.kind === 'capped') return capped(ctx, rec, r.rate, est?.rate.satPerKvb);
    try {
      checkChallenge(r.built);
    } catch (err) {
      throw new UnrecoverableError(`The replacement fails Vigil's checks: ${String(err)}`);
    }
    const version = versionOf(r.built, bytesToHex(r.built.raw));
    const versions = [...challengeVersions(rec.fields), version];
    const noted = await ctx.store.note(rec.id, 'challenge-bumped', {
      key: `bump-from-${previous}`,
      fields: {
        ...currentFields(version),
        challengeVersions: JSON.stringify(versions),
        challengeCoins: coinsJson(usedCoins(coins, r.built)),
        challengeSentHeight: String(tip),
      },
      detail: {
        txid: version.txid,
        replaces: previous,
        fee: version.fee,
        feeRate: version.feeRate,
        estimate: est === undefined ? undefined : String(est.rate.satPerKvb),
      },
    });
    if (noted.status === 'applied') ctx.metrics?.feeBumps.inc();
  } finally {
    await lock.release();
  }
  // Whoever wrote the replacement, send what the record holds now.
  const stored = await ctx.store.require(rec.id);
  await broadcastStored(ctx, stored, 'challenge');
  ctx.metrics?.feeCapped.set({ dispute: rec.id }, 0);
  return `bumped ${previous} -> ${stored.fields.challengeTxid}`;
}

async function capped(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  rate: bigint,
  estimate: bigint | undefined,
): Promise<string> {
  ctx.metrics?.feeCapped.set({ dispute: rec.id }, 1);
  const txid = rec.fields.challengeTxid as string;
  const r = await ctx.store.note(rec.id, 'fee-capped', {
    key: `capped-${txid}`,
    detail: { txid, feeRate: String(rate), estimate: estimate === undefined ? undefined : String(estimate) },
  });
  if (r.status === 'applied') {
    ctx.logger?.warn(
      { dispute: rec.id, txid, capSatPerKvb: String(rate), estimate: String(estimate) },
      'the challenge is at the fee cap and below the estimate: not bumping further',
    );
  }
  return `in mempool (at the fee cap, ${rate} sat/kvB)`;
}
