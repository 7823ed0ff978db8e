/**
 * The fault catalogue: named faulty executors, each the reference with exactly one rule broken (one hook
 * overridden). Tests use them to prove Vigil catches each fault; the devnet operator runs them to play a
 * dishonest operator (`--fault <name>`).
 */
import { UnknownFaultError } from './errors.ts';
import { type Executor, REFERENCE_EXECUTOR } from './executor.ts';
import { BPS } from './params.ts';
import type { RuleId } from './rule-ids.ts';
import { REFERENCE_HOOKS, type RuleHooks } from './rules/hooks.ts';
import { ProposalStatus } from './state.ts';

function fault(name: string, breaks: RuleId, description: string, override: Partial<RuleHooks>): Executor {
  return Object.freeze({
    name,
    breaks,
    description,
    hooks: Object.freeze({ ...REFERENCE_HOOKS, ...override }),
  });
}

const ceilDiv = (n: bigint, d: bigint): bigint => (n + d - 1n) / d;

export const FAULTS: readonly Executor[] = Object.freeze([
  fault(
    'delegator-override-ignored',
    'vote.override',
    'a delegator voting does not take its stake from its validator',
    {
      applyDelegatorOverride: false,
    },
  ),
  fault('quorum-not-checked', 'queue.quorum', 'proposals queue without meeting the quorum', {
    quorumMet: () => true,
  }),
  fault(
    'approval-threshold-off-by-one',
    'queue.approval',
    'approval at exactly the threshold passes (≥ for >)',
    {
      approved: (f, a, thresholdBps) => f * BPS >= thresholdBps * (f + a),
    },
  ),
  fault('out-of-bounds-applied', 'execute.bounds', 'parameter values outside their bounds are applied', {
    actionInBounds: () => true,
  }),
  fault('canceled-proposal-executed', 'execute.status', 'a canceled proposal can still execute', {
    executableStatus: (status) => status === ProposalStatus.Queued || status === ProposalStatus.Canceled,
  }),
  fault('timelock-ignored', 'execute.timelock', 'queued proposals execute before their timelock elapses', {
    timelockElapsed: () => true,
  }),
  fault('vote-counted-twice', 'vote.once', 'a repeated vote is counted again instead of rejected', {
    rejectRepeatVote: false,
  }),
  fault('power-cap-not-applied', 'epoch.set.cap', "validators' power is not capped at maxPowerBps", {
    capPower: (total) => total,
  }),
  fault('tie-break-flipped', 'epoch.set.rank', 'equal totals rank by address descending', {
    rankOrder: (a, b) => {
      if (a.total !== b.total) return a.total > b.total ? -1 : 1;
      return a.address > b.address ? -1 : a.address < b.address ? 1 : 0;
    },
  }),
  fault('commission-not-taken', 'epoch.reward.commission', "the validator's commission is not taken", {
    commission: () => 0n,
  }),
  fault('rewards-rounded-up', 'epoch.reward.rounding', 'reward divisions round up instead of down', {
    divide: ceilDiv,
  }),
  fault('unstake-keeps-power', 'unstake.power', 'unstaking leaves the stake in the voting-power history', {
    unstakeRemovesPower: false,
  }),
]);

/** Every executor by name: the reference and the faults. */
export const faultCatalogue: ReadonlyMap<string, Executor> = new Map(
  [REFERENCE_EXECUTOR, ...FAULTS].map((e) => [e.name, e]),
);

export function executorByName(name: string): Executor {
  const e = faultCatalogue.get(name);
  if (!e) {
    throw new UnknownFaultError(`unknown fault "${name}"`, {
      metaMessages: [`Known: ${[...faultCatalogue.keys()].join(', ')}`],
    });
  }
  return e;
}
