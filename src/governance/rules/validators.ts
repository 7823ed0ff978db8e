/**
 * Validators and delegations (docs/protocol.md §4): register, stake, unstake, delegate, undelegate. Each
 * rule records the rule ids it checked in `rules` and checks every precondition before any effect.
 */

import { writeCheckpoint, writeDelegationCheckpoint } from '../history.ts';
import {
  type Address,
  type DelegateInput,
  isAddress,
  type RegisterValidatorInput,
  type StakeInput,
  type UndelegateInput,
  type UnstakeInput,
} from '../inputs.ts';
import {
  MAX_COMMISSION_BPS,
  MAX_DELEGATORS_PER_VALIDATOR,
  MAX_REGISTERED_VALIDATORS,
  MAX_TOTAL_BONDED,
  UINT256_MAX,
} from '../params.ts';
import type { RuleId } from '../rule-ids.ts';
import {
  CheckpointKind,
  type GovernanceState,
  markCheckpoint,
  markDelegation,
  markValidator,
  type ValidatorRecord,
} from '../state.ts';
import type { RuleHooks } from './hooks.ts';
import { type Rejection, reject } from './rejection.ts';

const isPositiveAmount = (v: unknown): v is bigint => typeof v === 'bigint' && v > 0n && v <= UINT256_MAX;

export function registerValidator(
  s: GovernanceState,
  input: RegisterValidatorInput,
  rules: RuleId[],
): Rejection | undefined {
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
  markCheckpoint(s, CheckpointKind.Bonded, ZERO, s.bondedHistory);
}

const ZERO = '0x0000000000000000000000000000000000000000' as Address;

function writeSelf(s: GovernanceState, v: ValidatorRecord, block: bigint): void {
  writeCheckpoint(v.selfHistory, block, v.selfStake);
  markCheckpoint(s, CheckpointKind.Self, v.address, v.selfHistory);
}

function writeDelegated(s: GovernanceState, v: ValidatorRecord, block: bigint): void {
  writeCheckpoint(v.delegatedHistory, block, v.delegated);
  markCheckpoint(s, CheckpointKind.Delegated, v.address, v.delegatedHistory);
}

export function stake(s: GovernanceState, input: StakeInput, rules: RuleId[]): Rejection | undefined {
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

export function unstake(
  s: GovernanceState,
  input: UnstakeInput,
  h: RuleHooks,
  rules: RuleId[],
): Rejection | undefined {
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

export function delegate(s: GovernanceState, input: DelegateInput, rules: RuleId[]): Rejection | undefined {
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
  markCheckpoint(s, CheckpointKind.Delegation, sender, d.history);
  writeDelegated(s, v, block);
  setBonded(s, block, s.totalBonded + amount);
  markDelegation(s, d);
  markValidator(s, v);
  return undefined;
}

export function undelegate(
  s: GovernanceState,
  input: UndelegateInput,
  rules: RuleId[],
): Rejection | undefined {
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
  markCheckpoint(s, CheckpointKind.Delegation, d.delegator, d.history);
  writeDelegated(s, v, block);
  setBonded(s, block, s.totalBonded - input.amount);
  markDelegation(s, d);
  markValidator(s, v);
  return undefined;
}
