/**
 * GVM-1 one step at a time, from the start or from a snapshot (docs/protocol.md §24.9): what a
 * challenger needs to answer a narrowing game over an epoch too long to keep every step record. A
 * snapshot holds the machine between two steps (pc, the chain value so far, memory and the step that
 * last wrote each address), so any step of the run can be reached again by re-running from the nearest
 * snapshot before it. Runs exactly as `runProgram` does (the tests hold the two equal). Pure: no I/O.
 */
import { chainStart } from './chain.ts';
import { chainLinker, type RootedTape } from './interpreter.ts';
import { NONE, type StepRecord } from './isa.ts';
import { type Program, programHash, validateProgram } from './program.ts';
import { execute, type Memory } from './semantics.ts';

export type MachineSnapshot = {
  /** Steps run so far: the index of the next step. */
  readonly count: number;
  readonly pc: number;
  /** h_count. */
  readonly h: Uint8Array;
  readonly memory: ReadonlyMap<number, bigint>;
  /** The step that last wrote each address written so far. */
  readonly writers: ReadonlyMap<number, number>;
  /** The last step halted or faulted: there is no next step. */
  readonly stopped: boolean;
};

export class Stepper {
  readonly #program: Program;
  readonly #tape: RootedTape;
  readonly #memory: Map<number, bigint>;
  readonly #writers: Map<number, number>;
  readonly #reader: Memory;
  readonly #link = chainLinker();
  #count: number;
  #pc: number;
  #h: Uint8Array;
  #stopped: boolean;

  /** A machine at the start of the run, or at `from` (a snapshot of a run of the same program and tape). */
  constructor(program: Program, tape: RootedTape, from?: MachineSnapshot) {
    this.#program = program;
    this.#tape = tape;
    if (from === undefined) validateProgram(program);
    this.#memory = new Map(from?.memory ?? []);
    this.#writers = new Map(from?.writers ?? []);
    this.#reader = { read: (addr) => this.#memory.get(addr) ?? 0n };
    this.#count = from?.count ?? 0;
    this.#pc = from?.pc ?? 0;
    this.#h = from?.h ?? chainStart(tape.root, programHash(program));
    this.#stopped = from?.stopped ?? false;
  }

  get count(): number {
    return this.#count;
  }
  /** The pc of the next step. */
  get pc(): number {
    return this.#pc;
  }
  get h(): Uint8Array {
    return this.#h;
  }
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Runs the next step and returns its record. */
  step(): StepRecord {
    if (this.#stopped) throw new RangeError(`The run stopped after ${this.#count} steps`);
    const ins = this.#program.instructions[this.#pc];
    if (ins === undefined) throw new RangeError(`pc ${this.#pc} is outside the program`);
    const record = execute(this.#pc, ins, this.#reader, this.#tape);
    if (record.w.addr !== NONE) {
      if (record.w.value === 0n) this.#memory.delete(record.w.addr);
      else this.#memory.set(record.w.addr, record.w.value);
      this.#writers.set(record.w.addr, this.#count);
    }
    this.#h = this.#link(this.#h, record);
    this.#count++;
    if (record.nextPc === NONE || ins.op === 'halt') this.#stopped = true;
    else this.#pc = record.nextPc;
    return record;
  }

  /** The word at `addr` now, and the step that wrote it (−1 when none has). */
  memoryAt(addr: number): { value: bigint; writer: number } {
    return { value: this.#memory.get(addr) ?? 0n, writer: this.#writers.get(addr) ?? -1 };
  }

  /** A copy of the machine's state; the machine goes on unaffected. */
  snapshot(): MachineSnapshot {
    return {
      count: this.#count,
      pc: this.#pc,
      // A copy: the chain's links are views of a shared slab, which a snapshot must not hold (or send).
      h: this.#h.slice(),
      memory: new Map(this.#memory),
      writers: new Map(this.#writers),
      stopped: this.#stopped,
    };
  }
}
