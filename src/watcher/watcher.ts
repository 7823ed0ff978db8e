/**
 * The watch daemon's domain component, composed on src/daemon's runtime: the dispute queue's workers
 * (every process), and the Bitcoin follow loop (the process holding the lease): it polls the tip,
 * looks for the kick-offs of the graphs it knows, judges each epoch and opens a dispute on challengeable
 * fraud. Metrics and health checks are refreshed on every poll.
 *
 * A poll counts as completed only when every step of it succeeded: a failed sync, a claim that could not
 * be judged for an error, a failed redrive or wallet read all leave the last completed poll where it
 * was, so /healthz turns 503 once that is older than the max age instead of staying green on half a poll.
 */

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { BackendLiedError, BackendUnavailableError } from '../bitcoin/backends/errors.ts';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { verifiedOutspend } from '../bitcoin/backends/verified-outspend.ts';
import type { BitcoinNetwork } from '../bitcoin/network.ts';
import { hashToDisplayHex, txid as txidOf } from '../bitcoin/tx/serialize.ts';
import type { WalletKey } from '../bitcoin/wallet/keys.ts';
import { watcherWalletAddress, watcherWalletScript } from '../bitcoin/wallet/watcher-address.ts';
import type { DisputeGraph, DisputeJobContext } from '../challenger/context.ts';
import type { GameJobContext } from '../challenger/game-context.ts';
import type { OpenJobData } from '../challenger/payloads.ts';
import { bytesToHex } from '../core/bytes.ts';
import type { Component } from '../core/component.ts';
import { graphToDocument } from '../dispute/graph/document.ts';
import type { ImportedGraph } from '../dispute/graph/import.ts';
import { type GraphExpectations, importGraphYielding } from '../dispute/graph/import.ts';
import { defaultGraphParameters } from '../dispute/graph/parameters.ts';
import { readKickoff } from '../dispute/graph/spend.ts';
import { committedOutpoints } from '../dispute/plan/fee-bump.ts';
import type { WatcherMode } from '../dispute/plan/spend-policy.ts';
import { GameStore } from '../dispute/records/game-store.ts';
import { disputeId, disputeStates } from '../dispute/records/state-machine.ts';
import { type DisputeRecord, DisputeStore } from '../dispute/records/store.ts';
import {
  judgeEpoch,
  type KickoffFact,
  type L2Fact,
  type ReexecutionFact,
  type Verdict,
} from '../judge/verdict.ts';
import type { BundlePoster } from '../l2/bundle-poster.ts';
import type { HealthRegistry } from '../observability/health.ts';
import { DISPUTE_QUEUE, DisputeQueue } from '../queue/dispute-queue.ts';
import { type WatcherMetrics, watcherMetrics } from '../queue/metrics.ts';
import { Lease } from '../store/lease.ts';
import type { RedisClient } from '../store/redis.ts';
import { type ClaimGames, type ClaimGamesOptions, createClaimGames, type HeldEpoch } from './claim-games.ts';
import {
  redisBondReservations,
  redisClaimDocuments,
  redisClaimLedger,
  redisLapsedOutputs,
} from './claim-ledger.ts';
import { claimSpend } from './claim-spend.ts';
import {
  type GraphCoverageFacts,
  graphsHealth,
  type L2SyncFacts,
  type LeaseView,
  l2Health,
  queueHealth,
} from './component-health.ts';
import {
  challengeFundingNeed,
  type DeadlineChainFacts,
  type DeadlineRisk,
  deadlineHealthOf,
  deadlineRisks,
  followHealth,
  gameDeadlineHealth,
  type NearDeadline,
  nearDeadline,
  type PollFailure,
  spendableBalance,
  type WalletCheck,
  walletHealth,
} from './health.ts';
import { watcherHealthMetrics } from './health-metrics.ts';
import { createHonestRunPool, type HonestRunPool } from './honest-run-thread.ts';

/** Where epochs come from: the graphs the operator published and the L2/model facts for each epoch. */
export type EpochSource = {
  graphs(): Promise<ImportedGraph[]>;
  /** The claim of this graph is judged for good (a dispute, if any, holds its own copy): let go of it. */
  settled?(graph: ImportedGraph): void;
  /**
   * `error`: the facts are incomplete because something failed (not because the data is not there
   * yet). The claim is still judged (unavailable), but the poll does not count as completed.
   */
  facts(
    epoch: bigint,
  ): Promise<{ reexecution: ReexecutionFact; l2: L2Fact; seenGraphVerified?: boolean; error?: string }>;
  /** Brings the source up to date (L2 ingestion); called on each poll by the lease holder, before judging. */
  sync?: () => Promise<void>;
  /**
   * The last sync succeeded but stopped on its time budget before the L2 head: there is a backlog, and
   * the next poll comes at once. False after a failed sync (a node that is down is not hammered).
   */
  catchingUp?: () => boolean;
  /** Which known fault explains a wrong claimed root (informational: challenges never depend on it). */
  diagnose?: (epoch: bigint, claimedRoot: Uint8Array) => Promise<unknown>;
  /** What /healthz `l2` and `graphs` decide on; a source without it registers neither. */
  healthFacts?: () => { l2: L2SyncFacts; graphs: GraphCoverageFacts };
  /**
   * Tells a source that prunes its history which epochs' tapes the registry's claims and games still need
   * (claim-games.ts `heldEpoch`): it never prunes past them.
   */
  holdTapes?: (held: () => HeldEpoch) => void;
};

export type WatcherOptions = {
  redis: RedisClient;
  prefix: string;
  connection: { host: string; port: number; password?: string; username?: string; db?: number };
  backend: BitcoinBackend;
  network: BitcoinNetwork;
  mode: WatcherMode;
  allowMainnetSpending: boolean;
  walletKey: WalletKey | undefined;
  expectations: Omit<GraphExpectations, 'epoch' | 'commitment'> | undefined;
  source: EpochSource | undefined;
  /**
   * The dispute jobs' fee settings (config `fees.*`, src/watcher/from-config.ts `watcherFeesFromConfig`);
   * `fallbackSatVb`, the rate used when the backend has no estimate, defaults to 2 sat/vB.
   */
  fees: Omit<DisputeJobContext['fees'], 'fallbackSatVb'> & { fallbackSatVb?: number };
  /** Sats the wallet keeps for fee bumps (config `fees.walletReserveSats`). */
  walletReserve?: bigint;
  bitcoinConfirmations: number;
  l2Confirmations: number;
  pollIntervalMs: number;
  /**
   * /healthz is 503 when this process holds the lease and its last completed poll is older than this
   * (default max(3 × pollIntervalMs, 10 s): a poll can take a while on a slow backend).
   */
  pollMaxAgeMs?: number;
  /**
   * /healthz `l2` is 503 when no L2 sync completed, or the L2 head did not advance, for longer than this
   * (config `l2.maxHeadAgeMs`; default 120 s).
   */
  l2MaxHeadAgeMs?: number;
  /**
   * /healthz `graphs` is 503 when an epoch committed on the L2 longer ago than this has no operator graph
   * imported (config `dispute.graphGraceMs`; default 30 min).
   */
  graphGraceMs?: number;
  /** The wallet's coins are read every this many polls (default 10; mode challenge only). */
  walletCheckEveryPolls?: number;
  deadlineMarginBlocks: number;
  registry: Registry;
  health: HealthRegistry;
  logger: Logger;
  concurrency?: number;
  /**
   * The narrowing game's claims (docs/protocol.md §24.9), when the L2's challenger registry is configured:
   * the registry is read each poll under the lease, every committed claim judged, and a game opened and
   * played for each false one Vigil has a game in. Without it the watcher judges Part II graphs only.
   */
  claims?: ClaimWatchOptions;
  /**
   * Called once for each kick-off judged valid or fraud (unavailable verdicts are judged again on the
   * next poll and only returned by poll()), with the fault diagnosis of a wrong root when there is one.
   */
  onVerdict?: (v: Verdict, extra: { diagnosis?: unknown }) => void;
};

/** What the watcher needs to follow claims and play their games (its own store, queue, backend aside). */
export type ClaimWatchOptions = Omit<
  ClaimGamesOptions,
  'store' | 'track' | 'backend' | 'network' | 'confirmations' | 'logger' | 'onUnchallengeable'
> & {
  /** Reads the registry up to its depth (ClaimFollower.sync). */
  sync(): Promise<void>;
  /** Registers Vigil's key and posts its bundles (mode challenge with an L2 account key). */
  poster?: BundlePoster;
};

export type Watcher = Component & {
  metrics: WatcherMetrics;
  store: DisputeStore;
  queue(): DisputeQueue;
  /** One follow cycle (exposed for tests and the devnet): returns the verdicts reached. */
  poll(): Promise<Verdict[]>;
  /**
   * The Bitcoin tip height the last poll by this process judged at (0 before the first): a poll that
   * synced only part of an L2 backlog does not count, its claims wait for the rest.
   */
  lastPolledTip(): number;
};

/** Defaults of `l2.maxHeadAgeMs` and `dispute.graphGraceMs` (src/config/schema.ts) for callers without a config. */
export const DEFAULT_L2_MAX_HEAD_AGE_MS = 120_000;
export const DEFAULT_GRAPH_GRACE_MS = 1_800_000;

/** How often the lease holder checks that every open dispute has its job (crash recovery). */
const REDRIVE_EVERY_MS = 5_000;

/** The steps of a poll, as labelled in `vigil_watcher_poll_failures_total`. */
type PollStep =
  | 'lease'
  | 'sync'
  | 'tip'
  | 'graphs'
  | 'judge'
  | 'claims'
  | 'redrive'
  | 'wallet'
  | 'deadlines'
  | 'gauges';

const errText = (err: unknown): string =>
  err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);

/**
 * The challenge window a dispute record stored when it was opened: its `challengeBy` is
 * `kickoffHeight + challengeWindow - 1` (records/deadlines.ts), computed from the graph as it verified
 * against the window governed at its epoch (docs/protocol.md §20). Not read from the graph document
 * itself, which would hold the graph to its own claim. Undefined for a record without deadlines (the
 * open job always sets them; only tests write such records): the graph is then held to the network's
 * parameters.
 */
export function recordedChallengeWindow(rec: {
  kickoffHeight: number;
  opened: { challengeBy?: number | undefined };
}): number | undefined {
  const by = rec.opened.challengeBy;
  if (by === undefined) return undefined;
  const w = by - rec.kickoffHeight + 1;
  return Number.isSafeInteger(w) && w > 0 ? w : undefined;
}

export function createWatcher(o: WatcherOptions): Watcher {
  const metrics = watcherMetrics(o.registry);
  const healthMetrics = watcherHealthMetrics(o.registry);
  const store = new DisputeStore(o.redis, o.prefix);
  const games = new GameStore(o.redis, o.prefix);
  /** The claims' judge and the game jobs' material, once the queue exists (start). */
  let claimGames: ClaimGames | undefined;
  /** Vigil's registration and bundle posts in flight (they wait on L2 receipts, beside the polls). */
  let posting: Promise<void> | undefined;
  const lease = new Lease(o.redis, `${o.prefix}:lease:bitcoin`, Math.max(3 * o.pollIntervalMs, 5000));
  const judged = new Set<string>();
  const judgedClaims = new Set<string>();
  let queue: DisputeQueue | undefined;
  let boundCtx: DisputeJobContext | undefined;
  let lastRedrive = 0;
  /** Redrive at the next poll, whatever the interval: the last one failed, or a deadline is at risk. */
  let redriveNow = false;
  /** The disputes whose deadline the last poll found at risk: their jobs run at once on a redrive. */
  let atRisk: ReadonlySet<string> = new Set();
  let timer: NodeJS.Timeout | undefined;
  let lastPollOk: number | undefined;
  let lastPollFailure: PollFailure | undefined;
  let polls = 0;
  let walletLast: WalletCheck | undefined;
  let walletLastOk: Extract<WalletCheck, { ok: true }> | undefined;
  const pollMaxAgeMs = o.pollMaxAgeMs ?? Math.max(3 * o.pollIntervalMs, 10_000);
  const walletEvery = Math.max(1, o.walletCheckEveryPolls ?? 10);
  const walletScript = o.walletKey ? watcherWalletScript(o.walletKey) : undefined;
  const walletAddress = o.walletKey ? watcherWalletAddress(o.walletKey, o.network) : undefined;
  // Only mode challenge sends challenges: in watch and dry-run an empty wallet puts nothing at risk.
  const checksWallet = o.mode === 'challenge' && walletAddress !== undefined;
  let lastTip = 0;
  let loggedRisks = '';
  let polling: Promise<unknown> = Promise.resolve();
  /** The last poll's sync stopped on its budget before the L2 head: the next poll comes at once. */
  let backlog = false;
  const unregister: (() => void)[] = [];
  // Games' honest runs, on threads (one pool per start); stopped before the job workers wait for their jobs.
  let honestRuns: HonestRunPool | undefined;
  const graphCache = new Map<string, DisputeGraph>();

  const graphOf = async (rec: {
    id: string;
    epoch: bigint;
    kickoffHeight: number;
    opened: { graph: string; challengeBy?: number | undefined };
  }) => {
    const hit = graphCache.get(rec.id);
    if (hit) return hit;
    if (!o.expectations) throw new Error('No graph expectations configured: cannot re-import the graph');
    // Yielding: the deadline check re-imports on the poll path, and one import checks every signature.
    // The record's graph was verified against the challenge window governed at its epoch before the
    // dispute was opened (docs/protocol.md §20): the record stored that window with its deadline.
    const governed = recordedChallengeWindow(rec);
    const imported = await importGraphYielding(rec.opened.graph, {
      ...o.expectations,
      epoch: rec.epoch,
      ...(governed !== undefined ? { governedChallengeWindow: governed } : {}),
    });
    const g = { graph: imported.graph, sigs: imported.sigs };
    graphCache.set(rec.id, g);
    return g;
  };

  /** The txid of each graph's kick-off (its witness aside, the operator's signed one has it too). */
  const kickoffTxids = new WeakMap<ImportedGraph, string>();
  const kickoffTxidOf = (g: ImportedGraph): string => {
    let id = kickoffTxids.get(g);
    if (id === undefined) {
      id = hashToDisplayHex(txidOf(g.graph.txs.kickoff));
      kickoffTxids.set(g, id);
    }
    return id;
  };

  async function judgeGraph(
    g: ImportedGraph,
    tip: number,
    pollFailed: (reason: string) => void,
  ): Promise<Verdict | undefined> {
    const claim = g.graph.spec.claim;
    const claimTxid = hashToDisplayHex(claim.txid);
    // A claim output is spent once, by its kick-off: once judged there is nothing new to ask the chain
    // (a reorg that drops the kick-off is the dispute jobs' business, and a restart judges again).
    if (judgedClaims.has(`${claimTxid}:${claim.vout}`)) return undefined;
    // The spender is believed only as the transaction itself: fetched, hashed to its txid, spending the
    // claim. A backend naming another transaction must not make Vigil judge (or open a dispute on) it.
    // The graph's own kick-off is asked for first (claim-spend.ts): one lookup instead of a block walk.
    let spend: Awaited<ReturnType<typeof verifiedOutspend>>;
    try {
      spend = await claimSpend(o.backend, { txid: claimTxid, vout: claim.vout }, kickoffTxidOf(g));
    } catch (err) {
      if (!(err instanceof BackendUnavailableError)) throw err;
      // No answer is no fact: the claim is not decidable this poll, nothing is concluded, and the poll
      // fails so health shows it. It is asked again on the next poll.
      const at = {
        epoch: String(g.graph.spec.epoch),
        claim: `${claimTxid}:${claim.vout}`,
        err: errText(err),
      };
      if (err instanceof BackendLiedError) {
        o.logger.error(
          at,
          'the Bitcoin backend gave a false answer about the claim output: not judged this poll',
        );
      } else {
        o.logger.warn(at, 'the claim output could not be read: not judged this poll');
      }
      pollFailed(`claim ${claimTxid}:${claim.vout}: ${errText(err)}`);
      return undefined;
    }
    if (!spend.spent || spend.txid === undefined) return undefined;
    const key = `${g.graph.spec.epoch}-${spend.txid}`;
    if (judged.has(key)) return undefined;
    const tx = spend.spender;
    const depth = tx.status.confirmed ? tip - tx.status.blockHeight + 1 : 0;
    let kickoff: KickoffFact;
    try {
      kickoff = { status: 'seen', txid: spend.txid, depth, revealed: readKickoff(g.graph, tx.tx) };
    } catch (err) {
      kickoff = {
        status: 'unreadable',
        txid: spend.txid,
        reason: err instanceof Error ? err.message : String(err),
      };
    }
    const facts = await o.source?.facts(g.graph.spec.epoch);
    if (facts?.error !== undefined) pollFailed(facts.error);
    const verdict = judgeEpoch({
      epoch: g.graph.spec.epoch,
      reexecution: facts?.reexecution ?? { complete: false, reason: 'no epoch source configured' },
      l2: facts?.l2 ?? { inputsFinal: false, behind: true, commitment: { status: 'missing' } },
      kickoff,
      graphVerified: true,
      depth: { l2: o.l2Confirmations, bitcoin: o.bitcoinConfirmations },
    });
    if (verdict.outcome === 'unavailable') {
      metrics.verdicts.inc({ outcome: verdict.outcome });
      return verdict; // judged again on the next poll
    }
    const status = tx.status;
    const challenge = verdict.outcome === 'fraud' && verdict.challengeable && status.confirmed;
    const id = disputeId(g.graph.spec.epoch, spend.txid);
    // The challenge goes first: the diagnosis re-executes history once per catalogue fault and is
    // only informational, so it must never delay the one thing that has a deadline.
    if (challenge && queue && status.confirmed) {
      await openDispute(queue, g, verdict, facts?.reexecution, spend.txid, status.blockHeight);
    }
    // Marked judged only once its dispute is open: a failed open (Redis away) fails this poll and the
    // claim is judged again on the next one (opening is idempotent), instead of being forgotten.
    judged.add(key);
    judgedClaims.add(`${claimTxid}:${claim.vout}`);
    o.source?.settled?.(g);
    metrics.verdicts.inc({ outcome: verdict.outcome });
    metrics.epochsJudged.inc();
    const diagnosis =
      kickoff.status === 'seen' && verdict.reasons.some((r) => r.code === 'root-mismatch')
        ? await diagnose(g.graph.spec.epoch, kickoff.revealed.stateRoot)
        : undefined;
    if (challenge && diagnosis !== undefined) await recordDiagnosis(id, diagnosis);
    o.logger.info(
      {
        epoch: String(verdict.epoch),
        outcome: verdict.outcome,
        reasons: verdict.reasons.map((r) => r.code),
        ...(diagnosis !== undefined ? { diagnosis } : {}),
      },
      'epoch judged',
    );
    try {
      o.onVerdict?.(verdict, diagnosis !== undefined ? { diagnosis } : {});
    } catch (err) {
      o.logger.warn({ err: String(err) }, 'onVerdict callback failed');
    }
    return verdict;
  }

  async function openDispute(
    q: DisputeQueue,
    g: ImportedGraph,
    verdict: Verdict,
    reexecution: ReexecutionFact | undefined,
    kickoffTxid: string,
    kickoffHeight: number,
  ): Promise<void> {
    const p = g.graph.spec.params;
    await q.open({
      ...expectedTrace(reexecution, p.traceSteps, g.graph.spec.epoch),
      disputeId: disputeId(g.graph.spec.epoch, kickoffTxid),
      epoch: g.graph.spec.epoch.toString(),
      kickoffTxid,
      kickoffHeight,
      graph: JSON.stringify(graphToDocument(g.graph, g.sigs)),
      verdict: JSON.stringify({
        outcome: verdict.outcome,
        equivocation: verdict.equivocation,
        reasons: verdict.reasons,
      }),
      seenAt: Date.now(),
      challengeWindow: p.timelocks.challengeWindow,
      assertWindow: p.timelocks.assertWindow,
    });
  }

  /**
   * Adds the diagnosis to the dispute record once the open job has created it (a few ms normally;
   * given up after a while: the diagnosis is in the log line either way).
   */
  async function recordDiagnosis(id: string, diagnosis: unknown): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (await store.get(id)) {
        await store.note(
          id,
          { type: 'diagnosed', detail: { diagnosis } },
          { key: 'diagnosis', patch: { opened: { diagnosis: JSON.stringify(diagnosis) } } },
        );
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    o.logger.warn({ dispute: id }, 'dispute record not created in time: diagnosis only logged');
  }

  /**
   * Vigil's r_0 … r_k for the dispute, only when they are cut for this graph's k and end at the model's
   * root: a trace of another shape would make Vigil disprove the wrong step.
   */
  function expectedTrace(
    r: ReexecutionFact | undefined,
    k: number,
    epoch: bigint,
  ): Pick<OpenJobData, 'expectedTrace'> {
    if (!r?.complete || !r.checkpoints) return {};
    const last = r.checkpoints[r.checkpoints.length - 1];
    if (r.checkpoints.length !== k + 1 || !last || bytesToHex(last) !== bytesToHex(r.root)) {
      o.logger.error(
        { epoch: String(epoch), roots: r.checkpoints.length, traceSteps: k },
        'the epoch source gave trace checkpoints of another shape than the graph: disputed without them',
      );
      return {};
    }
    return { expectedTrace: r.checkpoints.map(bytesToHex) };
  }

  /** The source's diagnosis of a wrong root; never fails the poll (it is informational). */
  async function diagnose(epoch: bigint, claimedRoot: Uint8Array): Promise<unknown> {
    if (!o.source?.diagnose) return undefined;
    try {
      return await o.source.diagnose(epoch, claimedRoot);
    } catch (err) {
      o.logger.warn({ epoch: String(epoch), err: String(err) }, 'fault diagnosis failed');
      return undefined;
    }
  }

  const reportedUnreadable = new Set<string>();
  async function refreshGauges(): Promise<void> {
    // Only the records not yet resolved are read: a poll's cost follows the open disputes, not history.
    const { counts, unreadable } = await store.census();
    for (const s of disputeStates) metrics.disputes.set({ state: s }, counts.get(s) ?? 0);
    // A record the codec refuses is state Vigil cannot act on: counted as missing (VigilDisputeRecordMissing)
    // and logged once, while every other dispute goes on.
    for (const u of unreadable) {
      metrics.disputeRecordMissing.set({ dispute: u.id }, 1);
      if (!reportedUnreadable.has(u.id)) {
        reportedUnreadable.add(u.id);
        o.logger.error({ dispute: u.id, reason: u.reason }, 'a dispute record cannot be read');
      }
    }
    await queue?.observe({ metrics });
  }

  /** The chain facts that decide whether a dispute near its deadline has met it. */
  async function chainFactsFor(near: NearDeadline): Promise<DeadlineChainFacts> {
    const rec = near.record;
    // Spenders checked against their own bytes (verifiedOutspend): a backend claiming connector A or the
    // stake is spent by a transaction that does not spend it fails the read, which counts as a risk.
    if (near.needs === 'connector-a') {
      const a = await verifiedOutspend(o.backend, rec.kickoffTxid, 0);
      return {
        connectorA: a.spent
          ? { spent: true, confirmed: a.spender?.status.confirmed === true }
          : { spent: false },
      };
    }
    const { graph } = await graphOf(rec);
    const d = await verifiedOutspend(o.backend, hashToDisplayHex(txidOf(graph.txs.assert)), 0);
    if (!d.spent) return { assertedStake: { spent: false } };
    return {
      assertedStake: {
        spent: true,
        confirmed: d.spender?.status.confirmed === true,
        byPayout: d.txid === hashToDisplayHex(txidOf(graph.txs.payout)),
      },
    };
  }

  /**
   * Every open dispute's deadline risk at the current tip. The chain is read only for the disputes
   * within the margin, so the check stays cheap however many are open; a failed read counts as a risk.
   */
  async function assessDeadlines(): Promise<DeadlineRisk[]> {
    const records = await store.active();
    // A resolved dispute's graph is not needed again: the cache holds only the open disputes' graphs.
    const open = new Set(records.map((r) => r.id));
    for (const id of graphCache.keys()) if (!open.has(id)) graphCache.delete(id);
    if (records.length === 0) return [];
    const tip = await o.backend.getTipHeight();
    const facts = new Map<string, DeadlineChainFacts>();
    await Promise.all(
      records.map(async (rec: DisputeRecord) => {
        const near = nearDeadline(rec, tip, o.deadlineMarginBlocks);
        if (!near || near.needs === 'nothing') return;
        try {
          facts.set(rec.id, await chainFactsFor(near));
        } catch (err) {
          facts.set(rec.id, { error: errText(err) });
        }
      }),
    );
    return deadlineRisks(records, tip, o.deadlineMarginBlocks, facts);
  }

  async function refreshDeadlineGauge(): Promise<void> {
    const risks = await assessDeadlines();
    atRisk = new Set(risks.map((r) => r.id));
    if (risks.length > 0) redriveNow = true;
    // Rebuilt from scratch: a dispute that met its deadline (or resolved) leaves no series behind.
    healthMetrics.deadlineAtRisk.reset();
    for (const r of risks) {
      healthMetrics.deadlineAtRisk.set({ dispute: r.id, state: r.state, deadline: r.deadline }, 1);
    }
    // Logged when the set of disputes at risk changes, not on every poll: the gauge and /healthz say
    // it continuously.
    const ids = risks.map((r) => `${r.id}:${r.state}`).join(',');
    if (ids !== loggedRisks) {
      loggedRisks = ids;
      if (risks.length > 0) {
        o.logger.error(
          { disputes: risks.map((r) => ({ id: r.id, state: r.state, why: r.why })) },
          'dispute deadline at risk',
        );
      } else {
        o.logger.info('no dispute deadline at risk any more');
      }
    }
  }

  /** Reads the wallet's spendable coins and what the next challenge needs (mode challenge). */
  async function checkWallet(): Promise<void> {
    if (!walletAddress) return;
    const at = Date.now();
    try {
      const [utxos, tip, active] = await Promise.all([
        o.backend.getUtxos(walletAddress),
        o.backend.getTipHeight(),
        store.active(),
      ]);
      const spendable = spendableBalance(utxos, tip, committedOutpoints(active));
      const required = challengeFundingNeed({
        params: o.expectations?.params ?? defaultGraphParameters[o.network],
        maxFeeRateSatVb: o.fees.maxFeeRateSatVb,
        reserve: o.walletReserve ?? 0n,
      });
      walletLastOk = { at, ok: true, spendable, required };
      walletLast = walletLastOk;
      healthMetrics.walletSpendable.set(Number(spendable));
      healthMetrics.walletRequired.set(Number(required));
      if (spendable < required) {
        o.logger.error(
          { spendable: String(spendable), required: String(required), address: walletAddress },
          'the watcher wallet cannot fund the next challenge',
        );
      }
    } catch (err) {
      walletLast = { at, ok: false, error: errText(err) };
      throw err;
    }
  }

  async function poll(): Promise<Verdict[]> {
    const verdicts: Verdict[] = [];
    const failures: string[] = [];
    const failed = (step: PollStep, reason: string) => {
      failures.push(`${step}: ${reason}`);
      healthMetrics.pollFailures.inc({ step });
      o.logger.warn({ step, err: reason }, 'watcher poll step failed');
    };
    /** Runs one step; a failure is recorded and the poll goes on with the steps that do not need it. */
    const step = async <T>(name: PollStep, fn: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await fn();
      } catch (err) {
        failed(name, errText(err));
        return undefined;
      }
    };
    const n = polls++;
    // Only this poll's own successful sync says there is a backlog (a process that lost the lease
    // keeps its last answer, and must not poll in a loop on it).
    backlog = false;
    const took = await step('lease', () => lease.take());
    let holder = took === 'taken' || took === 'kept';
    if (took === 'taken') {
      // Taken while free: another process may have held it meanwhile (this one's lapsed mid-poll or
      // between polls) and opened games this one has not seen. The epochs they hold are unknown until
      // the redrive lists the records, which runs this poll, and nothing is pruned before it.
      claimGames?.forgetOpen();
      lastRedrive = 0;
    }
    const importGraphs = () => step('graphs', async () => (await o.source?.graphs()) ?? []);
    /**
     * The graphs imported while the source syncs: ingestion mostly waits on the L2 node, import mostly
     * computes, so a watcher catching up overlaps the two instead of adding them. Import only reads what
     * the last completed sync made final (the governed window of an epoch is known once its start is at
     * depth), so running beside the sync changes nothing it concludes. Always awaited before the poll
     * ends: the registry is not asked twice at once.
     */
    let imported: Promise<ImportedGraph[] | undefined> | undefined;
    if (holder && o.source?.sync) {
      const sync = o.source.sync;
      imported = importGraphs();
      // A failed sync leaves the facts as they were (or incomplete): the judge fails closed on them,
      // and the poll does not count as completed.
      const synced = await step('sync', async () => {
        await sync();
        return true;
      });
      backlog = synced === true && (o.source.catchingUp?.() ?? false);
      // A slow sync (an L2 node retrying) may outlast the lease: judge only while still holding it.
      holder = (await step('lease', () => lease.renew())) ?? false;
      if (!holder) o.logger.warn('the follow lease expired during the epoch source sync: not judging');
    }
    await step('gauges', async () =>
      metrics.chainFollowed.set({ chain: 'bitcoin' }, (await lease.holder()) === null ? 0 : 1),
    );
    if (holder) {
      const tip = await step('tip', () => o.backend.getTipHeight());
      if (tip !== undefined) {
        // A poll that synced only part of an L2 backlog has not judged this tip yet (its claims wait for
        // the epochs still to be ingested): the devnet's block clock waits for the one that has.
        if (!backlog) lastTip = tip;
        let graphs = (await (imported ?? importGraphs())) ?? [];
        // The graphs this sync made judgeable, in the same poll (a live epoch is not held a poll back);
        // while catching up the next poll comes at once and imports them beside its own sync.
        if (imported !== undefined && !backlog) graphs = (await importGraphs()) ?? graphs;
        // One claim that fails is no reason to leave the others unjudged: each is its own step.
        for (const g of graphs) {
          const epoch = String(g.graph.spec.epoch);
          const v = await step('judge', () =>
            judgeGraph(g, tip, (reason) => failed('judge', `epoch ${epoch}: ${reason}`)),
          );
          if (v) verdicts.push(v);
        }
        if (o.claims !== undefined && claimGames !== undefined && !backlog) {
          const c = o.claims;
          const judge = claimGames;
          const synced = await step('claims', async () => {
            await c.sync();
            return true;
          });
          // Posting waits for L2 receipts (seconds, a minute on a slow L2): it runs beside the polls,
          // one round at a time, so Bitcoin deadlines never wait on the L2.
          if (synced && c.poster !== undefined && posting === undefined) {
            const poster = c.poster;
            const claims = c.follower.claims();
            posting = (async () => {
              await poster.ensureRegistered();
              for (const p of await poster.post(claims)) {
                if (p.first === true && p.outcome !== 'posted' && p.outcome !== 'already-posted')
                  metrics.bundlesNotPosted.inc({ reason: p.outcome });
              }
            })()
              .catch((err: unknown) => {
                healthMetrics.pollFailures.inc({ step: 'claims' });
                o.logger.error(
                  { err: errText(err) },
                  "Vigil's registration or bundle post failed: tried again next poll",
                );
              })
              .finally(() => {
                posting = undefined;
              });
          }
          if (synced) {
            const judged = (await step('claims', () => judge.poll(tip))) ?? [];
            for (const j of judged) {
              if (j.outcome === 'error') failed('claims', `epoch ${j.epoch}: ${j.reason}`);
              if (j.outcome === 'valid' || j.outcome === 'fraud') {
                metrics.verdicts.inc({ outcome: j.outcome });
                metrics.epochsJudged.inc();
                o.logger.info(
                  { epoch: String(j.epoch), outcome: j.outcome, reason: j.reason, game: j.game },
                  'claim judged',
                );
              }
            }
          }
        }
        // Every REDRIVE_EVERY_MS, and at every poll while a deadline is at risk or the last redrive
        // failed: a job lost to a Redis failover (written on a primary that died before its replica
        // had it) must not wait seconds more when the window is closing.
        if (queue && boundCtx && (redriveNow || Date.now() - lastRedrive >= REDRIVE_EVERY_MS)) {
          const q = queue;
          const ctx = boundCtx;
          const done = await step('redrive', async () => {
            if (claimGames !== undefined) {
              const all = (await games.listAll()).records;
              await q.redriveGames(all);
              claimGames.retain(all.filter((r) => r.state !== 'resolved'));
            }
            const moved = await q.redrive(ctx, await store.active(), { ids: atRisk, tip });
            if (moved > 0)
              o.logger.warn(
                { disputes: moved },
                'disputes found parked (a crash?): their jobs are running again',
              );
            return true;
          });
          if (done) {
            lastRedrive = Date.now();
            redriveNow = false;
          }
        }
      }
    }
    await imported;
    // Every process reads the wallet (any of them may run the next challenge job), every N polls.
    if (checksWallet && n % walletEvery === 0) await step('wallet', checkWallet);
    await step('deadlines', refreshDeadlineGauge);
    await step('gauges', refreshGauges);
    if (holder && failures.length === 0) {
      lastPollOk = Date.now();
      healthMetrics.lastPollSuccess.set(lastPollOk / 1000);
    } else if (holder) {
      lastPollFailure = { at: Date.now(), reason: failures.join('; ') };
    }
    return verdicts;
  }

  /** The dispute queue's worker, connections and jobs failed for good of disputes not resolved. */
  async function queueCheck() {
    if (!queue) return { healthy: false as const, reason: `queue ${DISPUTE_QUEUE}: not started` };
    const s = await queue.state();
    const open = await Promise.all(
      s.failed.map(async (j) => {
        if (j.disputeId === undefined) return true;
        // A record that cannot be read is not known to be resolved: the failure counts. A game's record
        // is in the game store.
        const rec =
          (await store.get(j.disputeId).catch(() => undefined)) ??
          (await games.get(j.disputeId).catch(() => undefined));
        return rec?.state !== 'resolved';
      }),
    );
    return queueHealth({ queue: DISPUTE_QUEUE, ...s, failed: s.failed.filter((_, i) => open[i]) });
  }

  const watcher: Watcher = {
    name: 'watcher',
    metrics,
    store,
    queue: () => {
      if (!queue) throw new Error('watcher used before start');
      return queue;
    },
    poll,
    lastPolledTip: () => lastTip,
    async start() {
      queue = new DisputeQueue({
        connection: { ...o.connection, maxRetriesPerRequest: null },
        prefix: o.prefix,
        concurrency: o.concurrency,
        trackEveryMs: o.pollIntervalMs,
      });
      const script = walletScript;
      const key = o.walletKey;
      const ctx = queue.bind({
        store,
        backend: o.backend,
        mode: o.mode,
        network: o.network,
        allowMainnetSpending: o.allowMainnetSpending,
        graphOf,
        wallet:
          key && script && walletAddress
            ? {
                address: walletAddress,
                script,
                signSchnorrTweaked: (h) => key.signSchnorrTweaked(h),
                reserve: o.walletReserve ?? 0n,
              }
            : undefined,
        fees: { ...o.fees, fallbackSatVb: o.fees.fallbackSatVb ?? 2 },
        confirmations: o.bitcoinConfirmations,
        prefix: o.prefix,
        redis: o.redis,
        metrics,
        logger: o.logger,
      });
      let game: GameJobContext | undefined;
      if (o.claims !== undefined) {
        const q = queue;
        const runs = createHonestRunPool();
        honestRuns = runs;
        claimGames = createClaimGames({
          ...o.claims,
          // A mainnet epoch's run is a minute or more of CPU: never on the thread that keeps the leases alive.
          honestRunner: o.claims.honestRunner ?? runs.run,
          ledger: o.claims.ledger ?? redisClaimLedger(o.redis, o.prefix),
          documents: o.claims.documents ?? redisClaimDocuments(o.redis, o.prefix),
          lapsedOutputs: redisLapsedOutputs(o.redis, o.prefix),
          store: games,
          track: (id) => q.trackGame(id),
          backend: o.backend,
          network: o.network,
          confirmations: o.bitcoinConfirmations,
          logger: o.logger,
          onUnchallengeable: () => metrics.falseClaimsUnchallengeable.inc(),
        });
        const held = claimGames;
        o.source?.holdTapes?.(() => held.heldEpoch());
        game = queue.bindGame({
          store: games,
          backend: o.backend,
          mode: o.mode,
          network: o.network,
          allowMainnetSpending: o.allowMainnetSpending,
          fees: { ...o.fees, fallbackSatVb: o.fees.fallbackSatVb ?? 2 },
          confirmations: o.bitcoinConfirmations,
          metrics,
          logger: o.logger,
          materialOf: claimGames.materialOf,
          holdCoin: redisBondReservations(o.redis, o.prefix).hold,
        });
      }
      queue.startWorker(ctx, game === undefined ? {} : { game });
      boundCtx = ctx;
      if (!o.source)
        o.logger.warn('no epoch source: this process runs dispute jobs but finds no new kick-offs');
      unregister.push(
        o.health.register('bitcoin-follow', async () =>
          followHealth({
            holder: await lease.holder(),
            self: lease.owner,
            lastPollOk,
            lastFailure: lastPollFailure,
            now: Date.now(),
            maxAgeMs: pollMaxAgeMs,
          }),
        ),
        // Read afresh on each request (the tip and the few disputes within the margin): the answer is
        // about the chain as it is now, not as the last poll saw it.
        o.health.register('dispute-deadlines', async () => deadlineHealthOf(await assessDeadlines())),
        o.health.register('queue', queueCheck),
      );
      if (o.claims !== undefined) {
        const t = o.claims.params.timelocks.move;
        unregister.push(
          o.health.register('game-deadlines', async () =>
            gameDeadlineHealth((await games.listAll()).records, await o.backend.getTipHeight(), t),
          ),
        );
      }
      const facts = o.source?.healthFacts;
      if (facts) {
        const leaseView = async (): Promise<LeaseView> => {
          const h = await lease.holder();
          return h === null ? 'free' : h === lease.owner ? 'self' : 'other';
        };
        unregister.push(
          o.health.register('l2', async () =>
            l2Health({
              lease: await leaseView(),
              facts: facts().l2,
              now: Date.now(),
              maxHeadAgeMs: o.l2MaxHeadAgeMs ?? DEFAULT_L2_MAX_HEAD_AGE_MS,
            }),
          ),
          o.health.register('graphs', async () =>
            graphsHealth({
              ...facts().graphs,
              lease: await leaseView(),
              now: Date.now(),
              graceMs: o.graphGraceMs ?? DEFAULT_GRAPH_GRACE_MS,
            }),
          ),
        );
      }
      if (checksWallet) {
        unregister.push(
          o.health.register('watcher-wallet', () =>
            walletHealth({
              lastOk: walletLastOk,
              last: walletLast,
              now: Date.now(),
              // Read every N polls: stale only after several missed reads.
              maxAgeMs: Math.max(3 * walletEvery * o.pollIntervalMs, 30_000),
            }),
          ),
        );
      }
      const loop = () => {
        polling = poll()
          .catch((err: unknown) => o.logger.warn({ err: String(err) }, 'watcher poll failed'))
          .finally(() => {
            // A source catching up on a backlog (its last sync ran out of budget, not out of blocks)
            // is polled again at once: the interval is for waiting on new blocks, not on old ones.
            const wait = backlog ? 0 : o.pollIntervalMs;
            if (timer !== undefined) timer = setTimeout(loop, wait);
          });
      };
      timer = setTimeout(loop, 0);
    },
    async stop() {
      const t = timer;
      timer = undefined;
      if (t) clearTimeout(t);
      await polling;
      await posting;
      for (const u of unregister.splice(0)) u();
      await lease.release().catch(() => false);
      await honestRuns?.close();
      honestRuns = undefined;
      await queue?.close();
    },
  };
  return watcher;
}
