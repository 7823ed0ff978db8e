/**
 * The honest run as Vigil's rule (rule.ts) reads it during a game: its length, its padded chain, any
 * step's record, and what memory held before any step. Two ways to hold it:
 * - `viewOfRun`: every record and chain value in memory. Simple; fine for small epochs and the tests.
 * - `checkpointedView`: one run that keeps only a few machine snapshots, then re-runs from the nearest
 *   snapshot for each question (docs/protocol.md §24.9). A 1,000-input epoch has 30 million steps: its
 *   records alone would take gigabytes, its chain 600 MB. A game asks its questions inside one
 *   narrowing segment at a time, and a small cache of the snapshots taken while answering keeps each
 *   round's re-run within that segment.
 * Pure: no I/O.
 */
import { equalBytes } from '../../core/bytes.ts';
import { paddedChainValue } from '../../machine/chain.ts';
import { StepLimitError } from '../../machine/interpreter.ts';
import type { StepRecord } from '../../machine/isa.ts';
import { type Program, validateProgram } from '../../machine/program.ts';
import { lastWriteBefore } from '../../machine/reads.ts';
import { type MachineSnapshot, Stepper } from '../../machine/stepper.ts';
import type { Tape } from '../../machine/tape.ts';
import { roundBits, type SearchShape } from './grid.ts';

export type HonestView = {
  /**
   * T_h, the number of steps of the honest run (its last step is the halt); or, for a run cut at the
   * graph's 2^K steps (`truncate`), 2^K, its last step not a halt.
   */
  readonly stepCount: number;
  /** The view holds only the first `stepCount` steps of a longer run (`truncate`): no step past them. */
  readonly cut: boolean;
  /**
   * The word the halt read: the true post-state root. For a cut run, read by running on past the cut
   * without keeping anything (`haltWithin`); undefined when it does not halt within that either.
   */
  readonly result: bigint | undefined;
  readonly tape: Tape;
  /** h_p of the padded chain (h_T for every p ≥ T). */
  chainAt(p: number): Uint8Array;
  /** The record of step k (0 ≤ k < T). */
  stepAt(k: number): StepRecord;
  /** What memory held at `addr` just before step i, and the step that wrote it (−1 when none). */
  memoryBefore(i: number, addr: number): { value: bigint; writer: number };
};

/** A run kept whole: its records and its chain h_0 … h_T. */
export type KeptRun = {
  readonly steps: readonly StepRecord[];
  readonly chain: readonly Uint8Array[];
  readonly tape: Tape;
  readonly result: bigint;
};

function checkStep(k: number, count: number): void {
  if (!Number.isInteger(k) || k < 0 || k >= count) throw new RangeError(`No step ${k} in a run of ${count}`);
}

export function viewOfRun(run: KeptRun): HonestView {
  return {
    stepCount: run.steps.length,
    cut: false,
    result: run.result,
    tape: run.tape,
    chainAt: (p) => paddedChainValue(run.chain, p),
    stepAt(k) {
      checkStep(k, run.steps.length);
      return run.steps[k] as StepRecord;
    },
    memoryBefore(i, addr) {
      const j = lastWriteBefore(run.steps, i, addr);
      return j === undefined
        ? { value: 0n, writer: -1 }
        : { value: (run.steps[j] as StepRecord).w.value, writer: j };
    },
  };
}

export type CheckpointOptions = {
  /** The most steps the run may take (`StepLimitError` past it, unless `truncate`). */
  readonly maxSteps: number;
  /**
   * Keep the first `maxSteps` steps of a run that does not halt by then, instead of failing: a claim
   * cannot say more than 2^K steps (the length leaf), and every point, step and read a game over such a
   * claim asks about lies within them. Its result is read by running on (`haltWithin`).
   */
  readonly truncate?: boolean;
  /**
   * How far a cut run is run on, keeping nothing, to read the root it halts on (default 2 × maxSteps:
   * it doubles the first run's time at most; maxSteps: not run on).
   */
  readonly haltWithin?: number;
  /**
   * The chain value h_0 the run starts from (default: its own program's). An operator playing another
   * build of the program commits the graph's h_0, or the h_0 leaf disproves it at the assert.
   */
  readonly h0?: Uint8Array;
  /** Snapshots kept from the first run; their spacing doubles when there would be more (default 8). */
  readonly snapshots?: number;
  /** Snapshots kept from answering questions, most recently used first (default 4). */
  readonly recent?: number;
  /**
   * Also keep the chain value h_p at every multiple p of this power of two (default: none), so the
   * rounds whose points fall on them need no re-run; their spacing doubles past `chainValues` values.
   */
  readonly chainEvery?: number;
  /** The most chain values kept (default 65,536: about 8 MB as separate arrays). */
  readonly chainValues?: number;
};

/** What `chainEvery` kept: h_p for p = k · every, k = 0, 1, … while p < T (≤ T for a cut run). */
export type KeptChainValues = { readonly every: number; readonly values: readonly Uint8Array[] };

/**
 * The first run of a checkpointed view: what it keeps of the whole run (its length, result, last chain
 * value and a few snapshots). Plain data, so it can be computed on another thread and sent back.
 */
export type HonestRun = {
  readonly stepCount: number;
  /** Cut at `maxSteps` (`truncate`): the run goes on past them. */
  readonly cut: boolean;
  /** The root its halt read (for a cut run, within `haltWithin` steps; undefined when not). */
  readonly result: bigint | undefined;
  /** h_T. */
  readonly hEnd: Uint8Array;
  /** The root of the tape it ran on (its snapshots belong to that tape). */
  readonly tapeRoot: Uint8Array;
  /** Snapshots every `spacing` steps from step 0, at most `snapshots` of them. */
  readonly base: readonly MachineSnapshot[];
  readonly chain: KeptChainValues | undefined;
};

function checkKeep(keepBase: number, keepRecent: number): void {
  if (!Number.isInteger(keepBase) || keepBase < 1 || !Number.isInteger(keepRecent) || keepRecent < 0) {
    throw new RangeError('A checkpointed view keeps at least one snapshot');
  }
}

/** The whole run once, keeping what a checkpointed view needs (the expensive part: one machine run). */
export function runHonest(program: Program, tape: Tape, options: CheckpointOptions): HonestRun {
  const { maxSteps, snapshots: keepBase = 8, recent: keepRecent = 4 } = options;
  checkKeep(keepBase, keepRecent);
  const { chainEvery, chainValues: keepValues = 65_536 } = options;
  if (
    chainEvery !== undefined &&
    !(Number.isInteger(chainEvery) && chainEvery >= 1 && (chainEvery & (chainEvery - 1)) === 0)
  ) {
    throw new RangeError(`chainEvery is a power of two, got ${chainEvery}`);
  }
  if (!Number.isInteger(keepValues) || keepValues < 1)
    throw new RangeError('At least one chain value is kept');
  // Snapshots every `spacing` steps, thinned to every other one when there are too many; the chain
  // values likewise, every `every` steps.
  // A machine started from a snapshot does not check its program: this one starts from h_0 given.
  if (options.h0 !== undefined) validateProgram(program);
  const machine = new Stepper(
    program,
    tape,
    options.h0 === undefined
      ? undefined
      : { count: 0, pc: 0, h: options.h0.slice(), memory: new Map(), writers: new Map(), stopped: false },
  );
  let base: MachineSnapshot[] = [machine.snapshot()];
  let spacing = 1 << 12;
  let every = chainEvery ?? 0;
  let values: Uint8Array[] = every > 0 ? [machine.h.slice()] : [];
  let last: StepRecord | undefined;
  let cut = false;
  while (!machine.stopped) {
    if (machine.count >= maxSteps) {
      if (options.truncate !== true) throw new StepLimitError(maxSteps, machine.pc);
      cut = true;
      break;
    }
    last = machine.step();
    if (machine.stopped) break;
    if (machine.count % spacing === 0) {
      base.push(machine.snapshot());
      if (base.length > keepBase) {
        base = base.filter((s) => s.count % (2 * spacing) === 0);
        spacing *= 2;
      }
    }
    if (every > 0 && machine.count % every === 0) {
      values.push(machine.h.slice());
      if (values.length > keepValues) {
        values = values.filter((_, k) => k % 2 === 0);
        every *= 2;
      }
    }
  }
  const stepCount = machine.count;
  const hEnd = machine.h.slice();
  if (cut) {
    // On to the halt, keeping nothing: the root it reads is what the caller holds its model's root to.
    const limit = options.haltWithin ?? 2 * maxSteps;
    while (!machine.stopped && machine.count < limit) last = machine.step();
  }
  const halted = machine.stopped && last !== undefined && program.instructions[last.pc]?.op === 'halt';
  if (machine.stopped && !halted) {
    throw new RangeError(`The run faulted at step ${machine.count - 1} instead of halting`);
  }
  return {
    stepCount,
    cut,
    result: halted ? last?.r1.value : undefined,
    hEnd,
    tapeRoot: tape.root,
    base,
    chain: every > 0 ? { every, values } : undefined,
  };
}

/**
 * What a daemon keeps of an epoch's run for a game of `shape`: 64 snapshots (about 0.45 MB each on a
 * 1,000-input epoch), and the chain value at every point of the first three rounds of a search, so that
 * no round re-runs more than one snapshot's spacing plus its own segment past the third (on a 30 M-step
 * epoch, a round otherwise re-ran up to half the run: tens of seconds on the thread that plays it).
 */
export function gameViewOptions(shape: SearchShape): CheckpointOptions {
  const early = roundBits(shape)
    .slice(0, 3)
    .reduce((a, b) => a + b, 0);
  return {
    maxSteps: 2 ** shape.depth,
    truncate: true,
    snapshots: 64,
    chainEvery: 2 ** Math.max(0, shape.depth - early),
  };
}

export function checkpointedView(program: Program, tape: Tape, options: CheckpointOptions): HonestView {
  return viewOfHonestRun(program, tape, runHonest(program, tape, options), options);
}

/** The view over a first run made by `runHonest` of the same program and tape (here or on another thread). */
export function viewOfHonestRun(
  program: Program,
  tape: Tape,
  run: HonestRun,
  options: Pick<CheckpointOptions, 'recent'> = {},
): HonestView {
  const keepRecent = options.recent ?? 4;
  checkKeep(1, keepRecent);
  const { stepCount, cut, result, hEnd, base } = run;
  if (base[0]?.count !== 0) throw new RangeError('A first run keeps the snapshot at step 0');
  if (!equalBytes(run.tapeRoot, tape.root)) throw new RangeError('A first run of another tape');
  let recent: MachineSnapshot[] = [];
  // A game asks for the same points again in later rounds (every committed point is compared each time).
  const chainKnown = new Map<number, Uint8Array>();
  if (run.chain !== undefined) {
    const { every, values } = run.chain;
    values.forEach((h, k) => {
      chainKnown.set(k * every, h);
    });
  }

  /** A machine at step k (before it runs), from the nearest snapshot at or before k; the state at k is kept. */
  function machineAt(k: number): Stepper {
    let from = base[0] as MachineSnapshot;
    for (const s of [...base, ...recent]) if (s.count <= k && s.count > from.count) from = s;
    const m = new Stepper(program, tape, from);
    while (m.count < k) m.step();
    if (keepRecent > 0 && from.count !== k) {
      recent = [m.snapshot(), ...recent.filter((s) => s.count !== k)].slice(0, keepRecent);
    }
    return m;
  }

  return {
    stepCount,
    cut,
    result,
    tape,
    chainAt(p) {
      if (!Number.isInteger(p) || p < 0) throw new RangeError(`Not a trace position: ${p}`);
      if (p >= stepCount) return hEnd;
      let h = chainKnown.get(p);
      if (h === undefined) {
        // A copy: the machine's chain value is a view of a slab of links the cache must not keep.
        h = machineAt(p).h.slice();
        chainKnown.set(p, h);
      }
      return h;
    },
    stepAt(k) {
      checkStep(k, stepCount);
      return machineAt(k).step();
    },
    memoryBefore(i, addr) {
      return machineAt(Math.min(i, stepCount)).memoryAt(addr);
    },
  };
}
