/**
 * Crash runs (long suite, issue #8): in 22 seeded runs the watch daemon, a child process, is SIGKILLed
 * at seeded moments of a dispute (booting, building and broadcasting the challenge, tracking it, taking
 * the assert-timeout), up to three times per run, and restarted, while blocks keep coming. Every run
 * ends with exactly one challenge that ever reached the simnet, confirmed, one assert-timeout,
 * confirmed, and the dispute's whole history, once and in order. Then two daemons on one Redis prefix,
 * one of them SIGKILLed mid-run: still one challenge, not two. And the targeted case the seeds rarely
 * hit: the challenge job killed while it runs, then again while BullMQ re-runs it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/governance/workload.ts';
import {
  crashRun,
  type DisruptOutcome,
  disruptRun,
  endState,
  expectedEndState,
  killPlan,
  type Phase,
  startRun,
} from './crash-harness.ts';

const SEEDS = Array.from({ length: 22 }, (_, i) => 101 + i);
const RUN_TIMEOUT_MS = 420_000;
const outcomes = new Map<number, DisruptOutcome>();
const pairs = new Map<number, DisruptOutcome>();

describe('the watch daemon SIGKILLed at seeded moments of a dispute', () => {
  afterAll(() => {
    for (const [seed, o] of [...outcomes].sort((a, b) => a[0] - b[0])) {
      process.stdout.write(`seed ${seed}: ${o.timeline.join(' ')} (${o.blocks} blocks)\n`);
    }
  });

  it.concurrent.for(SEEDS)(
    'seed %i: one confirmed challenge, one slash, a complete history',
    { timeout: RUN_TIMEOUT_MS + 60_000 },
    async (seed, ctx) => {
      const run = await startRun();
      try {
        const out = await crashRun(run, seed, RUN_TIMEOUT_MS);
        outcomes.set(seed, out);
        const end = await endState(run);
        const why = `seed ${seed}: ${out.timeline.join(' ')}\n${run.logTail.slice(-40).join('\n')}`;
        ctx.expect(end, why).toEqual(expectedEndState(end));
        ctx.expect(out.done.length, why).toBeGreaterThan(0);
        ctx.expect(out.done.length).toBeLessThanOrEqual(killPlan(seed).length);
        ctx.expect(out.stopCodes, why).toEqual([0]);
        ctx.expect(run.unexpectedExits, why).toEqual([]);
      } finally {
        await run.close();
      }
    },
  );

  it('the kills covered challenge building and broadcast, and tracking', () => {
    expect(outcomes.size).toBe(SEEDS.length);
    const hit = new Set<Phase | undefined>();
    for (const o of outcomes.values()) for (const d of o.done) hit.add(d.at);
    // Where the dispute actually was at each kill, across the seeds: before detection, while the
    // challenge was built or broadcast, and while it was tracked.
    const some = (ps: Phase[]) => ps.some((p) => hit.has(p));
    expect([...hit]).toContain('boot');
    expect(some(['detected', 'built']), [...hit].join()).toBe(true);
    expect(some(['challenged', 'confirmed', 'timed-out']), [...hit].join()).toBe(true);
    const kills = [...outcomes.values()].reduce((n, o) => n + o.done.length, 0);
    expect(kills).toBeGreaterThanOrEqual(SEEDS.length);
  });
});

describe('two watch daemons on one Redis prefix', () => {
  afterAll(() => {
    for (const [seed, o] of [...pairs].sort((a, b) => a[0] - b[0])) {
      process.stdout.write(`seed ${seed}: ${o.timeline.join(' ')} (${o.blocks} blocks)\n`);
    }
  });

  it.concurrent.for([201, 203, 204])(
    'seed %i: one of them SIGKILLed mid-run (maybe both, in turn): one challenge, not two',
    { timeout: RUN_TIMEOUT_MS + 60_000 },
    async (seed, ctx) => {
      const run = await startRun();
      try {
        const rng = createRng(seed);
        // Each kill hits a seeded daemon; the plan's phases and delays are those of a crash run.
        const plan = killPlan(seed).map((k) => ({
          ...k,
          act: 'kill' as const,
          target: Math.floor(rng() * 2),
        }));
        const out = await disruptRun(run, plan, { seed, timeoutMs: RUN_TIMEOUT_MS, daemons: 2 });
        pairs.set(seed, out);
        const end = await endState(run);
        const why = `seed ${seed}: ${out.timeline.join(' ')}\n${run.logTail.slice(-40).join('\n')}`;
        ctx.expect(end, why).toEqual(expectedEndState(end));
        ctx.expect(out.done.length, why).toBeGreaterThan(0);
        ctx.expect(out.stopCodes, why).toEqual([0, 0]);
        ctx.expect(run.unexpectedExits, why).toEqual([]);
      } finally {
        await run.close();
      }
    },
  );
});

describe('the challenge job killed twice while it runs', () => {
  it('SIGKILLed inside processChallenge, and again inside its re-run after BullMQ recovered it: the challenge still goes out', {
    timeout: 240_000,
  }, async () => {
    const run = await startRun();
    try {
      const kill = { phase: 'detected', delayMs: 0, downMs: 100, act: 'kill' } as const;
      const out = await disruptRun(
        run,
        [
          { ...kill, challengeJob: 'active' },
          { ...kill, challengeJob: 'rerun' },
        ],
        { seed: 401, timeoutMs: 180_000 },
      );
      const end = await endState(run);
      const why = `${out.timeline.join(' ')}\n${run.logTail.slice(-40).join('\n')}`;
      // Both kills landed while the challenge was built or broadcast, before the dispute moved on.
      expect(out.done.length, why).toBe(2);
      for (const d of out.done) expect(['detected', 'built'], why).toContain(d.at);
      expect(end, why).toEqual(expectedEndState(end));
      expect(out.stopCodes, why).toEqual([0]);
      expect(run.unexpectedExits, why).toEqual([]);
    } finally {
      await run.close();
    }
  });
});
