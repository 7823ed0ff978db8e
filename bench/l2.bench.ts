/**
 * L2 ingestion throughput from a local anvil holding a large prepared history (a seeded governance
 * workload replayed as transactions). Figures: blocks/s and inputs/s for ingestion into the reference
 * model, without and with the epoch-end cross-check; the same-run baseline is the bare eth_getLogs scan
 * of the same range (no decoding, no model, no Redis), i.e. what the RPC alone allows. Ingestion also
 * reads every block's receipts for reverted transactions: `l2.scan.reverted.blocks` is that bare scan
 * alone (eth_getBlockReceipts per block), the part of the cost the feed's reverted inputs add.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { generateWorkload } from '../src/governance/workload.ts';
import { startAnvil } from '../src/l2/anvil.ts';
import { DEVNET_DEPLOYER, deployOnAnvil } from '../src/l2/devnet.ts';
import { AnvilRpc, WorkloadDriver } from '../src/l2/driver.ts';
import { watchedAddresses } from '../src/l2/governance-contracts.ts';
import { createGovernanceIngester } from '../src/l2/governance-ingester.ts';
import { AdaptiveLogFetcher } from '../src/l2/log-fetcher.ts';
import { RevertedTxFetcher } from '../src/l2/revert-fetcher.ts';
import { L2Rpc } from '../src/l2/rpc.ts';
import { type BenchFigure, type Benchmark, withRatio } from './harness.ts';

const INPUTS = Number(process.env.VIGIL_BENCH_L2_INPUTS ?? 4_000);

export const benchmarks: Benchmark[] = [
  {
    name: 'l2.ingest',
    run: async () => {
      const anvil = await startAnvil({ gasLimit: 10_000_000_000n });
      const redis = new Redis({ host: '127.0.0.1', port: 6379 });
      const prefix = `vigil-bench-${randomUUID()}`;
      try {
        const w = generateWorkload({ seed: 99, inputs: INPUTS, epochLength: 40 });
        const deployment = await deployOnAnvil(anvil.rpcUrl, w.genesis);
        const prepared = performance.now();
        const replay = await new WorkloadDriver(
          new AnvilRpc(anvil.rpcUrl),
          deployment.addresses,
          DEVNET_DEPLOYER,
        ).replay(w.inputs);
        const prepareS = (performance.now() - prepared) / 1000;
        const head = replay.lastBlock;
        const blocks = Number(head - deployment.startBlock + 1n);

        const rpc = new L2Rpc({ urls: [anvil.rpcUrl] });
        const t0 = performance.now();
        const fetcher = new AdaptiveLogFetcher(rpc, watchedAddresses(deployment.addresses), 1_000n);
        const logs = await fetcher.fetch(deployment.startBlock, head);
        const scanS = (performance.now() - t0) / 1000;
        const t1 = performance.now();
        const reverted = await new RevertedTxFetcher(rpc, watchedAddresses(deployment.addresses)).fetch(
          deployment.startBlock,
          head,
        );
        const revertScanS = (performance.now() - t1) / 1000;

        const timeIngest = async (crossCheck: boolean) => {
          const gi = createGovernanceIngester({
            rpc,
            redis,
            prefix: `${prefix}:${crossCheck}`,
            deployment,
            maxRange: 1_000n,
            crossCheck,
          });
          const t = performance.now();
          await gi.ingester.syncTo(head);
          const s = (performance.now() - t) / 1000;
          return { s, inputs: gi.derivation.inputs.length, epochs: gi.derivation.epochEnds.length };
        };
        const plain = await timeIngest(false);
        const checked = await timeIngest(true);
        const figures: BenchFigure[] = [
          { name: 'l2.history.blocks', value: blocks, unit: 'blocks' },
          { name: 'l2.history.inputs', value: plain.inputs, unit: 'inputs' },
          { name: 'l2.history.logs', value: logs.length, unit: 'logs' },
          { name: 'l2.history.reverted', value: reverted.length, unit: 'txs' },
          { name: 'l2.history.prepare', value: prepareS, unit: 's' },
          { name: 'l2.scan.reverted.blocks', value: blocks / revertScanS, unit: 'blocks/s' },
          withRatio({
            name: 'l2.ingest.blocks',
            value: blocks / plain.s,
            unit: 'blocks/s',
            baseline: blocks / scanS,
          }),
          withRatio({
            name: 'l2.ingest.inputs',
            value: plain.inputs / plain.s,
            unit: 'inputs/s',
            baseline: logs.length / scanS,
          }),
          withRatio({
            name: 'l2.ingest+crosscheck.blocks',
            value: blocks / checked.s,
            unit: 'blocks/s',
            baseline: blocks / scanS,
          }),
          { name: 'l2.ingest+crosscheck.epochs', value: checked.epochs / checked.s, unit: 'epochs/s' },
        ];
        return figures;
      } finally {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
        await anvil.stop();
      }
    },
  },
];
