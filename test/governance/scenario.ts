/** A small driver for hand-written governance scenarios: positions are filled in, inputs are recorded. */
import {
  type Address,
  applyInput,
  computeStateRoot,
  createGenesisState,
  type Executor,
  type GenesisOptions,
  type GovernanceInput,
  type GovernanceState,
  type ParamKey,
  type ProposalAction,
  REFERENCE_EXECUTOR,
  type StepOutcome,
  type VoteSupport,
} from '../../src/governance/index.ts';

/** An address made of one repeated byte, e.g. addr('aa'). Byte order = address order. */
export const addr = (byte: string): Address => `0x${byte.repeat(20)}` as Address;

type NoPosition<T> = T extends GovernanceInput ? Omit<T, 'position'> : never;

/** Small parameters used by the unit tests unless a test overrides one. */
export const TEST_PARAMS: Record<ParamKey, bigint> = {
  quorumBps: 4_000n,
  thresholdBps: 5_000n,
  votingPeriod: 10n,
  timelock: 5n,
  maxValidators: 3n,
  maxPowerBps: 10_000n,
  minStake: 100n,
  epochReward: 1_000n,
  governanceSubsidy: 0n,
  l2GasLimit: 30_000_000n,
  minBaseFee: 0n,
  batchInterval: 10n,
  withdrawalDelay: 100n,
  challengeWindow: 6n,
};

export class Scenario {
  readonly state: GovernanceState;
  readonly inputs: GovernanceInput[] = [];
  readonly outcomes: StepOutcome[] = [];
  block = 1n;
  private log = 0;

  constructor(
    params: Partial<Record<ParamKey, bigint>> = {},
    readonly executor: Executor = REFERENCE_EXECUTOR,
    readonly genesis: GenesisOptions = { params: { ...TEST_PARAMS, ...params } },
  ) {
    this.state = createGenesisState(this.genesis);
  }

  at(block: number | bigint): this {
    this.block = BigInt(block);
    return this;
  }

  apply(input: NoPosition<GovernanceInput>): StepOutcome {
    const full = {
      ...input,
      position: { block: this.block, txIndex: 0, logIndex: this.log++ },
    } as GovernanceInput;
    this.inputs.push(full);
    const out = applyInput(this.state, full, this.executor);
    this.outcomes.push(out);
    return out;
  }

  register(v: Address, commissionBps = 0): StepOutcome {
    return this.apply({ kind: 'registerValidator', sender: v, commissionBps });
  }
  stake(v: Address, amount: bigint): StepOutcome {
    return this.apply({ kind: 'stake', sender: v, amount });
  }
  /** register + stake */
  validator(v: Address, amount: bigint, commissionBps = 0): this {
    this.register(v, commissionBps);
    if (amount > 0n) this.stake(v, amount);
    return this;
  }
  unstake(v: Address, amount: bigint): StepOutcome {
    return this.apply({ kind: 'unstake', sender: v, amount });
  }
  delegate(d: Address, v: Address, amount: bigint): StepOutcome {
    return this.apply({ kind: 'delegate', sender: d, validator: v, amount });
  }
  undelegate(d: Address, v: Address, amount: bigint): StepOutcome {
    return this.apply({ kind: 'undelegate', sender: d, validator: v, amount });
  }
  propose(sender: Address, actions: ProposalAction[]): bigint {
    const out = this.apply({ kind: 'propose', sender, actions });
    if (!out.accepted) throw new Error(`propose rejected: ${out.reason}`);
    return this.state.proposalCount;
  }
  setParam(sender: Address, key: ParamKey, value: bigint): bigint {
    return this.propose(sender, [{ kind: 'setParameter', key, value }]);
  }
  vote(sender: Address, proposalId: bigint, support: VoteSupport): StepOutcome {
    return this.apply({ kind: 'vote', sender, proposalId, support });
  }
  queue(proposalId: bigint, sender: Address = addr('99')): StepOutcome {
    return this.apply({ kind: 'queue', sender, proposalId });
  }
  execute(proposalId: bigint, sender: Address = addr('99')): StepOutcome {
    return this.apply({ kind: 'execute', sender, proposalId });
  }
  cancel(sender: Address, proposalId: bigint): StepOutcome {
    return this.apply({ kind: 'cancel', sender, proposalId });
  }
  endEpoch(): StepOutcome {
    return this.apply({ kind: 'endEpoch', sender: addr('99') });
  }
  root(): Uint8Array {
    return computeStateRoot(this.state);
  }
  /** Index of the last input applied. */
  get last(): number {
    return this.inputs.length - 1;
  }
}
