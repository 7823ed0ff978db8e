/**
 * A seeded workload generator: valid input sequences (every input accepted by the reference model, unless
 * `rejected` asks for some refused ones too) that
 * reach the boundaries the rules care about: ties in the ranking, the power cap binding, quorum and
 * threshold near their limits, parameter values at and beyond their bounds, full unstakes and
 * undelegations, delegators voting before and after their validators, cancels, failed executions.
 * Used by the property tests and by the L2 differential tests (serialize it with serializeInputsFile).
 */
import { applyInput, REFERENCE_EXECUTOR } from './executor.ts';
import { createGenesisState } from './genesis.ts';
import type { Address, GovernanceInput, InputPosition, ProposalAction, VoteSupport } from './inputs.ts';
import { PARAM_KEYS, PARAM_SPECS, type ParamKey, ROLLUP_PARAM_KEYS } from './params.ts';
import { type GenesisOptions, type GovernanceState, ProposalStatus } from './state.ts';

export type WorkloadOptions = {
  seed: number;
  /** Number of inputs to produce (all accepted by the reference unless `rejected` > 0). */
  inputs: number;
  /** Validator addresses to draw from (default 8). */
  validators?: number;
  /** Delegator addresses to draw from (default 16). */
  delegators?: number;
  /** Mean number of inputs between two endEpoch inputs (default 40). */
  epochLength?: number;
  /** Genesis parameter overrides (defaults: small values that make every rule fire). */
  params?: Partial<Record<ParamKey, bigint>>;
  /** Commissions drawn at registration (default 0, 5%, 10%, 33.33%, 100%). */
  commissions?: readonly number[];
  /** Relative weights per input kind (0 disables one). */
  weights?: Partial<Record<GovernanceInput['kind'], number>>;
  /**
   * Share (0..1, default 0) of steps that try an input the reference REJECTS (a repeated vote, a queue
   * short of quorum or approval, an execute before its timelock or of a canceled proposal). On the L2
   * these are reverted transactions: the inputs only a precondition fault accepts. They count in
   * `inputs`. At 0 the generator draws exactly the random numbers it always did (same workloads).
   */
  rejected?: number;
};

export type Workload = { genesis: GenesisOptions; inputs: GovernanceInput[] };

const GOVERNANCE_PARAM_KEYS = PARAM_KEYS.filter((k) => PARAM_SPECS[k].activation === 'at-execute');

/** Parameters under which a short workload reaches every rule. */
export const WORKLOAD_PARAMS: Readonly<Record<ParamKey, bigint>> = {
  quorumBps: 3_000n,
  thresholdBps: 5_000n,
  votingPeriod: 12n,
  timelock: 3n,
  maxValidators: 4n,
  maxPowerBps: 3_000n,
  minStake: 1_000n,
  epochReward: 1_000_003n,
  governanceSubsidy: 1_001n,
  // The rollup's own: the devnet's anvil runs with this gas limit, and its graphs use regtest's window.
  l2GasLimit: 10_000_000_000n,
  minBaseFee: 0n,
  batchInterval: 10n,
  withdrawalDelay: 100n,
  challengeWindow: 6n,
};

/**
 * In-bounds values of the rollup parameters a workload proposes, chosen so that a devnet sequencer which
 * applies them keeps running: the gas limit never drops below the current one (the end of epoch needs
 * room), the base fee floor stays cheap and the challenge window stays short (devnet takes wait for it).
 */
const ROLLUP_IN_BOUNDS: Partial<Record<ParamKey, (current: bigint, int: (n: number) => number) => bigint>> = {
  l2GasLimit: (cur, int) => cur + 1n + BigInt(int(3)),
  minBaseFee: (_cur, int) => [0n, 1n, 7n, 1_000n][int(4)] as bigint,
  challengeWindow: (_cur, int) => 6n + BigInt(int(3)),
};

const DEFAULT_WEIGHTS: Record<GovernanceInput['kind'], number> = {
  registerValidator: 3,
  stake: 10,
  unstake: 4,
  delegate: 10,
  undelegate: 4,
  propose: 2,
  vote: 24,
  queue: 6,
  execute: 6,
  cancel: 0.5,
  endEpoch: 0, // paced by epochLength instead
};

/** mulberry32: small, fast, and the same in every JavaScript engine. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A deterministic address for a role and index: role byte then the index, zero-padded. */
export function workloadAddress(role: 'validator' | 'delegator', i: number): Address {
  const prefix = role === 'validator' ? 'a1' : 'd1';
  return `0x${prefix}${i.toString(16).padStart(38, '0')}` as Address;
}

export function generateWorkload(options: WorkloadOptions): Workload {
  const rng = createRng(options.seed);
  const int = (n: number): number => Math.floor(rng() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const params = { ...WORKLOAD_PARAMS, ...options.params };
  const genesis: GenesisOptions = { params };
  const state = createGenesisState(genesis);
  const validators = Array.from({ length: options.validators ?? 8 }, (_, i) =>
    workloadAddress('validator', i),
  );
  const delegators = Array.from({ length: options.delegators ?? 16 }, (_, i) =>
    workloadAddress('delegator', i),
  );
  const everyone = [...validators, ...delegators];
  const weights = { ...DEFAULT_WEIGHTS, ...options.weights };
  const kinds = Object.entries(weights).filter(([, w]) => w > 0) as [GovernanceInput['kind'], number][];
  const totalWeight = kinds.reduce((s, [, w]) => s + w, 0);
  const epochLength = options.epochLength ?? 40;
  const unit = params.minStake;
  const commissions = options.commissions ?? [0, 500, 1000, 3333, 10000];

  let block = 1n;
  let tx = 0;
  const inputs: GovernanceInput[] = [];
  const nextPosition = (): InputPosition => {
    const r = rng();
    if (r < 0.5) {
      block += BigInt(1 + int(2));
      tx = 0;
    } else tx += 1;
    return { block, txIndex: tx, logIndex: int(3) };
  };

  // Amounts from a small lattice so equal totals (ranking ties) and exact minStake happen often.
  const amount = (): bigint => {
    const r = rng();
    if (r < 0.3) return unit;
    if (r < 0.6) return unit * BigInt(1 + int(4));
    if (r < 0.8) return unit / 2n + BigInt(int(3));
    return BigInt(1 + int(Number(unit) * 3));
  };

  const paramValue = (key: ParamKey): bigint => {
    const spec = PARAM_SPECS[key];
    const r = rng();
    const rollup = ROLLUP_IN_BOUNDS[key];
    if (rollup !== undefined) {
      if (r < 0.15 && spec.min > 0n) return spec.min - 1n; // out of bounds: the proposal fails
      if (r < 0.25) return spec.max + 1n;
      return rollup(state.params[key], int);
    }
    if (r < 0.2) return spec.min;
    if (r < 0.35) return key === 'votingPeriod' || key === 'timelock' ? spec.min : spec.max;
    if (r < 0.45 && spec.min > 0n) return spec.min - 1n; // out of bounds: the proposal fails
    if (r < 0.55) return spec.max + 1n;
    // in bounds and near the workload's own value, so later epochs still exercise the rules
    const cur = state.params[key];
    const lo = cur > spec.min ? cur - 1n : spec.min;
    return lo + BigInt(int(3)) > spec.max ? spec.max : lo + BigInt(int(3));
  };

  const proposalIds = (want: (status: number, p: { voteEnd: bigint; eta: bigint }) => boolean): bigint[] => {
    // Only recent proposals: older ones have long left their voting and timelock windows.
    const out: bigint[] = [];
    for (let id = state.proposalCount; id > 0n && id > state.proposalCount - 16n; id--) {
      const p = state.proposals.get(id);
      if (p && want(p.status, p)) out.push(id);
    }
    return out.reverse();
  };

  const candidate = (kind: GovernanceInput['kind'], position: InputPosition): GovernanceInput | undefined => {
    switch (kind) {
      case 'registerValidator':
        return { kind, position, sender: pick(validators), commissionBps: pick(commissions) };
      case 'stake': {
        const sender = pick(validators);
        const v = state.validators.get(sender);
        const other = state.validators.get(pick(validators));
        if (v && other && rng() < 0.2) {
          // Top up to another validator's total: equal totals make the ranking fall to the tie-break.
          const gap = other.selfStake + other.delegated - (v.selfStake + v.delegated);
          if (gap > 0n) return { kind, position, sender, amount: gap };
        }
        return { kind, position, sender, amount: amount() };
      }
      case 'unstake': {
        const v = state.validators.get(pick(validators));
        if (!v || v.selfStake === 0n) return undefined;
        const full = rng() < 0.3;
        return {
          kind,
          position,
          sender: v.address,
          amount: full ? v.selfStake : 1n + BigInt(int(Number(v.selfStake))),
        };
      }
      case 'delegate': {
        if (delegators.length === 0) return undefined;
        const sender = pick(delegators);
        const d = state.delegations.get(sender);
        const validator = d && d.amount > 0n ? d.validator : pick(validators);
        return { kind, position, sender, validator, amount: amount() };
      }
      case 'undelegate': {
        if (delegators.length === 0) return undefined;
        const d = state.delegations.get(pick(delegators));
        if (!d || d.amount === 0n) return undefined;
        const full = rng() < 0.4;
        const amt = full ? d.amount : 1n + BigInt(int(Number(d.amount)));
        return { kind, position, sender: d.delegator, validator: d.validator, amount: amt };
      }
      case 'propose': {
        const open = proposalIds((st, p) => st === ProposalStatus.Active && position.block <= p.voteEnd);
        if (open.length >= 2) return undefined;
        const actions: ProposalAction[] = [];
        const n = 1 + int(2);
        for (let i = 0; i < n; i++) {
          if (rng() < 0.8) {
            const key = rng() < 0.3 ? pick(ROLLUP_PARAM_KEYS) : pick(GOVERNANCE_PARAM_KEYS);
            actions.push({ kind: 'setParameter', key, value: paramValue(key) });
          } else {
            const moduleId = pick(['privacy', 'bridge']);
            const cur = state.modules.get(moduleId)?.version ?? 0n;
            const version = rng() < 0.85 ? cur + 1n : cur; // a stale version makes the proposal fail
            const codeHash = `0x${(int(0xffffff) + 1).toString(16).padStart(64, '0')}` as `0x${string}`;
            actions.push({
              kind: 'upgradeModule',
              moduleId,
              version: version === 0n ? 1n : version,
              codeHash,
            });
          }
        }
        return { kind, position, sender: pick(everyone), actions };
      }
      case 'vote': {
        const open = proposalIds((st, p) => st === ProposalStatus.Active && position.block <= p.voteEnd);
        if (open.length === 0) return undefined;
        const support: VoteSupport = pick(['for', 'for', 'for', 'against', 'abstain']);
        const id = open[open.length - 1 - int(Math.min(2, open.length))] as bigint;
        const voted = state.proposals.get(id)?.votes;
        const fresh = everyone.filter(
          (a) => !voted?.has(a) && (state.validators.has(a) || state.delegations.has(a)),
        );
        if (fresh.length === 0) return undefined;
        return { kind, position, sender: pick(fresh), proposalId: id, support };
      }
      case 'queue': {
        const ended = proposalIds((st, p) => st === ProposalStatus.Active && position.block > p.voteEnd);
        return ended.length === 0
          ? undefined
          : { kind, position, sender: pick(everyone), proposalId: pick(ended) };
      }
      case 'execute': {
        const ready = proposalIds((st, p) => st === ProposalStatus.Queued && position.block >= p.eta);
        return ready.length === 0
          ? undefined
          : { kind, position, sender: pick(everyone), proposalId: pick(ready) };
      }
      case 'cancel': {
        const open = proposalIds((st) => st === ProposalStatus.Active || st === ProposalStatus.Queued);
        if (open.length === 0 || rng() < 0.7) return undefined;
        const p = state.proposals.get(pick(open));
        return p ? { kind, position, sender: p.proposer, proposalId: p.id } : undefined;
      }
      case 'endEpoch':
        return { kind, position, sender: pick(everyone) };
    }
  };

  // Inputs a precondition fault accepts and the reference refuses; undefined when none applies now.
  const refusedCandidate = (position: InputPosition): GovernanceInput | undefined => {
    const recent = proposalIds(() => true);
    if (recent.length === 0) return undefined;
    const p = state.proposals.get(pick(recent));
    if (!p) return undefined;
    const sender = pick(everyone);
    switch (int(4)) {
      case 0: {
        const voters = [...p.votes.keys()];
        if (voters.length === 0) return undefined;
        const support: VoteSupport = pick(['for', 'against', 'abstain']);
        return { kind: 'vote', position, sender: pick(voters), proposalId: p.id, support };
      }
      case 1:
        return { kind: 'queue', position, sender, proposalId: p.id };
      default:
        return { kind: 'execute', position, sender, proposalId: p.id };
    }
  };

  const rejectedShare = options.rejected ?? 0;
  let sinceEpoch = 0;
  let attempts = 0;
  while (inputs.length < options.inputs) {
    if (++attempts > options.inputs * 50 + 1000) break; // only if the weights make progress impossible
    if (rejectedShare > 0 && rng() < rejectedShare) {
      const input = refusedCandidate(nextPosition());
      if (input && !applyInput(state, input, REFERENCE_EXECUTOR).accepted) {
        inputs.push(input);
        sinceEpoch++;
      }
      continue;
    }
    let kind: GovernanceInput['kind'] = 'endEpoch';
    if (sinceEpoch < epochLength || rng() > 0.2) {
      let r = rng() * totalWeight;
      for (const [k, w] of kinds) {
        r -= w;
        if (r < 0) {
          kind = k;
          break;
        }
      }
    }
    const position = nextPosition();
    const input = candidate(kind, position);
    if (!input) continue;
    if (!applyInput(state, input, REFERENCE_EXECUTOR).accepted) continue;
    inputs.push(input);
    sinceEpoch = kind === 'endEpoch' ? 0 : sinceEpoch + 1;
  }
  return { genesis, inputs };
}

/** The state a workload leaves behind (re-executed by the reference), for tests that inspect it. */
export function workloadFinalState(w: Workload): GovernanceState {
  const state = createGenesisState(w.genesis);
  for (const input of w.inputs) applyInput(state, input, REFERENCE_EXECUTOR);
  return state;
}

/**
 * One long epoch of `inputs` valid inputs (64 validators, 2,000 delegators), closed by a single
 * endEpoch: the shape of the re-execution benchmark, also pinned by the tests at smaller sizes.
 */
export function generateOneEpochWorkload(inputs: number, seed = 42): Workload {
  const w = generateWorkload({
    seed,
    inputs: inputs - 1,
    validators: 64,
    delegators: 2_000,
    epochLength: inputs,
    weights: { endEpoch: 0 },
  });
  const last = w.inputs[w.inputs.length - 1];
  w.inputs.push({
    kind: 'endEpoch',
    sender: workloadAddress('delegator', 0),
    position: { block: (last?.position.block ?? 1n) + 1n, txIndex: 0, logIndex: 0 },
  });
  return w;
}
