/**
 * The L2 header checks (#18) on a real anvil: every block header the ingester follows is held to the
 * governed rollup parameters in force at that block — gasLimit == l2GasLimit, baseFeePerGas >= minBaseFee
 * — where the parameters in force for block b are the model's after every input of the blocks before b.
 * A header that breaks one is an L2 execution fault `rollup-param-violated` naming the block, the
 * parameter, the voted value and the observed one, reported once per block and parameter, counted per
 * parameter, and ingestion goes on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyInput, createGenesisState, type GovernanceInput } from '../../src/governance/index.ts';
import { generateWorkload, type Workload } from '../../src/governance/workload.ts';
import { createGovernanceIngester, type L2ExecutionFault } from '../../src/l2/governance-ingester.ts';
import { L2Ingester } from '../../src/l2/ingester.ts';
import { MemoryJournalStore } from '../../src/l2/memory-journal-store.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { verifyEpoch } from '../../src/verify/epoch.ts';
import { verificationText } from '../../src/verify/report.ts';
import { type Chain, memoryLogger, metricValue, startChain, testMetrics } from './helpers.ts';

const hex = (n: bigint) => `0x${n.toString(16)}`;
const ANVIL_GAS_LIMIT = 10_000_000_000n;

type Violation = Extract<L2ExecutionFault, { kind: 'rollup-param-violated' }>;
const violations = (faults: readonly L2ExecutionFault[], param?: string): Violation[] =>
  faults.filter((f): f is Violation => f.kind === 'rollup-param-violated' && (!param || f.param === param));

function ingest(chain: Chain, maxRange = 7n) {
  const m = testMetrics();
  const log = memoryLogger();
  const gi = createGovernanceIngester({
    rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl] }),
    store: new MemoryJournalStore(),
    deployment: chain.deployment,
    maxRange,
    metrics: m.metrics,
    logger: log.logger,
    crossCheck: false,
  });
  return { gi, ...m, ...log };
}

describe('header checks against the genesis parameters', () => {
  let chain: Chain;
  let w: Workload;

  beforeAll(async () => {
    // minBaseFee 1000 wei: anvil starts at 1 gwei and the deployment's blocks stay far above it.
    w = generateWorkload({ seed: 54, inputs: 10, epochLength: 15, params: { minBaseFee: 1_000n } });
    chain = await startChain(w.genesis);
  });
  afterAll(async () => {
    await chain?.stop();
  });

  it('an honest chain with the governed values reports nothing', async () => {
    await chain.rpc.mine(12);
    const { gi, registry } = ingest(chain);
    await gi.ingester.syncTo(await chain.rpc.blockNumber());
    expect(gi.faults).toEqual([]);
    expect(await metricValue(registry, 'vigil_l2_rollup_param_violations_total')).toBe(0);
  });

  it('a gas limit other than l2GasLimit: one fault at exactly the first block that has it, every block counted', async () => {
    const { gi, registry, records } = ingest(chain);
    await gi.ingester.syncTo(await chain.rpc.blockNumber());
    expect(gi.faults).toEqual([]);

    await chain.rpc.request('evm_setBlockGasLimit', [hex(25_000_000n)]);
    await chain.rpc.mine(3);
    const head = await chain.rpc.blockNumber();
    await gi.ingester.syncTo(head);
    const found = violations(gi.faults);
    // A run of blocks breaking it the same way is one fault, at its first block.
    expect(found.map((f) => [f.block, f.param, f.voted, f.observed])).toEqual([
      [head - 2n, 'l2GasLimit', ANVIL_GAS_LIMIT, 25_000_000n],
    ]);
    const header = await new L2Rpc({ urls: [chain.anvil.rpcUrl] }).header(head - 2n);
    expect(found[0]?.blockHash).toBe(header.hash);
    expect(header.gasLimit).toBe(25_000_000n);
    // An L2 execution fault (counted with the others), never operator fraud; ingestion went on.
    expect(await metricValue(registry, 'vigil_l2_rollup_param_violations_total')).toBe(3);
    expect(await metricValue(registry, 'vigil_l2_execution_faults_total')).toBe(1);
    expect(await metricValue(registry, 'vigil_l2_rollup_param_violating')).toBe(1);
    expect(gi.ingester.cursor?.number).toBe(head);
    const logged = records.filter((r) => r.msg === 'L2 execution fault');
    expect(logged[0]).toMatchObject({
      fault: 'rollup-param-violated',
      block: String(head - 2n),
      param: 'l2GasLimit',
      voted: String(ANVIL_GAS_LIMIT),
      observed: '25000000',
    });

    // Checked again from scratch (a restart without a journal), the run is one fault again.
    const again = ingest(chain, 1_000n);
    await again.gi.ingester.syncTo(head);
    expect(violations(again.gi.faults).map((f) => f.block)).toEqual([head - 2n]);
    // The chain obeys again: the run ends, logged once, and nothing new is reported.
    await chain.rpc.request('evm_setBlockGasLimit', [hex(ANVIL_GAS_LIMIT)]);
    await chain.rpc.mine(1);
    await gi.ingester.syncTo(head + 1n);
    expect(violations(gi.faults)).toHaveLength(1);
    expect(await metricValue(registry, 'vigil_l2_rollup_param_violating')).toBe(0);
    expect(records.filter((r) => r.msg === 'L2 blocks obey the rollup parameter again')).toMatchObject([
      { param: 'l2GasLimit', fromBlock: String(head - 2n), blocks: 3, obeysFrom: String(head + 1n) },
    ]);
  });

  it('a base fee below minBaseFee: a fault at that block naming the floor and the fee', async () => {
    const { gi, registry } = ingest(chain);
    await chain.rpc.mine(2);
    await gi.ingester.syncTo(await chain.rpc.blockNumber());
    const before = violations(gi.faults, 'minBaseFee').length;
    expect(before).toBe(0);

    await chain.rpc.request('anvil_setNextBlockBaseFeePerGas', [hex(5n)]);
    await chain.rpc.mine(1);
    const low = await chain.rpc.blockNumber();
    await gi.ingester.syncTo(low);
    const found = violations(gi.faults, 'minBaseFee');
    expect(found.map((f) => [f.block, f.voted, f.observed])).toEqual([[low, 1_000n, 5n]]);
    const labelled = await registry.getSingleMetric('vigil_l2_rollup_param_violations_total')?.get();
    expect(labelled?.values.find((v) => v.labels.param === 'minBaseFee')?.value).toBe(1);
  });
});

/**
 * The workload block of the first execute that schedules an l2GasLimit change, the block of the endEpoch
 * that activates it, and the value it activates (from the model).
 */
function firstGasLimitChange(w: Workload): {
  executed: bigint;
  activated: bigint;
  value: bigint;
  endedEpoch: bigint;
} {
  const s = createGenesisState(w.genesis);
  let executed: bigint | undefined;
  for (const input of w.inputs) {
    const before = s.params.l2GasLimit;
    applyInput(s, input);
    if (executed === undefined && (s.pendingParams.get('l2GasLimit')?.activationEpoch ?? 0n) !== 0n)
      executed = input.position.block;
    if (s.params.l2GasLimit !== before && executed !== undefined)
      return {
        executed,
        activated: input.position.block,
        value: s.params.l2GasLimit,
        endedEpoch: s.epoch - 1n,
      };
  }
  throw new Error('the workload changes no l2GasLimit');
}

describe('a governed gas limit change: in force from the block after the endEpoch that activates it', () => {
  let chain: Chain;
  let w: Workload;
  let change: ReturnType<typeof firstGasLimitChange>;
  let upToActivation: GovernanceInput[];
  let snapshot: string;

  beforeAll(async () => {
    w = generateWorkload({ seed: 54, inputs: 60, epochLength: 15 });
    change = firstGasLimitChange(w);
    expect(change.activated).toBeGreaterThan(change.executed);
    upToActivation = w.inputs.filter((i) => i.position.block <= change.activated);
    chain = await startChain(w.genesis);
    await chain.driver.prepareSenders(w.inputs.map((i) => i.sender));
    snapshot = await chain.rpc.request<string>('evm_snapshot');
  });
  afterAll(async () => {
    await chain?.stop();
  });

  /**
   * Replays the workload through the activating endEpoch's block with the chain's gas limit switched to
   * the voted value right after the block holding `switchAfter` (or never), then mines one block more.
   * Returns the l2GasLimit faults and the chain blocks of the execute and the endEpoch.
   */
  async function run(switchAfter: 'execute' | 'endEpoch' | 'never') {
    await chain.rpc.request('evm_revert', [snapshot]);
    snapshot = await chain.rpc.request<string>('evm_snapshot');
    await chain.rpc.request('evm_setBlockGasLimit', [hex(ANVIL_GAS_LIMIT)]);
    const at = switchAfter === 'execute' ? change.executed : change.activated;
    let offset = 0n;
    const replay = await chain.driver.replay(upToActivation, {
      prepared: true,
      onBlock: async (block, group) => {
        const workloadBlock = group[0]?.position.block;
        if (workloadBlock !== undefined) offset = block - workloadBlock;
        if (switchAfter !== 'never' && workloadBlock === at)
          await chain.rpc.request('evm_setBlockGasLimit', [hex(change.value)]);
      },
    });
    await chain.rpc.request('evm_setAutomine', [true]);
    await chain.rpc.mine(1);
    const last = await chain.rpc.blockNumber();
    expect(last).toBe(replay.lastBlock + 1n);
    const { gi } = ingest(chain, 5n);
    await gi.ingester.syncTo(last);
    return {
      faults: violations(gi.faults, 'l2GasLimit'),
      executed: change.executed + offset,
      activated: change.activated + offset,
      last,
    };
  }

  it('applied right after the activating block: nothing to report', async () => {
    const r = await run('endEpoch');
    expect(r.faults).toEqual([]);
  });

  it('applied as soon as the proposal executes (an epoch early): one fault for the run of blocks until the activation', async () => {
    const r = await run('execute');
    expect(r.faults.map((f) => f.block)).toEqual([r.executed + 1n]);
    expect(r.faults.every((f) => f.voted === ANVIL_GAS_LIMIT && f.observed === change.value)).toBe(true);
    // vigil verify of the epoch those blocks belong to lists them too (its cache keeps no headers).
    const v = await verifyEpoch({
      rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl] }),
      deployment: chain.deployment,
      store: new MemoryJournalStore(),
      epoch: change.endedEpoch,
      confirmations: 0,
      crossCheck: false,
    });
    expect(v.endBlock).toBe(r.activated);
    expect(
      v.l2Faults.filter((f) => f.kind === 'rollup-param-violated').map((f) => [f.block, f.blocks]),
    ).toEqual([[r.executed + 1n, Number(r.activated - r.executed)]]);
    expect(v.disagreement).toBe(true);
    expect(verificationText(v)).toContain(`L2 execution fault at block ${r.executed + 1n} (`);
    expect(verificationText(v)).toContain(
      `(and the next ${Number(r.activated - r.executed) - 1} blocks of the epoch)`,
    );
    expect(verificationText(v)).toContain(
      `gasLimit ${change.value}, the governed l2GasLimit is ${ANVIL_GAS_LIMIT}`,
    );
  });

  it('never applied: a fault at exactly the first block after the activating endEpoch', async () => {
    const r = await run('never');
    expect(r.faults.map((f) => [f.block, f.voted, f.observed])).toEqual([
      [r.activated + 1n, change.value, ANVIL_GAS_LIMIT],
    ]);
  });
});

describe('headers of a step that failed after its commit', () => {
  let chain: Chain;

  beforeAll(async () => {
    const w = generateWorkload({ seed: 54, inputs: 30, epochLength: 15 });
    chain = await startChain(w.genesis);
    await chain.driver.replay(w.inputs);
    await chain.rpc.request('evm_setAutomine', [true]);
  });
  afterAll(async () => {
    await chain?.stop();
  });

  it('are read again and checked, in order, each before its block is applied', async () => {
    const rpc = new L2Rpc({ urls: [chain.anvil.rpcUrl], retry: { maxAttempts: 1 } });
    const store = new MemoryJournalStore<number>();
    const seen: bigint[] = [];
    const appliedBefore: bigint[] = [];
    let applied = -1n;
    let failOnce = true;
    const ingester = new L2Ingester<number>({
      rpc,
      store,
      addresses: [chain.deployment.addresses.epochManager],
      decode: () => [1],
      derivation: {
        reset: () => {
          applied = -1n;
        },
        applyBlock: (b) => {
          applied = b.number;
        },
      },
      startBlock: chain.deployment.startBlock,
      maxRange: 1_000n,
      checkHeader: (h) => {
        seen.push(h.number);
        appliedBefore.push(applied);
      },
      afterBlock: async () => {
        if (failOnce) {
          failOnce = false;
          throw new Error('the hook failed (an RPC outage)');
        }
      },
    });
    const head = await chain.rpc.blockNumber();
    await expect(ingester.step()).rejects.toThrow('the hook failed');
    // The range is committed (the cursor moved), but its headers were checked only up to its first
    // journal block, whose hook failed: nothing is hooked, so all of them are read again and checked.
    expect((await store.cursor())?.number).toBe(head);
    const firstJournal = (await store.journal())[0]?.number as bigint;
    expect(seen.at(-1)).toBe(firstJournal);
    expect(firstJournal).toBeLessThan(head);
    const before = seen.length;
    await ingester.syncTo(head);
    const expected: bigint[] = [];
    for (let b = chain.deployment.startBlock; b <= head; b++) expected.push(b);
    expect(seen.slice(before)).toEqual(expected);
    expect(ingester.synced).toBe(true);
    // Each header was checked while only the blocks below it were applied.
    expect(appliedBefore.slice(before).every((a, i) => a < (seen[before + i] as bigint))).toBe(true);
  });
});
