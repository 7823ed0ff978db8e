import { sha256 } from '../src/core/hashes.ts';
import { type Benchmark, timeBest, withRatio } from './harness.ts';

/** Baseline figures the other benchmarks are read against: raw hashing on this machine, in this run. */
export const benchmarks: Benchmark[] = [
  {
    name: 'core.sha256',
    run: async () => {
      const data = new Uint8Array(64);
      const n = 100_000;
      const small = await timeBest(() => {
        for (let i = 0; i < n; i++) sha256(data);
      });
      const big = new Uint8Array(1 << 20);
      const bulk = await timeBest(() => sha256(big));
      return [
        { name: 'core.sha256.64B', value: Math.round((n / small) * 1000), unit: 'hashes/s' },
        withRatio({
          name: 'core.sha256.bulk',
          value: 1 / (bulk / 1000),
          unit: 'MiB/s',
          baseline: (n * 64) / (1 << 20) / (small / 1000),
        }),
      ];
    },
  },
];
