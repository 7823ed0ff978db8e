/**
 * Proposals (docs/protocol.md §5): propose, vote, queue, execute, cancel. Each rule records the rule ids
 * it checked in `rules` and checks every precondition before any effect.
 */

import { encodeAction } from '../encoding.ts';
import { delegationAt, valueAt } from '../history.ts';
import {
  type CancelInput,
  type ExecuteInput,
  isAddress,
  isHash32,
  isName,
  type ProposalAction,
  type ProposeInput,
  type QueueInput,
  type VoteInput,
} from '../inputs.ts';
import { isParamKey, MAX_PROPOSAL_ACTIONS, PARAM_SPECS, type ParamKey, UINT256_MAX } from '../params.ts';
import type { RuleId } from '../rule-ids.ts';
import { sha256Concat } from '../sha.ts';
import {
  type GovernanceState,
  markActions,
  markModule,
  markParam,
  markPendingParam,
  markProposal,
  markVote,
  type ProposalRecord,
  ProposalStatus,
} from '../state.ts';
import type { RuleHooks } from './hooks.ts';
import { type Rejection, reject } from './rejection.ts';

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

export function propose(s: GovernanceState, input: ProposeInput, rules: RuleId[]): Rejection | undefined {
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
  markActions(s, p);
  return undefined;
}

export function vote(
  s: GovernanceState,
  input: VoteInput,
  h: RuleHooks,
  rules: RuleId[],
): Rejection | undefined {
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

export function queue(
  s: GovernanceState,
  input: QueueInput,
  h: RuleHooks,
  rules: RuleId[],
): Rejection | undefined {
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

export function execute(
  s: GovernanceState,
  input: ExecuteInput,
  h: RuleHooks,
  rules: RuleId[],
): Rejection | undefined {
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
        if (PARAM_SPECS[key].activation === 'next-epoch') {
          // A rollup parameter waits for the end of this epoch (docs/protocol.md §2, §6.6).
          s.pendingParams.set(key, { value: a.value, activationEpoch: s.epoch + 1n });
          markPendingParam(s, key);
        } else {
          s.params[key] = a.value;
          markParam(s, key);
        }
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

export function cancel(s: GovernanceState, input: CancelInput, rules: RuleId[]): Rejection | undefined {
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
