/**
 * The devnet at length. Issue #8, acceptance 1, the honest half: an honest operator over ≥ 50 epochs
 * (anvil, simnet, the watcher through its queue) gets zero "fraud" verdicts and zero challenges, on two
 * workloads. And every operator strategy against every fault of the catalogue, on the first three
 * workload seeds where that fault bites: each run must end as the strategy's plan says, with Vigil's
 * wallet inside its allowance and no honest epoch accused.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDevnet } from '../../src/devnet/run.ts';
import { STRATEGIES } from '../../src/devnet/strategies/index.ts';
import { FAULTS } from '../../src/governance/index.ts';
import { findBitingSeeds } from './fault-seeds.ts';

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

const EPOCHS = 3;
const SEEDS_PER_FAULT = 3;

describe('vigil devnet, every strategy × every fault × three seeds', () => {
  for (const fault of FAULTS) {
    const bites = findBitingSeeds(fault.name, EPOCHS, SEEDS_PER_FAULT);
    for (const strategy of STRATEGIES) {
      for (const bite of bites) {
        it(`${strategy.name} × ${fault.name}, seed ${bite.seed}: ends ${strategy.expect}`, async () => {
          const s = await runDevnet({
            redis,
            redisUrl: REDIS_URL,
            epochs: EPOCHS,
            seed: bite.seed,
            fault: fault.name,
            strategy: strategy.name,
          });
          expect(s.disputes.every((d) => d.epoch >= bite.epoch)).toBe(true);
          const w = s.walletSpend as NonNullable<typeof s.walletSpend>;
          expect(w.spent <= w.allowance).toBe(true);
          expect(s.problems).toEqual([]);
          expect(s.ok).toBe(true);
        }, 180_000);
      }
    }
  }
});
