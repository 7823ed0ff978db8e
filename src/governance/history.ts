/** Checkpointed histories (docs/protocol.md §3): the value at a past block by binary search. */
import type { Address } from './inputs.ts';
import type { DelegationHistory, History } from './state.ts';

/** Index of the last checkpoint with block ≤ `block`, or -1. */
function lastAtOrBefore(blocks: readonly bigint[], block: bigint): number {
  let lo = 0;
  let hi = blocks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((blocks[mid] as bigint) <= block) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

export function valueAt(h: History, block: bigint): bigint {
  const i = lastAtOrBefore(h.blocks, block);
  return i < 0 ? 0n : (h.values[i] as bigint);
}

export function delegationAt(
  h: DelegationHistory,
  block: bigint,
): { validator: Address | null; amount: bigint } {
  const i = lastAtOrBefore(h.blocks, block);
  if (i < 0) return { validator: null, amount: 0n };
  return { validator: h.validators[i] ?? null, amount: h.values[i] as bigint };
}

/** Records `value` at `block`: overwrites the last checkpoint if it has the same block. */
export function writeCheckpoint(h: History, block: bigint, value: bigint): void {
  const n = h.blocks.length;
  if (n > 0 && h.blocks[n - 1] === block) h.values[n - 1] = value;
  else {
    h.blocks.push(block);
    h.values.push(value);
  }
}

export function writeDelegationCheckpoint(
  h: DelegationHistory,
  block: bigint,
  validator: Address,
  value: bigint,
): void {
  const n = h.blocks.length;
  if (n > 0 && h.blocks[n - 1] === block) {
    h.values[n - 1] = value;
    h.validators[n - 1] = validator;
  } else {
    h.blocks.push(block);
    h.values.push(value);
    h.validators.push(validator);
  }
}
