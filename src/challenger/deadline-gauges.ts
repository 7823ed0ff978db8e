/**
 * The deadline gauge of a dispute shows the one deadline its state is racing: the challenge while it is
 * detected or challenged, the assert-timeout while confirmed, the disprove while asserted. A deadline
 * already met is removed, so an alert on "few blocks left" never fires for it, and a resolved dispute
 * leaves no gauge behind.
 */
import type { DisputeState } from '../dispute/records/state-machine.ts';
import type { WatcherMetrics } from '../queue/metrics.ts';

export type DeadlineName = 'challenge' | 'assert-timeout' | 'disprove';

const DEADLINES: readonly DeadlineName[] = ['challenge', 'assert-timeout', 'disprove'];

/** The deadline a dispute in `state` races, if any. */
export function pendingDeadline(state: DisputeState): DeadlineName | undefined {
  switch (state) {
    case 'detected':
    case 'challenged':
      return 'challenge';
    case 'confirmed':
      return 'assert-timeout';
    case 'asserted':
      return 'disprove';
    default:
      return undefined;
  }
}

/** Removes every deadline gauge of the dispute except the one its state races. */
export function clearMetDeadlines(
  metrics: WatcherMetrics | undefined,
  dispute: string,
  state: DisputeState,
): void {
  const keep = pendingDeadline(state);
  for (const deadline of DEADLINES) {
    if (deadline !== keep) metrics?.deadlineBlocksLeft.remove({ dispute, deadline });
  }
}
