/**
 * Deadlines of a dispute as Bitcoin heights, from the kick-off's confirmation height and the graph's
 * relative timelocks (BIP-68 counts blocks after the one that confirmed the spent output).
 *
 * The operator may take once `kickoffHeight + challengeWindow` is mined, so a challenge must be in a
 * block of height ≤ `kickoffHeight + challengeWindow - 1`. Vigil acts `margin` blocks earlier than that.
 */
import type { GraphTimelocks } from '../graph/parameters.ts';

export type DisputeDeadlines = {
  /** Last height at which the challenge can confirm before the operator's take becomes valid. */
  challengeBy: number;
  /** First height at which the assert-timeout (slash) is valid if the operator has not asserted. */
  assertTimeoutFrom: number;
};

export function disputeDeadlines(kickoffHeight: number, t: GraphTimelocks): DisputeDeadlines {
  return {
    challengeBy: kickoffHeight + t.challengeWindow - 1,
    assertTimeoutFrom: kickoffHeight + t.assertWindow,
  };
}

/**
 * Last height at which a disprove can confirm: the operator's payout spends the asserted stake once
 * `assertHeight + disproveWindow` is mined (T_d counts from the assert's block).
 */
export function disproveBy(assertHeight: number, disproveWindow: number): number {
  return assertHeight + disproveWindow - 1;
}

/** Blocks left before `deadline` is passed at `tip` (0 when the next block is the last chance). */
export function blocksLeft(deadline: number, tip: number): number {
  return deadline - tip - 1;
}

export type DeadlineLevel = 'ok' | 'warn' | 'critical' | 'missed';

export function deadlineLevel(
  deadline: number,
  tip: number,
  alerts: { warnBlocks: number; criticalBlocks: number },
): DeadlineLevel {
  const left = blocksLeft(deadline, tip);
  if (left < 0) return 'missed';
  if (left <= alerts.criticalBlocks) return 'critical';
  if (left <= alerts.warnBlocks) return 'warn';
  return 'ok';
}
