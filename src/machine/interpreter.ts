/**
 * Runs a GVM-1 program over a tape and records its trace: the step records, the trace chain
 * h_0 … h_n (docs/protocol.md §22.4) and the final memory. Every step goes through `execute` from
 * semantics.ts, so the interpreter and the disprove leaves' twin share one definition. Pure: no I/O.
 *
 * Memory starts all zero. The run stops after the first `halt` step or the first faulting step
 * (next pc NONE), both included in the trace.
 */

import { blake3Block64Into } from '../core/blake3.ts';
import { VigilError } from '../core/errors.ts';
import { chainStart } from './chain.ts';
import { CHAIN_BYTES, NONE, type StepRecord } from './isa.ts';
import { type Program, programHash, validateProgram } from './program.ts';
import { execute, type Memory, type Tape as TapeReader } from './semantics.ts';
import { wordInto } from './tape.ts';

/**
 * `chainNext` of chain.ts, computed without its per-byte conversions and with the unrolled BLAKE3 (the
 * run is hashed once per step; the tests hold every link equal to `chainNext`). Links are views into
 * shared 80 KB slabs: one small ArrayBuffer per step would cost the garbage collector more than the hash.
 */
export function chainLinker(): (h: Uint8Array, step: StepRecord) => Uint8Array {
  const block = new Uint8Array(64);
  const view = new DataView(block.buffer);
  const digest = new Uint8Array(32);
  const SLAB_LINKS = 4_096;
  let slab = new Uint8Array(0);
  let used = SLAB_LINKS;
  return (h, step) => {
    block.set(h, 0);
    view.setUint32(20, step.pc);
    view.setUint32(24, step.nextPc);
    view.setUint32(28, step.w.addr);
    wordInto(view, 32, step.w.value);
    blake3Block64Into(block, 0, digest, 0);
    if (used === SLAB_LINKS) {
      slab = new Uint8Array(SLAB_LINKS * CHAIN_BYTES);
      used = 0;
    }
    const link = slab.subarray(used * CHAIN_BYTES, (used + 1) * CHAIN_BYTES);
    link.set(digest.subarray(0, CHAIN_BYTES));
    used++;
    return link;
  };
}

export class StepLimitError extends VigilError {
  override name = 'StepLimitError';
  readonly maxSteps: number;
  constructor(maxSteps: number, pc: number) {
    super(`The program ran ${maxSteps} steps without halting or faulting (next pc ${pc})`);
    this.maxSteps = maxSteps;
  }
}

export type RunOptions = {
  /** The most steps the run may take; one more throws `StepLimitError`. */
  readonly maxSteps: number;
  /** Keep every step record (default true); without them only the count, chain and memory remain. */
  readonly keepSteps?: boolean;
  /** Compute the trace chain (default true); false leaves `chain` empty (for speed measurements). */
  readonly hashChain?: boolean;
};

export type RunResult = {
  readonly status: 'halted' | 'faulted';
  /** The step records, when kept (else empty). */
  readonly steps: StepRecord[];
  readonly stepCount: number;
  /** h_0 … h_n (n = stepCount), when hashed (else empty). */
  readonly chain: Uint8Array[];
  /** The word `halt` read (its r1 value); undefined when the run faulted. */
  readonly result: bigint | undefined;
  /** The final memory's non-zero words. */
  readonly memory: ReadonlyMap<number, bigint>;
};

/** A tape needs a root for h_0; any `Tape` from tape.ts has one. */
export type RootedTape = TapeReader & { readonly root: Uint8Array };

export function runProgram(program: Program, tape: RootedTape, options: RunOptions): RunResult {
  const { maxSteps, keepSteps = true, hashChain = true } = options;
  if (!Number.isInteger(maxSteps) || maxSteps < 1) {
    throw new RangeError(`maxSteps must be a positive integer, got ${maxSteps}`);
  }
  validateProgram(program);
  const words = new Map<number, bigint>();
  const memory: Memory = { read: (addr) => words.get(addr) ?? 0n };
  const steps: StepRecord[] = [];
  const chain: Uint8Array[] = [];
  let h = hashChain ? chainStart(tape.root, programHash(program)) : undefined;
  const chainNext = chainLinker();
  if (h) chain.push(h);
  const instructions = program.instructions;
  let pc = 0;
  for (let count = 1; ; count++) {
    if (count > maxSteps) throw new StepLimitError(maxSteps, pc);
    // validateProgram keeps every target and every fall-through inside the program.
    const ins = instructions[pc];
    if (ins === undefined) throw new RangeError(`pc ${pc} is outside the program`);
    const step = execute(pc, ins, memory, tape);
    if (step.w.addr !== NONE) {
      if (step.w.value === 0n) words.delete(step.w.addr);
      else words.set(step.w.addr, step.w.value);
    }
    if (keepSteps) steps.push(step);
    if (h) {
      h = chainNext(h, step);
      chain.push(h);
    }
    if (step.nextPc === NONE || ins.op === 'halt') {
      const halted = ins.op === 'halt';
      return {
        status: halted ? 'halted' : 'faulted',
        steps,
        stepCount: count,
        chain,
        result: halted ? step.r1.value : undefined,
        memory: words,
      };
    }
    pc = step.nextPc;
  }
}
