/**
 * The devnet end to end, per fault of the catalogue: anvil + contracts + workload, a faulty operator
 * committing on the L2 and claiming on Bitcoin (simnet), and the watcher catching it at the right epoch,
 * step and rule, challenging through the queue, and following the dispute to the operator's slash —
 * by disprove when the operator asserts its trace, by assert-timeout when it never does. And an honest
 * operator: no fraud verdict, no challenge (over 50 epochs in devnet.long.test.ts).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDevnet } from '../../src/devnet/run.ts';
import { FAULTS } from '../../src/governance/index.ts';
import { findBitingSeed, seedWithGasLimitChange, seedWithWindowChange } from './fault-seeds.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
let redis: Redis;
beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
});
afterAll(async () => {
  await redis.quit();
});

const EPOCHS = 3;

describe('vigil devnet, end to end', () => {
  FAULTS.forEach((fault, i) => {
    const behaviour = i % 2 === 0 ? 'assert' : 'never-assert';
    it(`catches ${fault.name} (operator ${behaviour}s) at the epoch and step it bites`, async () => {
      const bite = findBitingSeed(fault.name, EPOCHS);
      const s = await runDevnet({
        redis,
        redisUrl: REDIS_URL,
        epochs: EPOCHS,
        seed: bite.seed,
        fault: fault.name,
        behaviour,
      });
      expect(s.problems).toEqual([]);
      expect(s.ok).toBe(true);
      const first = [...s.disputes].sort((a, b) => Number(a.epoch - b.epoch))[0];
      expect(first?.epoch).toBe(bite.epoch);
      expect(first?.step).toBe(bite.step);
      expect(first?.rule).toBe(fault.breaks);
      expect(first?.challengeConfirmed).toBe(true);
      expect(first?.outcome).toBe('operator-slashed');
      // Every wrong epoch is disputed once; no honest epoch before the fault is.
      expect(s.disputes.every((d) => d.epoch >= bite.epoch)).toBe(true);
      expect(s.verdicts.fraud).toBe(s.disputes.length);
      expect(s.verdicts.valid).toBe(Number(bite.epoch));
    }, 180_000);
  });

  it.each(['rollup-param-ignored', 'rollup-param-early'])(
    'with the %s sequencer: an L2 execution fault at the first broken block, and no one accuses the operator',
    async (fault) => {
      const seed = seedWithGasLimitChange(EPOCHS);
      const s = await runDevnet({ redis, redisUrl: REDIS_URL, epochs: EPOCHS, seed, fault });
      expect(s.problems).toEqual([]);
      expect(s.ok).toBe(true);
      expect(s.rollupParamFaults.map((f) => f.param)).toContain('l2GasLimit');
      expect(s.verdicts).toEqual({ valid: EPOCHS, fraud: 0, unavailable: 0 });
      expect(s.disputes).toEqual([]);
    },
    180_000,
  );

  it('an honest operator builds each graph on the challenge window governance put in force for its epoch', async () => {
    const { seed, windows } = seedWithWindowChange(EPOCHS);
    const s = await runDevnet({ redis, redisUrl: REDIS_URL, epochs: EPOCHS, seed, fault: 'none' });
    expect(new Set(windows).size).toBeGreaterThan(1); // the run crosses a change
    expect(s.problems).toEqual([]);
    expect(s.verdicts).toEqual({ valid: EPOCHS, fraud: 0, unavailable: 0 });
    expect(s.operatorEnds.map((e) => e.state)).toEqual(windows.map(() => 'taken'));
  }, 180_000);

  it('accuses no one when the operator is honest (the 50-epoch run is in the long suite)', async () => {
    const s = await runDevnet({ redis, redisUrl: REDIS_URL, epochs: 6, seed: 7, fault: 'none' });
    expect(s.problems).toEqual([]);
    expect(s.ok).toBe(true);
    expect(s.verdicts).toEqual({ valid: 6, fraud: 0, unavailable: 0 });
    expect(s.disputes).toEqual([]);
  }, 300_000);
});
