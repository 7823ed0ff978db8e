/**
 * A small assembler for writing GVM-1 programs by hand in TypeScript: named memory slots, labels with
 * forward references, one method per instruction. Operands are a slot address (a number, read from
 * memory) or `imm(v)` (an immediate word). `build()` resolves the labels and returns a validated
 * program. Pure: no I/O.
 *
 *   const a = new Assembler();
 *   const n = a.slot('n'), sum = a.slot('sum');
 *   a.mov(n, imm(10n));
 *   a.label('loop');
 *   a.jz(n, 'done'); a.add(sum, sum, n); a.sub(n, n, imm(1n)); a.jmp('loop');
 *   a.label('done'); a.halt(sum);
 */
import { VigilError } from '../core/errors.ts';
import { ADDRESS_LIMIT, type BinaryOp, type Instruction, type Operand } from './isa.ts';
import { type Program, validateProgram } from './program.ts';

/** A misuse of the assembler: a duplicate or undefined label or slot, or no room left for a slot. */
export class AssemblerError extends VigilError {
  override name = 'AssemblerError';
}

/** An immediate operand. */
export const imm = (value: bigint): Operand => ({ imm: value });
/** A memory operand (a bare number means the same). */
export const mem = (addr: number): Operand => ({ mem: addr });

export type OperandLike = number | Operand;
/** A jump target: a label (resolved by `build`) or an instruction index. */
export type Target = string | number;

const operandOf = (o: OperandLike): Operand => (typeof o === 'number' ? { mem: o } : o);

type Pending = { readonly pc: number; readonly label: string };

export class Assembler {
  readonly #instructions: Instruction[] = [];
  readonly #labels = new Map<string, number>();
  readonly #slots = new Map<string, { base: number; size: number }>();
  readonly #pending: Pending[] = [];
  readonly #deferred: (() => void)[] = [];
  #nextSlot: number;

  /** Slots are allocated upwards from `firstSlot` (0 by default). */
  constructor(firstSlot = 0) {
    this.#nextSlot = firstSlot;
  }

  /** Allocates one memory word named `name`; returns its address. */
  slot(name: string): number {
    return this.slots(name, 1);
  }

  /** Allocates `n` contiguous words named `name`; returns the first address. */
  slots(name: string, n: number): number {
    if (this.#slots.has(name)) throw new AssemblerError(`Slot "${name}" is already allocated`);
    if (!Number.isInteger(n) || n < 1) throw new AssemblerError(`Slot "${name}" needs n ≥ 1 words, got ${n}`);
    const base = this.#nextSlot;
    if (base + n > ADDRESS_LIMIT) throw new AssemblerError(`No room for ${n} words of "${name}" below 2^29`);
    this.#slots.set(name, { base, size: n });
    this.#nextSlot = base + n;
    return base;
  }

  /** The address of an allocated slot. */
  addressOf(name: string): number {
    const s = this.#slots.get(name);
    if (s === undefined) throw new AssemblerError(`No slot named "${name}"`);
    return s.base;
  }

  /** The index the next instruction will have. */
  get here(): number {
    return this.#instructions.length;
  }

  /** Names the next instruction's index. */
  label(name: string): this {
    if (this.#labels.has(name)) throw new AssemblerError(`Label "${name}" is defined twice`);
    this.#labels.set(name, this.here);
    return this;
  }

  #target(t: Target): number {
    if (typeof t === 'number') return t;
    this.#pending.push({ pc: this.here, label: t });
    return -1;
  }

  #emit(ins: Instruction): this {
    this.#instructions.push(ins);
    return this;
  }

  #binary(op: BinaryOp, dst: number, x: OperandLike, y: OperandLike): this {
    return this.#emit({ op, dst, x: operandOf(x), y: operandOf(y) });
  }

  add = (dst: number, x: OperandLike, y: OperandLike) => this.#binary('add', dst, x, y);
  sub = (dst: number, x: OperandLike, y: OperandLike) => this.#binary('sub', dst, x, y);
  mul = (dst: number, x: OperandLike, y: OperandLike) => this.#binary('mul', dst, x, y);
  div = (dst: number, x: OperandLike, y: OperandLike) => this.#binary('div', dst, x, y);
  lt = (dst: number, x: OperandLike, y: OperandLike) => this.#binary('lt', dst, x, y);
  eq = (dst: number, x: OperandLike, y: OperandLike) => this.#binary('eq', dst, x, y);
  hash = (dst: number, x: OperandLike, y: OperandLike) => this.#binary('hash', dst, x, y);

  /** `dst ← x`. */
  mov(dst: number, x: OperandLike): this {
    return this.#emit({ op: 'mov', dst, x: operandOf(x) });
  }
  /** `dst ← M[M[ptr] + offset]`. */
  load(dst: number, ptr: number, offset = 0): this {
    return this.#emit({ op: 'load', dst, ptr, offset });
  }
  /** `M[M[ptr] + offset] ← x` (note: offset last, optional). */
  store(ptr: number, x: OperandLike, offset = 0): this {
    return this.#emit({ op: 'store', ptr, offset, x: operandOf(x) });
  }
  /** `dst ← TAPE[M[pos]]`. */
  tape(dst: number, pos: number): this {
    return this.#emit({ op: 'tape', dst, pos });
  }
  jmp(target: Target): this {
    return this.#emit({ op: 'jmp', target: this.#target(target) });
  }
  jz(x: number, target: Target): this {
    return this.#emit({ op: 'jz', x, target: this.#target(target) });
  }
  jnz(x: number, target: Target): this {
    return this.#emit({ op: 'jnz', x, target: this.#target(target) });
  }
  halt(result: number): this {
    return this.#emit({ op: 'halt', result });
  }

  /**
   * Where `pc` lies in the source: the last label at or before it (among those starting with `prefix`)
   * and the offset from there ("rule.queue+23"), to name a micro-step in reports. "+pc" when none does.
   */
  locate(pc: number, prefix = ''): string {
    let best: string | undefined;
    let at = -1;
    for (const [name, target] of this.#labels) {
      if (target <= pc && target > at && name.startsWith(prefix)) {
        best = name;
        at = target;
      }
    }
    return best === undefined ? `+${pc}` : `${best}+${pc - at}`;
  }

  /**
   * Code to emit after everything else, when `build` runs (deferred blocks may defer more): out-of-line
   * blocks that must not move any other instruction, such as a fault build's detours.
   */
  defer(emit: () => void): void {
    this.#deferred.push(emit);
  }

  /** The program with every label resolved, validated (`ProgramError` when not valid). */
  build(): Program {
    for (let emit = this.#deferred.shift(); emit !== undefined; emit = this.#deferred.shift()) emit();
    const instructions = this.#instructions.slice();
    for (const { pc, label } of this.#pending) {
      const target = this.#labels.get(label);
      if (target === undefined)
        throw new AssemblerError(`Label "${label}" (used at pc ${pc}) is not defined`);
      const ins = instructions[pc] as Extract<Instruction, { target: number }>;
      instructions[pc] = { ...ins, target };
    }
    const program: Program = { instructions };
    validateProgram(program);
    return program;
  }
}
