/**
 * Hand-written GVM-1 programs built with the assembler, checked against TypeScript computations: the
 * sum of the input words, an insertion sort of N tape words into memory, and the Merkle root of 8 memory
 * words with `hash` (which must equal the tape tree's root at depth 3). Also the assembler's errors.
 */
import { describe, expect, it } from 'vitest';
import { Assembler, AssemblerError, imm, mem } from '../../src/machine/assembler.ts';
import { runProgram } from '../../src/machine/interpreter.ts';
import { ADDRESS_LIMIT, type Instruction, WORD_MODULUS, wordOf } from '../../src/machine/isa.ts';
import { ProgramError } from '../../src/machine/program.ts';
import { isWrongRead } from '../../src/machine/reads.ts';
import { isWrongStep } from '../../src/machine/semantics.ts';
import { imageRoot, Tape } from '../../src/machine/tape.ts';
import { gen } from './gen.ts';

/** Sum of the input words; their count is image word 0. */
function sumProgram() {
  const a = new Assembler();
  const [n, p, w, sum] = [a.slot('n'), a.slot('p'), a.slot('w'), a.slot('sum')];
  a.tape(n, p); // p = 0: the count
  a.mov(p, imm(BigInt(ADDRESS_LIMIT)));
  a.label('loop').jz(n, 'done');
  a.tape(w, p).add(sum, sum, w).add(p, p, imm(1n)).sub(n, n, imm(1n)).jmp('loop');
  a.label('done').halt(sum);
  return a.build();
}

/** Insertion sort of the first `count` input words into `arr`; halts with arr[0]. */
function sortProgram(count: number) {
  const a = new Assembler();
  const arr = a.slots('arr', count);
  const [cnt, tp, sorted, key, ptr, q, prev, c] = ['cnt', 'tp', 'sorted', 'key', 'ptr', 'q', 'prev', 'c'].map(
    (name) => a.slot(name),
  ) as [number, number, number, number, number, number, number, number];
  a.mov(cnt, imm(BigInt(count))).mov(tp, imm(BigInt(ADDRESS_LIMIT)));
  a.label('outer').jz(cnt, 'done');
  a.tape(key, tp).add(ptr, sorted, imm(BigInt(arr)));
  a.label('inner')
    .eq(c, ptr, imm(BigInt(arr)))
    .jnz(c, 'place');
  a.sub(q, ptr, imm(1n)).load(prev, q).lt(c, key, prev).jz(c, 'place');
  a.store(ptr, prev).mov(ptr, q).jmp('inner');
  a.label('place').store(ptr, key);
  a.add(tp, tp, imm(1n)).add(sorted, sorted, imm(1n)).sub(cnt, cnt, imm(1n)).jmp('outer');
  a.label('done').halt(arr);
  return { program: a.build(), arr };
}

/** The depth-3 Merkle root of image words 0..7, copied to memory and hashed in place level by level. */
function merkleProgram() {
  const a = new Assembler();
  const base = a.slots('nodes', 8);
  const [i, width, src, dst, l, r, h, tp] = ['i', 'width', 'src', 'dst', 'l', 'r', 'h', 'tp'].map((name) =>
    a.slot(name),
  ) as [number, number, number, number, number, number, number, number];
  // Copy the 8 leaves from the tape (positions 0..7) with a pointer.
  a.mov(dst, imm(BigInt(base))).mov(i, imm(8n));
  a.label('copy').tape(h, tp).store(dst, h).add(tp, tp, imm(1n)).add(dst, dst, imm(1n));
  a.sub(i, i, imm(1n)).jnz(i, 'copy');
  a.mov(width, imm(8n));
  a.label('level').eq(h, width, imm(1n)).jnz(h, 'done');
  a.mov(src, imm(BigInt(base)))
    .mov(dst, imm(BigInt(base)))
    .div(i, width, imm(2n));
  a.label('pair').load(l, src, 0).load(r, src, 1).hash(h, l, r).store(dst, h);
  a.add(src, src, imm(2n)).add(dst, dst, imm(1n)).sub(i, i, imm(1n)).jnz(i, 'pair');
  a.div(width, width, imm(2n)).jmp('level');
  a.label('done').halt(base);
  return a.build();
}

/** Every step and read of a run is correct (the checks a challenger would run). */
function expectCleanTrace(program: ReturnType<typeof sumProgram>, run: ReturnType<typeof runProgram>) {
  run.steps.forEach((s, k) => {
    expect(isWrongStep(s.pc, program.instructions[s.pc] as Instruction, s)).toBe(false);
    expect(isWrongRead(run.steps, k, 1)).toBe(false);
    expect(isWrongRead(run.steps, k, 2)).toBe(false);
  });
}

describe('assembler programs', () => {
  it('sums the input words (mod 2^256)', () => {
    const g = gen(1405);
    const program = sumProgram();
    for (const n of [0, 1, 5, 17]) {
      const inputs = Array.from({ length: n }, () => g.word());
      const run = runProgram(program, new Tape({ image: [BigInt(n)], inputs }), { maxSteps: 1_000 });
      expect(run.status).toBe('halted');
      expect(run.result).toBe(inputs.reduce((s, w) => s + w, 0n) % WORD_MODULUS);
      // tape, mov, then per word jz + 5, then the last jz and halt.
      expect(run.stepCount).toBe(2 + 6 * n + 2);
      if (n === 5) expectCleanTrace(program, run);
    }
  });

  it('insertion-sorts N tape words into memory', () => {
    const g = gen(1406);
    for (const count of [1, 2, 7, 16]) {
      const inputs = Array.from({ length: count }, () => (g.chance(0.3) ? BigInt(g.int(3)) : g.word()));
      const { program, arr } = sortProgram(count);
      const run = runProgram(program, new Tape({ image: [], inputs }), { maxSteps: 100_000 });
      expect(run.status).toBe('halted');
      const sorted = inputs.slice().sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      const got = Array.from({ length: count }, (_, k) => run.memory.get(arr + k) ?? 0n);
      expect(got).toEqual(sorted);
      expect(run.result).toBe(sorted[0]);
      if (count === 7) expectCleanTrace(program, run);
    }
  });

  it('computes the Merkle root of 8 words with hash, equal to the tape tree at depth 3', () => {
    const g = gen(1407);
    const program = merkleProgram();
    for (let t = 0; t < 3; t++) {
      const words = Array.from({ length: 8 }, () => (g.chance(0.2) ? 0n : g.word()));
      const run = runProgram(program, new Tape({ image: words, inputs: [] }), { maxSteps: 1_000 });
      expect(run.status).toBe('halted');
      expect(run.result).toBe(wordOf(imageRoot(words, 3)));
      if (t === 0) expectCleanTrace(program, run);
    }
  });
});

describe('assembler', () => {
  it('allocates slots upwards, contiguous blocks included', () => {
    const a = new Assembler(10);
    expect(a.slot('a')).toBe(10);
    expect(a.slots('arr', 4)).toBe(11);
    expect(a.slot('b')).toBe(15);
    expect(a.addressOf('arr')).toBe(11);
    expect(() => a.slot('a')).toThrow(AssemblerError);
    expect(() => a.slots('z', 0)).toThrow(AssemblerError);
    expect(() => a.addressOf('nope')).toThrow(AssemblerError);
    expect(() => new Assembler(ADDRESS_LIMIT - 1).slots('big', 2)).toThrow(AssemblerError);
  });

  it('resolves forward and backward labels and numeric targets', () => {
    const a = new Assembler();
    const x = a.slot('x');
    a.jmp('fwd');
    a.label('back').halt(x);
    a.label('fwd').mov(x, mem(x)).jz(x, 'back').jmp(1);
    const p = a.build();
    expect(p.instructions).toEqual([
      { op: 'jmp', target: 2 },
      { op: 'halt', result: x },
      { op: 'mov', dst: x, x: { mem: x } },
      { op: 'jz', x, target: 1 },
      { op: 'jmp', target: 1 },
    ]);
  });

  it('refuses duplicate and undefined labels, and invalid programs', () => {
    const a = new Assembler();
    a.label('x');
    expect(() => a.label('x')).toThrow(/defined twice/);
    const b = new Assembler();
    b.jz(0, 'nowhere').halt(0);
    expect(() => b.build()).toThrow(/"nowhere" \(used at pc 0\) is not defined/);
    const c = new Assembler();
    c.mov(0, imm(1n));
    expect(() => c.build()).toThrow(ProgramError);
  });

  it('emits deferred blocks after everything else, in order, nested ones last, with labels resolved', () => {
    const a = new Assembler();
    const x = a.slot('x');
    a.jz(x, 'out-of-line');
    a.label('back').halt(x);
    a.defer(() => {
      a.label('out-of-line').mov(x, imm(7n));
      a.defer(() => a.label('nested').jmp('back'));
      a.jmp('nested');
    });
    const p = a.build();
    expect(p.instructions).toEqual([
      { op: 'jz', x, target: 2 },
      { op: 'halt', result: x },
      { op: 'mov', dst: x, x: { imm: 7n } },
      { op: 'jmp', target: 4 },
      { op: 'jmp', target: 1 },
    ]);
    const run = runProgram(p, new Tape({ image: [], inputs: [] }), { maxSteps: 100 });
    expect([run.status, run.result]).toEqual(['halted', 7n]);
  });

  it('names a pc by the last label at or before it, optionally among labels with a prefix', () => {
    const a = new Assembler();
    a.mov(0, imm(1n));
    a.label('rule.a').mov(0, imm(2n)).mov(0, imm(3n));
    a.label('inner').mov(0, imm(4n));
    a.label('rule.b').halt(0);
    expect(a.locate(0)).toBe('+0');
    expect(a.locate(2)).toBe('rule.a+1');
    expect(a.locate(3)).toBe('inner+0');
    expect(a.locate(3, 'rule.')).toBe('rule.a+2');
    expect(a.locate(4, 'rule.')).toBe('rule.b+0');
  });
});
