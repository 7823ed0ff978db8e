import { hash160, ripemd160, sha256 } from '../src/core/hashes.ts';
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
  {
    // A Winternitz chain: hash160 of the last 20-byte digest, again and again (keys, signatures, reveals).
    // core/hashes' hash160 computes it in JavaScript (short-hash160.ts); the baseline is OpenSSL's.
    name: 'core.hash160',
    run: async () => {
      const n = 100_000;
      const chain = (step: (x: Uint8Array) => Uint8Array) => () => {
        let h: Uint8Array = new Uint8Array(20).fill(7);
        for (let i = 0; i < n; i++) h = step(h);
      };
      const mine = await timeBest(chain(hash160));
      const openssl = await timeBest(chain((x) => ripemd160(sha256(x))));
      return [
        withRatio({
          name: 'core.hash160.chain-20B',
          value: Math.round((n / mine) * 1000),
          unit: 'hashes/s',
          baseline: Math.round((n / openssl) * 1000),
        }),
      ];
    },
  },
];
