/**
 * Micro-steps drawn from real traces, for the GVM-1 leaf tests: the governance program run over seeded
 * random workloads, and from each run its step records by opcode (with pc and instruction), its trace
 * chain links, its tape reads (position, word and Merkle path), and its reads with the write they must
 * return (read after write) or with none before them (unwritten read). The model runs a prefix of the
 * workload first, so the tape's image is a state in mid-history (validators, delegations, proposals in
 * every status); the tape holds the rest, of every kind, ends of epoch included. A run that halts or
 * faults is kept whole either way: every step `runProgram` records is correct by construction (it comes
 * from `execute`). Pure: no vitest.
 */
import {
  applyInput,
  createGenesisState,
  type GovernanceInput,
  type GovernanceState,
  INPUT_KINDS,
} from '../../src/governance/index.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { runProgram } from '../../src/machine/interpreter.ts';
import {
  type Instruction,
  NONE,
  type Opcode,
  type StepRecord,
  TAPE_LIMIT,
  wordOf,
} from '../../src/machine/isa.ts';
import type { Program } from '../../src/machine/program.ts';
import { buildGovernanceProgram } from '../../src/machine/programs/governance.ts';
import { encodeInputsTape } from '../../src/machine/programs/inputs-tape.ts';
import { Tape } from '../../src/machine/tape.ts';

/** The input kinds that go on the tape: every kind (the program runs them all, docs/protocol.md §23). */
export const SAMPLED_KINDS: ReadonlySet<GovernanceInput['kind']> = new Set(INPUT_KINDS);

/** One step of a real trace: where it ran, what it ran, and what it did. */
export type TraceStep = { readonly pc: number; readonly ins: Instruction; readonly step: StepRecord };
/** A chain link h_i → h_{i+1} over step i. */
export type TraceLink = { readonly h: Uint8Array; readonly step: StepRecord; readonly hNext: Uint8Array };
/** A tape read: its position (< 2^30), the word there, the 30 siblings, the tape's roots. */
export type TraceTapeRead = {
  readonly position: number;
  readonly word: bigint;
  readonly path: readonly Uint8Array[];
  readonly root: Uint8Array;
  readonly imageRoot: Uint8Array;
  readonly inputsRoot: Uint8Array;
};
/** A read with the last write before it to the same address. */
export type TraceReadAfterWrite = {
  readonly raddr: number;
  readonly rvalue: bigint;
  readonly waddr: number;
  readonly wvalue: bigint;
};
/** A read of an address no earlier step wrote (its value 0: memory starts all zero). */
export type TraceUnwrittenRead = { readonly raddr: number; readonly rvalue: bigint };

export type TraceSamples = {
  /**
   * Distinct steps by opcode (a record seen before is skipped: a jmp's record is fixed by its pc, and
   * loops repeat records), at most `perKind` each, drawn evenly over every trace.
   */
  readonly steps: Map<Opcode, TraceStep[]>;
  readonly links: TraceLink[];
  readonly tapeReads: TraceTapeRead[];
  readonly readsAfterWrite: TraceReadAfterWrite[];
  readonly unwrittenReads: TraceUnwrittenRead[];
  /** Every step seen by opcode, before the cut to `perKind` (the figures the tests report). */
  readonly seen: Map<Opcode, number>;
  /** Distinct step records by opcode (counted up to `DISTINCT_CAP`). */
  readonly distinct: Map<Opcode, number>;
  readonly traces: number;
  readonly totalSteps: number;
};

/** The model's state image as tape words (32 bytes a word). */
function imageWords(state: GovernanceState): bigint[] {
  const bytes = state.leaves.image();
  const words: bigint[] = [];
  for (let i = 0; i < bytes.length; i += 32) words.push(wordOf(bytes.subarray(i, i + 32)));
  return words;
}

/**
 * A seeded workload: the model applies its first `prefix` inputs (so proposals exist), the tape holds the
 * rest.
 */
export function sampledWorkload(
  seed: number,
  prefix: number,
  size: number,
): { state: GovernanceState; inputs: GovernanceInput[] } {
  const w = generateWorkload({ seed, inputs: prefix + size, rejected: 0.2, weights: { propose: 3 } });
  const state = createGenesisState(w.genesis);
  for (const input of w.inputs.slice(0, prefix)) applyInput(state, input);
  return { state, inputs: w.inputs.slice(prefix).filter((i) => SAMPLED_KINDS.has(i.kind)) };
}

/** Keeps at most `cap` of a stream, evenly spaced as it grows (every k-th, k doubling when full). */
class EvenSample<T> {
  readonly items: T[] = [];
  private stride = 1;
  private seen = 0;
  constructor(private readonly cap: number) {}
  offer(make: () => T): void {
    if (this.seen++ % this.stride !== 0) return;
    this.items.push(make());
    if (this.items.length >= 2 * this.cap) {
      // Keep every other one and halve the rate from now on.
      let k = 0;
      for (let i = 0; i < this.items.length; i += 2) this.items[k++] = this.items[i] as T;
      this.items.length = k;
      this.stride *= 2;
    }
  }
  /** At most `cap`, spread over the whole stream. */
  take(): T[] {
    const n = this.items.length;
    if (n <= this.cap) return this.items.slice();
    return Array.from({ length: this.cap }, (_, i) => this.items[Math.floor((i * n) / this.cap)] as T);
  }
}

export type SampleOptions = {
  /** Workload seeds (one trace each). */
  readonly seeds: readonly number[];
  /** The most samples kept per opcode and per other leaf kind. */
  readonly perKind: number;
  /** Inputs the model runs before the tape's (default 60) and inputs offered to the tape (default 40). */
  readonly prefix?: number;
  readonly size?: number;
};

/**
 * Records remembered per opcode to skip repeats. Past it (eq and load pass it over 96 traces) an
 * opcode's records are no longer checked for repeats, to bound the memory.
 */
export const DISTINCT_CAP = 200_000;

const recordKey = (s: StepRecord): string =>
  `${s.pc}|${s.r1.addr}|${s.r1.value}|${s.r2.addr}|${s.r2.value}|${s.w.addr}|${s.w.value}|${s.nextPc}`;

/** Runs the governance program over each seed's workload and samples its micro-steps. */
export function sampleTraces(options: SampleOptions): TraceSamples {
  const { seeds, perKind, prefix = 60, size = 40 } = options;
  const { program } = buildGovernanceProgram();
  const byOp = new Map<Opcode, EvenSample<TraceStep>>();
  const seen = new Map<Opcode, number>();
  const records = new Map<Opcode, Set<string>>();
  const links = new EvenSample<TraceLink>(perKind);
  const tapeReads = new EvenSample<TraceTapeRead>(perKind);
  const raw = new EvenSample<TraceReadAfterWrite>(perKind);
  const unwritten = new EvenSample<TraceUnwrittenRead>(perKind);
  let totalSteps = 0;
  for (const seed of seeds) {
    const { state, inputs } = sampledWorkload(seed, prefix, size);
    const tape = new Tape({ image: imageWords(state), inputs: encodeInputsTape(inputs) });
    const run = runProgram(program, tape, { maxSteps: 20_000_000 });
    totalSteps += run.stepCount;
    sampleRun(program, tape, run.steps, run.chain, {
      byOp,
      seen,
      records,
      links,
      tapeReads,
      raw,
      unwritten,
      perKind,
    });
  }
  const steps = new Map<Opcode, TraceStep[]>();
  for (const [op, s] of byOp) steps.set(op, s.take());
  return {
    steps,
    links: links.take(),
    tapeReads: tapeReads.take(),
    readsAfterWrite: raw.take(),
    unwrittenReads: unwritten.take(),
    seen,
    distinct: new Map([...records].map(([op, r]) => [op, r.size])),
    traces: seeds.length,
    totalSteps,
  };
}

type Sinks = {
  byOp: Map<Opcode, EvenSample<TraceStep>>;
  seen: Map<Opcode, number>;
  records: Map<Opcode, Set<string>>;
  links: EvenSample<TraceLink>;
  tapeReads: EvenSample<TraceTapeRead>;
  raw: EvenSample<TraceReadAfterWrite>;
  unwritten: EvenSample<TraceUnwrittenRead>;
  perKind: number;
};

function sampleRun(
  program: Program,
  tape: Tape,
  steps: readonly StepRecord[],
  chain: readonly Uint8Array[],
  sinks: Sinks,
): void {
  // The last write to each address so far: the word a read must return (absent: never written, 0).
  const written = new Map<number, bigint>();
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as StepRecord;
    const ins = program.instructions[step.pc] as Instruction;
    sinks.seen.set(ins.op, (sinks.seen.get(ins.op) ?? 0) + 1);
    let s = sinks.byOp.get(ins.op);
    if (s === undefined) {
      s = new EvenSample<TraceStep>(sinks.perKind);
      sinks.byOp.set(ins.op, s);
    }
    let r = sinks.records.get(ins.op);
    if (r === undefined) {
      r = new Set();
      sinks.records.set(ins.op, r);
    }
    const key = r.size < DISTINCT_CAP ? recordKey(step) : undefined;
    if (key === undefined || !r.has(key)) {
      if (key !== undefined) r.add(key);
      s.offer(() => ({ pc: step.pc, ins, step }));
    }
    const h = chain[i];
    const hNext = chain[i + 1];
    if (h !== undefined && hNext !== undefined) sinks.links.offer(() => ({ h, step, hNext }));
    if (ins.op === 'tape' && step.r1.value < BigInt(TAPE_LIMIT)) {
      const position = Number(step.r1.value);
      sinks.tapeReads.offer(() => ({
        position,
        word: tape.word(position),
        path: tape.path(position),
        root: tape.root,
        imageRoot: tape.imageRoot,
        inputsRoot: tape.inputRoot,
      }));
    }
    for (const read of [step.r1, step.r2]) {
      if (read.addr === NONE) continue;
      const w = written.get(read.addr);
      if (w === undefined) sinks.unwritten.offer(() => ({ raddr: read.addr, rvalue: read.value }));
      else sinks.raw.offer(() => ({ raddr: read.addr, rvalue: read.value, waddr: read.addr, wvalue: w }));
    }
    if (step.w.addr !== NONE) written.set(step.w.addr, step.w.value);
  }
}
