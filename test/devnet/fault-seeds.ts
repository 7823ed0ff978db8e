/**
 * For a fault of the catalogue, the first workload seed whose devnet feed makes that fault bite, found by
 * re-executing the feed with the reference and the faulty executor (never a hard-coded table: if the
 * generator changes, the search follows).
 */
import {
  executorByName,
  firstDivergence,
  REFERENCE_EXECUTOR,
  reexecute,
  type TraceStep,
} from '../../src/governance/index.ts';
import { devnetWorkload } from '../../src/l2/devnet.ts';

export type Bite = { seed: number; epoch: bigint; step: number; globalStep: number };

/** Epoch of each step: the number of accepted endEpoch inputs before it. */
function epochOfStep(trace: readonly TraceStep[], index: number): { epoch: bigint; first: number } {
  let epoch = 0n;
  let first = 0;
  for (const s of trace) {
    if (s.index >= index) break;
    if (s.input.kind === 'endEpoch' && s.accepted) {
      epoch++;
      first = s.index + 1;
    }
  }
  return { epoch, first };
}

export function findBitingSeed(fault: string, epochs: number, maxSeed = 80): Bite {
  const executor = executorByName(fault);
  for (let seed = 1; seed <= maxSeed; seed++) {
    const w = devnetWorkload({ seed, epochs });
    const ref = reexecute(w.inputs, { genesis: w.genesis, trace: true }).trace as TraceStep[];
    const bad = reexecute(w.inputs, { genesis: w.genesis, executor, trace: true }).trace as TraceStep[];
    const d = firstDivergence(ref, bad);
    if (d === undefined) continue;
    const { epoch, first } = epochOfStep(ref, d.index);
    if (epoch >= BigInt(epochs)) continue; // after the last epoch end: never claimed
    return { seed, epoch, step: d.index - first, globalStep: d.index };
  }
  throw new Error(`${fault} bites on no devnet workload with seeds 1..${maxSeed} and ${epochs} epochs`);
}

export { REFERENCE_EXECUTOR };
