/**
 * Redis restarted mid-dispute (long suite, issue #8): a private redis-server (append-only file, fsync
 * always; never the shared 6379) is stopped (SHUTDOWN, or SIGKILL) at moments of a dispute and started
 * again on the same port and directory, while the watch daemon runs and blocks keep coming; once
 * combined with a SIGKILL of the daemon. The daemon must ride out every outage (no exit), and each
 * run ends as an uninterrupted one: one challenge, confirmed, one slash, the whole history in order.
 */
import { afterAll, describe, it } from 'vitest';
import {
  type Disruption,
  type DisruptOutcome,
  disruptRun,
  endState,
  expectedEndState,
  startPrivateRedis,
  startRun,
} from './crash-harness.ts';

const RUN_TIMEOUT_MS = 420_000;

const CASES: { name: string; seed: number; plan: Disruption[] }[] = [
  {
    name: 'SHUTDOWN while the challenge is built',
    seed: 301,
    plan: [{ phase: 'detected', delayMs: 150, downMs: 1000, act: 'redis-shutdown' }],
  },
  {
    name: 'SIGKILL right after the challenge is written ahead',
    seed: 302,
    plan: [{ phase: 'built', delayMs: 0, downMs: 1500, act: 'redis-kill' }],
  },
  {
    name: 'SHUTDOWN while the challenge is tracked',
    seed: 303,
    plan: [{ phase: 'challenged', delayMs: 100, downMs: 2000, act: 'redis-shutdown' }],
  },
  {
    name: 'SIGKILL while the challenge is tracked, for 5 s',
    seed: 304,
    plan: [{ phase: 'challenged', delayMs: 300, downMs: 5000, act: 'redis-kill' }],
  },
  {
    name: 'SIGKILL once the challenge confirmed (assert-timeout building)',
    seed: 305,
    plan: [{ phase: 'confirmed', delayMs: 0, downMs: 1000, act: 'redis-kill' }],
  },
  {
    name: 'SIGKILL during detection, then SHUTDOWN during tracking',
    seed: 306,
    plan: [
      { phase: 'detected', delayMs: 0, downMs: 800, act: 'redis-kill' },
      { phase: 'challenged', delayMs: 200, downMs: 800, act: 'redis-shutdown' },
    ],
  },
  {
    name: 'SIGKILL of redis-server, then SIGKILL of the daemon',
    seed: 307,
    plan: [
      { phase: 'built', delayMs: 5, downMs: 1000, act: 'redis-kill' },
      { phase: 'challenged', delayMs: 150, downMs: 200, act: 'kill' },
    ],
  },
];

const outcomes = new Map<string, DisruptOutcome>();

describe('Redis restarted mid-dispute', () => {
  afterAll(() => {
    for (const [name, o] of outcomes)
      process.stdout.write(`${name}: ${o.timeline.join(' ')} (${o.blocks} blocks)\n`);
  });

  for (const c of CASES) {
    it.concurrent(`${c.name}: the same end state`, { timeout: RUN_TIMEOUT_MS + 60_000 }, async (ctx) => {
      const redis = await startPrivateRedis();
      try {
        const run = await startRun({ redisUrl: redis.url });
        try {
          const out = await disruptRun(run, c.plan, { seed: c.seed, timeoutMs: RUN_TIMEOUT_MS, redis });
          outcomes.set(c.name, out);
          const end = await endState(run);
          const why = `${c.name}: ${out.timeline.join(' ')}\n${run.logTail.slice(-40).join('\n')}`;
          ctx.expect(end, why).toEqual(expectedEndState(end));
          // Every planned disruption happened mid-dispute (none was skipped by an early resolution).
          ctx
            .expect(
              out.done.map((d) => d.act),
              why,
            )
            .toEqual(c.plan.map((d) => d.act));
          ctx.expect(out.stopCodes, why).toEqual([0]);
          ctx.expect(run.unexpectedExits, why).toEqual([]);
        } finally {
          await run.close();
        }
      } finally {
        await redis.stop();
      }
    });
  }
});
