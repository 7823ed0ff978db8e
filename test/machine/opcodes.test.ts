/**
 * Every GVM-1 opcode run through the interpreter: results (with wrap-around mod 2^256, division by zero,
 * hash = blake3Node), the step records' reads, write and next pc, and the faults of load, store and tape.
 */
import { describe, expect, it } from 'vitest';
import { blake3Node } from '../../circuits/blake3-reference.ts';
import { Assembler, imm } from '../../src/machine/assembler.ts';
import { runProgram } from '../../src/machine/interpreter.ts';
import {
  ADDRESS_LIMIT,
  type BinaryOp,
  type Instruction,
  NO_ACCESS,
  NONE,
  type StepRecord,
  TAPE_LIMIT,
  WORD_MAX,
  WORD_MODULUS,
  wordBytes,
  wordOf,
} from '../../src/machine/isa.ts';
import { isWrongStep } from '../../src/machine/semantics.ts';
import { Tape } from '../../src/machine/tape.ts';

const emptyTape = new Tape({ image: [], inputs: [] });

/** Runs `d ← op(x, y)` with x, y in memory (slots 0, 1) and returns the result word and its step. */
function binary(op: BinaryOp, x: bigint, y: bigint): { value: bigint; step: StepRecord } {
  const a = new Assembler();
  const [sx, sy, sd] = [a.slot('x'), a.slot('y'), a.slot('d')];
  a.mov(sx, imm(x)).mov(sy, imm(y));
  a[op](sd, sx, sy);
  a.halt(sd);
  const run = runProgram(a.build(), emptyTape, { maxSteps: 10 });
  expect(run.status).toBe('halted');
  const step = run.steps[2] as StepRecord;
  expect(step.r1).toEqual({ addr: sx, value: x });
  expect(step.r2).toEqual({ addr: sy, value: y });
  expect(step.w.addr).toBe(sd);
  expect(step.nextPc).toBe(3);
  return { value: run.result as bigint, step };
}

const hashOf = (x: bigint, y: bigint) => {
  const m = new Uint8Array(64);
  m.set(wordBytes(x), 0);
  m.set(wordBytes(y), 32);
  return wordOf(blake3Node(m));
};

describe('GVM-1 binary opcodes', () => {
  const M = WORD_MODULUS;
  it('add wraps around mod 2^256', () => {
    expect(binary('add', 2n, 3n).value).toBe(5n);
    expect(binary('add', WORD_MAX, 1n).value).toBe(0n);
    expect(binary('add', WORD_MAX, WORD_MAX).value).toBe(WORD_MAX - 1n);
  });
  it('sub wraps around mod 2^256', () => {
    expect(binary('sub', 7n, 3n).value).toBe(4n);
    expect(binary('sub', 0n, 1n).value).toBe(WORD_MAX);
    expect(binary('sub', 3n, 7n).value).toBe(M - 4n);
  });
  it('mul keeps the low 256 bits', () => {
    expect(binary('mul', 6n, 7n).value).toBe(42n);
    expect(binary('mul', 1n << 255n, 2n).value).toBe(0n);
    expect(binary('mul', WORD_MAX, WORD_MAX).value).toBe(1n);
    expect(binary('mul', (1n << 200n) + 3n, 1n << 100n).value).toBe((3n << 100n) % M);
  });
  it('div floors, and x / 0 = 0', () => {
    expect(binary('div', 17n, 5n).value).toBe(3n);
    expect(binary('div', 17n, 0n).value).toBe(0n);
    expect(binary('div', 0n, 0n).value).toBe(0n);
    expect(binary('div', WORD_MAX, 1n).value).toBe(WORD_MAX);
    expect(binary('div', 4n, 5n).value).toBe(0n);
  });
  it('lt and eq give 1 or 0', () => {
    expect(binary('lt', 1n, 2n).value).toBe(1n);
    expect(binary('lt', 2n, 2n).value).toBe(0n);
    expect(binary('lt', WORD_MAX, 0n).value).toBe(0n);
    expect(binary('eq', 5n, 5n).value).toBe(1n);
    expect(binary('eq', 5n, 6n).value).toBe(0n);
    expect(binary('eq', WORD_MAX, WORD_MAX).value).toBe(1n);
  });
  it('hash is blake3Node(x ‖ y) read as a big-endian word', () => {
    expect(binary('hash', 0n, 0n).value).toBe(hashOf(0n, 0n));
    expect(binary('hash', 1n, WORD_MAX).value).toBe(hashOf(1n, WORD_MAX));
    expect(binary('hash', 1n, 2n).value).not.toBe(binary('hash', 2n, 1n).value);
  });
  it('immediate operands are not reads', () => {
    const a = new Assembler();
    const d = a.slot('d');
    a.add(d, imm(WORD_MAX), imm(2n)).halt(d);
    const run = runProgram(a.build(), emptyTape, { maxSteps: 5 });
    expect(run.steps[0]).toEqual({
      pc: 0,
      r1: NO_ACCESS,
      r2: NO_ACCESS,
      w: { addr: d, value: 1n },
      nextPc: 1,
    });
    expect(run.result).toBe(1n);
  });
  it('reading the same slot twice gives two equal reads', () => {
    const a = new Assembler();
    const x = a.slot('x');
    a.mov(x, imm(9n)).mul(x, x, x).halt(x);
    const run = runProgram(a.build(), emptyTape, { maxSteps: 5 });
    expect(run.steps[1]?.r1).toEqual({ addr: x, value: 9n });
    expect(run.steps[1]?.r2).toEqual({ addr: x, value: 9n });
    expect(run.result).toBe(81n);
  });
});

describe('GVM-1 mov, load, store', () => {
  it('mov copies a slot or an immediate', () => {
    const a = new Assembler();
    const [x, y] = [a.slot('x'), a.slot('y')];
    a.mov(x, imm(12n)).mov(y, x).halt(y);
    const run = runProgram(a.build(), emptyTape, { maxSteps: 5 });
    expect(run.steps[1]).toEqual({
      pc: 1,
      r1: { addr: x, value: 12n },
      r2: NO_ACCESS,
      w: { addr: y, value: 12n },
      nextPc: 2,
    });
    expect(run.result).toBe(12n);
  });

  it('load and store use M[ptr] + offset', () => {
    const a = new Assembler();
    const ptr = a.slot('ptr');
    const arr = a.slots('arr', 8);
    const out = a.slot('out');
    a.mov(ptr, imm(BigInt(arr)));
    a.store(ptr, imm(77n), 5);
    a.load(out, ptr, 5);
    a.halt(out);
    const run = runProgram(a.build(), emptyTape, { maxSteps: 10 });
    expect(run.steps[1]).toEqual({
      pc: 1,
      r1: { addr: ptr, value: BigInt(arr) },
      r2: NO_ACCESS,
      w: { addr: arr + 5, value: 77n },
      nextPc: 2,
    });
    expect(run.steps[2]).toEqual({
      pc: 2,
      r1: { addr: ptr, value: BigInt(arr) },
      r2: { addr: arr + 5, value: 77n },
      w: { addr: out, value: 77n },
      nextPc: 3,
    });
    expect(run.result).toBe(77n);
    expect(run.memory.get(arr + 5)).toBe(77n);
  });

  it('store of a memory operand reads it in slot 2', () => {
    const a = new Assembler();
    const [ptr, v] = [a.slot('ptr'), a.slot('v')];
    a.mov(ptr, imm(100n)).mov(v, imm(5n)).store(ptr, v, 1).halt(v);
    const run = runProgram(a.build(), emptyTape, { maxSteps: 10 });
    expect(run.steps[2]).toEqual({
      pc: 2,
      r1: { addr: ptr, value: 100n },
      r2: { addr: v, value: 5n },
      w: { addr: 101, value: 5n },
      nextPc: 3,
    });
  });

  const faultCase = (kind: 'load' | 'store', base: bigint, offset: number) => {
    const a = new Assembler();
    const [ptr, d] = [a.slot('ptr'), a.slot('d')];
    a.mov(ptr, imm(base));
    if (kind === 'load') a.load(d, ptr, offset);
    else a.store(ptr, d, offset);
    a.halt(d);
    const program = a.build();
    return { ...runProgram(program, emptyTape, { maxSteps: 10 }), program };
  };

  it('the highest address works; base + offset ≥ 2^29 faults (load and store)', () => {
    const top = BigInt(ADDRESS_LIMIT - 1);
    for (const kind of ['load', 'store'] as const) {
      expect(faultCase(kind, top, 0).status).toBe('halted');
      expect(faultCase(kind, 0n, ADDRESS_LIMIT - 1).status).toBe('halted');
      for (const [base, offset] of [
        [top, 1],
        [0n, ADDRESS_LIMIT - 1],
        [BigInt(ADDRESS_LIMIT), 0],
        [WORD_MAX, 0],
        [top - 3n, 4],
      ] as const) {
        if (base + BigInt(offset) < BigInt(ADDRESS_LIMIT)) continue;
        const run = faultCase(kind, base, offset);
        expect(run.status).toBe('faulted');
        expect(run.result).toBeUndefined();
        expect(run.stepCount).toBe(2);
        const step = run.steps[1] as StepRecord;
        expect(step.nextPc).toBe(NONE);
        expect(step.w).toEqual(NO_ACCESS);
        expect(step.r1).toEqual({ addr: 0, value: base });
        // A faulting store still reads its operand; a faulting load reads nothing more.
        expect(step.r2).toEqual(kind === 'store' ? { addr: 1, value: 0n } : NO_ACCESS);
        expect(isWrongStep(1, run.program.instructions[1] as Instruction, step)).toBe(false);
      }
    }
  });
});

describe('GVM-1 tape, jumps and halt', () => {
  const tape = new Tape({ image: [11n, 12n, 13n], inputs: [21n, 22n] });
  const read = (pos: bigint) => {
    const a = new Assembler();
    const [p, d] = [a.slot('p'), a.slot('d')];
    a.mov(p, imm(pos)).tape(d, p).halt(d);
    return runProgram(a.build(), tape, { maxSteps: 5 });
  };
  it('reads both halves, zero past the words given', () => {
    expect(read(0n).result).toBe(11n);
    expect(read(2n).result).toBe(13n);
    expect(read(3n).result).toBe(0n);
    expect(read(BigInt(ADDRESS_LIMIT - 1)).result).toBe(0n);
    expect(read(BigInt(ADDRESS_LIMIT)).result).toBe(21n);
    expect(read(BigInt(ADDRESS_LIMIT + 1)).result).toBe(22n);
    expect(read(BigInt(TAPE_LIMIT - 1)).result).toBe(0n);
    expect(read(1n).steps[1]).toEqual({
      pc: 1,
      r1: { addr: 0, value: 1n },
      r2: NO_ACCESS,
      w: { addr: 1, value: 12n },
      nextPc: 2,
    });
  });
  it('a position ≥ 2^30 faults', () => {
    for (const pos of [BigInt(TAPE_LIMIT), BigInt(TAPE_LIMIT) + 1n, WORD_MAX]) {
      const run = read(pos);
      expect(run.status).toBe('faulted');
      expect(run.steps[1]).toEqual({
        pc: 1,
        r1: { addr: 0, value: pos },
        r2: NO_ACCESS,
        w: NO_ACCESS,
        nextPc: NONE,
      });
    }
  });
  it('jmp, jz, jnz take the branch exactly when they should; halt reads its result and stays', () => {
    for (const v of [0n, 1n, WORD_MAX]) {
      for (const op of ['jz', 'jnz'] as const) {
        const a = new Assembler();
        const [x, r] = [a.slot('x'), a.slot('r')];
        a.mov(x, imm(v));
        a[op](x, 'taken');
        a.mov(r, imm(1n)).jmp('end');
        a.label('taken').mov(r, imm(2n));
        a.label('end').halt(r);
        const run = runProgram(a.build(), emptyTape, { maxSteps: 10 });
        const taken = op === 'jz' ? v === 0n : v !== 0n;
        expect(run.result).toBe(taken ? 2n : 1n);
        expect(run.steps[1]).toEqual({
          pc: 1,
          r1: { addr: x, value: v },
          r2: NO_ACCESS,
          w: NO_ACCESS,
          nextPc: taken ? 4 : 2,
        });
        const last = run.steps.at(-1) as StepRecord;
        expect(last).toEqual({
          pc: 5,
          r1: { addr: r, value: run.result },
          r2: NO_ACCESS,
          w: NO_ACCESS,
          nextPc: 5,
        });
        if (!taken)
          expect(run.steps[3]).toEqual({ pc: 3, r1: NO_ACCESS, r2: NO_ACCESS, w: NO_ACCESS, nextPc: 5 });
      }
    }
  });
});
