/**
 * Rollup parameters under governance (issue #18) on the contracts, on a real anvil: a hand-made scenario is
 * replayed block by block and, after every block with an input, the reference model fed the same inputs
 * is compared with the contracts (the epoch-end cross-check, run at every such block) and the registry's
 * values and pending changes are read directly:
 * - a rollup change executed in epoch e is pending with activationEpoch e+1 and not in force; the next
 *   endEpoch puts it in force and clears the pending entry;
 * - a change executed in the last block of an epoch (the block before endEpoch), or in endEpoch's own block
 *   before it, activates at that endEpoch; one executed after it in that block waits for the next;
 * - two executes on one key in one epoch: the later wins;
 * - every rollup key at its min and at its max passes; one past a bound fails the whole proposal, whose
 *   other actions (a rollup key and a governance key) are then not applied either;
 * - a governance (non-rollup) key still changes at execute.
 * The chain's logs decode (ParameterScheduled included) back to exactly the scenario's inputs. A registry
 * deliberately patched to get one rollup key wrong each way is reported by the cross-check, naming the key.
 */
import {
  type Abi,
  createPublicClient,
  type Hex,
  http,
  type Log,
  type PublicClient,
  toEventSelector,
} from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Address,
  applyInput,
  createGenesisState,
  type GenesisOptions,
  type GovernanceInput,
  type GovernanceState,
  PARAM_SPECS,
  type ParamKey,
  type ProposalAction,
  ProposalStatus,
  ROLLUP_PARAM_KEYS,
} from '../../src/governance/index.ts';
import { paramRegistryAbi } from '../../src/l2/contracts/artifacts/abis.ts';
import { ContractCrossChecker, type CrossCheckResult } from '../../src/l2/cross-check.ts';
import { createLogDecoder } from '../../src/l2/decode.ts';
import { watchedAddresses } from '../../src/l2/governance-contracts.ts';
import { nameToBytes32 } from '../../src/l2/names.ts';
import { inputBody } from './differential-run.ts';
import { type Chain, patchedBytecode, startChain } from './helpers.ts';

const addr = (byte: string): Address => `0x${byte.repeat(20)}` as Address;
const VALIDATOR = addr('aa');
const ANYONE = addr('99');

const GENESIS: GenesisOptions = {
  params: {
    quorumBps: 1n,
    thresholdBps: 5_000n,
    votingPeriod: 1n,
    timelock: 0n,
    maxValidators: 3n,
    maxPowerBps: 10_000n,
    minStake: 1n,
    epochReward: 1_000n,
    governanceSubsidy: 7n,
    l2GasLimit: 10_000_000_000n,
    minBaseFee: 0n,
    batchInterval: 10n,
    withdrawalDelay: 100n,
    challengeWindow: 6n,
  },
};

type NoPosition<T> = T extends GovernanceInput ? Omit<T, 'position'> : never;

/** Inputs at explicit chain blocks (txIndex = order within the block), and the proposals' ids. */
class Plan {
  readonly inputs: GovernanceInput[] = [];
  private proposals = 0n;
  private lastBlock = -1n;
  private tx = 0;

  at(block: bigint, ...steps: NoPosition<GovernanceInput>[]): this {
    if (block !== this.lastBlock) {
      this.lastBlock = block;
      this.tx = 0;
    }
    for (const s of steps) {
      this.inputs.push({ ...s, position: { block, txIndex: this.tx++, logIndex: 0 } } as GovernanceInput);
    }
    return this;
  }

  /** A proposal and the validator's vote for it, at `block`; returns its id. */
  propose(block: bigint, actions: ProposalAction[]): bigint {
    const id = ++this.proposals;
    this.at(
      block,
      { kind: 'propose', sender: VALIDATOR, actions },
      { kind: 'vote', sender: VALIDATOR, proposalId: id, support: 'for' },
    );
    return id;
  }

  queue(block: bigint, ...ids: bigint[]): this {
    return this.at(
      block,
      ...ids.map((proposalId) => ({ kind: 'queue' as const, sender: ANYONE, proposalId })),
    );
  }

  execute(block: bigint, ...ids: bigint[]): this {
    return this.at(
      block,
      ...ids.map((proposalId) => ({ kind: 'execute' as const, sender: ANYONE, proposalId })),
    );
  }

  endEpoch(block: bigint): this {
    return this.at(block, { kind: 'endEpoch', sender: ANYONE });
  }
}

const set = (key: ParamKey, value: bigint): ProposalAction => ({ kind: 'setParameter', key, value });

type Pending = { value: bigint; activationEpoch: bigint };
/** One side's view of the parameters after a block. */
type ParamView = { epoch: bigint; params: Record<string, bigint>; pending: Record<string, Pending> };
type Snapshot = { block: bigint; model: ParamView; contract: ParamView; check: CrossCheckResult };

type Moment =
  | 'executed0'
  | 'end0'
  | 'fee7'
  | 'fee9'
  | 'lastOfEpoch1'
  | 'end1'
  | 'mins'
  | 'maxes'
  | 'pastBound'
  | 'end2'
  | 'sameBlock'
  | 'end4';

const WATCHED: readonly ParamKey[] = [...ROLLUP_PARAM_KEYS, 'maxValidators'];

describe('rollup parameters on the contracts (pending until the next epoch)', () => {
  let chain: Chain;
  let client: PublicClient;
  const plan = new Plan();
  const snapshots = new Map<bigint, Snapshot>();
  const rejected: string[] = [];
  let model: GovernanceState;
  let firstBlock: bigint;
  let lastBlock: bigint;
  // Named blocks and proposals of the scenario, filled in when it is planned.
  const at = {} as Record<Moment, bigint>;
  const ids = {} as Record<'mins' | 'maxes', bigint>;
  let pastIds: bigint[] = [];

  beforeAll(async () => {
    chain = await startChain(GENESIS);
    client = createPublicClient({ transport: http(chain.anvil.rpcUrl) }) as PublicClient;
    await chain.driver.prepareSenders([VALIDATOR, ANYONE]);
    firstBlock = (await chain.rpc.blockNumber()) + 1n;
    const b = (n: number) => firstBlock + BigInt(n);

    // Epoch 0: a rollup change and a governance change executed in the same block.
    plan.at(b(0), { kind: 'registerValidator', sender: VALIDATOR, commissionBps: 0 });
    plan.at(b(0), { kind: 'stake', sender: VALIDATOR, amount: 10n ** 21n });
    const gas = plan.propose(b(1), [set('l2GasLimit', 20_000_000n)]);
    const maxValidators = plan.propose(b(1), [set('maxValidators', 5n)]);
    plan.queue(b(3), gas, maxValidators).execute(b(3), gas, maxValidators);
    at.executed0 = b(3);
    plan.endEpoch(b(4));
    at.end0 = b(4);

    // Epoch 1: two executes on one key (the later wins); a change executed in the block before endEpoch.
    const fee7 = plan.propose(b(5), [set('minBaseFee', 7n)]);
    const fee9 = plan.propose(b(5), [set('minBaseFee', 9n)]);
    const batch = plan.propose(b(5), [set('batchInterval', 20n)]);
    plan.queue(b(7), fee7, fee9, batch).execute(b(7), fee7);
    at.fee7 = b(7);
    plan.execute(b(8), fee9);
    at.fee9 = b(8);
    plan.execute(b(9), batch);
    at.lastOfEpoch1 = b(9);
    plan.endEpoch(b(10));
    at.end1 = b(10);

    // Epoch 2: bounds. All five at their min, then all five at their max (both pass); then, per key, a
    // proposal with valid actions and one value past a bound: it fails and applies nothing.
    ids.mins = plan.propose(b(11), [...ROLLUP_PARAM_KEYS.map((k) => set(k, PARAM_SPECS[k].min))]);
    ids.maxes = plan.propose(b(11), [...ROLLUP_PARAM_KEYS.map((k) => set(k, PARAM_SPECS[k].max))]);
    const past: bigint[] = [];
    for (const k of ROLLUP_PARAM_KEYS) {
      const beyond = [PARAM_SPECS[k].max + 1n];
      if (PARAM_SPECS[k].min > 0n) beyond.push(PARAM_SPECS[k].min - 1n);
      for (const v of beyond) {
        const other = k === 'withdrawalDelay' ? 'challengeWindow' : 'withdrawalDelay';
        past.push(plan.propose(b(11), [set(other, 555n), set('maxValidators', 7n), set(k, v)]));
      }
    }
    pastIds = past;
    plan.queue(b(13), ids.mins, ids.maxes, ...past).execute(b(13), ids.mins);
    at.mins = b(13);
    plan.execute(b(14), ids.maxes);
    at.maxes = b(14);
    plan.execute(b(15), ...past);
    at.pastBound = b(15);
    plan.endEpoch(b(16));
    at.end2 = b(16);

    // Epoch 3: executed in endEpoch's own block before it (activates there), and after it (waits).
    const windowBefore = plan.propose(b(17), [set('challengeWindow', 100n)]);
    const windowAfter = plan.propose(b(17), [set('challengeWindow', 200n)]);
    plan.queue(b(19), windowBefore, windowAfter).execute(b(19), windowBefore);
    plan.endEpoch(b(19)).execute(b(19), windowAfter);
    at.sameBlock = b(19);
    plan.endEpoch(b(20));
    at.end4 = b(20);

    model = createGenesisState(GENESIS);
    const checker = new ContractCrossChecker(chain.deployment.addresses);
    const replay = await chain.driver.replay(plan.inputs, {
      offset: 0n,
      checkReceipts: true,
      onBlock: async (block, group) => {
        for (const input of group) {
          const out = applyInput(model, input);
          if (!out.accepted) rejected.push(`${input.kind} at ${block}: ${out.reason}`);
        }
        const check = await checker.check(client, model, block);
        snapshots.set(block, { block, model: modelView(model), contract: await contractView(block), check });
      },
    });
    expect(replay.reverted.map((r) => `${r.input.kind} at ${r.input.position.block}`)).toEqual([]);
    lastBlock = replay.lastBlock;
  }, 120_000);
  afterAll(async () => {
    await chain?.stop();
  });

  const modelView = (s: GovernanceState): ParamView => ({
    epoch: s.epoch,
    params: Object.fromEntries(WATCHED.map((k) => [k, s.params[k]])),
    pending: Object.fromEntries(
      ROLLUP_PARAM_KEYS.map((k) => {
        const p = s.pendingParams.get(k);
        return [k, { value: p?.value ?? -1n, activationEpoch: p?.activationEpoch ?? -1n }];
      }),
    ),
  });

  const read = <T>(
    address: Hex,
    abi: Abi,
    functionName: string,
    args: readonly unknown[],
    blockNumber: bigint,
  ) => client.readContract({ address, abi, functionName, args, blockNumber }) as Promise<T>;

  async function contractView(block: bigint): Promise<ParamView> {
    const { registry, epochManager } = chain.deployment.addresses;
    const epoch = await client.readContract({
      address: epochManager,
      abi: [
        {
          type: 'function',
          name: 'epoch',
          stateMutability: 'view',
          inputs: [],
          outputs: [{ type: 'uint64' }],
        },
      ] as const,
      functionName: 'epoch',
      blockNumber: block,
    });
    const params: Record<string, bigint> = {};
    for (const k of WATCHED) {
      params[k] = await read<bigint>(registry, paramRegistryAbi as Abi, 'get', [nameToBytes32(k)], block);
    }
    const pending: Record<string, Pending> = {};
    for (const k of ROLLUP_PARAM_KEYS) {
      const [value, activationEpoch] = await read<readonly [bigint, bigint]>(
        registry,
        paramRegistryAbi as Abi,
        'pendingOf',
        [nameToBytes32(k)],
        block,
      );
      pending[k] = { value, activationEpoch };
    }
    return { epoch, params, pending };
  }

  const snap = (block: bigint | undefined): Snapshot => {
    const s = snapshots.get(block as bigint);
    if (!s) throw new Error(`no snapshot at block ${String(block)}`);
    return s;
  };
  /** The contracts' view after `block`, asserted equal to the model's first. */
  const agreed = (block: bigint | undefined): ParamView => {
    const s = snap(block);
    expect(s.contract).toEqual(s.model);
    return s.contract;
  };
  const none: Pending = { value: 0n, activationEpoch: 0n };

  it('the model accepts every input, the chain reverts none, and both agree after every block', () => {
    expect(rejected).toEqual([]);
    const blocks = new Set(plan.inputs.map((i) => i.position.block));
    expect(snapshots.size).toBe(blocks.size);
    for (const s of snapshots.values()) {
      expect(s.check.differences, `cross-check at block ${s.block}`).toEqual([]);
      expect(s.contract, `parameters at block ${s.block}`).toEqual(s.model);
    }
    expect(model.epoch).toBe(5n);
  });

  it('a change executed in epoch e is pending for e+1, not in force; the next endEpoch applies it and clears it', () => {
    const executed = agreed(at.executed0);
    expect(executed.epoch).toBe(0n);
    expect(executed.params.l2GasLimit).toBe(10_000_000_000n);
    expect(executed.pending.l2GasLimit).toEqual({ value: 20_000_000n, activationEpoch: 1n });
    const ended = agreed(at.end0);
    expect(ended.epoch).toBe(1n);
    expect(ended.params.l2GasLimit).toBe(20_000_000n);
    expect(ended.pending.l2GasLimit).toEqual(none);
  });

  it('a governance key still changes at execute and schedules nothing', () => {
    const executed = agreed(at.executed0);
    expect(executed.params.maxValidators).toBe(5n);
    for (const k of ROLLUP_PARAM_KEYS.filter((k) => k !== 'l2GasLimit'))
      expect(executed.pending[k], k).toEqual(none);
  });

  it('two executes on one key in one epoch: the later wins', () => {
    expect(agreed(at.fee7).pending.minBaseFee).toEqual({ value: 7n, activationEpoch: 2n });
    const later = agreed(at.fee9);
    expect(later.pending.minBaseFee).toEqual({ value: 9n, activationEpoch: 2n });
    expect(later.params.minBaseFee).toBe(0n);
    const ended = agreed(at.end1);
    expect(ended.params.minBaseFee).toBe(9n);
    expect(ended.pending.minBaseFee).toEqual(none);
  });

  it("a change executed in the epoch's last block activates at the endEpoch of the next block", () => {
    const last = agreed(at.lastOfEpoch1);
    expect(last.epoch).toBe(1n);
    expect(last.params.batchInterval).toBe(10n);
    expect(last.pending.batchInterval).toEqual({ value: 20n, activationEpoch: 2n });
    const ended = agreed(at.end1);
    expect(ended.epoch).toBe(2n);
    expect(ended.params.batchInterval).toBe(20n);
    expect(ended.pending.batchInterval).toEqual(none);
  });

  it('in endEpoch’s own block: executed before it activates there, executed after it waits an epoch', () => {
    const same = agreed(at.sameBlock);
    expect(same.epoch).toBe(4n);
    expect(same.params.challengeWindow).toBe(100n);
    expect(same.pending.challengeWindow).toEqual({ value: 200n, activationEpoch: 5n });
    const next = agreed(at.end4);
    expect(next.params.challengeWindow).toBe(200n);
    expect(next.pending.challengeWindow).toEqual(none);
  });

  it('every rollup key at its min and at its max passes', () => {
    const mins = agreed(at.mins);
    const maxes = agreed(at.maxes);
    for (const k of ROLLUP_PARAM_KEYS) {
      expect(mins.pending[k], k).toEqual({ value: PARAM_SPECS[k].min, activationEpoch: 3n });
      expect(maxes.pending[k], k).toEqual({ value: PARAM_SPECS[k].max, activationEpoch: 3n });
    }
    expect(model.proposals.get(ids.mins)?.status).toBe(ProposalStatus.Executed);
    expect(model.proposals.get(ids.maxes)?.status).toBe(ProposalStatus.Executed);
    const ended = agreed(at.end2);
    for (const k of ROLLUP_PARAM_KEYS) {
      expect(ended.params[k], k).toBe(PARAM_SPECS[k].max);
      expect(ended.pending[k], k).toEqual(none);
    }
  });

  it('one value past a bound fails the whole proposal: nothing of it is applied or scheduled', () => {
    expect(pastIds.length).toBe(8);
    const before = agreed(at.maxes);
    const after = agreed(at.pastBound);
    expect(after).toEqual(before);
    expect(after.params.maxValidators).toBe(5n);
    for (const id of pastIds)
      expect(model.proposals.get(id)?.status, `proposal ${id}`).toBe(ProposalStatus.Failed);
  });

  it('the logs, ParameterScheduled included, decode to exactly the scenario inputs', async () => {
    const addresses = chain.deployment.addresses;
    const logs = (await client.getLogs({
      address: watchedAddresses(addresses),
      fromBlock: chain.deployment.startBlock,
      toBlock: lastBlock,
    })) as Log[];
    const decode = createLogDecoder(addresses);
    const decoded = logs.flatMap((l) => decode(l));
    const inputs = decoded.flatMap((e) => (e.type === 'input' ? [e.input] : []));
    const pos = (i: GovernanceInput) => `${i.position.block}/${i.position.txIndex} ${inputBody(i)}`;
    expect(inputs.map(pos)).toEqual(plan.inputs.map(pos));

    // The events themselves: scheduled at execute, set by the endEpoch that activates.
    const registryLogs = logs.filter((l) => l.address.toLowerCase() === addresses.registry.toLowerCase());
    const scheduled = registryLogs.filter(
      (l) => l.topics[0] === eventTopic('ParameterScheduled') && l.topics[1] === nameToBytes32('l2GasLimit'),
    );
    expect(scheduled.map((l) => l.blockNumber)).toEqual([at.executed0, at.mins, at.maxes]);
    const setGas = registryLogs.filter(
      (l) => l.topics[0] === eventTopic('ParameterSet') && l.topics[1] === nameToBytes32('l2GasLimit'),
    );
    expect(setGas.map((l) => l.blockNumber)).toEqual([at.end0, at.end2]);
  });
});

function eventTopic(name: 'ParameterScheduled' | 'ParameterSet'): Hex {
  return toEventSelector(
    name === 'ParameterSet' ? 'ParameterSet(bytes32,uint256)' : 'ParameterScheduled(bytes32,uint256,uint64)',
  );
}

describe('the cross-check names the rollup key a wrong registry gets wrong', () => {
  let chain: Chain | undefined;
  afterAll(async () => {
    await chain?.stop();
  });

  it('written at execute, never activated, or not marked next-epoch at genesis: each difference names its key', async () => {
    const file = 'ParamRegistry.sol';
    const bytecode = patchedBytecode([
      // l2GasLimit is written at execute like a governance key.
      [file, 'if (params[a.key].nextEpoch) {', 'if (params[a.key].nextEpoch && a.key != "l2GasLimit") {'],
      // minBaseFee's pending change is never put in force.
      [
        file,
        'if (q.activationEpoch == 0 || q.activationEpoch > epoch) continue;',
        'if (q.activationEpoch == 0 || q.activationEpoch > epoch || key == "minBaseFee") continue;',
      ],
      // challengeWindow is not marked next-epoch at genesis.
      [file, 'Param(true, p.nextEpoch,', 'Param(true, p.nextEpoch && p.key != "challengeWindow",'],
    ]);
    chain = await startChain(GENESIS, {}, bytecode);
    const client = createPublicClient({ transport: http(chain.anvil.rpcUrl) }) as PublicClient;
    await chain.driver.prepareSenders([VALIDATOR, ANYONE]);
    const first = (await chain.rpc.blockNumber()) + 1n;
    const plan = new Plan();
    plan.at(first, { kind: 'registerValidator', sender: VALIDATOR, commissionBps: 0 });
    plan.at(first, { kind: 'stake', sender: VALIDATOR, amount: 10n ** 21n });
    const gas = plan.propose(first + 1n, [set('l2GasLimit', 20_000_000n)]);
    const fee = plan.propose(first + 1n, [set('minBaseFee', 9n)]);
    plan
      .queue(first + 3n, gas, fee)
      .execute(first + 3n, gas, fee)
      .endEpoch(first + 4n);

    const model = createGenesisState(GENESIS);
    const checker = new ContractCrossChecker(chain.deployment.addresses);
    const differences = new Map<bigint, string[]>();
    await chain.driver.replay(plan.inputs, {
      offset: 0n,
      onBlock: async (block, group) => {
        for (const input of group) expect(applyInput(model, input).accepted).toBe(true);
        differences.set(block, (await checker.check(client, model, block)).differences);
      },
    });
    const flag = 'param challengeWindow activates at the next epoch: model true ≠ contract false';
    expect(differences.get(first)).toEqual([flag]);
    expect(differences.get(first + 3n)).toEqual([
      'param l2GasLimit: model 10000000000 ≠ contract 20000000',
      'pending l2GasLimit value: model 20000000 ≠ contract 0',
      'pending l2GasLimit activationEpoch: model 1 ≠ contract 0',
      flag,
    ]);
    expect(differences.get(first + 4n)).toEqual([
      'param minBaseFee: model 9 ≠ contract 0',
      'pending minBaseFee value: model 0 ≠ contract 9',
      'pending minBaseFee activationEpoch: model 0 ≠ contract 1',
      flag,
    ]);
  }, 120_000);
});
