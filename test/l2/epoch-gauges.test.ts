/**
 * The gauges behind the VigilGraphsMissing alert (config/alerts.yml): the last epoch the L2 holds a state
 * commitment for, set by the epoch source's sync, and the last epoch with an imported operator graph, set
 * when the watcher asks for the graphs. Both read -1 until there is one.
 */
import { encodeFunctionData } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportedGraph } from '../../src/dispute/graph/import.ts';
import type { GovernanceInput } from '../../src/governance/index.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { stateCommitmentAbi } from '../../src/l2/contracts/artifacts/abis.ts';
import { createL2EpochSource, type L2EpochSource } from '../../src/watcher/epoch-source.ts';
import type { GraphRegistry } from '../../src/watcher/graph-registry.ts';
import { type Chain, metricValue, OPERATOR, startChain, testMetrics, testRedis } from './helpers.ts';

/** A workload of one epoch: its inputs up to the first epoch end. */
function oneEpoch() {
  const w = generateWorkload({ seed: 11, inputs: 60, epochLength: 20 });
  const end = w.inputs.findIndex((i) => i.kind === 'endEpoch');
  return { genesis: w.genesis, inputs: w.inputs.slice(0, end + 1) as GovernanceInput[] };
}

/** Graphs as the registry returns them: only the epoch is read by the gauge. */
const graphsFor = (epochs: bigint[]) =>
  epochs.map((epoch) => ({ graph: { spec: { epoch } } }) as unknown as ImportedGraph);

describe('the epoch source gauges vigil_l2_last_committed_epoch and vigil_l2_last_graph_epoch', () => {
  const w = oneEpoch();
  const { redis, prefix, cleanup } = testRedis();
  const { registry, metrics } = testMetrics();
  let chain: Chain;
  let published: ImportedGraph[] = [];
  let source: L2EpochSource;
  const graphs: GraphRegistry = {
    graphs: async () => published,
    refused: () => new Map(),
    refusedFiles: () => new Map(),
  };

  beforeAll(async () => {
    chain = await startChain(w.genesis);
    await chain.driver.replay(w.inputs);
    source = createL2EpochSource({
      rpcUrls: [chain.anvil.rpcUrl],
      redis,
      prefix,
      deployment: chain.deployment,
      confirmations: 1,
      traceSteps: 4,
      graphs,
      metrics,
    });
  }, 120_000);

  afterAll(async () => {
    await cleanup();
    await chain?.stop();
  });

  async function syncAll(): Promise<void> {
    for (let i = 0; i < 100 && !source.status().caughtUp; i++) await source.sync();
    expect(source.status().caughtUp).toBe(true);
  }

  it('read -1 (none yet) before anything is ingested or imported', async () => {
    expect(await metricValue(registry, 'vigil_l2_last_committed_epoch')).toBe(-1);
    expect(await metricValue(registry, 'vigil_l2_last_graph_epoch')).toBe(-1);
  });

  it('the committed epoch follows the commitments ingested, not the epoch ends', async () => {
    await syncAll();
    expect(source.ingestion.derivation.epochEnds.map((e) => e.epoch)).toEqual([0n]);
    expect(await metricValue(registry, 'vigil_l2_last_committed_epoch')).toBe(-1);
    await chain.rpc.request('eth_sendTransaction', [
      {
        from: OPERATOR,
        to: chain.deployment.addresses.stateCommitment,
        data: encodeFunctionData({
          abi: stateCommitmentAbi,
          functionName: 'commit',
          args: [0n, `0x${'ab'.repeat(32)}`, `0x${'00'.repeat(32)}`],
        }),
        gas: '0x1e8480',
      },
    ]);
    await chain.rpc.mine(1);
    await source.sync();
    await syncAll();
    expect(await metricValue(registry, 'vigil_l2_last_committed_epoch')).toBe(0);
  });

  it('the graph epoch is the highest epoch among the graphs the watcher is handed', async () => {
    expect(await source.graphs()).toEqual([]);
    expect(await metricValue(registry, 'vigil_l2_last_graph_epoch')).toBe(-1);
    published = graphsFor([3n, 0n]);
    expect(await source.graphs()).toBe(published);
    expect(await metricValue(registry, 'vigil_l2_last_graph_epoch')).toBe(3);
    published = [];
    await source.graphs();
    expect(await metricValue(registry, 'vigil_l2_last_graph_epoch')).toBe(-1);
  });
});
