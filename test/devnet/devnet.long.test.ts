/**
 * Issue #8, acceptance 1, the honest half at length: an honest operator over ≥ 50 epochs on the full
 * devnet (anvil, simnet, the watcher through its queue) gets zero "fraud" verdicts and zero challenges,
 * on two different workloads.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDevnet } from '../../src/devnet/run.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
let redis: Redis;
beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
});
afterAll(async () => {
  await redis.quit();
});

describe('vigil devnet, an honest operator at length', () => {
  for (const seed of [7, 21]) {
    it(`seed ${seed}: 50 epochs, every one judged valid, no dispute, no spend`, async () => {
      const s = await runDevnet({ redis, redisUrl: REDIS_URL, epochs: 50, seed, fault: 'none' });
      expect(s.problems).toEqual([]);
      expect(s.ok).toBe(true);
      expect(s.claims).toBe(50);
      expect(s.verdicts).toEqual({ valid: 50, fraud: 0, unavailable: 0 });
      expect(s.disputes).toEqual([]);
    }, 900_000);
  }
});
