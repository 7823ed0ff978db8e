/**
 * `vigil verify` (issue #17): one epoch checked from the chains alone, in process, against a devnet L2 on
 * anvil whose operator committed every epoch. Figures: the last epoch verified cold (an empty cache
 * directory: every block read from the L2) and warm (the same cache again: no block read), with and
 * without the epoch-end contract cross-check and with `--account`. The same-run baseline is the
 * reference model alone re-executing the same inputs (every input since genesis, as read by the
 * derivation), so the ratio is what verification costs on top of re-execution.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { reexecute } from '../src/governance/index.ts';
import type { L2Entry } from '../src/l2/decode.ts';
import { DEVNET_OPERATOR, startL2Devnet } from '../src/l2/devnet.ts';
import { FileJournalStore } from '../src/l2/file-journal-store.ts';
import { createGovernanceIngester } from '../src/l2/governance-ingester.ts';
import { MemoryJournalStore } from '../src/l2/memory-journal-store.ts';
import { L2Rpc } from '../src/l2/rpc.ts';
import { type EpochVerification, inputsBetween, verifyEpoch } from '../src/verify/epoch.ts';
import { type Benchmark, timeBest, withRatio } from './harness.ts';

const REDIS_URL = process.env.VIGIL_REDIS_URL ?? 'redis://127.0.0.1:6379';
const EPOCHS = Number(process.env.VIGIL_BENCH_VERIFY_EPOCHS ?? 20);
const SEED = 7;

export const benchmarks: Benchmark[] = [
  {
    name: 'verify.epoch',
    run: async () => {
      // Redis serves only the devnet's own operator ingesters; verification uses none.
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
      const cacheRoot = mkdtempSync(join(tmpdir(), 'vigil-bench-verify-'));
      let devnet: Awaited<ReturnType<typeof startL2Devnet>> | undefined;
      try {
        devnet = await startL2Devnet({ redis, epochs: EPOCHS, seed: SEED });
        const story = await devnet.run();
        const deployment = story.deployment;
        const rpc = new L2Rpc({ urls: [story.rpcUrl] });
        // Cold: an empty cache directory, every block read from the L2; warm: the same cache again.
        const cache = join(cacheRoot, 'cache');
        const verifyOnce = async (
          o: { cacheDir?: string; crossCheck?: boolean; account?: boolean } = {},
        ): Promise<{ ms: number; v: EpochVerification }> => {
          const file = o.cacheDir !== undefined ? FileJournalStore.open<L2Entry>(o.cacheDir) : undefined;
          const t = performance.now();
          try {
            const v = await verifyEpoch({
              rpc,
              deployment,
              store: file ?? new MemoryJournalStore<L2Entry>(),
              epoch: 'latest',
              confirmations: 0,
              chainId: 31337,
              crossCheck: o.crossCheck ?? true,
              ...(o.account ? { account: DEVNET_OPERATOR } : {}),
            });
            if (!v.ok) throw new Error(`verify disagrees on the honest devnet: ${JSON.stringify(v.checks)}`);
            return { ms: performance.now() - t, v };
          } finally {
            file?.close();
          }
        };
        const timeWarm = async (o: { crossCheck?: boolean; account?: boolean }) => {
          let blocks = 0n;
          const ms = await timeBest(
            async () => {
              const r = await verifyOnce({ cacheDir: cache, ...o });
              blocks += r.v.blocksRead;
            },
            500,
            3,
          );
          if (blocks !== 0n) throw new Error(`a warm verify read ${blocks} blocks from the L2`);
          return ms;
        };

        const cold = await verifyOnce({ cacheDir: cache });
        const warm = await timeWarm({});
        const warmNoCross = await timeWarm({ crossCheck: false });
        const warmAccount = await timeWarm({ account: true });

        // The baseline: the reference model alone over the same inputs (those since genesis, as the
        // derivation read them from the L2).
        const read = createGovernanceIngester({
          rpc,
          store: new MemoryJournalStore<L2Entry>(),
          deployment,
          confirmations: 0,
          crossCheck: false,
        });
        await read.ingester.init();
        while ((await read.ingester.step()) !== 'idle') {}
        const end = read.derivation.epochEnds.at(-1);
        if (end === undefined) throw new Error('no epoch ended on the devnet');
        const inputs = inputsBetween(read.derivation, 0, end.lastInput + 1);
        const modelMs = await timeBest(() => reexecute(inputs, { genesis: deployment.genesis }), 500, 3);

        return [
          { name: 'verify.devnet.epochs', value: story.epochs.length, unit: 'epochs' },
          { name: 'verify.devnet.inputs', value: cold.v.inputsSinceGenesis, unit: 'inputs' },
          { name: 'verify.cold.blocks-read', value: Number(cold.v.blocksRead), unit: 'blocks' },
          withRatio({ name: 'verify.cold', value: cold.ms, unit: 'ms', baseline: modelMs }),
          withRatio({
            name: 'verify.warm',
            value: warm,
            unit: 'ms',
            baseline: modelMs,
            target: 'little more than re-execution',
          }),
          withRatio({
            name: 'verify.warm.no-cross-check',
            value: warmNoCross,
            unit: 'ms',
            baseline: modelMs,
          }),
          withRatio({
            name: 'verify.warm.vs-no-cross-check',
            value: warm,
            unit: 'ms',
            baseline: warmNoCross,
          }),
          withRatio({ name: 'verify.warm.account', value: warmAccount, unit: 'ms', baseline: warm }),
          { name: 'verify.reexecute', value: modelMs, unit: 'ms' },
        ];
      } finally {
        await devnet?.stop();
        await redis.quit();
        rmSync(cacheRoot, { recursive: true, force: true });
      }
    },
  },
];
