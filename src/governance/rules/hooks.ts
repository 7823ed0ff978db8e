/**
 * The decisions a fault can break, as hooks. The reference executor uses `REFERENCE_HOOKS`; each faulty
 * executor (faults.ts) overrides one of them, so a fault differs from the reference in exactly one rule.
 */

import type { Address } from '../inputs.ts';
import { BPS, type ParamKey, paramInBounds } from '../params.ts';
import { ProposalStatus } from '../state.ts';

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
