/**
 * The watch daemon's domain component, composed on src/daemon's runtime: the dispute queue's workers
 * (every process), and the Bitcoin follow loop (the process holding the lease): it polls the tip,
 * looks for the kick-offs of the graphs it knows, judges each epoch and opens a dispute on challengeable
 * fraud. Metrics and health checks are refreshed on every poll.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BitcoinNetwork } from '../bitcoin/backends/address.ts';
import { addressForScript } from '../bitcoin/backends/address.ts';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { hashToDisplayHex } from '../bitcoin/tx/serialize.ts';
import type { WalletKey } from '../bitcoin/wallet/keys.ts';
import { bytesToHex, concatBytes } from '../core/bytes.ts';
import type { Component } from '../daemon/runtime.ts';
import { graphToDocument } from '../dispute/graph/document.ts';
import type { ImportedGraph } from '../dispute/graph/import.ts';
import { type GraphExpectations, importGraph } from '../dispute/graph/import.ts';
import { readKickoff } from '../dispute/graph/spend.ts';
import { disputeId, disputeStates } from '../dispute/records/state-machine.ts';
import { DisputeStore } from '../dispute/records/store.ts';
import {
  judgeEpoch,
  type KickoffFact,
  type L2Fact,
  type ReexecutionFact,
  type Verdict,
} from '../judge/verdict.ts';
import type { HealthRegistry } from '../observability/health.ts';
import type { DisputeGraph, DisputeJobContext, OpenJobData } from '../queue/dispute-jobs.ts';
import { DisputeQueue } from '../queue/dispute-queue.ts';
import { Lease } from '../queue/lease.ts';
import { type WatcherMetrics, watcherMetrics } from '../queue/metrics.ts';
import type { WatcherMode } from '../queue/spend-policy.ts';
import { deadlineHealth, followHealth } from './health.ts';

/** Where epochs come from: the graphs the operator published and the L2/model facts for each epoch. */
export type EpochSource = {
  graphs(): Promise<ImportedGraph[]>;
  facts(epoch: bigint): Promise<{ reexecution: ReexecutionFact; l2: L2Fact; seenGraphVerified?: boolean }>;
  /** Brings the source up to date (L2 ingestion); called on each poll by the lease holder, before judging. */
  sync?: () => Promise<void>;
  /** Which known fault explains a wrong claimed root (informational: challenges never depend on it). */
  diagnose?: (epoch: bigint, claimedRoot: Uint8Array) => Promise<unknown>;
};

export type WatcherOptions = {
  redis: Redis;
  prefix: string;
  connection: { host: string; port: number; password?: string; username?: string; db?: number };
  backend: BitcoinBackend;
  network: BitcoinNetwork;
  mode: WatcherMode;
  allowMainnetSpending: boolean;
  walletKey: WalletKey | undefined;
  expectations: Omit<GraphExpectations, 'epoch' | 'commitment'> | undefined;
  source: EpochSource | undefined;
  fees: { targetBlocks: number; maxFeeRateSatVb: number; bumpAfterBlocks?: number; bumpStepSatVb?: number };
  /** Sats the wallet keeps for fee bumps (config `fees.walletReserveSats`). */
  walletReserve?: bigint;
  bitcoinConfirmations: number;
  l2Confirmations: number;
  pollIntervalMs: number;
  deadlineMarginBlocks: number;
  registry: Registry;
  health: HealthRegistry;
  logger: Logger;
  concurrency?: number;
  /**
   * Called once for each kick-off judged valid or fraud (unavailable verdicts are judged again on the
   * next poll and only returned by poll()), with the fault diagnosis of a wrong root when there is one.
   */
  onVerdict?: (v: Verdict, extra: { diagnosis?: unknown }) => void;
};

export type Watcher = Component & {
  metrics: WatcherMetrics;
  store: DisputeStore;
  queue(): DisputeQueue;
  /** One follow cycle (exposed for tests and the devnet): returns the verdicts reached. */
  poll(): Promise<Verdict[]>;
  /** The Bitcoin tip height the last poll by this process saw (0 before the first). */
  lastPolledTip(): number;
};

/** How often the lease holder checks that every open dispute has its job (crash recovery). */
const REDRIVE_EVERY_MS = 5_000;

export function createWatcher(o: WatcherOptions): Watcher {
  const metrics = watcherMetrics(o.registry);
  const store = new DisputeStore(o.redis, o.prefix);
  const lease = new Lease(o.redis, `${o.prefix}:lease:bitcoin`, Math.max(3 * o.pollIntervalMs, 5000));
  const judged = new Set<string>();
  const judgedClaims = new Set<string>();
  let queue: DisputeQueue | undefined;
  let boundCtx: DisputeJobContext | undefined;
  let lastRedrive = 0;
  let timer: NodeJS.Timeout | undefined;
  let lastPollOk: number | undefined;
  let lastTip = 0;
  let polling: Promise<unknown> = Promise.resolve();
  const unregister: (() => void)[] = [];
  const graphCache = new Map<string, DisputeGraph>();

  const graphOf = async (rec: { id: string; epoch: bigint; fields: Record<string, string> }) => {
    const hit = graphCache.get(rec.id);
    if (hit) return hit;
    if (!o.expectations) throw new Error('No graph expectations configured: cannot re-import the graph');
    const imported = importGraph(rec.fields.graph, { ...o.expectations, epoch: rec.epoch });
    const g = { graph: imported.graph, sigs: imported.sigs };
    graphCache.set(rec.id, g);
    return g;
  };

  async function judgeGraph(g: ImportedGraph, tip: number): Promise<Verdict | undefined> {
    const claim = g.graph.spec.claim;
    const claimTxid = hashToDisplayHex(claim.txid);
    // A claim output is spent once, by its kick-off: once judged there is nothing new to ask the chain
    // (a reorg that drops the kick-off is the dispute jobs' business, and a restart judges again).
    if (judgedClaims.has(`${claimTxid}:${claim.vout}`)) return undefined;
    const spend = await o.backend.getOutspend(claimTxid, claim.vout);
    if (!spend.spent || spend.txid === undefined) return undefined;
    const key = `${g.graph.spec.epoch}-${spend.txid}`;
    if (judged.has(key)) return undefined;
    const tx = await o.backend.getTransaction(spend.txid);
    if (!tx) return undefined;
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
    const verdict = judgeEpoch({
      epoch: g.graph.spec.epoch,
      reexecution: facts?.reexecution ?? { complete: false, reason: 'no epoch source configured' },
      l2: facts?.l2 ?? { inputsFinal: false, behind: true, commitment: { status: 'missing' } },
      kickoff,
      graphVerified: true,
      depth: { l2: o.l2Confirmations, bitcoin: o.bitcoinConfirmations },
    });
    metrics.verdicts.inc({ outcome: verdict.outcome });
    if (verdict.outcome === 'unavailable') return verdict; // judged again on the next poll
    judged.add(key);
    judgedClaims.add(`${claimTxid}:${claim.vout}`);
    metrics.epochsJudged.inc();
    const status = tx.status;
    const challenge = verdict.outcome === 'fraud' && verdict.challengeable && status.confirmed;
    const id = disputeId(g.graph.spec.epoch, spend.txid);
    // The challenge goes first: the diagnosis re-executes history once per catalogue fault and is
    // only informational, so it must never delay the one thing that has a deadline.
    if (challenge && queue && status.confirmed) {
      await openDispute(queue, g, verdict, facts?.reexecution, spend.txid, status.blockHeight);
    }
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
        await store.note(id, 'diagnosed', {
          key: 'diagnosis',
          detail: { diagnosis },
          fields: { diagnosis: JSON.stringify(diagnosis) },
        });
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

  async function refreshGauges(): Promise<void> {
    const records = await store.list();
    for (const s of disputeStates)
      metrics.disputes.set({ state: s }, records.filter((r) => r.state === s).length);
    await queue?.observe({ metrics });
  }

  async function poll(): Promise<Verdict[]> {
    const verdicts: Verdict[] = [];
    let holder = await lease.acquire();
    if (holder && o.source?.sync) {
      // A failed sync leaves the facts as they were (or incomplete): the judge fails closed on them.
      try {
        await o.source.sync();
      } catch (err) {
        o.logger.warn({ err: String(err) }, 'epoch source sync failed; judging with what it has');
      }
      // A slow sync (an L2 node retrying) may outlast the lease: judge only while still holding it.
      holder = await lease.renew();
      if (!holder) o.logger.warn('the follow lease expired during the epoch source sync: not judging');
    }
    metrics.chainFollowed.set({ chain: 'bitcoin' }, (await lease.holder()) === null ? 0 : 1);
    if (holder) {
      lastTip = await o.backend.getTipHeight();
      lastPollOk = Date.now();
      for (const g of (await o.source?.graphs()) ?? []) {
        const v = await judgeGraph(g, lastTip);
        if (v) verdicts.push(v);
      }
      if (queue && boundCtx && Date.now() - lastRedrive >= REDRIVE_EVERY_MS) {
        lastRedrive = Date.now();
        const moved = await queue.redrive(boundCtx, await store.active());
        if (moved > 0)
          o.logger.warn(
            { disputes: moved },
            'disputes found parked (a crash?): their jobs are running again',
          );
      }
    }
    await refreshGauges();
    return verdicts;
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
      const script = o.walletKey
        ? concatBytes(Uint8Array.from([0x51, 0x20]), o.walletKey.taprootOutputKey)
        : undefined;
      const key = o.walletKey;
      const ctx = queue.bind({
        store,
        backend: o.backend,
        mode: o.mode,
        network: o.network,
        allowMainnetSpending: o.allowMainnetSpending,
        graphOf,
        wallet:
          key && script
            ? {
                address: addressForScript(script, o.network) as string,
                script,
                signSchnorrTweaked: (h) => key.signSchnorrTweaked(h),
                reserve: o.walletReserve ?? 0n,
              }
            : undefined,
        fees: { ...o.fees, fallbackSatVb: 2 },
        confirmations: o.bitcoinConfirmations,
        prefix: o.prefix,
        redis: o.redis,
        metrics,
        logger: o.logger,
      });
      queue.startWorker(ctx);
      boundCtx = ctx;
      if (!o.source)
        o.logger.warn('no epoch source: this process runs dispute jobs but finds no new kick-offs');
      unregister.push(
        o.health.register('bitcoin-follow', async () =>
          followHealth({
            holder: await lease.holder(),
            self: lease.owner,
            lastPollOk,
            now: Date.now(),
            // A poll can take a while on a slow backend: unhealthy only after several missed cycles.
            maxAgeMs: Math.max(3 * o.pollIntervalMs, 10_000),
          }),
        ),
        o.health.register('dispute-deadlines', async () =>
          deadlineHealth(
            await store.active(),
            lastTip || (await o.backend.getTipHeight()),
            o.deadlineMarginBlocks,
          ),
        ),
      );
      const loop = () => {
        polling = poll()
          .catch((err: unknown) => o.logger.warn({ err: String(err) }, 'watcher poll failed'))
          .finally(() => {
            if (timer !== undefined) timer = setTimeout(loop, o.pollIntervalMs);
          });
      };
      timer = setTimeout(loop, 0);
    },
    async stop() {
      const t = timer;
      timer = undefined;
      if (t) clearTimeout(t);
      await polling;
      for (const u of unregister.splice(0)) u();
      await lease.release().catch(() => false);
      await queue?.close();
    },
  };
  return watcher;
}
