/**
 * Governed parameters: every key, its default and its inclusive bounds [min, max]. The first nine govern
 * governance itself (quorum, threshold, periods, set size, power cap, stake floor, rewards) and take effect
 * when a proposal executes; the last five are the rollup's own (block gas limit, minimum base fee, batch
 * interval, withdrawal delay, challenge window) and take effect at the start of the next epoch, because a
 * rollup cannot change them mid-epoch. docs/protocol.md §2 says when each is read.
 */

export const PARAM_KEYS = [
  'quorumBps',
  'thresholdBps',
  'votingPeriod',
  'timelock',
  'maxValidators',
  'maxPowerBps',
  'minStake',
  'epochReward',
  'governanceSubsidy',
  'l2GasLimit',
  'minBaseFee',
  'batchInterval',
  'withdrawalDelay',
  'challengeWindow',
] as const;

export type ParamKey = (typeof PARAM_KEYS)[number];
export type Params = Readonly<Record<ParamKey, bigint>>;

/**
 * `at-execute`: written by the `execute` input that passes. `next-epoch`: `execute` records a pending value
 * that the end of the current epoch puts in force (docs/protocol.md §2, §6.6).
 */
export type ParamActivation = 'at-execute' | 'next-epoch';

export type ParamSpec = {
  readonly key: ParamKey;
  readonly min: bigint;
  readonly max: bigint;
  readonly default: bigint;
  /** Frozen into a proposal when it is created (true) or read when a rule runs (false). */
  readonly frozenPerProposal: boolean;
  readonly activation: ParamActivation;
  readonly description: string;
};

const E18 = 10n ** 18n;

export const PARAM_SPECS: Readonly<Record<ParamKey, ParamSpec>> = {
  quorumBps: {
    key: 'quorumBps',
    min: 1n,
    max: 10_000n,
    default: 4_000n,
    frozenPerProposal: true,
    activation: 'at-execute',
    description: 'share of the total bonded stake at the snapshot that must vote (for+against+abstain)',
  },
  thresholdBps: {
    key: 'thresholdBps',
    min: 5_000n,
    max: 9_900n,
    default: 5_000n,
    frozenPerProposal: true,
    activation: 'at-execute',
    description: 'a proposal passes when for × 10000 > thresholdBps × (for + against)',
  },
  votingPeriod: {
    key: 'votingPeriod',
    min: 1n,
    max: 1_000_000n,
    default: 100n,
    frozenPerProposal: true,
    activation: 'at-execute',
    description: 'L2 blocks after the proposal block during which votes are accepted',
  },
  timelock: {
    key: 'timelock',
    min: 0n,
    max: 1_000_000n,
    default: 50n,
    frozenPerProposal: true,
    activation: 'at-execute',
    description: 'L2 blocks between queue and the earliest execution',
  },
  maxValidators: {
    key: 'maxValidators',
    min: 1n,
    max: 100n,
    default: 21n,
    frozenPerProposal: false,
    activation: 'at-execute',
    description: 'size of the active validator set chosen at each end of epoch',
  },
  maxPowerBps: {
    key: 'maxPowerBps',
    min: 100n,
    max: 10_000n,
    default: 2_000n,
    frozenPerProposal: false,
    activation: 'at-execute',
    description: "cap on one validator's power, as a share of the selected set's uncapped total",
  },
  minStake: {
    key: 'minStake',
    min: 1n,
    max: 10n ** 30n,
    default: 1_000n * E18,
    frozenPerProposal: false,
    activation: 'at-execute',
    description: 'self stake a validator needs to be eligible for the active set',
  },
  epochReward: {
    key: 'epochReward',
    min: 0n,
    max: 10n ** 27n,
    default: 100n * E18,
    frozenPerProposal: false,
    activation: 'at-execute',
    description: "the epoch's block reward, issued once at each end of epoch to the active set",
  },
  governanceSubsidy: {
    key: 'governanceSubsidy',
    min: 0n,
    max: 10n ** 27n,
    default: 10n * E18,
    frozenPerProposal: false,
    activation: 'at-execute',
    description: 'issued per proposal executed in the epoch, split among the validators that voted on it',
  },
  l2GasLimit: {
    key: 'l2GasLimit',
    min: 1_000_000n,
    max: 100_000_000_000n,
    default: 30_000_000n,
    frozenPerProposal: false,
    activation: 'next-epoch',
    description: "gas limit of every L2 block: each block header's gasLimit must equal it",
  },
  minBaseFee: {
    key: 'minBaseFee',
    min: 0n,
    max: 1_000_000_000_000n,
    default: 0n,
    frozenPerProposal: false,
    activation: 'next-epoch',
    description: "floor of the L2 base fee in wei: each block header's baseFeePerGas must be at least it",
  },
  batchInterval: {
    key: 'batchInterval',
    min: 1n,
    max: 10_000n,
    default: 10n,
    frozenPerProposal: false,
    activation: 'next-epoch',
    description: 'L2 blocks per batch the sequencer posts',
  },
  withdrawalDelay: {
    key: 'withdrawalDelay',
    min: 0n,
    max: 2_000_000n,
    default: 201_600n,
    frozenPerProposal: false,
    activation: 'next-epoch',
    description: 'L2 blocks a bridge withdrawal waits before it can be finalized',
  },
  challengeWindow: {
    key: 'challengeWindow',
    min: 6n,
    max: 4_320n,
    default: 432n,
    frozenPerProposal: false,
    activation: 'next-epoch',
    description:
      "Bitcoin blocks the graph of an epoch's claim gives challengers (T_c): graph import checks it",
  },
};

export const DEFAULT_PARAMS: Params = Object.freeze(
  Object.fromEntries(PARAM_KEYS.map((k) => [k, PARAM_SPECS[k].default])) as Record<ParamKey, bigint>,
);

/** The rollup's own parameters, in leaf order: the keys whose changes wait for the next epoch. */
export const ROLLUP_PARAM_KEYS: readonly ParamKey[] = PARAM_KEYS.filter(
  (k) => PARAM_SPECS[k].activation === 'next-epoch',
);

export const isParamKey = (key: string): key is ParamKey => (PARAM_KEYS as readonly string[]).includes(key);

export function paramInBounds(key: ParamKey, value: bigint): boolean {
  const spec = PARAM_SPECS[key];
  return value >= spec.min && value <= spec.max;
}

/** Protocol constants (not governable): they bound the contracts' gas. */
export const BPS = 10_000n;
export const MAX_COMMISSION_BPS = 10_000;
/** Registrations beyond this are rejected: end-of-epoch work iterates every validator. */
export const MAX_REGISTERED_VALIDATORS = 256;
/** Delegators with a non-zero delegation per validator: end-of-epoch reward payout iterates them. */
export const MAX_DELEGATORS_PER_VALIDATOR = 32;
/** Actions per proposal, 1..MAX_PROPOSAL_ACTIONS. */
export const MAX_PROPOSAL_ACTIONS = 16;
export const UINT256_MAX = (1n << 256n) - 1n;
/**
 * The total bonded stake never exceeds 2^128 − 1 (docs/protocol.md §2): with every reward parameter below
 * 2^90 and every bps at most 10^4, each product the end of epoch and the vote count compute fits uint256,
 * so the contracts' checked arithmetic cannot revert where the model (unbounded integers) goes on.
 */
export const MAX_TOTAL_BONDED = (1n << 128n) - 1n;
