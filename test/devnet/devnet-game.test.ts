/**
 * `vigil devnet --game` (src/devnet/game-run.ts): the narrowing game played end to end on the devnet. The
 * operator claims every epoch through the L2's challenger registry, builds each claim graph on Vigil's
 * bundle and answers every round from its own build of the governance program; Vigil's watcher judges
 * every kick-off and plays its games as jobs on the simnet. A faulty operator is slashed at a step of its
 * fault's rule in every epoch its fault touched; its true claims are left alone and taken back.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { runDevnetGame } from '../../src/devnet/game-run.ts';
import { REDIS_URL } from '../../testkit/queue/scenario.ts';
import { FAULT_RULE_LABEL } from '../governance/fault-cases.ts';
import { findBitingSeed } from './fault-seeds.ts';

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
afterAll(async () => {
  await redis.quit();
});

describe('vigil devnet --game', () => {
  it('a faulty operator (vote-counted-twice): every false claim is narrowed to its rule and slashed, every true one taken back', async () => {
    const fault = 'vote-counted-twice';
    const bite = findBitingSeed(fault, 3);
    const lines: string[] = [];
    const summary = await runDevnetGame({
      redis,
      redisUrl: REDIS_URL,
      epochs: 3,
      seed: bite.seed,
      fault,
      say: (l) => lines.push(l),
    });
    const why = `${lines.join('\n')}\n${JSON.stringify(summary, (_k, v) => (typeof v === 'bigint' ? String(v) : v), 2)}`;
    expect(summary.problems, why).toEqual([]);
    expect(summary.ok, why).toBe(true);
    const frauds = summary.claims.filter((c) => c.fraud);
    expect(frauds.length, why).toBeGreaterThan(0);
    expect(
      summary.claims.some((c) => !c.fraud),
      why,
    ).toBe(true);
    for (const c of frauds) {
      expect(c.game?.outcome, why).toBe('operator-slashed');
      expect(c.game?.endedBy, why).toBe(`slash:${c.game?.endedAt}`);
      expect(c.end, why).toBe('slashed');
      expect(c.narrowed?.at, why).toMatch(FAULT_RULE_LABEL[fault] as RegExp);
    }
    for (const c of summary.claims.filter((x) => !x.fraud)) {
      expect(c.game, why).toBeUndefined();
      expect(c.end, why).toBe('taken');
    }
  }, 600_000);
});
