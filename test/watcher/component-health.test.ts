/**
 * The `l2`, `graphs` and `queue` health rules over facts, without chains (src/watcher/component-health.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  epochsMissingGraphs,
  graphsHealth,
  type L2SyncFacts,
  l2Health,
  type QueueFacts,
  queueHealth,
} from '../../src/watcher/component-health.ts';

const NOW = Date.parse('2026-01-01T01:00:00.000Z');
const S = 1000;
const MAX = 120 * S;

const synced = (over: Partial<L2SyncFacts> = {}): L2SyncFacts => ({
  firstAttempt: NOW - 600 * S,
  lastOk: NOW - 5 * S,
  head: { number: 120n, since: NOW - 5 * S },
  failures: undefined,
  chain: undefined,
  ...over,
});

describe('l2Health', () => {
  it.each<[string, L2SyncFacts, boolean, string | RegExp]>([
    ['synced, the head moving', synced(), true, 'L2 head 120'],
    [
      'not synced yet, just started',
      synced({ firstAttempt: NOW - 10 * S, lastOk: undefined, head: undefined }),
      true,
      'no L2 sync completed yet',
    ],
    [
      'no sync attempted yet',
      synced({ firstAttempt: undefined, lastOk: undefined, head: undefined }),
      true,
      'no L2 sync completed yet',
    ],
    [
      'another chain behind the URL',
      synced({ chain: { expected: 31337, reported: 777, since: NOW - 20 * S } }),
      false,
      'the L2 node answers chain id 777, not the configured l2.chainId 31337 (since 2026-01-01T00:59:40.000Z): nothing it says is used',
    ],
    [
      'two failed syncs: not yet',
      synced({ failures: { count: 2, since: NOW - 10 * S, last: 'L2 RPC eth_blockNumber failed 8 times' } }),
      true,
      'L2 head 120',
    ],
    [
      'reads keep failing, the failure named and its URL redacted',
      synced({
        failures: {
          count: 3,
          since: NOW - 30 * S,
          last: 'L2 RPC eth_blockNumber failed 8 times: fetch failed at https://u:hunter2@l2.example/v2/abcdef0123456789abcdef',
        },
      }),
      false,
      'L2 reads keep failing: 3 syncs in a row since 2026-01-01T00:59:30.000Z (last failure: L2 RPC eth_blockNumber failed 8 times: fetch failed at https://u:redacted@l2.example/v2/redacted)',
    ],
    [
      'never synced since the start, past the max age',
      synced({
        firstAttempt: NOW - 300 * S,
        lastOk: undefined,
        head: undefined,
        failures: { count: 1, since: NOW - 300 * S, last: 'timeout' },
      }),
      false,
      'L2 ingestion has not completed a sync since it started at 2026-01-01T00:55:00.000Z (300 s ago, more than l2.maxHeadAgeMs 120 s) (last failure: timeout)',
    ],
    [
      'no sync completed for longer than the max age (a sync hanging)',
      synced({ lastOk: NOW - 200 * S, head: { number: 120n, since: NOW - 200 * S } }),
      false,
      'L2 ingestion stalled: no sync completed since 2026-01-01T00:56:40.000Z (200 s ago, more than l2.maxHeadAgeMs 120 s)',
    ],
    [
      'the head has not moved for longer than the max age',
      synced({ head: { number: 120n, since: NOW - 121 * S } }),
      false,
      'the L2 head stalled: block 120 since 2026-01-01T00:57:59.000Z (121 s ago, more than l2.maxHeadAgeMs 120 s): the L2 node or the L2 makes no new blocks',
    ],
    [
      'the head at the max age exactly: still healthy',
      synced({ head: { number: 120n, since: NOW - MAX } }),
      true,
      'L2 head 120',
    ],
  ])('%s', (_name, facts, healthy, reason) => {
    const h = l2Health({ lease: 'self', facts, now: NOW, maxHeadAgeMs: MAX });
    expect(h.healthy).toBe(healthy);
    if (typeof reason === 'string') expect(h.reason).toBe(reason);
    else expect(h.reason).toMatch(reason);
    expect(h.reason ?? '').not.toContain('hunter2');
  });

  it('a chain mismatch is named before the failures it causes', () => {
    const h = l2Health({
      lease: 'self',
      facts: synced({
        chain: { expected: 1, reported: 2, since: NOW },
        failures: { count: 9, since: NOW, last: 'The L2 node reports chain id 2, not 1' },
      }),
      now: NOW,
      maxHeadAgeMs: MAX,
    });
    expect(h.reason).toMatch(/^the L2 node answers chain id 2, not the configured l2.chainId 1/);
  });

  it('follows the lease: another process follows the L2, or none does', () => {
    const stale = synced({ lastOk: NOW - 1000 * S });
    expect(l2Health({ lease: 'other', facts: stale, now: NOW, maxHeadAgeMs: MAX })).toEqual({
      healthy: true,
      reason: 'another process follows the L2',
    });
    expect(l2Health({ lease: 'free', facts: synced(), now: NOW, maxHeadAgeMs: MAX })).toEqual({
      healthy: false,
      reason: 'no Vigil process follows the L2 (lease free)',
    });
  });
});

describe('graphsHealth', () => {
  const GRACE = 1800 * S;
  const committed = (entries: [bigint, number][]) => new Map(entries.map(([e, ago]) => [e, NOW - ago * S]));

  it.each<[string, Map<bigint, number>, bigint[] | undefined, bigint[]]>([
    ['nothing committed', committed([]), undefined, []],
    [
      'every committed epoch has its graph',
      committed([
        [0n, 4000],
        [1n, 3000],
      ]),
      [0n, 1n, 2n],
      [],
    ],
    [
      'no graph at all: every committed epoch past the grace',
      committed([
        [0n, 4000],
        [1n, 1900],
        [2n, 60],
      ]),
      undefined,
      [0n, 1n],
    ],
    [
      'the last committed epoch has none',
      committed([
        [0n, 4000],
        [1n, 2000],
      ]),
      [0n],
      [1n],
    ],
    [
      'a gap between graphs',
      committed([
        [3n, 4000],
        [4n, 4000],
        [5n, 4000],
      ]),
      [3n, 5n],
      [4n],
    ],
    [
      'within the grace: not yet',
      committed([
        [0n, 4000],
        [1n, 1800],
      ]),
      [0n],
      [],
    ],
    [
      'before the first graph: settled history',
      committed([
        [0n, 9000],
        [1n, 9000],
        [2n, 9000],
      ]),
      [2n],
      [],
    ],
  ])('%s', (_name, c, graphs, missing) => {
    const facts = { committed: c, graphs: graphs && new Set(graphs), now: NOW, graceMs: GRACE };
    expect(epochsMissingGraphs(facts)).toEqual(missing);
    expect(graphsHealth({ ...facts, lease: 'self' }).healthy).toBe(missing.length === 0);
  });

  it('names the epochs, the grace and since when', () => {
    const h = graphsHealth({
      committed: committed([
        [0n, 4000],
        [1n, 2000],
      ]),
      graphs: new Set([0n]),
      lease: 'self',
      now: NOW,
      graceMs: GRACE,
    });
    expect(h).toEqual({
      healthy: false,
      reason:
        'no operator graph imported for epoch 1, committed on the L2 more than dispute.graphGraceMs 1800 s ago (first seen 2026-01-01T00:26:40.000Z): a kick-off on it would go unseen',
    });
  });

  it('lists ten epochs and counts the rest', () => {
    const c = new Map(Array.from({ length: 13 }, (_, i) => [BigInt(i), NOW - 4000 * S] as const));
    const h = graphsHealth({ committed: c, graphs: undefined, lease: 'self', now: NOW, graceMs: GRACE });
    expect(h.reason).toMatch(
      /^no operator graph imported for epochs 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 3 more, /,
    );
    expect(h.reason).toMatch(/a kick-off on them would go unseen$/);
  });

  it('follows the lease', () => {
    const c = committed([[0n, 4000]]);
    expect(
      graphsHealth({ committed: c, graphs: undefined, lease: 'other', now: NOW, graceMs: GRACE }).healthy,
    ).toBe(true);
    expect(
      graphsHealth({ committed: c, graphs: new Set([0n]), lease: 'free', now: NOW, graceMs: GRACE }),
    ).toEqual({
      healthy: false,
      reason: 'no Vigil process reads the operator’s graphs (lease free)',
    });
  });
});

describe('queueHealth', () => {
  const ok: QueueFacts = {
    queue: 'disputes',
    worker: 'running',
    connections: [
      { role: 'queue', status: 'ready' },
      { role: 'worker', status: 'ready' },
    ],
    failed: [],
  };

  it.each<[string, Partial<QueueFacts>, string | undefined]>([
    ['running, connected, nothing failed', {}, undefined],
    [
      'worker closed',
      { worker: 'closed' },
      'queue disputes: its worker is closed: no dispute job runs in this process',
    ],
    [
      'worker paused',
      { worker: 'paused' },
      'queue disputes: its worker is paused: no dispute job runs in this process',
    ],
    [
      'worker never started',
      { worker: 'not-started' },
      'queue disputes: its worker has not started: no dispute job runs in this process',
    ],
    [
      'the queue connection is reconnecting',
      {
        connections: [
          { role: 'queue', status: 'reconnecting' },
          { role: 'worker', status: 'ready' },
        ],
      },
      'queue disputes: the queue Redis connection is reconnecting',
    ],
    [
      'the failed set cannot be read',
      { readError: 'no answer within 500 ms' },
      'queue disputes: its failed jobs cannot be read (no answer within 500 ms)',
    ],
    [
      'a job failed for good',
      {
        failed: [
          {
            id: 'challenge:d1',
            name: 'challenge',
            disputeId: 'd1',
            at: NOW,
            reason: 'fee cap reached\n    at stack line',
          },
        ],
      },
      'queue disputes: job challenge:d1 (challenge of dispute d1) failed permanently at 2026-01-01T01:00:00.000Z: fee cap reached',
    ],
  ])('%s', (_name, over, reason) => {
    const h = queueHealth({ ...ok, ...over });
    if (reason === undefined) expect(h).toEqual({ healthy: true });
    else expect(h).toEqual({ healthy: false, reason });
  });

  it('names five failed jobs and counts the rest; every problem in one reason', () => {
    const failed = Array.from({ length: 7 }, (_, i) => ({
      id: `j${i}`,
      name: 'track',
      disputeId: undefined,
      at: undefined,
      reason: 'boom',
    }));
    const h = queueHealth({ ...ok, worker: 'closed', failed });
    expect(h.reason).toBe(
      `queue disputes: its worker is closed: no dispute job runs in this process; ${failed
        .slice(0, 5)
        .map((j) => `job ${j.id} (track) failed permanently: boom`)
        .join('; ')}; 2 more jobs failed permanently`,
    );
  });
});
