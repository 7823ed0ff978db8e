/**
 * L2 ingestion throughput from a local anvil holding a large prepared history (a seeded governance
 * workload replayed as transactions). Figures: blocks/s and inputs/s for ingestion into the reference
 * model, without and with the epoch-end cross-check; the same-run baseline is the bare eth_getLogs scan
 * of the same range (no decoding, no model, no Redis), i.e. what the RPC alone allows. Ingestion also
 * reads every block's receipts for reverted transactions: `l2.scan.reverted.blocks` is that bare scan
 * alone (eth_getBlockReceipts per block), the part of the cost the feed's reverted inputs add.
 *
 * `l2.ingest.per-100-epochs@<n>`: the cost of an epoch at a history length, which must not grow with it.
 * A light seeded workload (about 5 inputs per epoch, 8 validators, 16 delegators, proposals piling up)
 * is replayed on anvil, and Vigil ingests it as a daemon at the tip does: after every epoch end, it
 * ingests up to it with the cross-check. Each figure is the ingestion time (logs, reverted-transaction
 * scan, headers, model, cross-check) of the 100 epochs after epoch n; the @1000 figure's baseline is the
 * @100 one, so its ratio is the growth (target ≤ 1.5×). `l2.drive.per-100-epochs@<n>` is the time anvil
 * took to take the same epochs' transactions and blocks (its per-block cost grows with its state: see
 * docs/l2-ingestion.md), shown apart so that it is not mistaken for Vigil's.
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
import { RollupSequencer } from '../src/l2/rollup-sequencer.ts';
import { L2Rpc } from '../src/l2/rpc.ts';
import { type BenchFigure, type Benchmark, withRatio } from './harness.ts';

const INPUTS = Number(process.env.VIGIL_BENCH_L2_INPUTS ?? 4_000);
/** History lengths (in epochs) at which 100 epochs of ingestion are timed. */
const AT = (process.env.VIGIL_BENCH_L2_EPOCHS_AT ?? '100,500,1000').split(',').map(Number);
const WINDOW = 100;
const GAS_LIMIT = 10_000_000_000n;

/** Times ingestion (with the cross-check) per window of WINDOW epochs, following the tip. */
async function perEpochFigures(): Promise<BenchFigure[]> {
  const last = Math.max(...AT) + WINDOW;
  // Only the in-memory states anvil keeps for recent blocks: the ingester reads at the tip, and anvil's
  // default of writing every older state to disk would make the preparation itself grow with history.
  const anvil = await startAnvil({ gasLimit: GAS_LIMIT, maxPersistedStates: 0 });
  const redis = new Redis({ host: '127.0.0.1', port: 6379 });
  const prefix = `vigil-bench-${randomUUID()}`;
  try {
    const generated = generateWorkload({ seed: 21, inputs: last * 8, epochLength: 1 });
    // The chain's gas limit is the one its governance sets, so the header checks find it obeyed.
    const w = {
      ...generated,
      genesis: { ...generated.genesis, params: { ...generated.genesis.params, l2GasLimit: GAS_LIMIT } },
    };
    let ends = 0;
    const cut = w.inputs.findIndex((i) => i.kind === 'endEpoch' && ++ends === last);
    if (cut < 0) throw new Error(`the workload has only ${ends} epoch ends, ${last} needed`);
    const inputs = w.inputs.slice(0, cut + 1);
    const deployment = await deployOnAnvil(anvil.rpcUrl, w.genesis);
    const gi = createGovernanceIngester({
      rpc: new L2Rpc({ urls: [anvil.rpcUrl] }),
      redis,
      prefix,
      deployment,
      maxRange: 1_000n,
    });
    let epoch = 0;
    let ingestMs = 0;
    let driveMs = 0;
    let mark = performance.now();
    const ingestAt = new Map<number, number>();
    const driveAt = new Map<number, number>();
    const anvilRpc = new AnvilRpc(anvil.rpcUrl);
    // The workload votes rollup parameters: the devnet's sequencer makes every block obey them.
    const sequencer = new RollupSequencer(anvilRpc, deployment.addresses.registry);
    await sequencer.start();
    await new WorkloadDriver(anvilRpc, deployment.addresses, DEVNET_DEPLOYER).replay(inputs, {
      sequencer,
      onBlock: async (block, group) => {
        if (!group.some((i) => i.kind === 'endEpoch')) return;
        driveMs += performance.now() - mark;
        const t = performance.now();
        await gi.ingester.syncTo(block);
        ingestMs += performance.now() - t;
        // Counted by the model: one block may hold two epoch ends.
        while (epoch < gi.derivation.epochEnds.length) {
          epoch++;
          ingestAt.set(epoch, ingestMs);
          driveAt.set(epoch, driveMs);
        }
        if (process.env.VIGIL_BENCH_TRACE)
          process.stderr.write(`epoch ${epoch} ingest ${ingestMs.toFixed(0)} drive ${driveMs.toFixed(0)}\n`);
        mark = performance.now();
      },
    });
    const fault = gi.faults[0];
    if (fault) {
      const what = fault.kind === 'state-mismatch' ? fault.differences.join('; ') : fault.kind;
      throw new Error(
        `the honest workload raised ${gi.faults.length} L2 execution faults, the first: ${what}`,
      );
    }
    const per = (at: Map<number, number>, n: number) =>
      ((at.get(n + WINDOW) ?? Number.NaN) - (at.get(n) ?? Number.NaN)) / 1000;
    const first = AT[0] as number;
    const figures: BenchFigure[] = [];
    for (const n of AT) {
      const figure = { name: `l2.ingest.per-100-epochs@${n}`, value: per(ingestAt, n), unit: 's' };
      figures.push(
        n === first
          ? figure
          : { ...withRatio({ ...figure, baseline: per(ingestAt, first) }), target: `≤ 1.5× @${first}` },
      );
    }
    for (const n of AT) {
      const figure = { name: `l2.drive.per-100-epochs@${n}`, value: per(driveAt, n), unit: 's' };
      figures.push(n === first ? figure : withRatio({ ...figure, baseline: per(driveAt, first) }));
    }
    const calls = gi.checks.slice(-WINDOW).reduce((sum, c) => sum + c.calls, 0) / WINDOW;
    figures.push({ name: 'l2.ingest.crosscheck-calls-per-epoch@end', value: calls, unit: 'eth_calls' });
    figures.push({ name: 'l2.ingest.history', value: inputs.length, unit: 'inputs' });
    figures.push({ name: 'l2.ingest.total', value: ingestMs / 1000, unit: 's' });
    figures.push({ name: 'l2.drive.total', value: driveMs / 1000, unit: 's' });
    return figures;
  } finally {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await anvil.stop();
  }
}

export const benchmarks: Benchmark[] = [
  { name: 'l2.ingest.per-100-epochs', run: perEpochFigures },
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
