/**
 * The life of a dispute. A fraud verdict opens it (detected); Vigil's challenge is broadcast
 * (challenged) and confirms (confirmed); the operator then either asserts its trace (asserted) or lets
 * the assert window pass and is slashed (timed-out); an asserted trace with a faulty step is disproved
 * (disproved); every dispute ends resolved, with an outcome.
 *
 * Two edges go backwards on purpose: a reorg can drop a confirmed challenge (confirmed → challenged)
 * and the queue then rebroadcasts the same bytes.
 */
export const disputeStates = [
  'detected',
  'challenged',
  'confirmed',
  'asserted',
  'timed-out',
  'disproved',
  'resolved',
] as const;

export type DisputeState = (typeof disputeStates)[number];

/** How a dispute ended, recorded with the move to `resolved`. */
export const disputeOutcomes = [
  /** The operator lost its stake (assert-timeout or disprove confirmed). */
  'operator-slashed',
  /** The operator's asserted trace held: no step could be disproved. */
  'operator-vindicated',
  /** The kick-off left the chain (deep reorg) or someone else's challenge settled it first. */
  'withdrawn',
  /** The challenge window closed before a challenge confirmed. */
  'missed',
] as const;

export type DisputeOutcome = (typeof disputeOutcomes)[number];

export const TRANSITIONS: Readonly<Record<DisputeState, readonly DisputeState[]>> = {
  detected: ['challenged', 'resolved'],
  challenged: ['confirmed', 'resolved'],
  confirmed: ['challenged', 'asserted', 'timed-out', 'resolved'],
  asserted: ['disproved', 'resolved'],
  'timed-out': ['resolved'],
  disproved: ['resolved'],
  resolved: [],
};

export function canTransition(from: DisputeState, to: DisputeState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTerminal(state: DisputeState): boolean {
  return TRANSITIONS[state].length === 0;
}

/**
 * The id of the dispute about one kick-off: deterministic, so every process and every re-run of a job
 * names the same dispute, and shaped for BullMQ job ids (no ':' and never all digits).
 */
export function disputeId(epoch: bigint, kickoffTxid: string): string {
  if (!/^[0-9a-f]{64}$/.test(kickoffTxid)) throw new RangeError(`Not a txid: ${kickoffTxid}`);
  return `e${epoch}-k${kickoffTxid.slice(0, 16)}`;
}
