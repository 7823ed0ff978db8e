/**
 * The executor: applies one input to the state by the rules of docs/protocol.md, one module per area
 * (rules/validators.ts, rules/proposals.ts, rules/end-of-epoch.ts). Every precondition is checked before
 * any effect, so a rejected input changes nothing. The decisions a fault can break are hooks
 * (rules/hooks.ts); the reference executor is `REFERENCE_EXECUTOR`, the faulty ones (faults.ts) override
 * one hook.
 */

import { comparePositions, type GovernanceInput } from './inputs.ts';
import type { RuleId } from './rule-ids.ts';
import { endEpoch } from './rules/end-of-epoch.ts';
import { REFERENCE_HOOKS, type RuleHooks } from './rules/hooks.ts';
import { cancel, execute, propose, queue, vote } from './rules/proposals.ts';
import { type Rejection, reject } from './rules/rejection.ts';
import { delegate, registerValidator, stake, undelegate, unstake } from './rules/validators.ts';
import { type GovernanceState, markGlobal } from './state.ts';

export type Executor = {
  readonly name: string;
  readonly description: string;
  /** The one rule a faulty executor breaks; null for the reference. */
  readonly breaks: RuleId | null;
  readonly hooks: RuleHooks;
};

export const REFERENCE_EXECUTOR: Executor = Object.freeze({
  name: 'reference',
  description: 'the reference model: docs/protocol.md exactly',
  breaks: null,
  hooks: REFERENCE_HOOKS,
});

export type StepOutcome =
  | { accepted: true; rules: RuleId[] }
  | { accepted: false; rules: RuleId[]; rejectedBy: RuleId; reason: string };

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
    // Block 0 is the L2's genesis and carries no transaction. Refusing it also keeps "no input accepted
    // yet" apart from "the last input was at (0, 0, 0)" in the global leaf, which stores both as zeros
    // (GVM-1 reads that leaf, not this object, docs/protocol.md §23).
    p.block < 1n ||
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
