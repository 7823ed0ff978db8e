import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import type { GameJobContext } from '../../src/challenger/game-context.ts';
import {
  DISPUTE_QUEUE,
  DisputeQueue,
  EVENTS_STREAM_MAX_LEN,
  QueuePrefixError,
} from '../../src/queue/dispute-queue.ts';
import {
  challengeJobId,
  JobIdError,
  jobId,
  judgeJobId,
  trackSchedulerId,
  urgentTrackJobId,
} from '../../src/queue/job-ids.ts';
import { watcherMetrics } from '../../src/queue/metrics.ts';
import { CONNECTION, cleanup, REDIS_URL, until } from '../../testkit/queue/scenario.ts';

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
const prefix = `{vigil-test-${randomUUID()}}`;
afterAll(async () => {
  await cleanup(redis, prefix);
  await redis.quit();
});

describe('job ids', () => {
  it('are deterministic and BullMQ-safe', () => {
    expect(judgeJobId(5n, 'ab'.repeat(32))).toBe('judge-e5-kabababababababab');
    expect(challengeJobId('e5-k00')).toBe('challenge-e5-k00');
    expect(() => jobId('a:b')).toThrow(JobIdError);
    expect(() => jobId(12, 34)).not.toThrow(); // '12-34' is not all digits
    expect(() => jobId(1234)).toThrow(JobIdError);
  });
  it('a queue without a {hash tag} prefix is refused', () => {
    expect(() => new DisputeQueue({ connection: CONNECTION, prefix: 'vigil' })).toThrow(QueuePrefixError);
  });
});

describe('what the queue keeps in Redis', () => {
  it('a dispute tracker removes its completed runs; the event stream is capped', async () => {
    const p = `{vigil-test-${randomUUID()}}`;
    const q = new DisputeQueue({ connection: CONNECTION, prefix: p, trackEveryMs: 60_000 });
    try {
      const ctx = q.bind({} as Parameters<DisputeQueue['bind']>[0]);
      await ctx.track('e7-k00');
      const scheduler = await q.queue.getJobScheduler(trackSchedulerId('e7-k00'));
      expect(scheduler?.template?.opts?.removeOnComplete).toBe(true);
      // 1,500 jobs add 1,500 events; BullMQ's default stream would keep every one of them.
      await q.queue.addBulk(
        Array.from({ length: 1500 }, (_, i) => ({ name: 'open', data: {}, opts: { jobId: `x-${i}-y` } })),
      );
      const events = await redis.xlen(`${p}:disputes:events`);
      expect(events).toBeGreaterThan(0);
      expect(events).toBeLessThanOrEqual(EVENTS_STREAM_MAX_LEN + 100);
    } finally {
      await q.close();
      await cleanup(redis, p);
    }
  });
});

describe('redrive of a dispute whose deadline is at risk', () => {
  it('adds one track run per tip beside the scheduler, and runs a challenge waiting out its backoff now', async () => {
    const p = `{vigil-test-${randomUUID()}}`;
    const q = new DisputeQueue({ connection: CONNECTION, prefix: p, trackEveryMs: 60_000 });
    try {
      const ctx = q.bind({} as Parameters<DisputeQueue['bind']>[0]);
      const asserted = { id: 'e7-k01', state: 'asserted' };
      const detected = { id: 'e8-k02', state: 'detected' };
      // The challenge job is in its backoff (delayed), as after a failed attempt.
      await q.queue.add(
        'challenge',
        { disputeId: detected.id },
        { jobId: challengeJobId(detected.id), delay: 60_000 },
      );
      const urgent = { ids: new Set([asserted.id, detected.id]), tip: 230 };
      expect(await q.redrive(ctx, [asserted, detected], urgent)).toBe(1);
      const track = await q.queue.getJob(urgentTrackJobId(asserted.id, 230));
      expect(track?.name).toBe('track');
      expect(track?.data).toEqual({ disputeId: asserted.id });
      expect(await track?.getState()).toBe('waiting');
      expect(await (await q.queue.getJob(challengeJobId(detected.id)))?.getState()).toBe('waiting');
      // Again at the same tip: nothing new (one run per tip); the scheduler is still there.
      expect(await q.redrive(ctx, [asserted, detected], urgent)).toBe(0);
      // The urgent run, the promoted challenge and the scheduler's own first run.
      expect(await q.queue.getWaitingCount()).toBe(3);
      expect(await q.queue.getJobScheduler(trackSchedulerId(asserted.id))).toBeDefined();
      // Not at risk: no extra run, and a delayed challenge waits out its backoff.
      await q.queue.add(
        'challenge',
        { disputeId: 'e9-k03' },
        { jobId: challengeJobId('e9-k03'), delay: 60_000 },
      );
      expect(await q.redrive(ctx, [{ id: 'e9-k03', state: 'detected' }], { ids: new Set(), tip: 231 })).toBe(
        0,
      );
      expect(await (await q.queue.getJob(challengeJobId('e9-k03')))?.getState()).toBe('delayed');
      // A challenge job that completed while its dispute is still `detected` (its writes lost to a
      // failover) runs again in mode challenge, not in mode watch (where it withholds and completes).
      const done = new Worker(DISPUTE_QUEUE, async () => 'done', { connection: CONNECTION, prefix: p });
      await q.queue.add('challenge', { disputeId: 'e10-k04' }, { jobId: challengeJobId('e10-k04') });
      await until(async () =>
        (await q.queue.getJob(challengeJobId('e10-k04')))?.finishedOn ? true : undefined,
      );
      await done.close();
      const lost = [{ id: 'e10-k04', state: 'detected' }];
      const watching = q.bind({ mode: 'watch' } as Parameters<DisputeQueue['bind']>[0]);
      expect(await q.redrive(watching, lost)).toBe(0);
      expect(await (await q.queue.getJob(challengeJobId('e10-k04')))?.getState()).toBe('completed');
      const challenging = q.bind({ mode: 'challenge' } as Parameters<DisputeQueue['bind']>[0]);
      expect(await q.redrive(challenging, lost)).toBe(1);
      expect(await (await q.queue.getJob(challengeJobId('e10-k04')))?.getState()).toBe('waiting');
    } finally {
      await q.close();
      await cleanup(redis, p);
    }
  });
});

describe('a game run that never finishes', () => {
  it('is abandoned at its deadline, and the game’s next run goes on (waited for, not abandoned too)', async () => {
    const p = `{vigil-test-${randomUUID()}}`;
    const q = new DisputeQueue({ connection: CONNECTION, prefix: p, gameRunDeadlineMs: 300 });
    let reads = 0;
    const game = q.bindGame({
      // The first read never answers (I/O that hangs); the next answers late (after the deadline) that
      // there is no record, so that run ends.
      store: {
        get: () =>
          ++reads === 1
            ? new Promise(() => undefined)
            : new Promise((resolve) => setTimeout(() => resolve(undefined), 600)),
      } as unknown as GameJobContext['store'],
      materialOf: async () => {
        throw new Error('not reached');
      },
    } as unknown as Omit<GameJobContext, 'untrack'>);
    try {
      q.startWorker({ logger: undefined } as unknown as Parameters<DisputeQueue['startWorker']>[0], { game });
      const result = async (jobId: string) =>
        until(async () => {
          const job = await q.queue.getJob(jobId);
          return (await job?.getState()) === 'completed' ? String(job?.returnvalue) : undefined;
        });
      await q.queue.add('game', { disputeId: 'g7-k00-w0' }, { jobId: 'game-run-1' });
      expect(await result('game-run-1')).toBe('abandoned after 300 ms: the next run goes on');
      await q.queue.add('game', { disputeId: 'g7-k00-w0' }, { jobId: 'game-run-2' });
      // The game has a run abandoned already: this one is waited for past the deadline, never left behind
      // too (at most two runs of a game pending).
      expect(await result('game-run-2')).toBe('record missing');
      expect(reads).toBe(2);
    } finally {
      await q.close();
      await cleanup(redis, p);
    }
  });
});

describe('a game whose every run fails', () => {
  it('is told by vigil_game_failing_seconds{dispute} until one of its runs completes', async () => {
    const p = `{vigil-test-${randomUUID()}}`;
    // One attempt a job: a game's repeating job tries again at its next repetition, as these do.
    const q = new DisputeQueue({ connection: CONNECTION, prefix: p, attempts: 1 });
    const metrics = watcherMetrics(new Registry());
    let recordKept = true;
    const game = q.bindGame({
      // A game Vigil cannot play: its material cannot be made (the failure is not "not ready yet").
      store: {
        get: async () => (recordKept ? { id: 'g7-k00-w0', state: 'detected', w: 0, epoch: 7n } : undefined),
      } as unknown as GameJobContext['store'],
      materialOf: async () => {
        throw new Error("epoch 7's run faulted at step 12 instead of halting");
      },
      metrics,
    } as unknown as Omit<GameJobContext, 'untrack'>);
    const failing = async () =>
      (await metrics.gameFailing.get()).values.find((v) => v.labels.dispute === 'g7-k00-w0')?.value;
    try {
      q.startWorker({ logger: undefined } as unknown as Parameters<DisputeQueue['startWorker']>[0], { game });
      const settled = (jobId: string) =>
        until(async () => {
          const state = await (await q.queue.getJob(jobId))?.getState();
          return state === 'failed' || state === 'completed' ? state : undefined;
        });
      expect(await failing()).toBeUndefined();
      await q.queue.add('game', { disputeId: 'g7-k00-w0' }, { jobId: 'game-fail-1' });
      expect(await settled('game-fail-1')).toBe('failed');
      expect(await failing()).toBe(0);
      await new Promise((r) => setTimeout(r, 1_100));
      await q.queue.add('game', { disputeId: 'g7-k00-w0' }, { jobId: 'game-fail-2' });
      expect(await settled('game-fail-2')).toBe('failed');
      // Counted from the first failure of the run of failures.
      expect(await failing()).toBeGreaterThanOrEqual(1);
      recordKept = false;
      await q.queue.add('game', { disputeId: 'g7-k00-w0' }, { jobId: 'game-done-3' });
      expect(await settled('game-done-3')).toBe('completed');
      expect(await failing()).toBeUndefined();
    } finally {
      await q.close();
      await cleanup(redis, p);
    }
  });
});
