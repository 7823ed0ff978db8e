/**
 * The read checks of GVM-1 (docs/protocol.md §22.5) in TypeScript, the twins of the read-challenge
 * leaves: a read of address a at step i must return the value the last step before i wrote to a, or
 * zero when no step before i wrote it (memory starts all zero). An absent read (address NONE) is the
 * execution leaves' business, never a wrong read here. Pure: no I/O.
 */
import { type Access, NONE, type StepRecord } from './isa.ts';

export type ReadSlot = 1 | 2;

const readOf = (step: StepRecord, slot: ReadSlot): Access => (slot === 1 ? step.r1 : step.r2);

/** The index j < i of the last step that wrote `addr`, or undefined when none did. */
export function lastWriteBefore(steps: readonly StepRecord[], i: number, addr: number): number | undefined {
  if (addr === NONE) return undefined;
  for (let j = Math.min(i, steps.length) - 1; j >= 0; j--) {
    if ((steps[j] as StepRecord).w.addr === addr) return j;
  }
  return undefined;
}

/** True when step i's read in `slot` names an address but not the value memory held there. */
export function isWrongRead(steps: readonly StepRecord[], i: number, slot: ReadSlot): boolean {
  const step = steps[i];
  if (step === undefined) throw new RangeError(`No step ${i} in a trace of ${steps.length}`);
  const read = readOf(step, slot);
  if (read.addr === NONE) return false;
  const j = lastWriteBefore(steps, i, read.addr);
  const expected = j === undefined ? 0n : (steps[j] as StepRecord).w.value;
  return read.value !== expected;
}

/**
 * The same answers in O(1) per read after one O(n) pass: for every step and slot, the index of the
 * write it must match (−1 when none, or when the read is absent).
 */
export type ReadIndex = {
  lastWrite(i: number, slot: ReadSlot): number | undefined;
  isWrongRead(i: number, slot: ReadSlot): boolean;
};

export function readIndex(steps: readonly StepRecord[]): ReadIndex {
  const writers: readonly [Int32Array, Int32Array] = [
    new Int32Array(steps.length).fill(-1),
    new Int32Array(steps.length).fill(-1),
  ];
  const last = new Map<number, number>();
  steps.forEach((step, i) => {
    for (const slot of [1, 2] as const) {
      const read = readOf(step, slot);
      if (read.addr !== NONE) (writers[slot - 1] as Int32Array)[i] = last.get(read.addr) ?? -1;
    }
    if (step.w.addr !== NONE) last.set(step.w.addr, i);
  });
  const lastWrite = (i: number, slot: ReadSlot) => {
    if (i < 0 || i >= steps.length) throw new RangeError(`No step ${i} in a trace of ${steps.length}`);
    const j = (writers[slot - 1] as Int32Array)[i] as number;
    return j < 0 ? undefined : j;
  };
  return {
    lastWrite,
    isWrongRead(i, slot) {
      const j = lastWrite(i, slot);
      const read = readOf(steps[i] as StepRecord, slot);
      if (read.addr === NONE) return false;
      return read.value !== (j === undefined ? 0n : (steps[j] as StepRecord).w.value);
    },
  };
}
