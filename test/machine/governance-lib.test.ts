/**
 * The governance program's routines (src/machine/programs/lib.ts) on a small hand-made image: appends
 * sort an input's new records by key word (the swap path the implemented rules never take: their new
 * records are created in key order), earlier inputs' records stay put, finds hit an indexed record and
 * the input's own, miss, and write nothing past the image, checkpoints overwrite at the same key and
 * append otherwise, and the out-of-room and deliberate faults stop the run. Every step is execution-correct and every read returns the last write.
 */
import { describe, expect, it } from 'vitest';
import { Assembler, imm } from '../../src/machine/assembler.ts';
import { runProgram } from '../../src/machine/interpreter.ts';
import type { Program } from '../../src/machine/program.ts';
import {
  allocateScratch,
  CHECKPOINT_ACCOUNT_SHIFT,
  CHECKPOINT_BLOCK_SHIFT,
  CHECKPOINT_KIND_SHIFT,
  emitAppendRecord,
  emitFault,
  emitFindRecord,
  emitWriteCheckpoint,
  probeReturnsOf,
  tagWord,
} from '../../src/machine/programs/lib.ts';
import {
  emitIndexRecords,
  emitProbeFallback,
  emitProbeRoutine,
  type IndexVars,
} from '../../src/machine/programs/record-index.ts';
import { readIndex } from '../../src/machine/reads.ts';
import { isWrongStep } from '../../src/machine/semantics.ts';
import { Tape } from '../../src/machine/tape.ts';

const VARS = 4_096;

function run(program: Program) {
  const result = runProgram(program, new Tape({ image: [], inputs: [] }), { maxSteps: 100_000 });
  const reads = readIndex(result.steps);
  result.steps.forEach((step, i) => {
    const ins = program.instructions[step.pc];
    if (ins === undefined) throw new Error(`pc ${step.pc} outside the program`);
    expect(isWrongStep(step.pc, ins, step)).toBe(false);
    expect(reads.isWrongRead(i, 1) || reads.isWrongRead(i, 2)).toBe(false);
  });
  return result;
}

const word = (memory: ReadonlyMap<number, bigint>, addr: number) => memory.get(addr) ?? 0n;

describe('governance program routines', () => {
  it('append sorts an input’s new records by key word, find hits and misses, checkpoints overwrite', () => {
    const a = new Assembler(VARS);
    const n = a.slot('n');
    const k = a.slot('k');
    const ptr = a.slot('ptr');
    const found = a.slot('found');
    const out = a.slots('out', 6);
    const s = allocateScratch(a, n, 2_048);
    const ix = Object.fromEntries(
      ['at', 'ret', 'key', 'tag', 'group'].map((name) => [name, a.slot(`ix.${name}`)]),
    ) as IndexVars;
    a.mov(s.salt, imm(0x9e3779b97f4a7c15n));
    a.mov(n, imm(0n));
    a.mov(s.created, imm(0n));
    for (const key of [50n, 30n, 40n, 10n]) emitAppendRecord(a, s, [imm(key), imm(key * 10n), imm(0n)], ptr);
    // The first input ends: its records are indexed.
    a.mov(ix.at, s.created);
    a.mov(ix.ret, imm(0n));
    emitIndexRecords(a, s, ix, ['first.indexed', 'never']);
    a.label('first.indexed');
    // A new input: its record goes after the previous input's, however small its key.
    a.mov(s.created, n);
    emitAppendRecord(a, s, [imm(20n), imm(200n)], ptr);
    // Found in the index (40), among the input's own records (20), and nowhere (99).
    a.mov(k, imm(20n));
    emitFindRecord(a, s, k, ptr, found);
    a.mov(out + 4, ptr);
    a.mov(out + 5, found);
    a.mov(k, imm(40n));
    emitFindRecord(a, s, k, ptr, found);
    a.mov(out, ptr);
    a.mov(out + 1, found);
    a.mov(k, imm(99n));
    emitFindRecord(a, s, k, ptr, found);
    a.mov(out + 2, ptr);
    a.mov(out + 3, found);
    // Checkpoints: kind 3, account 0, block 7 twice (overwrite), then block 8 (new record).
    a.mov(s.created, n);
    emitWriteCheckpoint(a, s, 3, imm(0n), imm(7n), imm(0n), imm(111n));
    emitWriteCheckpoint(a, s, 3, imm(0n), imm(7n), imm(0n), imm(222n));
    emitWriteCheckpoint(a, s, 0, imm(0xabn), imm(8n), imm(0n), imm(333n));
    a.halt(n);
    a.label('never');
    emitFault(a, s);
    emitProbeRoutine(a, s, probeReturnsOf(a));
    emitProbeFallback(a, s);
    const result = run(a.build());
    expect(result.status).toBe('halted');
    const m = result.memory;
    const keys = Array.from({ length: 7 }, (_, r) => word(m, 16 * r));
    const values = Array.from({ length: 7 }, (_, r) => word(m, 16 * r + 1));
    const cp = (kind: bigint, account: bigint, block: bigint) =>
      tagWord(0x0a) +
      (kind << CHECKPOINT_KIND_SHIFT) +
      (account << CHECKPOINT_ACCOUNT_SHIFT) +
      (block << CHECKPOINT_BLOCK_SHIFT);
    // The last input's two checkpoints were created self (kind 0) after bonded (kind 3): sorted.
    expect(keys).toEqual([10n, 30n, 40n, 50n, 20n, cp(0n, 0xabn, 8n), cp(3n, 0n, 7n)]);
    expect(values).toEqual([100n, 300n, 400n, 500n, 200n, 0n, 0n]);
    expect(word(m, 16 * 5 + 2)).toBe(333n);
    expect(word(m, 16 * 6 + 2)).toBe(222n);
    expect(result.result).toBe(7n * 16n);
    expect(Array.from({ length: 6 }, (_, i) => word(m, out + i))).toEqual([32n, 1n, 80n, 0n, 64n, 1n]);
    // Nothing is written past the image (the index lives elsewhere).
    for (let addr = 7 * 16; addr < 2_048; addr++) expect(word(m, addr)).toBe(0n);
  });

  it('an append that would reach the limit faults, and so does emitFault', () => {
    const a = new Assembler(VARS);
    const n = a.slot('n');
    const ptr = a.slot('ptr');
    const s = allocateScratch(a, n, 64);
    a.mov(n, imm(32n));
    a.mov(s.created, n);
    emitAppendRecord(a, s, [imm(1n)], ptr);
    emitAppendRecord(a, s, [imm(2n)], ptr);
    emitAppendRecord(a, s, [imm(3n)], ptr);
    a.halt(n);
    const result = run(a.build());
    expect(result.status).toBe('faulted');
    // Records at 32 and 48 fill the room below 64; the third would be written at the limit.
    expect(word(result.memory, n)).toBe(64n);
    const b = new Assembler(VARS);
    const s2 = allocateScratch(b, b.slot('n'), 64);
    emitFault(b, s2);
    b.halt(s2.n);
    expect(run(b.build()).status).toBe('faulted');
  });
});
