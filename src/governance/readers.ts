/**
 * Read-only views of the model state, in the shapes the contracts expose, so contract state can be
 * compared with model state field by field.
 */
import { delegationAt, valueAt } from './history.ts';
import type { Address, Hash32 } from './inputs.ts';
import type { ParamKey } from './params.ts';
import { type GovernanceState, ProposalStatus, type VoteRecord } from './state.ts';

export type ValidatorView = {
  address: Address;
  commissionBps: number;
  selfStake: bigint;
  delegated: bigint;
  delegatorCount: number;
};

export function getValidator(s: GovernanceState, address: Address): ValidatorView | undefined {
  const v = s.validators.get(address);
  if (!v) return undefined;
  return {
    address: v.address,
    commissionBps: v.commissionBps,
    selfStake: v.selfStake,
    delegated: v.delegated,
    delegatorCount: v.delegators.size,
  };
}

export const listValidators = (s: GovernanceState): ValidatorView[] =>
  [...s.validators.keys()].map((a) => getValidator(s, a) as ValidatorView);

export function getDelegation(
  s: GovernanceState,
  delegator: Address,
): { validator: Address; amount: bigint } | undefined {
  const d = s.delegations.get(delegator);
  return d ? { validator: d.validator, amount: d.amount } : undefined;
}

export const getParams = (s: GovernanceState): Readonly<Record<ParamKey, bigint>> => ({ ...s.params });
export const getParam = (s: GovernanceState, key: ParamKey): bigint => s.params[key];
/** A rollup parameter's change waiting for its epoch, or undefined when none is (or the key is not one). */
export function getPendingParam(
  s: GovernanceState,
  key: ParamKey,
): { value: bigint; activationEpoch: bigint } | undefined {
  const p = s.pendingParams.get(key);
  return p === undefined || p.activationEpoch === 0n ? undefined : { ...p };
}

export function getModule(s: GovernanceState, id: string): { version: bigint; codeHash: Hash32 } | undefined {
  const m = s.modules.get(id);
  return m ? { ...m } : undefined;
}

export const getActiveSet = (s: GovernanceState): { validator: Address; power: bigint }[] =>
  s.active.map((e) => ({ ...e }));

export const getReward = (s: GovernanceState, account: Address): bigint => s.rewards.get(account) ?? 0n;

export function getRewardTotals(s: GovernanceState): { issued: bigint; paid: bigint; treasury: bigint } {
  let paid = 0n;
  for (const v of s.rewards.values()) paid += v;
  return { issued: s.totalIssued, paid, treasury: s.treasury };
}

export const getEpoch = (s: GovernanceState): bigint => s.epoch;
export const getTotalBonded = (s: GovernanceState): bigint => s.totalBonded;

export type ProposalStateName =
  | 'active'
  | 'defeated'
  | 'succeeded'
  | 'queued'
  | 'executed'
  | 'canceled'
  | 'failed';

export type ProposalView = {
  id: bigint;
  proposer: Address;
  snapshotBlock: bigint;
  voteEnd: bigint;
  eta: bigint;
  status: ProposalStatus;
  tally: { for: bigint; against: bigint; abstain: bigint };
  bondedAtSnapshot: bigint;
};

export function getProposal(s: GovernanceState, id: bigint): ProposalView | undefined {
  const p = s.proposals.get(id);
  if (!p) return undefined;
  return {
    id: p.id,
    proposer: p.proposer,
    snapshotBlock: p.snapshotBlock,
    voteEnd: p.voteEnd,
    eta: p.eta,
    status: p.status,
    tally: { ...p.tally },
    bondedAtSnapshot: p.bondedAtSnapshot,
  };
}

/** The derived state of a proposal at `block`, as a Governor's `state()` would report it. */
export function proposalState(s: GovernanceState, id: bigint, block: bigint): ProposalStateName | undefined {
  const p = s.proposals.get(id);
  if (!p) return undefined;
  switch (p.status) {
    case ProposalStatus.Queued:
      return 'queued';
    case ProposalStatus.Executed:
      return 'executed';
    case ProposalStatus.Canceled:
      return 'canceled';
    case ProposalStatus.Failed:
      return 'failed';
    default: {
      if (block <= p.voteEnd) return 'active';
      const voted = p.tally.for + p.tally.against + p.tally.abstain;
      const quorum = voted * 10_000n >= p.quorumBps * p.bondedAtSnapshot;
      const approved = p.tally.for * 10_000n > p.thresholdBps * (p.tally.for + p.tally.against);
      return quorum && approved ? 'succeeded' : 'defeated';
    }
  }
}

export function getVote(s: GovernanceState, id: bigint, voter: Address): VoteRecord | undefined {
  const v = s.proposals.get(id)?.votes.get(voter);
  return v ? { ...v } : undefined;
}

/** An account's own voting power at `block` (self stake + delegated to it + its delegation). */
export function votingPowerAt(s: GovernanceState, account: Address, block: bigint): bigint {
  const v = s.validators.get(account);
  const d = s.delegations.get(account);
  return (
    (v ? valueAt(v.selfHistory, block) + valueAt(v.delegatedHistory, block) : 0n) +
    (d ? delegationAt(d.history, block).amount : 0n)
  );
}
