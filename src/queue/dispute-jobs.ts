/**
 * What each dispute job does. Every processor starts from the durable record and the chain as they are
 * now, never from what the job's data says happened: a job run twice (a crash after the broadcast, a
 * stalled lock, two processes) reconciles instead of repeating. The one transaction a dispute sends is
 * written ahead into its record before it is broadcast, so a re-run rebroadcasts the same bytes and
 * never a conflicting spend.
 */
import { UnrecoverableError } from 'bullmq';
import { decodeTx, txVsize } from '../bitcoin/backends/codec.ts';
import { feeRateFromSatPerKvb, feeRateFromSatPerVb } from '../bitcoin/backends/fee-rate.ts';
import type { TxStatus } from '../bitcoin/backends/types.ts';
import { hashToDisplayHex, txid as txidOf } from '../bitcoin/tx/serialize.ts';
import { isMatureCoin } from '../bitcoin/wallet/wallet.ts';
import type { Graph } from '../dispute/graph/build.ts';
import { completeAssertTimeout } from '../dispute/graph/spend.ts';
import { blocksLeft, disputeDeadlines } from '../dispute/records/deadlines.ts';
import { IllegalTransitionError } from '../dispute/records/store.ts';
import {
  asBlockHash,
  asTxid,
  type DisputeRecord,
  type NoteBody,
  type Txid,
} from '../dispute/records/types.ts';
import { Lease } from '../store/lease.ts';
import type { BroadcastOutcome } from './broadcast-outcome.ts';
import {
  type BuiltChallenge,
  buildFundedChallenge,
  ChallengeCheckError,
  ChallengeFundingError,
  checkChallengeShape,
  type FundingCoin,
} from './challenge-tx.ts';
import { type ConnectorSpend, connectorSpend } from './connector-spend.ts';
import { clearMetDeadlines, pendingDeadline } from './deadline-gauges.ts';
import { followDisprove } from './disprove.ts';
import {
  type BumpSettings,
  buildReplacement,
  type ChallengeVersion,
  challengeVersions,
  committedOutpoints,
  currentChallenge,
  planBump,
  versionOf,
} from './fee-bump.ts';
import { confirmationBelieved } from './inclusion.ts';
import type { DisputeGraph, DisputeJobContext } from './job-context.ts';
import { rateAfterRefusal, sendStoredReward } from './reward-send.ts';
import { buildRewardSpend } from './reward-tx.ts';
import {
  type Actionable,
  boundedRate,
  broadcastRaw,
  checkBuilt,
  feeRateNow,
  maxFeeSat,
  refuse,
  SendRefusedError,
  settle,
  testAccept,
} from './send.ts';
import { spendDecision } from './spend-policy.ts';

export type { DisputeGraph, DisputeJobContext } from './job-context.ts';

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
    kickoffTxid: asTxid(data.kickoffTxid),
    kickoffHeight: data.kickoffHeight,
    opened: {
      graph: data.graph,
      verdict: data.verdict,
      seenAt: data.seenAt,
      challengeBy: d.challengeBy,
      assertTimeoutFrom: d.assertTimeoutFrom,
      ...(data.expectedTrace === undefined ? {} : { expectedTrace: data.expectedTrace }),
      ...(data.diagnosis === undefined ? {} : { diagnosis: data.diagnosis }),
    },
    detail: { epoch: BigInt(data.epoch), kickoffTxid: asTxid(data.kickoffTxid) },
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

const outpointKey = (txid: string, vout: number): string => `${txid}:${vout}`;

/**
 * The wallet's coins a challenge may spend now: confirmed, mature, not committed to another dispute,
 * and not spent by a transaction in the mempool that is not one of this dispute's own versions (a node
 * would refuse the challenge as a conflict, or a conflicting spend would evict it).
 */
async function spendableCoins(
  ctx: DisputeJobContext,
  address: string,
  rec: DisputeRecord | undefined,
): Promise<FundingCoin[]> {
  const [reserved, utxos, tip] = await Promise.all([
    reservedOutpoints(ctx, rec?.id),
    ctx.backend.getUtxos(address),
    ctx.backend.getTipHeight(),
  ]);
  const candidates = utxos.filter(
    (u) => u.confirmed && isMatureCoin(u, tip) && !reserved.has(outpointKey(u.txid, u.vout)),
  );
  const own = new Set<string>(rec ? challengeVersions(rec.challenge).map((v) => v.txid) : []);
  const out: FundingCoin[] = [];
  for (const u of candidates) {
    // Core's UTXO listing does not see the mempool: a coin spent there would make the challenge a
    // conflict, retried forever with the same coin.
    const spend = await ctx.backend.getOutspend(u.txid, u.vout);
    if (spend.spent && (spend.txid === undefined || !own.has(spend.txid))) continue;
    out.push({ txid: u.txid, vout: u.vout, value: u.value });
  }
  return out;
}

/** Outpoints already committed to by the stored challenges of every other open dispute. */
async function reservedOutpoints(ctx: DisputeJobContext, except: string | undefined): Promise<Set<string>> {
  return committedOutpoints((await ctx.store.active()).filter((r) => r.id !== except));
}

/** A wallet-lock section: one dispute at a time picks wallet coins, so two never spend the same coin. */
async function withWalletLock<T>(ctx: DisputeJobContext, body: () => Promise<T>): Promise<T | 'busy'> {
  const lock = new Lease(ctx.redis, `${ctx.prefix}:wallet:lock`, 30_000);
  if (!(await lock.acquire())) return 'busy';
  try {
    return await body();
  } finally {
    await lock.release();
  }
}

type BuildResult =
  | { kind: 'built'; built: BuiltChallenge; coins: FundingCoin[] }
  | { kind: 'capped'; rate: bigint; reason: string }
  | { kind: 'conflict'; reason: string };

/**
 * Builds a challenge at `rateKvb` or more from `coins`, checked by Vigil (interpreter, policy, shape,
 * caps) and by the node's testmempoolaccept; a fee refusal raises the rate to what the node asks (a
 * conflicting challenge in the mempool must be outbid under BIP-125) and tries again, up to the caps.
 */
async function buildCheckedChallenge(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  { graph, sigs }: DisputeGraph,
  coins: FundingCoin[],
  rateKvb: bigint,
): Promise<BuildResult> {
  const wallet = ctx.wallet;
  if (!wallet) throw new UnrecoverableError('No watcher wallet: cannot fund a challenge');
  const settings = bumpSettings(ctx);
  let rate = boundedRate(ctx, feeRateFromSatPerKvb(rateKvb)).satPerKvb;
  let reason = '';
  for (let round = 0; round < 5; round++) {
    const built = buildFundedChallenge(graph, sigs, coins, wallet, feeRateFromSatPerKvb(rate));
    if (built.fee > maxFeeSat(ctx)) return { kind: 'capped', rate, reason: reason || 'absolute fee cap' };
    // Dust change dropped into the fee can lift the real rate over the cap: held, not refused.
    if (built.fee * 1000n > settings.cap * BigInt(built.vsize))
      return { kind: 'capped', rate, reason: reason || 'the rate cap' };
    try {
      checkChallengeShape(built.tx, rec.kickoffTxid);
    } catch (err) {
      throw await refuse(ctx, rec.id, built.txid, new SendRefusedError('challenge', 'check', String(err)));
    }
    await checkBuilt(ctx, rec.id, 'challenge', built);
    const t = await testAccept(ctx, built.raw);
    if (t.kind === 'accepted' || t.kind === 'already-known') return { kind: 'built', built, coins };
    if (t.kind === 'conflict') return { kind: 'conflict', reason: t.reason };
    if (t.kind !== 'fee-too-low') {
      await settle(ctx, rec.id, built.txid, 'challenge', t); // throws: retry or permanent
      return { kind: 'conflict', reason: t.kind };
    }
    reason = t.reason;
    const next = rateAfterRefusal(t, built.fee, built.vsize, settings.minStep);
    if (rate >= settings.cap) return { kind: 'capped', rate, reason };
    rate = next;
    if (rate > settings.cap) rate = settings.cap;
  }
  return { kind: 'capped', rate, reason };
}

/** The first challenge of a dispute leaves the wallet's reserve untouched: bumps may need it. */
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
  const spent = new Set(
    built.tx.inputs.slice(1).map((i) => outpointKey(hashToDisplayHex(i.prevTxid), i.vout)),
  );
  return coins.filter((c) => spent.has(outpointKey(c.txid, c.vout)));
}

function storedCoins(rec: DisputeRecord): FundingCoin[] {
  return (rec.challenge.coins ?? []).map((c) => ({ txid: c.txid, vout: c.vout, value: c.value }));
}

/** What a written version's event says beyond the version itself. */
type VersionEvent =
  | { type: 'challenge-built' }
  | { type: 'challenge-rebuilt'; replaces: string; reason: string }
  | { type: 'challenge-bumped'; replaces: string; feeRate: bigint; estimate?: bigint };

/**
 * Writes a new version of Vigil's challenge ahead of its broadcast. `key` makes it idempotent: two runs
 * that build from the same state record one version, and both then send what the record holds.
 */
async function writeVersion(
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

/**
 * The challenge: build from the operator's graph and the wallet's coins, check, write ahead, broadcast,
 * move to `challenged`. Who already spent connector A is read from the chain and checked against the
 * spending transaction first: a valid challenge by someone else is followed, never a backend's say-so.
 */
export async function processChallenge(ctx: DisputeJobContext, data: DisputeJobData): Promise<string> {
  let rec = await requireRecord(ctx, data.disputeId);
  if (rec.state !== 'detected') {
    await ctx.track(rec.id);
    return `already ${rec.state}`;
  }
  const decision = spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending);
  if (decision === 'withhold') {
    await ctx.store.note(
      rec.id,
      { type: 'challenge-withheld', detail: { mode: ctx.mode } },
      { key: 'withheld' },
    );
    return 'withheld (mode watch)';
  }
  const dg = await ctx.graphOf(rec);
  const a = await connectorSpend(ctx.backend, rec, dg.graph);
  if (a.kind === 'challenge' || a.kind === 'ours') {
    const ours = a.kind === 'ours';
    await ctx.store.transition(rec.id, 'challenged', {
      key: `challenged-by-${a.txid}`,
      patch: {
        challenge: ours ? currentChallenge(a.version) : { txid: asTxid(a.txid), by: 'other' },
      },
      detail: { txid: asTxid(a.txid), ours },
    });
    if (!ours) await noteForeign(ctx, rec, a.txid, await ctx.backend.getTipHeight());
    await ctx.track(rec.id);
    return ours ? `challenged ${a.txid}` : 'challenged by another watcher';
  }
  if (a.kind === 'take') return challengeLost(ctx, rec, a.txid, 'the take spent connector A first');
  if (a.kind === 'unverified') warnUnverified(ctx, rec, a);
  if (rec.challenge.raw === undefined) {
    const wallet = ctx.wallet;
    if (!wallet) throw new UnrecoverableError('No watcher wallet: cannot fund a challenge');
    const built = await withWalletLock(ctx, async () => {
      const coins = await spendableCoins(ctx, wallet.address, undefined);
      const r = await buildCheckedChallenge(ctx, rec, dg, coins, (await feeRateNow(ctx)).satPerKvb);
      if (r.kind !== 'built') return r;
      checkReserve(dg.graph, coins, r.built, wallet.reserve ?? 0n);
      if (decision === 'build-only') {
        const txid = asTxid(r.built.txid);
        await ctx.store.note(
          rec.id,
          { type: 'dry-run-built', detail: { txid, fee: r.built.fee, vsize: r.built.vsize } },
          { key: `dry-run-${txid}`, patch: { dryRun: { challenge: { txid, raw: r.built.raw } } } },
        );
        ctx.metrics?.broadcasts.inc({ tx: 'challenge', result: 'dry-run' });
        return { kind: 'dry-run' as const, txid: r.built.txid };
      }
      const tip = await ctx.backend.getTipHeight();
      await writeVersion(ctx, rec, { type: 'challenge-built' }, `built-${r.built.txid}`, r, tip, 'challenge');
      return r;
    });
    if (built === 'busy') throw new Error('The wallet is busy funding another transaction; retrying');
    if (built.kind === 'dry-run') return `dry-run: built and checked ${built.txid}`;
    if (built.kind === 'capped') {
      await noteCapped(ctx, rec, built.rate, built.reason);
      throw new Error(`The challenge cannot be sent within the fee caps yet: ${built.reason}`);
    }
    if (built.kind === 'conflict')
      throw new Error(`The challenge conflicts with the mempool: ${built.reason}`);
    rec = await requireRecord(ctx, rec.id);
  }
  const txid = rec.challenge.txid as Txid;
  const sent = await sendChallenge(ctx, rec, 'challenge');
  const moved = await ctx.store.transition(rec.id, 'challenged', {
    key: `challenged-${txid}`,
    patch: { challenge: { txid } },
    detail: { txid },
  });
  if (moved.status === 'applied' && rec.opened.seenAt !== undefined) {
    ctx.metrics?.challengeLatency.observe((Date.now() - rec.opened.seenAt) / 1000);
  }
  await ctx.track(rec.id);
  // A conflict or a fee refusal is resolved by the tracker, which reads the chain first.
  return sent === 'ok' ? `challenged ${txid}` : `challenge ${txid} not taken (${sent.kind}): tracking`;
}

/** A record that a job names must exist: a missing one is lost state, alerted on, never "resolved". */
async function requireRecord(ctx: DisputeJobContext, id: string): Promise<DisputeRecord> {
  const rec = await ctx.store.get(id);
  if (rec) return rec;
  ctx.metrics?.disputeRecordMissing.set({ dispute: id }, 1);
  ctx.logger?.error({ dispute: id }, 'a dispute job runs but its record is missing from Redis');
  throw new UnrecoverableError(`Dispute ${id} has jobs but no record in Redis`);
}

function warnUnverified(
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
async function sendChallenge(
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
async function noteForeign(ctx: DisputeJobContext, rec: DisputeRecord, txid: string, tip: number) {
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
async function challengeLost(ctx: DisputeJobContext, rec: DisputeRecord, txid: string, why: string) {
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

/**
 * Tracks a dispute until it is resolved (a repeating job): the challenge to confirmation, then the
 * assert or the assert-timeout, then the disprove or the payout.
 */
export async function processTrack(ctx: DisputeJobContext, data: DisputeJobData): Promise<string> {
  const rec = await ctx.store.get(data.disputeId);
  if (!rec) {
    // Jobs without a record: lost state. Alert and keep the job (an operator may restore the record).
    ctx.metrics?.disputeRecordMissing.set({ dispute: data.disputeId }, 1);
    ctx.logger?.error({ dispute: data.disputeId }, 'a tracked dispute has no record in Redis');
    return 'record missing';
  }
  ctx.metrics?.disputeRecordMissing.remove({ dispute: rec.id });
  if (rec.state === 'resolved') {
    clearMetDeadlines(ctx.metrics, rec.id, rec.state);
    await ctx.untrack(data.disputeId);
    return 'resolved';
  }
  const tip = await ctx.backend.getTipHeight();
  clearMetDeadlines(ctx.metrics, rec.id, rec.state);
  const challengeBy = rec.opened.challengeBy ?? Number.NaN;
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
  if (rec.state !== 'challenged' && rec.state !== 'confirmed') return `state ${rec.state}`;
  return trackChallenge(ctx, rec, tip);
}

/** The challenge's spend of connector A: confirmed at depth, waiting, bumped, rebuilt, or lost. */
async function trackChallenge(ctx: DisputeJobContext, record: DisputeRecord, tip: number): Promise<string> {
  let rec = record;
  const dg = await ctx.graphOf(rec);
  let a = await connectorSpend(ctx.backend, rec, dg.graph);
  if (a.kind === 'challenge') {
    // Another run may have written a new version of ours since this run read the record.
    rec = await ctx.store.require(rec.id);
    a = await connectorSpend(ctx.backend, rec, dg.graph);
  }
  if (a.kind === 'take') return challengeLost(ctx, rec, a.txid, 'the challenge did not confirm in time');
  if (a.kind === 'ours' && a.txid !== rec.challenge.txid && !a.status.confirmed) {
    // An older version is in the mempool and the current one, written ahead, is not out (a crash
    // between the write-ahead and the broadcast): send the current one, which replaces it.
    const sent = await sendChallenge(ctx, rec, 'rebroadcast');
    if (sent === 'ok') return 'rebroadcast';
    return `the current version is not taken (${sent.kind}); the older one stays in the mempool`;
  }
  if (a.kind === 'ours' || a.kind === 'challenge') {
    if (a.kind === 'ours' && a.txid !== rec.challenge.txid) {
      await followVersion(ctx, rec, a.version, a.status);
    }
    if (a.kind === 'challenge') await noteForeign(ctx, rec, a.txid, tip);
    if (a.status.confirmed) return confirmAtDepth(ctx, rec, a.txid, a.status, tip);
    await backToChallenged(ctx, rec.id, a.txid, 'the confirmed challenge went back to the mempool');
    const fresh = await ctx.store.require(rec.id);
    if (a.kind === 'ours') return bumpIfLagging(ctx, fresh, tip);
    return competeIfLagging(ctx, fresh, dg, tip);
  }
  if (a.kind === 'unverified') warnUnverified(ctx, rec, a);
  // Connector A is unspent: whatever was sent did not take effect (reorg, eviction, conflict, a
  // replaced foreign challenge). Same bytes first; a conflict or fee refusal rebuilds.
  await backToChallenged(ctx, rec.id, rec.challenge.txid, 'the confirmed challenge left the chain');
  if (spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) !== 'broadcast' || !ctx.wallet) {
    return 'dropped';
  }
  const current = await ctx.store.require(rec.id);
  if (current.challenge.raw !== undefined && current.challenge.by !== 'other') {
    const sent = await sendChallenge(ctx, current, 'rebroadcast');
    if (sent === 'ok') return 'rebroadcast';
    return rebuildChallenge(ctx, current, dg, tip, sent);
  }
  return rebuildChallenge(ctx, current, dg, tip, undefined);
}

/**
 * A reorg undid the confirmation: `confirmed` goes back to `challenged`. Read fresh, since a concurrent
 * run may have moved the state after this one read the record; the move itself is atomic.
 */
async function backToChallenged(
  ctx: DisputeJobContext,
  id: string,
  txid: string | undefined,
  reason: string,
) {
  const now = await ctx.store.require(id);
  if (now.state !== 'confirmed') return;
  try {
    await ctx.store.transition(id, 'challenged', {
      key: `reorged-${txid}-v${now.version}`,
      detail: { ...(txid === undefined ? {} : { txid: asTxid(txid) }), reason },
    });
  } catch (err) {
    if (!(err instanceof IllegalTransitionError)) throw err;
  }
}

async function confirmAtDepth(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  txid: string,
  status: Extract<TxStatus, { confirmed: true }>,
  tip: number,
): Promise<string> {
  const depth = tip - status.blockHeight + 1;
  // Checked once per block the backend names (kept in the record), and before any depth counts: a
  // backend that keeps saying "confirmed in the tip block" must not stop the bumps.
  const seenIn = `${txid}@${status.blockHash}`;
  const was = rec.challenge.seenIn;
  if (was === undefined || `${was.txid}@${was.blockHash}` !== seenIn) {
    if (!(await confirmationBelieved(ctx, rec.id, 'challenge', txid, status)))
      return bumpIfLagging(ctx, rec, tip);
    const block = { txid: asTxid(txid), blockHash: asBlockHash(status.blockHash) };
    await ctx.store.note(
      rec.id,
      { type: 'challenge-in-block', detail: { ...block, height: status.blockHeight } },
      { key: `in-block-${seenIn}`, patch: { challenge: { seenIn: block } } },
    );
  }
  if (rec.state === 'challenged' && depth >= ctx.confirmations) {
    await ctx.store.transition(rec.id, 'confirmed', {
      key: `confirmed-${txid}-${status.blockHash}`,
      detail: { txid: asTxid(txid), blockHash: asBlockHash(status.blockHash), height: status.blockHeight },
    });
    ctx.metrics?.feeCapped.set({ dispute: rec.id }, 0);
    return `confirmed at ${status.blockHeight}`;
  }
  return `confirmed, depth ${depth}`;
}

/** A version other than the current one is the one on chain or in the mempool: it becomes current. */
async function followVersion(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  v: ChallengeVersion,
  status: TxStatus,
) {
  await ctx.store.note(
    rec.id,
    {
      type: 'challenge-followed',
      detail: {
        txid: v.txid,
        replacedBy: rec.challenge.txid,
        ...(status.confirmed ? { blockHash: asBlockHash(status.blockHash) } : {}),
      },
    },
    {
      key: `followed-${v.txid}-${status.confirmed ? status.blockHash : 'mempool'}`,
      patch: { challenge: { ...currentChallenge(v), by: 'vigil' } },
    },
  );
  ctx.logger?.info(
    { dispute: rec.id, txid: v.txid },
    'another version of our challenge is the one spending connector A',
  );
}

/**
 * Vigil's challenge did not take effect and connector A is unspent: build a new version from the
 * wallet's coins as they are now (a coin spent elsewhere is left out), at the rate the node asks for,
 * written ahead and sent.
 */
async function rebuildChallenge(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  dg: DisputeGraph,
  tip: number,
  refusal: Actionable | undefined,
): Promise<string> {
  const wallet = ctx.wallet;
  if (!wallet) return 'dropped';
  const previous = rec.challenge.txid ?? 'none';
  const settings = bumpSettings(ctx);
  let rate = (await feeRateNow(ctx)).satPerKvb;
  if (refusal?.kind === 'fee-too-low' && rec.challenge.raw !== undefined) {
    const vsize = txVsize(decodeTx(rec.challenge.raw));
    const asked = rateAfterRefusal(refusal, rec.challenge.fee ?? 0n, vsize, settings.minStep);
    if (asked > rate) rate = asked;
  }
  const r = await withWalletLock(ctx, async () => {
    const coins = await spendableCoins(ctx, wallet.address, rec);
    const b = await buildCheckedChallenge(ctx, rec, dg, coins, rate);
    if (b.kind !== 'built') return b;
    const noted = await writeVersion(
      ctx,
      rec,
      {
        type: 'challenge-rebuilt',
        replaces: previous,
        reason: refusal?.reason ?? 'connector A unspent and nothing of ours in flight',
      },
      `rebuilt-from-${previous}`,
      b,
      tip,
    );
    if (noted.status === 'applied') ctx.metrics?.sendConflicts.inc({ tx: 'challenge', action: 'rebuild' });
    return b;
  });
  if (r === 'busy') return 'dropped (the wallet is busy; rebuilding on the next run)';
  if (r.kind === 'capped') return noteCapped(ctx, rec, r.rate, r.reason);
  if (r.kind === 'conflict') return `rebuild conflicts with the mempool (${r.reason}); next run`;
  const stored = await ctx.store.require(rec.id);
  const sent = await sendChallenge(ctx, stored, 'challenge');
  return sent === 'ok'
    ? `rebuilt ${previous} -> ${stored.challenge.txid}`
    : `rebuilt ${stored.challenge.txid}, not taken (${sent.kind}); next run`;
}

/**
 * Someone else's challenge spends connector A but stays in the mempool. An honest watcher's will
 * confirm; an operator's may be pinned at a low fee so that its take can replace it once the window
 * has passed. After `bumpAfterBlocks` blocks unconfirmed Vigil outbids it with its own challenge (BIP-125:
 * the node says how much more it needs), within the caps.
 */
async function competeIfLagging(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  dg: DisputeGraph,
  tip: number,
): Promise<string> {
  const seen = rec.challenge.foreignSeenHeight ?? tip;
  const waited = tip - seen;
  const left = blocksLeft(rec.opened.challengeBy ?? tip, tip);
  const settings = bumpSettings(ctx);
  if (waited < settings.afterBlocks && left > settings.afterBlocks) {
    return `another challenge in mempool (waited ${waited} blocks)`;
  }
  if (spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) !== 'broadcast' || !ctx.wallet) {
    return 'another challenge in mempool';
  }
  ctx.logger?.warn(
    { dispute: rec.id, foreign: rec.challenge.txid, waited, left },
    'the challenge spending connector A is not confirming: replacing it with our own',
  );
  return rebuildChallenge(ctx, rec, dg, tip, undefined);
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
  // The assert's txid is fixed by the graph: asked for directly, a backend that hides the stake's
  // spender cannot hide the assert (Vigil would otherwise try to time out an operator that asserted).
  const assertSeen =
    stake.spent && stake.txid === assertTxid ? true : await ctx.backend.getTxStatus(assertTxid);
  if (assertSeen === true || (assertSeen !== undefined && (assertSeen.confirmed || assertSeen.inMempool))) {
    await ctx.store.transition(rec.id, 'asserted', {
      key: `asserted-${assertTxid}`,
      detail: { txid: asTxid(assertTxid) },
    });
    return 'asserted';
  }
  const from = rec.opened.assertTimeoutFrom ?? Number.NaN;
  ctx.metrics?.deadlineBlocksLeft.set({ dispute: rec.id, deadline: 'assert-timeout' }, from - tip - 1);
  if (stake.spent && stake.txid === hashToDisplayHex(txidOf(graph.txs.take))) {
    // The take spent the stake: the challenge was not what spent connector A after all (a backend
    // that reported it confirmed lied, or a reorg undid it). Never recorded as a slash.
    return challengeLost(ctx, rec, stake.txid, 'the take spent the stake after the challenge');
  }
  if (stake.spent && stake.txid !== undefined) {
    // Not the assert (above), and the take needs connector A, which the challenge spent: the stake
    // went by an assert-timeout. Ours when it is the one stored (a crash came between sending it and
    // recording the move), otherwise someone else's; the slash holds either way.
    const ours = stake.txid === rec.timeout.txid;
    const spender = asTxid(stake.txid);
    await ctx.store.transition(rec.id, 'timed-out', {
      key: `timed-out-${stake.txid}`,
      detail: { txid: spender, by: ours ? 'vigil' : 'other' },
      ...(ours ? {} : { patch: { timeout: { txid: spender } } }),
    });
    return ours ? 'assert-timeout found sent' : 'timed out by someone else';
  }
  if (tip + 1 < from) return undefined;
  if (spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) !== 'broadcast' || !ctx.wallet)
    return undefined;
  const wallet = ctx.wallet;
  const build = (rateKvb: bigint) =>
    buildRewardSpend(
      (reward) => completeAssertTimeout(graph, sigs, reward),
      wallet.script,
      feeRateFromSatPerKvb(rateKvb),
      maxFeeSat(ctx),
    );
  if (rec.timeout.raw === undefined) {
    const t = build((await feeRateNow(ctx)).satPerKvb);
    await checkBuilt(ctx, rec.id, 'assert-timeout', t);
    const txid = asTxid(t.txid);
    await ctx.store.note(
      rec.id,
      { type: 'timeout-built', detail: { txid, fee: t.fee, vsize: t.vsize } },
      {
        key: `timeout-built-${txid}`,
        onlyIfAbsent: 'timeout',
        patch: { timeout: { txid, raw: t.raw, fee: t.fee } },
      },
    );
  }
  const stored = await ctx.store.require(rec.id);
  const sent = await sendStoredReward(ctx, stored, 'assert-timeout', 'sent', build);
  // A conflict: someone else's spend of the stake; the next run reads who and follows it. If the
  // backend still shows the stake unspent, it hides what the node sees: alerted.
  if (sent === 'conflict') {
    const again = await ctx.backend.getOutspend(rec.kickoffTxid, 2);
    if (!again.spent) {
      ctx.metrics?.sendConflicts.inc({ tx: 'assert-timeout', action: 'unexplained' });
      ctx.logger?.error(
        { dispute: rec.id, kickoff: rec.kickoffTxid },
        'the node says the stake is spent but the backend shows it unspent: the backend hides a spend',
      );
    }
    return 'assert-timeout conflicted: reading the stake on the next run';
  }
  const now = await ctx.store.require(rec.id);
  await ctx.store.transition(rec.id, 'timed-out', {
    key: `timed-out-${now.timeout.txid}`,
    detail: now.timeout.txid === undefined ? {} : { txid: now.timeout.txid },
  });
  return 'assert-timeout sent';
}

/** The slash confirmed at depth resolves the dispute; dropped, it is sent again. */
async function followTimeout(ctx: DisputeJobContext, rec: DisputeRecord, tip: number): Promise<string> {
  const txid = rec.timeout.txid;
  if (txid === undefined) return 'timed out by someone else';
  const status = await ctx.backend.getTxStatus(txid);
  if (status?.confirmed) {
    if (tip - status.blockHeight + 1 >= ctx.confirmations) {
      if (!(await confirmationBelieved(ctx, rec.id, 'assert-timeout', txid, status)))
        return 'assert-timeout confirmation not believed';
      await ctx.store.transition(rec.id, 'resolved', {
        key: `resolved-${txid}-${status.blockHash}`,
        outcome: 'operator-slashed',
        detail: { txid, blockHash: asBlockHash(status.blockHash) },
      });
      clearMetDeadlines(ctx.metrics, rec.id, 'resolved');
      await ctx.untrack(rec.id);
      return 'resolved: operator slashed';
    }
    return 'assert-timeout confirming';
  }
  if (status && !status.confirmed && status.inMempool) return 'assert-timeout in mempool';
  // Not ours on chain: whoever spent the stake (another slasher) is what counts.
  const stake = await ctx.backend.getOutspend(rec.kickoffTxid, 2);
  if (stake.spent && stake.txid !== undefined && stake.txid !== txid) {
    const spender = asTxid(stake.txid);
    await ctx.store.note(
      rec.id,
      { type: 'timeout-followed', detail: { txid: spender, replaces: txid } },
      { key: `timeout-followed-${spender}`, patch: { timeout: { txid: spender } } },
    );
    return `the stake is spent by ${stake.txid}: following it`;
  }
  if (spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) !== 'broadcast' || !ctx.wallet) {
    return 'assert-timeout not out';
  }
  const wallet = ctx.wallet;
  const { graph, sigs } = await ctx.graphOf(rec);
  const sent = await sendStoredReward(ctx, rec, 'assert-timeout', 'rebroadcast', (rateKvb) =>
    buildRewardSpend(
      (reward) => completeAssertTimeout(graph, sigs, reward),
      wallet.script,
      feeRateFromSatPerKvb(rateKvb),
      maxFeeSat(ctx),
    ),
  );
  return `assert-timeout ${sent === 'sent' ? 'rebroadcast' : sent}`;
}

/**
 * RBF when the challenge has waited `bumpAfterBlocks` in the mempool and the estimate for the target is
 * above its rate. The replacement is written ahead (its idempotency key names the version it
 * replaces, so two runs record one replacement) and only then broadcast; a run after a crash finds it
 * stored and unsent, and the dropped-or-replaced path sends the stored bytes.
 */
async function bumpIfLagging(ctx: DisputeJobContext, rec: DisputeRecord, tip: number): Promise<string> {
  const wallet = ctx.wallet;
  if (
    !wallet ||
    rec.challenge.raw === undefined ||
    spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) !== 'broadcast'
  )
    return 'in mempool';
  const settings = bumpSettings(ctx);
  const sentAt = rec.challenge.sentHeight ?? rec.kickoffHeight;
  const currentRate = rec.challenge.feeRate ?? 0n;
  const est = await ctx.backend.estimateFee(ctx.fees.targetBlocks);
  // Near the deadline there is no time to wait the usual blocks before a bump.
  const left = blocksLeft(rec.opened.challengeBy ?? Number.POSITIVE_INFINITY, tip);
  const waited = tip - sentAt;
  const plan = planBump({
    currentRate,
    estimate: est?.rate.satPerKvb,
    waitedBlocks: left <= settings.afterBlocks ? Math.max(waited, settings.afterBlocks) : waited,
    settings,
  });
  if (plan.kind === 'wait') return `in mempool (${plan.reason})`;
  if (plan.kind === 'capped') return noteCapped(ctx, rec, plan.rate, 'the estimate is above the cap');
  const { graph, sigs } = await ctx.graphOf(rec);
  const previous = rec.challenge.txid as Txid;
  const r = await withWalletLock(ctx, async () => {
    // The version's own coins first (spent by it, so not listed), then free ones if the fee needs them.
    const coins: FundingCoin[] = [
      ...storedCoins(rec),
      ...(await spendableCoins(ctx, wallet.address, undefined)),
    ];
    const built = buildReplacement({
      graph,
      sigs,
      coins,
      signer: wallet,
      previousFee: rec.challenge.fee ?? 0n,
      rate: plan.rate,
      settings,
    });
    if (built.kind === 'capped') return built;
    if (built.built.fee > maxFeeSat(ctx))
      return { kind: 'capped' as const, rate: built.built.feeRate.satPerKvb };
    try {
      checkChallengeShape(built.built.tx, rec.kickoffTxid);
    } catch (err) {
      throw new UnrecoverableError(err instanceof ChallengeCheckError ? err.message : String(err));
    }
    await checkBuilt(ctx, rec.id, 'challenge', built.built);
    const noted = await writeVersion(
      ctx,
      rec,
      {
        type: 'challenge-bumped',
        replaces: previous,
        feeRate: built.built.feeRate.satPerKvb,
        ...(est === undefined ? {} : { estimate: est.rate.satPerKvb }),
      },
      `bump-from-${previous}`,
      { built: built.built, coins },
      tip,
    );
    if (noted.status === 'applied') ctx.metrics?.feeBumps.inc();
    return built;
  });
  if (r === 'busy') return 'in mempool (the wallet is busy; bump on the next run)';
  if (r.kind === 'capped') return noteCapped(ctx, rec, r.rate, 'the estimate is above the cap');
  // Whoever wrote the replacement, send what the record holds now.
  const stored = await ctx.store.require(rec.id);
  const sent = await sendChallenge(ctx, stored, 'challenge');
  ctx.metrics?.feeCapped.set({ dispute: rec.id }, 0);
  if (sent !== 'ok') return `bump ${stored.challenge.txid} not taken (${sent.kind}); next run`;
  return `bumped ${previous} -> ${stored.challenge.txid}`;
}

async function noteCapped(
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
