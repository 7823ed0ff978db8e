/**
 * The k + 1 trace roots of one epoch claim, r_0 … r_k (docs/protocol.md §13–14): the operator asserts
 * r_0 … r_{k-1} after a challenge, r_k is the state root its kick-off revealed, and disprove leaf i proves
 * step r_i → r_{i+1} wrong. Step i covers the epoch's governance inputs [⌊i·n/k⌋, ⌊(i+1)·n/k⌋).
 *
 * The operator and Vigil must cut the trace the same way, so this one function defines it: both sides
 * compare their roots at the same input boundaries, and the first chunk where they part is the one
 * Vigil disproves.
 */
import { VigilError } from '../core/errors.ts';

export class TraceCheckpointError extends VigilError {
  override name = 'TraceCheckpointError';
}

/** Input index (exclusive) where trace step i ends, for an epoch of `inputs` inputs cut into `k` steps. */
export function checkpointBoundary(inputs: number, k: number, i: number): number {
  return Math.floor((i * inputs) / k);
}

/**
 * r_0 … r_k from the root before the epoch's first input and the root after each of its inputs
 * (`stepRoots[j]` is the root after input j; the last one is the epoch's state root).
 */
export function traceCheckpoints(
  preRoot: Uint8Array,
  stepRoots: readonly Uint8Array[],
  k: number,
): Uint8Array[] {
  if (!Number.isInteger(k) || k < 1) throw new TraceCheckpointError(`A trace needs k ≥ 1 steps, not ${k}`);
  if (stepRoots.length === 0) {
    throw new TraceCheckpointError('An epoch has at least one input (its endEpoch)');
  }
  const out: Uint8Array[] = [];
  for (let i = 0; i <= k; i++) {
    const end = checkpointBoundary(stepRoots.length, k, i);
    out.push(end === 0 ? preRoot : (stepRoots[end - 1] as Uint8Array));
  }
  return out;
}

/**
 * The first trace step whose post-root differs from Vigil's, given both sides' r_0 … r_k (equal
 * lengths): the step a disprove targets. Undefined when every post-root agrees.
 */
export function firstWrongCheckpoint(
  expected: readonly Uint8Array[],
  claimed: readonly Uint8Array[],
): number | undefined {
  if (expected.length !== claimed.length) {
    throw new TraceCheckpointError(
      `Trace lengths differ: Vigil has ${expected.length} roots, the claim ${claimed.length}`,
    );
  }
  const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, j) => x === b[j]);
  for (let i = 0; i + 1 < expected.length; i++) {
    if (!same(expected[i + 1] as Uint8Array, claimed[i + 1] as Uint8Array)) return i;
  }
  return undefined;
}
