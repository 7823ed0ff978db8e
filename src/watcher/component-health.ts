/**
 * The `l2`, `graphs` and `queue` health checks of `vigil watch`, as pure decisions over facts the epoch
 * source and the dispute queue gather (so each rule is unit-tested without a chain; the other checks
 * are in ./health.ts). 503 when:
 *
 * - `l2`: the L2 node answers another chain id than `l2.chainId`; L2 reads keep failing; no L2 sync
 *   has completed, or the L2 head has not advanced, for longer than `l2.maxHeadAgeMs`;
 * - `graphs`: an epoch committed on the L2 more than `dispute.graphGraceMs` ago has no operator graph
 *   imported (a kick-off on it would go unseen);
 * - `queue`: the dispute queue's worker is not running (closed, paused, never started), a Redis
 *   connection of the queue is not ready, or a job of a dispute still open has failed for good.
 *
 * `l2` and `graphs` follow the lease as `bitcoin-follow` does: only the process holding it reads the L2
 * and the graphs, so another process reports healthy and says who does.
 */

import { redactText } from '../core/redact.ts';
import type { HealthStatus } from '../observability/health.ts';

/** Who holds the follow lease, from this process's point of view. */
export type LeaseView = 'self' | 'other' | 'free';

const iso = (ms: number): string => new Date(ms).toISOString();
const ago = (now: number, ms: number): string => `${Math.max(0, Math.round((now - ms) / 1000))} s ago`;

// ------------------------------------------------------------------------------------------------
// The L2

/** What the epoch source knows about its reads of the L2 (timestamps in ms). */
export type L2SyncFacts = {
  /** When this process first tried to sync (undefined: not yet). */
  firstAttempt: number | undefined;
  /** When a sync last completed. */
  lastOk: number | undefined;
  /** The head the last completed sync saw, and since when it has been that block. */
  head: { number: bigint; since: number } | undefined;
  /** The syncs that failed since the last one that completed (undefined: the last one completed). */
  failures: { count: number; since: number; last: string } | undefined;
  /** The last chain id read differs from the configured one (undefined: it matched, or not read yet). */
  chain: { expected: number; reported: number; since: number } | undefined;
};

/** Failed syncs in a row before `l2` is unhealthy: each one already retried every URL (l2/rpc.ts). */
export const L2_FAILED_SYNCS_UNHEALTHY = 3;

export function l2Health(f: {
  lease: LeaseView;
  facts: L2SyncFacts;
  now: number;
  maxHeadAgeMs: number;
  maxFailedSyncs?: number;
}): HealthStatus {
  if (f.lease === 'free') return { healthy: false, reason: 'no Vigil process follows the L2 (lease free)' };
  if (f.lease === 'other') return { healthy: true, reason: 'another process follows the L2' };
  const { facts: s, now } = f;
  const maxS = Math.round(f.maxHeadAgeMs / 1000);
  if (s.chain !== undefined) {
    return {
      healthy: false,
      reason: `the L2 node answers chain id ${s.chain.reported}, not the configured l2.chainId ${s.chain.expected} (since ${iso(s.chain.since)}): nothing it says is used`,
    };
  }
  const lastFailure = s.failures !== undefined ? ` (last failure: ${redactText(s.failures.last)})` : '';
  if (s.failures !== undefined && s.failures.count >= (f.maxFailedSyncs ?? L2_FAILED_SYNCS_UNHEALTHY)) {
    return {
      healthy: false,
      reason: `L2 reads keep failing: ${s.failures.count} syncs in a row since ${iso(s.failures.since)}${lastFailure}`,
    };
  }
  if (s.lastOk === undefined) {
    if (s.firstAttempt === undefined || now - s.firstAttempt <= f.maxHeadAgeMs) {
      return { healthy: true, reason: 'no L2 sync completed yet' };
    }
    return {
      healthy: false,
      reason: `L2 ingestion has not completed a sync since it started at ${iso(s.firstAttempt)} (${ago(now, s.firstAttempt)}, more than l2.maxHeadAgeMs ${maxS} s)${lastFailure}`,
    };
  }
  if (now - s.lastOk > f.maxHeadAgeMs) {
    return {
      healthy: false,
      reason: `L2 ingestion stalled: no sync completed since ${iso(s.lastOk)} (${ago(now, s.lastOk)}, more than l2.maxHeadAgeMs ${maxS} s)${lastFailure}`,
    };
  }
  if (s.head !== undefined && now - s.head.since > f.maxHeadAgeMs) {
    return {
      healthy: false,
      reason: `the L2 head stalled: block ${s.head.number} since ${iso(s.head.since)} (${ago(now, s.head.since)}, more than l2.maxHeadAgeMs ${maxS} s): the L2 node or the L2 makes no new blocks`,
    };
  }
  return { healthy: true, reason: s.head !== undefined ? `L2 head ${s.head.number}` : 'L2 synced' };
}

// ------------------------------------------------------------------------------------------------
// The operator's graphs

export type GraphCoverageFacts = {
  /** Epochs committed on the L2 as ingested, and when this process first saw each commitment (ms). */
  committed: ReadonlyMap<bigint, number>;
  /** Epochs with an operator graph imported and verified (undefined: the graphs were not read yet). */
  graphs: ReadonlySet<bigint> | undefined;
};

/** How many epochs a reason lists by number. */
const LISTED = 10;

/**
 * The committed epochs that need a graph and have none after the grace period. Every committed epoch
 * needs one, except those before the first epoch with an imported graph, taken as history settled before
 * the operator's graphs were published there (with no graph at all, every committed epoch counts).
 */
export function epochsMissingGraphs(f: GraphCoverageFacts & { now: number; graceMs: number }): bigint[] {
  const have = f.graphs ?? new Set<bigint>();
  let first: bigint | undefined;
  for (const e of have) if (first === undefined || e < first) first = e;
  const out: bigint[] = [];
  for (const [epoch, since] of f.committed) {
    if (have.has(epoch) || (first !== undefined && epoch < first)) continue;
    if (f.now - since > f.graceMs) out.push(epoch);
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function graphsHealth(
  f: GraphCoverageFacts & { lease: LeaseView; now: number; graceMs: number },
): HealthStatus {
  if (f.lease === 'free') {
    return { healthy: false, reason: 'no Vigil process reads the operator’s graphs (lease free)' };
  }
  if (f.lease === 'other') return { healthy: true, reason: 'another process reads the operator’s graphs' };
  const missing = epochsMissingGraphs(f);
  if (missing.length === 0) {
    return {
      healthy: true,
      reason: `${f.graphs?.size ?? 0} graphs imported, ${f.committed.size} epochs committed`,
    };
  }
  const oldest = Math.min(...missing.map((e) => f.committed.get(e) as number));
  const listed = missing.slice(0, LISTED).join(', ');
  const more = missing.length > LISTED ? ` and ${missing.length - LISTED} more` : '';
  return {
    healthy: false,
    reason: `no operator graph imported for epoch${missing.length === 1 ? '' : 's'} ${listed}${more}, committed on the L2 more than dispute.graphGraceMs ${Math.round(f.graceMs / 1000)} s ago (first seen ${iso(oldest)}): a kick-off on ${missing.length === 1 ? 'it' : 'them'} would go unseen`,
  };
}

// ------------------------------------------------------------------------------------------------
// The dispute queue

export type WorkerState = 'running' | 'paused' | 'closed' | 'stopped' | 'not-started';

/** A job in the queue's failed set: BullMQ moves a job there only once it will not be retried. */
export type FailedJob = {
  id: string;
  name: string;
  disputeId: string | undefined;
  /** When it failed (ms), if BullMQ recorded it. */
  at: number | undefined;
  reason: string;
};

export type QueueFacts = {
  queue: string;
  worker: WorkerState;
  /** The status of each Redis connection the queue uses (ioredis: ready, connecting, reconnecting, end…). */
  connections: { role: string; status: string }[];
  /** Permanently failed jobs of disputes not resolved (the caller drops the others). */
  failed: FailedJob[];
  /** The failed set could not be read. */
  readError?: string;
};

export function queueHealth(f: QueueFacts): HealthStatus {
  const problems: string[] = [];
  if (f.worker !== 'running') {
    problems.push(
      f.worker === 'not-started'
        ? 'its worker has not started: no dispute job runs in this process'
        : `its worker is ${f.worker}: no dispute job runs in this process`,
    );
  }
  for (const c of f.connections) {
    if (c.status !== 'ready') problems.push(`the ${c.role} Redis connection is ${c.status}`);
  }
  if (f.readError !== undefined) problems.push(`its failed jobs cannot be read (${redactText(f.readError)})`);
  const shown = f.failed.slice(0, 5);
  for (const j of shown) {
    const dispute = j.disputeId !== undefined ? ` of dispute ${j.disputeId}` : '';
    const at = j.at !== undefined ? ` at ${iso(j.at)}` : '';
    problems.push(
      `job ${j.id} (${j.name}${dispute}) failed permanently${at}: ${redactText(j.reason.split('\n')[0] ?? '')}`,
    );
  }
  if (f.failed.length > shown.length) {
    problems.push(`${f.failed.length - shown.length} more jobs failed permanently`);
  }
  if (problems.length === 0) return { healthy: true };
  return { healthy: false, reason: `queue ${f.queue}: ${problems.join('; ')}` };
}
