/**
 * For a fault of the catalogue, the first workload seed whose devnet feed makes that fault bite, found by
 * re-executing the feed with the reference and the faulty executor (never a hard-coded table: if the
 * generator changes, the search follows).
 */
import {
  applyInput,
  createGenesisState,
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
  return findBitingSeeds(fault, epochs, 1, maxSeed)[0] as Bite;
}

/** The first `count` seeds whose workload makes `fault` bite before the last epoch end. */
export function findBitingSeeds(fault: string, epochs: number, count: number, maxSeed = 80): Bite[] {
  const executor = executorByName(fault);
  const found: Bite[] = [];
  for (let seed = 1; seed <= maxSeed && found.length < count; seed++) {
    const w = devnetWorkload({ seed, epochs });
    const ref = reexecute(w.inputs, { genesis: w.genesis, trace: true }).trace as TraceStep[];
    const bad = reexecute(w.inputs, { genesis: w.genesis, executor, trace: true }).trace as TraceStep[];
    const d = firstDivergence(ref, bad);
    if (d === undefined) continue;
    const { epoch, first } = epochOfStep(ref, d.index);
    if (epoch >= BigInt(epochs)) continue; // after the last epoch end: never claimed
    found.push({ seed, epoch, step: d.index - first, globalStep: d.index });
  }
  if (found.length < count) {
    throw new Error(
      `${fault} bites on ${found.length} devnet workloads with seeds 1..${maxSeed} and ${epochs} epochs, not ${count}`,
    );
  }
  return found;
}

export { REFERENCE_EXECUTOR };

/** The first seed whose devnet workload puts a new L2 gas limit in force within `epochs` epochs. */
export function seedWithGasLimitChange(epochs: number, maxSeed = 80): number {
  for (let seed = 1; seed <= maxSeed; seed++) {
    const w = devnetWorkload({ seed, epochs });
    if (reexecute(w.inputs, { genesis: w.genesis }).state.params.l2GasLimit !== w.genesis.params?.l2GasLimit)
      return seed;
  }
  throw new Error(`no seed in 1..${maxSeed} changes the gas limit within ${epochs} epochs`);
}

/**
 * The first seed whose devnet workload changes the governed challenge window in force within `epochs`
 * epochs, and the windows of its epochs (the graphs must be built on them).
 */
export function seedWithWindowChange(epochs: number, maxSeed = 80): { seed: number; windows: bigint[] } {
  for (let seed = 1; seed <= maxSeed; seed++) {
    const w = devnetWorkload({ seed, epochs });
    const s = createGenesisState(w.genesis);
    const windows: bigint[] = [];
    for (const input of w.inputs) {
      if (input.kind === 'endEpoch') windows.push(s.params.challengeWindow);
      applyInput(s, input);
    }
    if (windows.some((x) => x !== windows[0])) return { seed, windows };
  }
  throw new Error(`no seed in 1..${maxSeed} changes the challenge window within ${epochs} epochs`);
}
