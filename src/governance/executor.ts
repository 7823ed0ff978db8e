/**
 * The executor: applies one input to the state by the rules of docs/protocol.md. Every precondition is
 * checked before any effect, so a rejected input changes nothing. The decisions a fault can break are
 * hooks; the reference executor is `REFERENCE_EXECUTOR`, the faulty ones (faults.ts) override one hook.
 */

import { encodeAction } from './encoding.ts';
import { InvalidGenesisError } from './errors.ts';
import { delegationAt, valueAt, writeCheckpoint, writeDelegationCheckpoint } from './history.ts';
import {
  type Address,
  type CancelInput,
  comparePositions,
  type DelegateInput,
  type ExecuteInput,
  type GovernanceInput,
  isAddress,
  isHash32,
  isName,
  type ProposalAction,
  type ProposeInput,
  type QueueInput,
  type RegisterValidatorInput,
  type StakeInput,
  type UndelegateInput,
  type UnstakeInput,
  type VoteInput,
} from './inputs.ts';
import {
  BPS,
  DEFAULT_PARAMS,
  isParamKey,
  MAX_COMMISSION_BPS,
  MAX_DELEGATORS_PER_VALIDATOR,
  MAX_PROPOSAL_ACTIONS,
  MAX_REGISTERED_VALIDATORS,
  MAX_TOTAL_BONDED,
  PARAM_SPECS,
  type ParamKey,
  paramInBounds,
  UINT256_MAX,
} from './params.ts';
import type { RuleId } from './rule-ids.ts';
import { sha256Concat } from './sha.ts';
import {
  type ActiveEntry,
  buildGenesisState,
  CheckpointKind,
  type GenesisOptions,
  type GovernanceState,
  markActiveSlot,
  markCheckpoint,
  markDelegation,
  markGlobal,
  markModule,
  markParam,
  markProposal,
  markReward,
  markValidator,
  markVote,
  type ProposalRecord,
  ProposalStatus,
  type ValidatorRecord,
} from './state.ts';

/** A candidate for the active set, as the ranking sees it. */
export type RankCandidate = { readonly address: Address; readonly total: bigint };

/** The decisions a faulty executor may change; the reference implements docs/protocol.md exactly. */
export type RuleHooks = {
  /** `queue.quorum` */
  quorumMet(voted: bigint, bondedAtSnapshot: bigint, quorumBps: bigint): boolean;
  /** `queue.approval` */
  approved(forVotes: bigint, againstVotes: bigint, thresholdBps: bigint): boolean;
  /** `vote.override` */
  applyDelegatorOverride: boolean;
  /** `vote.once` */
  rejectRepeatVote: boolean;
  /** `execute.bounds` (parameter actions) */
  actionInBounds(key: ParamKey, value: bigint): boolean;
  /** `execute.status` */
  executableStatus(status: ProposalStatus): boolean;
  /** `execute.timelock` */
  timelockElapsed(block: bigint, eta: bigint): boolean;
  /** `epoch.set.cap`: a selected validator's power given its total and the cap. */
  capPower(total: bigint, cap: bigint): bigint;
  /** `epoch.set.rank`: negative when `a` ranks before `b`. */
  rankOrder(a: RankCandidate, b: RankCandidate): number;
  /** `epoch.reward.commission` */
  commission(reward: bigint, commissionBps: bigint): bigint;
  /** `epoch.reward.rounding`: the division used by every reward split. */
  divide(numerator: bigint, denominator: bigint): bigint;
  /** `unstake.power` */
  unstakeRemovesPower: boolean;
};

export type Executor = {
  readonly name: string;
  readonly description: string;
  /** The one rule a faulty executor breaks; null for the reference. */
  readonly breaks: RuleId | null;
  readonly hooks: RuleHooks;
};

export const REFERENCE_HOOKS: RuleHooks = Object.freeze({
  quorumMet: (voted: bigint, bonded: bigint, quorumBps: bigint) => voted * BPS >= quorumBps * bonded,
  approved: (f: bigint, a: bigint, thresholdBps: bigint) => f * BPS > thresholdBps * (f + a),
  applyDelegatorOverride: true,
  rejectRepeatVote: true,
  actionInBounds: paramInBounds,
  executableStatus: (status: ProposalStatus) => status === ProposalStatus.Queued,
  timelockElapsed: (block: bigint, eta: bigint) => block >= eta,
  capPower: (total: bigint, cap: bigint) => (total < cap ? total : cap),
  rankOrder: (a: RankCandidate, b: RankCandidate) => {
    if (a.total !== b.total) return a.total > b.total ? -1 : 1;
    return a.address < b.address ? -1 : a.address > b.address ? 1 : 0;
  },
  commission: (reward: bigint, bps: bigint) => (reward * bps) / BPS,
  divide: (n: bigint, d: bigint) => n / d,
  unstakeRemovesPower: true,
});

export const REFERENCE_EXECUTOR: Executor = Object.freeze({
  name: 'reference',
  description: 'the reference model: docs/protocol.md exactly',
  breaks: null,
  hooks: REFERENCE_HOOKS,
});

export type StepOutcome =
  | { accepted: true; rules: RuleId[] }
  | { accepted: false; rules: RuleId[]; rejectedBy: RuleId; reason: string };

type Rejection = { rule: RuleId; reason: string };
const reject = (rule: RuleId, reason: string): Rejection => ({ rule, reason });

/** Validates genesis options against the protocol bounds and builds the genesis state. */
export function createGenesisState(options: GenesisOptions = {}): GovernanceState {
  const params = { ...DEFAULT_PARAMS } as Record<ParamKey, bigint>;
  for (const [key, value] of Object.entries(options.params ?? {})) {
    if (!isParamKey(key)) throw new InvalidGenesisError(`unknown parameter "${key}"`);
    if (typeof value !== 'bigint' || !paramInBounds(key, value)) {
      const spec = PARAM_SPECS[key];
      throw new InvalidGenesisError(
        `parameter ${key} = ${String(value)} is outside [${spec.min}, ${spec.max}]`,
      );
    }
    params[key] = value;
  }
  const seen = new Set<string>();
  for (const m of options.modules ?? []) {
    if (!isName(m.id)) throw new InvalidGenesisError(`module id "${m.id}" is not 1..32 of [A-Za-z0-9_-]`);
    if (seen.has(m.id)) throw new InvalidGenesisError(`module "${m.id}" is listed twice`);
    seen.add(m.id);
    if (m.version < 1n || m.version >= 1n << 64n) {
      throw new InvalidGenesisError(`module "${m.id}" version ${m.version} is outside [1, 2^64)`);
    }
    if (!isHash32(m.codeHash)) throw new InvalidGenesisError(`module "${m.id}" code hash is not 32-byte hex`);
  }
  return buildGenesisState(params, options);
}

/**
 * Applies one input. On acceptance the state is updated (leaf marks included); on rejection nothing
 * changes. The root is not computed here: call `computeStateRoot` when one is needed.
 */
export function applyInput(
  state: GovernanceState,
  input: GovernanceInput,
  executor: Executor = REFERENCE_EXECUTOR,
): StepOutcome {
  const rules: RuleId[] = ['input.order'];
  const order = checkOrder(state, input);
  const rejection = order ?? dispatch(state, input, executor.hooks, rules);
  if (rejection) return { accepted: false, rules, rejectedBy: rejection.rule, reason: rejection.reason };
  state.lastPosition = input.position;
  markGlobal(state);
  state.leaves.endStep();
  return { accepted: true, rules };
}

function checkOrder(state: GovernanceState, input: GovernanceInput): Rejection | undefined {
  const p = input.position;
  if (
    typeof p.block !== 'bigint' ||
    p.block < 0n ||
    p.block >= 1n << 64n ||
    !Number.isInteger(p.txIndex) ||
    !Number.isInteger(p.logIndex) ||
    p.txIndex < 0 ||
    p.logIndex < 0 ||
    p.txIndex > 0xffffffff ||
    p.logIndex > 0xffffffff
  ) {
    return reject('input.order', 'position out of range');
  }
  if (state.lastPosition && comparePositions(p, state.lastPosition) <= 0) {
    return reject('input.order', 'position not after the previous input');
  }
  return undefined;
}

function dispatch(
  s: GovernanceState,
  input: GovernanceInput,
  h: RuleHooks,
  rules: RuleId[],
): Rejection | undefined {
  switch (input.kind) {
    case 'registerValidator':
      return registerValidator(s, input, rules);
    case 'stake':
      return stake(s, input, rules);
    case 'unstake':
      return unstake(s, input, h, rules);
    case 'delegate':
      return delegate(s, input, rules);
    case 'undelegate':
      return undelegate(s, input, rules);
    case 'propose':
      return propose(s, input, rules);
    case 'vote':
      return vote(s, input, h, rules);
    case 'queue':
      return queue(s, input, h, rules);
    case 'execute':
      return execute(s, input, h, rules);
    case 'cancel':
      return cancel(s, input, rules);
    case 'endEpoch':
      endEpoch(s, h, rules);
      return undefined;
    default: {
      const unknown: { kind?: unknown } = input;
      return reject('input.order', `unknown input kind ${String(unknown.kind)}`);
    }
  }
}

const isPositiveAmount = (v: unknown): v is bigint => typeof v === 'bigint' && v > 0n && v <= UINT256_MAX;

// ---- validators and delegations (§4) ----

function registerValidator(s: GovernanceState, input: RegisterValidatorInput, rules: RuleId[]) {
  rules.push('register');
  const { sender, commissionBps } = input;
  if (!isAddress(sender)) return reject('register', 'sender is not a lowercase address');
  if (s.validators.has(sender)) return reject('register', 'already registered');
  if ((s.delegations.get(sender)?.amount ?? 0n) !== 0n) return reject('register', 'sender has a delegation');
  if (!Number.isInteger(commissionBps) || commissionBps < 0 || commissionBps > MAX_COMMISSION_BPS) {
    return reject('register', 'commission outside [0, 10000] bps');
  }
  if (s.validators.size >= MAX_REGISTERED_VALIDATORS) return reject('register', 'validator limit reached');
  const v: ValidatorRecord = {
    address: sender,
    commissionBps,
    selfStake: 0n,
    delegated: 0n,
    delegators: new Set(),
    selfHistory: { blocks: [], values: [] },
    delegatedHistory: { blocks: [], values: [] },
  };
  s.validators.set(sender, v);
  markValidator(s, v);
  return undefined;
}

function setBonded(s: GovernanceState, block: bigint, value: bigint): void {
  s.totalBonded = value;
  writeCheckpoint(s.bondedHistory, block, value);
  markCheckpoint(s, CheckpointKind.Bonded, ZERO, block, null, value);
}

const ZERO = '0x0000000000000000000000000000000000000000' as Address;

function writeSelf(s: GovernanceState, v: ValidatorRecord, block: bigint): void {
  writeCheckpoint(v.selfHistory, block, v.selfStake);
  markCheckpoint(s, CheckpointKind.Self, v.address, block, null, v.selfStake);
}

function writeDelegated(s: GovernanceState, v: ValidatorRecord, block: bigint): void {
  writeCheckpoint(v.delegatedHistory, block, v.delegated);
  markCheckpoint(s, CheckpointKind.Delegated, v.address, block, null, v.delegated);
}

function stake(s: GovernanceState, input: StakeInput, rules: RuleId[]) {
  rules.push('stake');
  const v = s.validators.get(input.sender);
  if (!v) return reject('stake', 'sender is not a registered validator');
  if (!isPositiveAmount(input.amount)) return reject('stake', 'amount must be positive');
  if (s.totalBonded + input.amount > MAX_TOTAL_BONDED) {
    return reject('stake', 'stake takes the total bonded stake above MAX_TOTAL_BONDED (2^128 - 1)');
  }
  const block = input.position.block;
  v.selfStake += input.amount;
  writeSelf(s, v, block);
  setBonded(s, block, s.totalBonded + input.amount);
  markValidator(s, v);
  return undefined;
}

function unstake(s: GovernanceState, input: UnstakeInput, h: RuleHooks, rules: RuleId[]) {
  rules.push('unstake');
  const v = s.validators.get(input.sender);
  if (!v) return reject('unstake', 'sender is not a registered validator');
  if (!isPositiveAmount(input.amount)) return reject('unstake', 'amount must be positive');
  if (input.amount > v.selfStake) return reject('unstake', 'amount exceeds the self stake');
  rules.push('unstake.power');
  const block = input.position.block;
  v.selfStake -= input.amount;
  if (h.unstakeRemovesPower) {
    writeSelf(s, v, block);
    setBonded(s, block, s.totalBonded - input.amount);
  }
  markValidator(s, v);
  return undefined;
}

function delegate(s: GovernanceState, input: DelegateInput, rules: RuleId[]) {
  rules.push('delegate');
  const { sender, amount } = input;
  if (!isAddress(sender)) return reject('delegate', 'sender is not a lowercase address');
  if (s.validators.has(sender)) return reject('delegate', 'a validator cannot delegate');
  const v = s.validators.get(input.validator);
  if (!v) return reject('delegate', 'validator is not registered');
  if (!isPositiveAmount(amount)) return reject('delegate', 'amount must be positive');
  const existing = s.delegations.get(sender);
  const current = existing?.amount ?? 0n;
  if (current > 0n && existing?.validator !== v.address) {
    return reject('delegate', 'sender already delegates to another validator');
  }
  if (current === 0n && v.delegators.size >= MAX_DELEGATORS_PER_VALIDATOR) {
    return reject('delegate', 'validator has the maximum number of delegators');
  }
  if (s.totalBonded + amount > MAX_TOTAL_BONDED) {
    return reject('delegate', 'delegation takes the total bonded stake above MAX_TOTAL_BONDED (2^128 - 1)');
  }
  const block = input.position.block;
  const d = existing ?? {
    delegator: sender,
    validator: v.address,
    amount: 0n,
    history: { blocks: [], values: [], validators: [] },
  };
  if (!existing) s.delegations.set(sender, d);
  d.validator = v.address;
  d.amount = current + amount;
  v.delegators.add(sender);
  v.delegated += amount;
  writeDelegationCheckpoint(d.history, block, v.address, d.amount);
  markCheckpoint(s, CheckpointKind.Delegation, sender, block, v.address, d.amount);
  writeDelegated(s, v, block);
  setBonded(s, block, s.totalBonded + amount);
  markDelegation(s, d);
  markValidator(s, v);
  return undefined;
}

function undelegate(s: GovernanceState, input: UndelegateInput, rules: RuleId[]) {
  rules.push('undelegate');
  const d = s.delegations.get(input.sender);
  if (!d || d.amount === 0n) return reject('undelegate', 'sender has no delegation');
  if (d.validator !== input.validator) return reject('undelegate', 'sender delegates to another validator');
  if (!isPositiveAmount(input.amount)) return reject('undelegate', 'amount must be positive');
  if (input.amount > d.amount) return reject('undelegate', 'amount exceeds the delegation');
  const v = s.validators.get(d.validator) as ValidatorRecord;
  const block = input.position.block;
  d.amount -= input.amount;
  if (d.amount === 0n) v.delegators.delete(d.delegator);
  v.delegated -= input.amount;
  writeDelegationCheckpoint(d.history, block, v.address, d.amount);
  markCheckpoint(s, CheckpointKind.Delegation, d.delegator, block, v.address, d.amount);
  writeDelegated(s, v, block);
  setBonded(s, block, s.totalBonded - input.amount);
  markDelegation(s, d);
  markValidator(s, v);
  return undefined;
}

// ---- proposals (§5) ----

function validateAction(a: ProposalAction): string | undefined {
  if (a.kind === 'setParameter') {
    if (!isParamKey(a.key)) return `unknown parameter "${a.key}"`;
    if (typeof a.value !== 'bigint' || a.value < 0n || a.value > UINT256_MAX) return 'value is not a uint256';
    return undefined;
  }
  if (a.kind === 'upgradeModule') {
    if (!isName(a.moduleId)) return `module id "${a.moduleId}" is not 1..32 of [A-Za-z0-9_-]`;
    if (typeof a.version !== 'bigint' || a.version < 1n || a.version >= 1n << 64n) {
      return 'version outside [1, 2^64)';
    }
    if (!isHash32(a.codeHash)) return 'code hash is not 32-byte lowercase hex';
    return undefined;
  }
  return 'unknown action kind';
}

function propose(s: GovernanceState, input: ProposeInput, rules: RuleId[]) {
  rules.push('propose');
  if (!isAddress(input.sender)) return reject('propose', 'sender is not a lowercase address');
  const block = input.position.block;
  if (block < 1n) return reject('propose', 'no proposal at block 0 (its snapshot would precede genesis)');
  const { actions } = input;
  if (!Array.isArray(actions) || actions.length < 1 || actions.length > MAX_PROPOSAL_ACTIONS) {
    return reject('propose', `a proposal has 1..${MAX_PROPOSAL_ACTIONS} actions`);
  }
  for (const a of actions) {
    const problem = validateAction(a);
    if (problem) return reject('propose', problem);
  }
  const id = s.proposalCount + 1n;
  const snapshotBlock = block - 1n;
  const p: ProposalRecord = {
    id,
    proposer: input.sender,
    createdBlock: block,
    snapshotBlock,
    voteEnd: block + s.params.votingPeriod,
    quorumBps: s.params.quorumBps,
    thresholdBps: s.params.thresholdBps,
    timelock: s.params.timelock,
    bondedAtSnapshot: valueAt(s.bondedHistory, snapshotBlock),
    actions: actions.map((a) => ({ ...a })),
    actionsHash: sha256Concat(actions.map(encodeAction)),
    status: ProposalStatus.Active,
    eta: 0n,
    executedEpoch: 0n,
    tally: { for: 0n, against: 0n, abstain: 0n },
    votes: new Map(),
    overridden: new Map(),
  };
  s.proposalCount = id;
  s.proposals.set(id, p);
  markProposal(s, p);
  return undefined;
}

function vote(s: GovernanceState, input: VoteInput, h: RuleHooks, rules: RuleId[]) {
  rules.push('vote.status');
  const p = s.proposals.get(input.proposalId);
  if (!p) return reject('vote.status', 'no such proposal');
  if (p.status !== ProposalStatus.Active) return reject('vote.status', 'proposal is not open for votes');
  if (input.support !== 'for' && input.support !== 'against' && input.support !== 'abstain') {
    return reject('vote.status', 'support must be for, against or abstain');
  }
  rules.push('vote.period');
  if (input.position.block > p.voteEnd) return reject('vote.period', 'voting period has ended');
  rules.push('vote.once');
  const sender = input.sender;
  const previous = p.votes.get(sender);
  if (previous && h.rejectRepeatVote) return reject('vote.once', 'sender has already voted');
  rules.push('vote.power');
  if (!isAddress(sender)) return reject('vote.power', 'sender is not a lowercase address');
  const snap = p.snapshotBlock;
  const validator = s.validators.get(sender);
  const selfAt = validator ? valueAt(validator.selfHistory, snap) : 0n;
  const delegatedAt = validator ? valueAt(validator.delegatedHistory, snap) : 0n;
  const delegationRec = s.delegations.get(sender);
  const own = delegationRec ? delegationAt(delegationRec.history, snap) : { validator: null, amount: 0n };
  const ownPower = selfAt + delegatedAt + own.amount;
  if (ownPower === 0n) return reject('vote.power', 'sender has no voting power at the snapshot');

  rules.push('vote.override');
  const weight = h.applyDelegatorOverride ? ownPower - (p.overridden.get(sender) ?? 0n) : ownPower;
  p.tally[input.support] += weight;
  if (h.applyDelegatorOverride && own.amount > 0n && own.validator !== null) {
    const v = own.validator;
    p.overridden.set(v, (p.overridden.get(v) ?? 0n) + own.amount);
    const validatorVote = p.votes.get(v);
    if (validatorVote) {
      p.tally[validatorVote.support] -= own.amount;
      validatorVote.weight -= own.amount;
      markVote(s, p, v);
    }
  }
  p.votes.set(sender, {
    support: input.support,
    isValidator: validator !== undefined,
    weight: (previous?.weight ?? 0n) + weight,
  });
  markVote(s, p, sender);
  markProposal(s, p);
  return undefined;
}

function queue(s: GovernanceState, input: QueueInput, h: RuleHooks, rules: RuleId[]) {
  rules.push('queue.status');
  const p = s.proposals.get(input.proposalId);
  if (!p) return reject('queue.status', 'no such proposal');
  if (p.status !== ProposalStatus.Active) return reject('queue.status', 'proposal is not active');
  rules.push('queue.period');
  const block = input.position.block;
  if (block <= p.voteEnd) return reject('queue.period', 'voting has not ended');
  rules.push('queue.quorum');
  const voted = p.tally.for + p.tally.against + p.tally.abstain;
  if (!h.quorumMet(voted, p.bondedAtSnapshot, p.quorumBps)) return reject('queue.quorum', 'quorum not met');
  rules.push('queue.approval');
  if (!h.approved(p.tally.for, p.tally.against, p.thresholdBps)) {
    return reject('queue.approval', 'approval threshold not met');
  }
  p.status = ProposalStatus.Queued;
  p.eta = block + p.timelock;
  markProposal(s, p);
  return undefined;
}

function execute(s: GovernanceState, input: ExecuteInput, h: RuleHooks, rules: RuleId[]) {
  rules.push('execute.status');
  const p = s.proposals.get(input.proposalId);
  if (!p) return reject('execute.status', 'no such proposal');
  if (!h.executableStatus(p.status)) return reject('execute.status', 'proposal is not queued');
  rules.push('execute.timelock');
  if (!h.timelockElapsed(input.position.block, p.eta))
    return reject('execute.timelock', 'timelock not elapsed');
  rules.push('execute.bounds');
  if (actionsValid(s, p, h)) {
    for (const a of p.actions) {
      if (a.kind === 'setParameter') {
        const key = a.key as ParamKey;
        s.params[key] = a.value;
        markParam(s, key);
      } else {
        s.modules.set(a.moduleId, { version: a.version, codeHash: a.codeHash });
        markModule(s, a.moduleId);
      }
    }
    p.status = ProposalStatus.Executed;
    p.executedEpoch = s.epoch;
    s.executedThisEpoch.push(p.id);
  } else {
    p.status = ProposalStatus.Failed;
  }
  markProposal(s, p);
  return undefined;
}

/** `execute.bounds`: parameters within bounds, module versions strictly increasing. */
function actionsValid(s: GovernanceState, p: ProposalRecord, h: RuleHooks): boolean {
  const versions = new Map<string, bigint>();
  for (const a of p.actions) {
    if (a.kind === 'setParameter') {
      if (!h.actionInBounds(a.key as ParamKey, a.value)) return false;
    } else {
      const current = versions.get(a.moduleId) ?? s.modules.get(a.moduleId)?.version ?? 0n;
      if (a.version <= current) return false;
      versions.set(a.moduleId, a.version);
    }
  }
  return true;
}

function cancel(s: GovernanceState, input: CancelInput, rules: RuleId[]) {
  rules.push('cancel');
  const p = s.proposals.get(input.proposalId);
  if (!p) return reject('cancel', 'no such proposal');
  if (p.proposer !== input.sender) return reject('cancel', 'only the proposer can cancel');
  if (p.status !== ProposalStatus.Active && p.status !== ProposalStatus.Queued) {
    return reject('cancel', 'proposal is already executed, failed or canceled');
  }
  p.status = ProposalStatus.Canceled;
  markProposal(s, p);
  return undefined;
}

// ---- end of epoch (§6) ----

function credit(s: GovernanceState, account: Address, amount: bigint): void {
  if (amount === 0n) return; // a zero credit creates no leaf (docs/protocol.md §6)
  s.rewards.set(account, (s.rewards.get(account) ?? 0n) + amount);
  markReward(s, account);
}

function payValidator(s: GovernanceState, v: ValidatorRecord, reward: bigint, h: RuleHooks): void {
  const commission = h.commission(reward, BigInt(v.commissionBps));
  const rest = reward - commission;
  const base = v.selfStake + v.delegated;
  if (base === 0n) {
    credit(s, v.address, reward);
    return;
  }
  let paid = 0n;
  for (const delegator of v.delegators) {
    const amount = (s.delegations.get(delegator) as { amount: bigint }).amount;
    const share = h.divide(rest * amount, base);
    credit(s, delegator, share);
    paid += share;
  }
  const selfShare = h.divide(rest * v.selfStake, base);
  credit(s, v.address, commission + selfShare);
  s.treasury += rest - selfShare - paid;
}

function endEpoch(s: GovernanceState, h: RuleHooks, rules: RuleId[]): void {
  rules.push('epoch.reward.split', 'epoch.reward.commission', 'epoch.reward.rounding');
  const reward = s.params.epochReward;
  s.totalIssued += reward;
  let totalPower = 0n;
  for (const e of s.active) totalPower += e.power;
  if (totalPower === 0n) {
    s.treasury += reward;
  } else {
    let paid = 0n;
    for (const e of s.active) {
      const r = h.divide(reward * e.power, totalPower);
      payValidator(s, s.validators.get(e.validator) as ValidatorRecord, r, h);
      paid += r;
    }
    s.treasury += reward - paid;
  }

  rules.push('epoch.reward.subsidy');
  const executed = [...s.executedThisEpoch].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const id of executed) {
    const p = s.proposals.get(id) as ProposalRecord;
    const subsidy = s.params.governanceSubsidy;
    s.totalIssued += subsidy;
    const voters: Address[] = [];
    for (const [voter, rec] of p.votes) if (rec.isValidator) voters.push(voter);
    if (voters.length === 0) {
      s.treasury += subsidy;
      continue;
    }
    const n = BigInt(voters.length);
    for (const voter of voters) credit(s, voter, subsidy / n);
    s.treasury += subsidy % n;
  }
  s.executedThisEpoch = [];

  rules.push('epoch.set.rank', 'epoch.set.cap');
  selectActiveSet(s, h);
  s.epoch += 1n;
}

function selectActiveSet(s: GovernanceState, h: RuleHooks): void {
  const minStake = s.params.minStake;
  const candidates: RankCandidate[] = [];
  for (const v of s.validators.values()) {
    if (v.selfStake >= minStake) candidates.push({ address: v.address, total: v.selfStake + v.delegated });
  }
  candidates.sort(h.rankOrder);
  const selected = candidates.slice(0, Number(s.params.maxValidators));
  let total = 0n;
  for (const c of selected) total += c.total;
  const cap = (total * s.params.maxPowerBps) / BPS;
  const next: ActiveEntry[] = selected.map((c) => ({
    validator: c.address,
    power: h.capPower(c.total, cap),
  }));
  const slots = Math.max(s.active.length, next.length);
  s.active = next;
  s.activeSlots = Math.max(s.activeSlots, next.length);
  for (let i = 0; i < slots; i++) markActiveSlot(s, i);
}
