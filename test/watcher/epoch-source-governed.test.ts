/**
 * The governed challenge window the L2 epoch source gives the graph registry (#18, docs/protocol.md §20):
 * the model's value in force during each epoch — the genesis value for the first, the value after the
 * endEpoch that started it for every later one — known only once that end is `confirmations` deep, and
 * never for an epoch the ingested L2 has not started. On a real anvil, with a workload whose governance
 * moves the window from 6 to 8 at the end of epoch 1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyInput, createGenesisState } from '../../src/governance/index.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { createL2EpochSource } from '../../src/watcher/epoch-source.ts';
import type { GovernedChallengeWindow, GraphRegistry } from '../../src/watcher/graph-registry.ts';
import { type Chain, startChain, testRedis } from '../l2/helpers.ts';

const w = generateWorkload({ seed: 17, inputs: 120, epochLength: 15 });

/** The workload block of the endEpoch that puts the first challenge window change in force. */
function firstWindowChange(): { block: bigint; epoch: bigint; value: bigint } {
  const s = createGenesisState(w.genesis);
  for (const input of w.inputs) {
    const before = s.params.challengeWindow;
    applyInput(s, input);
    if (s.params.challengeWindow !== before)
      return { block: input.position.block, epoch: s.epoch, value: s.params.challengeWindow };
  }
  throw new Error('the workload changes no challengeWindow');
}

describe('the governed challenge window per epoch', () => {
  const change = firstWindowChange();
  const r = testRedis();
  let chain: Chain;
  let handed: GovernedChallengeWindow | undefined;
  const registry: GraphRegistry = {
    graphs: async () => [],
    refused: () => new Map(),
    refusedFiles: () => new Map(),
    governWith: (lookup) => {
      handed = lookup;
    },
  };

  beforeAll(async () => {
    expect(change).toEqual({ block: change.block, epoch: 2n, value: 8n });
    chain = await startChain(w.genesis);
    await chain.driver.replay(w.inputs.filter((i) => i.position.block <= change.block));
    await chain.rpc.request('evm_setAutomine', [true]);
  });
  afterAll(async () => {
    await r.cleanup();
    await chain?.stop();
  });

  it('is the value in force during the epoch, once the end that started it is deep enough', async () => {
    const source = createL2EpochSource({
      rpcUrls: [chain.anvil.rpcUrl],
      redis: r.redis,
      prefix: `${r.prefix}:governed`,
      deployment: chain.deployment,
      confirmations: 2,
      traceSteps: 3,
      graphs: registry,
    });
    // The source hands its lookup to the registry it is given.
    expect(handed).toBe(source.governedChallengeWindow);
    for (let i = 0; i < 100 && !source.status().caughtUp; i++) await source.sync();
    expect(source.status().caughtUp).toBe(true);

    expect(source.governedChallengeWindow(0n)).toEqual({ known: true, value: 6 });
    expect(source.governedChallengeWindow(1n)).toEqual({ known: true, value: 6 });
    // Epoch 2 started in the head block: its end is 1 deep, 2 are needed.
    const shallow = source.governedChallengeWindow(2n);
    expect(shallow.known).toBe(false);
    expect(shallow.known === false && shallow.reason).toBe(
      'the end of epoch 1 that started epoch 2 is not 2 blocks deep yet',
    );
    const unstarted = source.governedChallengeWindow(3n);
    expect(unstarted.known === false && unstarted.reason).toBe(
      'epoch 3 has not started on the L2 ingested so far',
    );

    await chain.rpc.mine(1);
    await source.sync();
    expect(source.governedChallengeWindow(2n)).toEqual({ known: true, value: 8 });
    // The reason stays the same while the L2 moves on (the registry logs each reason once).
    expect(source.governedChallengeWindow(3n)).toEqual(unstarted);
  });
});
