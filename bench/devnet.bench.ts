/**
 * The devnet figures of issue #8: detection latency on the whole system (anvil L2, operator graphs and
 * kick-offs on simnet, the watcher with its L2 epoch source and graph registry, the BullMQ queue) — from
 * the block that puts a fraudulent kick-off at depth being mined to the challenge being in the mempool —
 * and how fast the watcher judges a backlog of claimed epochs from a cold start (L2 ingestion, graph
 * import and verification, kick-off reads, judging), with the reference model alone on the same feed as
 * the same-run baseline; beside it, how fast the same run's watcher reached the L2 head. Last, the whole
 * narrowing-game devnet with a lying operator, against Part II's devnet on the same workload.
 */
import { Redis } from 'ioredis';
import { runDevnetGame } from '../src/devnet/game-run.ts';
import { runDevnet } from '../src/devnet/run.ts';
import { reexecute } from '../src/governance/index.ts';
import { devnetWorkload } from '../src/l2/devnet.ts';
import { type Benchmark, timeBest, withRatio } from './harness.ts';

const REDIS_URL = process.env.VIGIL_REDIS_URL ?? 'redis://127.0.0.1:6379';

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
};

async function withRedis<T>(fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  try {
    return await fn(redis);
  } finally {
    await redis.quit();
  }
}

export const benchmarks: Benchmark[] = [
  {
    name: 'devnet.detection',
    run: () =>
      withRedis(async (redis) => {
        // commission-not-taken bites at the first epoch with rewards; every later claim is wrong too,
        // so each run gives one latency sample per disputed epoch.
        const samples: number[] = [];
        for (const seed of [1, 2, 3]) {
          const s = await runDevnet({
            redis,
            redisUrl: REDIS_URL,
            epochs: 8,
            seed,
            fault: 'commission-not-taken',
          });
          if (!s.ok) throw new Error(`devnet run not as expected: ${s.problems.join('; ')}`);
          for (const d of s.disputes) if (d.latencyMs !== undefined) samples.push(d.latencyMs);
        }
        return [
          {
            name: 'devnet.detection.median',
            value: quantile(samples, 0.5),
            unit: 'ms',
            target: '≤ 1000 ms',
          },
          { name: 'devnet.detection.p99', value: quantile(samples, 0.99), unit: 'ms' },
          { name: 'devnet.detection.samples', value: samples.length, unit: 'disputes' },
        ];
      }),
  },
  {
    name: 'devnet.backlog',
    run: () =>
      withRedis(async (redis) => {
        const epochs = 40;
        const seed = 5;
        const s = await runDevnet({ redis, redisUrl: REDIS_URL, epochs, seed, fault: 'none', backlog: true });
        if (!s.ok || s.judgedPerSecond === undefined || s.l2IngestedPerSecond === undefined) {
          throw new Error(`devnet backlog run not as expected: ${s.problems.join('; ')}`);
        }
        const w = devnetWorkload({ seed, epochs });
        const modelMs = await timeBest(() => reexecute(w.inputs, { genesis: w.genesis }), 300, 2);
        const model = epochs / (modelMs / 1000);
        return [
          withRatio({
            name: 'devnet.backlog.epochs-judged',
            value: s.judgedPerSecond,
            unit: 'epochs/s',
            baseline: model,
          }),
          // The same run's pace to the L2 head (every block's receipts, a trace of each refused transaction,
          // beside the graph imports and judging of the same polls): judging cannot outrun it.
          withRatio({
            name: 'devnet.backlog.l2-ingested',
            value: s.l2IngestedPerSecond,
            unit: 'epochs/s',
            baseline: model,
          }),
        ];
      }),
  },
  {
    // The whole run of `vigil devnet --fault commission-not-taken` (4 false claims, each narrowed
    // to its step and slashed on the simnet), against Part II's devnet on the same workload and fault.
    name: 'devnet.game',
    run: () =>
      withRedis(async (redis) => {
        const o = { redis, redisUrl: REDIS_URL, epochs: 5, seed: 1, fault: 'commission-not-taken' };
        let t0 = performance.now();
        const game = await runDevnetGame(o);
        const gameMs = performance.now() - t0;
        if (!game.ok) throw new Error(`devnet game run not as expected: ${game.problems.join('; ')}`);
        t0 = performance.now();
        const part2 = await runDevnet(o);
        const part2Ms = performance.now() - t0;
        if (!part2.ok) throw new Error(`devnet run not as expected: ${part2.problems.join('; ')}`);
        const games = game.claims.filter((c) => c.fraud).length;
        return [
          withRatio({ name: 'devnet.game.run', value: gameMs / 1000, unit: 's', baseline: part2Ms / 1000 }),
          { name: 'devnet.game.games', value: games, unit: 'games to a slash' },
        ];
      }),
  },
];
