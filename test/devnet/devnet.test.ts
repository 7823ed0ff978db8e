/**
 * The devnet end to end, per fault of the catalogue: anvil + contracts + workload, a faulty operator
 * committing on the L2 and claiming on Bitcoin (simnet), and the watcher catching it at the right epoch,
 * step and rule, challenging through the queue, and following the dispute to the operator's slash —
 * by disprove when the operator asserts its trace, by assert-timeout when it never does. And an honest
 * operator: no fraud verdict, no challenge (over 50 epochs in devnet.long.test.ts).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportedBundle } from '../../src/devnet/export-bundles.ts';
import { runDevnet } from '../../src/devnet/run.ts';
import type { DevnetSummary } from '../../src/devnet/summary.ts';
import { FAULTS } from '../../src/governance/index.ts';
import { parseBundle } from '../../src/replay/bundle-codec.ts';
import { replayBundle } from '../../src/replay/engine.ts';
import { replayPassed } from '../../src/replay/format.ts';
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

const replayOf = async (path: string) => replayBundle(parseBundle(await readFile(path, 'utf8'), path));

/**
 * Issue #16's acceptance 1 and 2 per fault: each dispute's exported bundle replays offline to the
 * watcher's verdict, step and rule, and says it agrees; the bundle fetched from the chains alone replays
 * to the same verdict and first divergent step; the honest epochs replay as valid.
 */
async function expectBundlesReplay(
  bundles: readonly ExportedBundle[],
  bite: { epoch: bigint; step: number; rule: string | null; fault: string },
  s: DevnetSummary,
): Promise<void> {
  expect(bundles.map((b) => b.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, i) => BigInt(i)));
  for (const b of bundles) {
    expect(b.fetchError).toBeUndefined();
    const fetched = await replayOf(b.fetched as string);
    expect(fetched.chainChecksOk).toBe(true);
    if (b.epoch < bite.epoch) {
      expect(b.exported).toBeUndefined();
      expect(fetched.verdict.outcome).toBe('valid');
      expect(replayPassed(fetched)).toBe(true);
      continue;
    }
    const dispute = s.disputes.find((d) => d.epoch === b.epoch);
    expect(dispute).toBeDefined();
    const exported = await replayOf(b.exported as string);
    expect(exported.verdict.outcome).toBe('fraud');
    expect(exported.chainChecksOk).toBe(true);
    // The diagnosis reaches the record shortly after the open job; a gap would be named, never agreed with.
    expect(exported.agreement).toMatchObject({ compared: true, agrees: true, differences: [] });
    expect(exported.consistency).toEqual([]);
    expect(fetched.consistency).toEqual([]);
    expect(fetched.verdict).toEqual(exported.verdict);
    expect(fetched.divergence).toEqual(exported.divergence);
    expect(fetched.checkpoints.disproveStep).toBe(exported.checkpoints.disproveStep);
    expect(replayPassed(exported)).toBe(false);
    if (b.epoch === bite.epoch) {
      expect(exported.divergence).toMatchObject({
        found: true,
        fault: bite.fault,
        rule: bite.rule,
        step: bite.step,
      });
    }
  }
}

/**
 * The faults whose devnet run takes longest (each bites late in its workload and is played with an
 * operator that never asserts, so the run waits out T_a): 30–50 s each on the 2-core CI machine. They run
 * in the long suite (devnet-catalogue.long.test.ts, VIGIL_LONG=1); `npm test` keeps the other eight, both
 * operator behaviours among them. Every fault is still caught in `npm test` by the game and verify tests.
 */
const LONG_ONLY = new Set([
  'out-of-bounds-applied',
  'timelock-ignored',
  'power-cap-not-applied',
  'unstake-keeps-power',
]);
const LONG = process.env.VIGIL_LONG === '1';

describe('vigil devnet, end to end', () => {
  FAULTS.forEach((fault, i) => {
    const behaviour = i % 2 === 0 ? 'assert' : 'never-assert';
    if (!LONG && LONG_ONLY.has(fault.name)) return;
    it(`catches ${fault.name} (operator ${behaviour}s) at the epoch and step it bites`, async () => {
      const bite = findBitingSeed(fault.name, EPOCHS);
      const dir = await mkdtemp(join(tmpdir(), 'vigil-devnet-bundles-'));
      const s = await runDevnet({
        redis,
        redisUrl: REDIS_URL,
        epochs: EPOCHS,
        seed: bite.seed,
        fault: fault.name,
        behaviour,
        exportBundles: dir,
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
      // The run is over: its chains are stopped and its Redis keys deleted. Every bundle replays offline.
      await expectBundlesReplay(s.bundles ?? [], { ...bite, rule: fault.breaks, fault: fault.name }, s);
      await rm(dir, { recursive: true, force: true });
    }, 240_000);
  });

  it('the long suite’s faults are faults of the catalogue', () => {
    expect([...LONG_ONLY].filter((f) => !FAULTS.some((x) => x.name === f))).toEqual([]);
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
