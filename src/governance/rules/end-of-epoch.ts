/**
 * The end of an epoch (docs/protocol.md §6): the reward split with commission and rounding, the
 * governance subsidy, then the selection of the next active set with its power cap. It cannot be
 * rejected: it only records the rule ids it applied in `rules`.
 */

import type { Address } from '../inputs.ts';
import { BPS, ROLLUP_PARAM_KEYS } from '../params.ts';
import type { RuleId } from '../rule-ids.ts';
import {
  type ActiveEntry,
  type GovernanceState,
  markActiveSlot,
  markParam,
  markPendingParam,
  markReward,
  type Payout,
  type PendingParam,
  type ProposalRecord,
  type ValidatorRecord,
} from '../state.ts';
import type { RankCandidate, RuleHooks } from './hooks.ts';

function credit(s: GovernanceState, account: Address, amount: bigint): void {
  if (amount === 0n) return; // a zero credit creates no leaf (docs/protocol.md §6)
  s.rewards.set(account, (s.rewards.get(account) ?? 0n) + amount);
  markReward(s, account);
}

/** Records a payout when a ledger observes this epoch end; zero amounts are not recorded (see `Payout`). */
function record(s: GovernanceState, payout: Payout): void {
  if (payout.amount !== 0n) s.payouts?.push(payout);
}

function payValidator(s: GovernanceState, v: ValidatorRecord, reward: bigint, h: RuleHooks): void {
  const commission = h.commission(reward, BigInt(v.commissionBps));
  const rest = reward - commission;
  const base = v.selfStake + v.delegated;
  if (base === 0n) {
    credit(s, v.address, reward);
    if (s.payouts) record(s, { kind: 'block-self-share', account: v.address, amount: reward });
    return;
  }
  let paid = 0n;
  for (const delegator of v.delegators) {
    const amount = (s.delegations.get(delegator) as { amount: bigint }).amount;
    const share = h.divide(rest * amount, base);
    credit(s, delegator, share);
    if (s.payouts) record(s, { kind: 'dividend', account: delegator, validator: v.address, amount: share });
    paid += share;
  }
  const selfShare = h.divide(rest * v.selfStake, base);
  credit(s, v.address, commission + selfShare);
  s.treasury += rest - selfShare - paid;
  if (s.payouts) {
    record(s, { kind: 'block-commission', account: v.address, amount: commission });
    record(s, { kind: 'block-self-share', account: v.address, amount: selfShare });
    record(s, { kind: 'reward-rounding', validator: v.address, amount: rest - selfShare - paid });
  }
}

export function endEpoch(s: GovernanceState, h: RuleHooks, rules: RuleId[]): void {
  rules.push('epoch.reward.split', 'epoch.reward.commission', 'epoch.reward.rounding');
  const reward = s.params.epochReward;
  s.totalIssued += reward;
  let totalPower = 0n;
  for (const e of s.active) totalPower += e.power;
  if (totalPower === 0n) {
    s.treasury += reward;
    if (s.payouts) record(s, { kind: 'no-power', amount: reward });
  } else {
    let paid = 0n;
    for (const e of s.active) {
      const r = h.divide(reward * e.power, totalPower);
      payValidator(s, s.validators.get(e.validator) as ValidatorRecord, r, h);
      paid += r;
    }
    s.treasury += reward - paid;
    if (s.payouts) record(s, { kind: 'reward-rounding', validator: null, amount: reward - paid });
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
      if (s.payouts) record(s, { kind: 'no-voters', proposalId: id, amount: subsidy });
      continue;
    }
    const n = BigInt(voters.length);
    for (const voter of voters) {
      credit(s, voter, subsidy / n);
      if (s.payouts) record(s, { kind: 'subsidy', account: voter, proposalId: id, amount: subsidy / n });
    }
    s.treasury += subsidy % n;
    if (s.payouts) record(s, { kind: 'subsidy-rounding', proposalId: id, amount: subsidy % n });
  }
  s.executedThisEpoch = [];

  rules.push('epoch.set.rank', 'epoch.set.cap');
  selectActiveSet(s, h);
  s.epoch += 1n;

  rules.push('epoch.params.activate');
  activatePendingParams(s);
}

/** 6.6: rollup parameters executed during the epoch that just ended come into force. */
function activatePendingParams(s: GovernanceState): void {
  for (const key of ROLLUP_PARAM_KEYS) {
    const pending = s.pendingParams.get(key) as PendingParam;
    if (pending.activationEpoch === 0n || pending.activationEpoch > s.epoch) continue;
    s.params[key] = pending.value;
    s.pendingParams.set(key, { value: 0n, activationEpoch: 0n });
    markParam(s, key);
    markPendingParam(s, key);
  }
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
