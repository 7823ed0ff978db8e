/**
 * Traces of seeded random GVM-1 programs: `isWrongStep` is false on every recorded step and true after
 * any perturbation of a field the instruction determines (an independent judge in this file says which
 * perturbations leave a record correct, and the test holds both to it); `isWrongRead` is false on every
 * real read and true after a read value changes; the trace chain is deterministic and its h_0 binds the
 * tape root and the program hash; the step budget. VIGIL_LONG runs ten times as many programs.
 */
import { describe, expect, it } from 'vitest';
import { blake3Node } from '../../circuits/blake3-reference.ts';
import { chainNext, chainStart } from '../../src/machine/chain.ts';
import { runProgram, StepLimitError } from '../../src/machine/interpreter.ts';
import {
  type Access,
  ADDRESS_LIMIT,
  type Instruction,
  NONE,
  type Operand,
  type StepRecord,
  TAPE_LIMIT,
  WORD_MAX,
  WORD_MODULUS,
  wordBytes,
  wordOf,
} from '../../src/machine/isa.ts';
import { programHash } from '../../src/machine/program.ts';
import { isWrongRead, lastWriteBefore, readIndex } from '../../src/machine/reads.ts';
import { isWrongStep } from '../../src/machine/semantics.ts';
import { Tape } from '../../src/machine/tape.ts';
import { type Gen, gen, randomCase } from './gen.ts';

const RUNS = process.env.VIGIL_LONG ? 3_000 : 300;
const MAX_STEPS = 10_000;

/**
 * An independent judge of one record (not `execute`): the reads the instruction makes, at the addresses
 * it names, agreeing where they name the same address; the write and next pc it computes from the
 * record's own read values (a tape word is taken as given: the tape checks own it).
 */
function isCorrect(pc: number, ins: Instruction, s: StepRecord): boolean {
  const absent = (a: Access) => a.addr === NONE && a.value === 0n;
  const at = (a: Access, addr: number) => (addr === NONE ? absent(a) : a.addr === addr);
  const opAddr = (o: Operand) => ('mem' in o ? o.mem : NONE);
  const val = (o: Operand, a: Access) => ('mem' in o ? a.value : o.imm);
  if (s.r1.addr !== NONE && s.r1.addr === s.r2.addr && s.r1.value !== s.r2.value) return false;
  const write = (addr: number, value: bigint) => s.w.addr === addr && s.w.value === value;
  const fault = () => absent(s.w) && s.nextPc === NONE;
  const M = WORD_MODULUS;
  switch (ins.op) {
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
    case 'lt':
    case 'eq':
    case 'hash': {
      if (!at(s.r1, opAddr(ins.x)) || !at(s.r2, opAddr(ins.y))) return false;
      const [x, y] = [val(ins.x, s.r1), val(ins.y, s.r2)];
      const value = {
        add: (x + y) % M,
        sub: (x - y + M) % M,
        mul: (x * y) % M,
        div: y === 0n ? 0n : x / y,
        lt: x < y ? 1n : 0n,
        eq: x === y ? 1n : 0n,
        hash: wordOf(blake3Node(Uint8Array.from([...wordBytes(x), ...wordBytes(y)]))),
      }[ins.op];
      return write(ins.dst, value) && s.nextPc === pc + 1;
    }
    case 'mov':
      return (
        at(s.r1, opAddr(ins.x)) && absent(s.r2) && write(ins.dst, val(ins.x, s.r1)) && s.nextPc === pc + 1
      );
    case 'load': {
      if (!at(s.r1, ins.ptr)) return false;
      const e = s.r1.value + BigInt(ins.offset);
      if (e >= BigInt(ADDRESS_LIMIT)) return absent(s.r2) && fault();
      return at(s.r2, Number(e)) && write(ins.dst, s.r2.value) && s.nextPc === pc + 1;
    }
    case 'store': {
      if (!at(s.r1, ins.ptr) || !at(s.r2, opAddr(ins.x))) return false;
      const e = s.r1.value + BigInt(ins.offset);
      if (e >= BigInt(ADDRESS_LIMIT)) return fault();
      return write(Number(e), val(ins.x, s.r2)) && s.nextPc === pc + 1;
    }
    case 'tape':
      if (!at(s.r1, ins.pos) || !absent(s.r2)) return false;
      if (s.r1.value >= BigInt(TAPE_LIMIT)) return fault();
      return s.w.addr === ins.dst && s.nextPc === pc + 1;
    case 'jmp':
      return absent(s.r1) && absent(s.r2) && absent(s.w) && s.nextPc === ins.target;
    case 'jz':
    case 'jnz': {
      if (!at(s.r1, ins.x) || !absent(s.r2) || !absent(s.w)) return false;
      const taken = ins.op === 'jz' ? s.r1.value === 0n : s.r1.value !== 0n;
      return s.nextPc === (taken ? ins.target : pc + 1);
    }
    case 'halt':
      return at(s.r1, ins.result) && absent(s.r2) && absent(s.w) && s.nextPc === pc;
  }
}

type Field = 'r1addr' | 'r1value' | 'r2addr' | 'r2value' | 'waddr' | 'wvalue' | 'nextPc';
const FIELDS: readonly Field[] = ['r1addr', 'r1value', 'r2addr', 'r2value', 'waddr', 'wvalue', 'nextPc'];

const smallVariants = (g: Gen, n: number): number[] =>
  n === NONE ? [0, g.int(ADDRESS_LIMIT)] : [n ^ 1, NONE, g.int(ADDRESS_LIMIT), n === 0 ? 1 : n - 1];
const wordVariants = (g: Gen, v: bigint): bigint[] => [
  v ^ 1n,
  v === 0n ? 1n : 0n,
  g.word(),
  (v + 1n) % WORD_MODULUS,
  WORD_MAX,
];

function perturbations(g: Gen, s: StepRecord): { field: Field; step: StepRecord }[] {
  const out: { field: Field; step: StepRecord }[] = [];
  const add = (field: Field, step: StepRecord) => out.push({ field, step });
  for (const field of FIELDS) {
    if (field === 'r1addr' || field === 'r2addr' || field === 'waddr') {
      const key = field === 'r1addr' ? 'r1' : field === 'r2addr' ? 'r2' : 'w';
      for (const addr of smallVariants(g, s[key].addr))
        if (addr !== s[key].addr) add(field, { ...s, [key]: { ...s[key], addr } });
    } else if (field === 'nextPc') {
      for (const nextPc of smallVariants(g, s.nextPc)) if (nextPc !== s.nextPc) add(field, { ...s, nextPc });
    } else {
      const key = field === 'r1value' ? 'r1' : field === 'r2value' ? 'r2' : 'w';
      for (const value of wordVariants(g, s[key].value))
        if (value !== s[key].value) add(field, { ...s, [key]: { ...s[key], value } });
    }
  }
  return out;
}

/** Runs the random programs once for the whole file. */
const runs = Array.from({ length: RUNS }, (_, k) => {
  const c = randomCase(14_000 + k);
  return { ...c, run: runProgram(c.program, c.tape, { maxSteps: MAX_STEPS }) };
});

describe('random GVM-1 runs', () => {
  it('end by halting or faulting, with a trace that replays into the final memory', () => {
    const statuses = new Set(runs.map((r) => r.run.status));
    expect(statuses).toEqual(new Set(['halted', 'faulted']));
    const ops = new Set<string>();
    for (const { program, run } of runs) {
      expect(run.steps).toHaveLength(run.stepCount);
      const mem = new Map<number, bigint>();
      for (const s of run.steps) {
        ops.add((program.instructions[s.pc] as Instruction).op);
        if (s.w.addr !== NONE) mem.set(s.w.addr, s.w.value);
      }
      expect(new Map([...mem].filter(([, v]) => v !== 0n))).toEqual(run.memory);
      const last = run.steps.at(-1) as StepRecord;
      if (run.status === 'halted') {
        expect(last.nextPc).toBe(last.pc);
        expect(run.result).toBe(last.r1.value);
      } else expect(last.nextPc).toBe(NONE);
    }
    expect(ops.size).toBe(15);
  });

  it('isWrongStep is false on every step; the judge agrees', () => {
    let n = 0;
    for (const { program, run } of runs) {
      for (const s of run.steps) {
        const ins = program.instructions[s.pc] as Instruction;
        expect(isWrongStep(s.pc, ins, s)).toBe(false);
        expect(isCorrect(s.pc, ins, s)).toBe(true);
        n++;
      }
    }
    expect(n).toBeGreaterThan(RUNS * 10);
  });

  it('isWrongStep is true after every perturbation the judge calls wrong, and only those', () => {
    const g = gen(1403);
    const stillCorrect = new Map<string, number>();
    let wrong = 0;
    for (const { program, run } of runs) {
      for (const s of run.steps) {
        const ins = program.instructions[s.pc] as Instruction;
        // Another pc: not this instruction's leaf to judge.
        expect(isWrongStep(s.pc, ins, { ...s, pc: s.pc + 1 })).toBe(false);
        for (const { field, step } of perturbations(g, s)) {
          const correct = isCorrect(s.pc, ins, step);
          expect(
            isWrongStep(s.pc, ins, step),
            `${ins.op} ${field} ${JSON.stringify(step, (_, v) => (typeof v === 'bigint' ? `${v}` : v))}`,
          ).toBe(!correct);
          if (correct) {
            const key = `${ins.op}.${field}${s.nextPc === NONE ? '.fault' : ''}`;
            stillCorrect.set(key, (stillCorrect.get(key) ?? 0) + 1);
          } else wrong++;
          // Fields the instruction determines whatever was read: moving them is always wrong.
          if (field.endsWith('addr') || field === 'nextPc') expect(correct).toBe(false);
          // A write value is wrong unless it is a (non-faulting) tape word, which the tape checks own.
          if (field === 'wvalue') expect(correct).toBe(ins.op === 'tape' && s.nextPc !== NONE);
          // An absent read's value must stay 0.
          if (field === 'r1value' && s.r1.addr === NONE) expect(correct).toBe(false);
          if (field === 'r2value' && s.r2.addr === NONE) expect(correct).toBe(false);
          // Reading one address twice: changing one of the two values is always wrong.
          if ((field === 'r1value' || field === 'r2value') && s.r1.addr !== NONE && s.r1.addr === s.r2.addr)
            expect(correct).toBe(false);
          // Bijective in each operand, or deciding an address or a written word: always wrong, unless
          // the step faulted (a load or store pointer that still faults, or a faulting store's operand).
          if (
            (field === 'r1value' || field === 'r2value') &&
            ['add', 'sub', 'hash', 'mov', 'load', 'store'].includes(ins.op) &&
            s.nextPc !== NONE
          )
            expect(correct).toBe(false);
        }
      }
    }
    expect(wrong).toBeGreaterThan(RUNS * 100);
    // Read values an instruction can absorb: lt/eq/mul/div results that do not move, a branch that goes
    // the same way, halt's result word, a tape position that stays in range.
    for (const key of stillCorrect.keys()) {
      expect(key).toMatch(
        /^(mul|div|lt|eq)\.r[12]value$|^(jz|jnz|halt|tape)\.r1value$|^tape\.wvalue$|^(load|tape)\.r1value\.fault$|^store\.r[12]value\.fault$/,
      );
    }
    for (const key of [
      'lt.r1value',
      'eq.r2value',
      'jz.r1value',
      'jnz.r1value',
      'halt.r1value',
      'tape.r1value',
      'tape.wvalue',
    ])
      expect(stillCorrect.get(key), key).toBeGreaterThan(0);
  });

  it('isWrongRead is false on every real read and true after a read value changes', () => {
    const g = gen(1404);
    let reads = 0;
    for (const { run } of runs.slice(0, Math.max(50, RUNS / 3))) {
      const steps = run.steps;
      const index = readIndex(steps);
      const mem = new Map<number, { value: bigint; at: number }>();
      steps.forEach((s, i) => {
        for (const slot of [1, 2] as const) {
          const r = slot === 1 ? s.r1 : s.r2;
          expect(isWrongRead(steps, i, slot)).toBe(false);
          expect(index.isWrongRead(i, slot)).toBe(false);
          if (r.addr === NONE) {
            expect(index.lastWrite(i, slot)).toBeUndefined();
            continue;
          }
          reads++;
          const w = mem.get(r.addr);
          expect(lastWriteBefore(steps, i, r.addr)).toBe(w?.at);
          expect(index.lastWrite(i, slot)).toBe(w?.at);
          expect(r.value).toBe(w?.value ?? 0n);
          const forged = steps.slice();
          const value = g.chance(0.5) ? r.value ^ (1n << BigInt(g.int(256))) : (r.value + 1n) % WORD_MODULUS;
          forged[i] = slot === 1 ? { ...s, r1: { ...r, value } } : { ...s, r2: { ...r, value } };
          expect(isWrongRead(forged, i, slot)).toBe(true);
          expect(readIndex(forged).isWrongRead(i, slot)).toBe(true);
        }
        if (s.w.addr !== NONE) mem.set(s.w.addr, { value: s.w.value, at: i });
      });
    }
    expect(reads).toBeGreaterThan(1_000);
  });

  it('a step whose read names an address no step wrote must read 0', () => {
    const steps: StepRecord[] = [
      {
        pc: 0,
        r1: { addr: 5, value: 0n },
        r2: { addr: NONE, value: 0n },
        w: { addr: 6, value: 1n },
        nextPc: 1,
      },
      {
        pc: 1,
        r1: { addr: 6, value: 1n },
        r2: { addr: 7, value: 3n },
        w: { addr: NONE, value: 0n },
        nextPc: 1,
      },
    ];
    expect(isWrongRead(steps, 0, 1)).toBe(false);
    expect(isWrongRead(steps, 0, 2)).toBe(false);
    expect(isWrongRead(steps, 1, 1)).toBe(false);
    expect(isWrongRead(steps, 1, 2)).toBe(true);
    expect(lastWriteBefore(steps, 1, 6)).toBe(0);
    expect(lastWriteBefore(steps, 0, 6)).toBeUndefined();
    expect(lastWriteBefore(steps, 1, NONE)).toBeUndefined();
  });
});

describe('trace chain and step budget', () => {
  it('h_0 binds the tape root and the program hash; each link is chainNext of the step; deterministic', () => {
    for (const { program, tape, run } of runs.slice(0, 40)) {
      expect(run.chain).toHaveLength(run.stepCount + 1);
      expect(run.chain[0]).toEqual(chainStart(tape.root, programHash(program)));
      run.steps.forEach((s, i) => {
        expect(run.chain[i + 1]).toEqual(chainNext(run.chain[i] as Uint8Array, s));
      });
      const again = runProgram(program, new Tape(tape.contents()), {
        maxSteps: MAX_STEPS,
        keepSteps: false,
      });
      expect(again.steps).toEqual([]);
      expect(again.stepCount).toBe(run.stepCount);
      expect(again.chain).toEqual(run.chain);
      expect(again.memory).toEqual(run.memory);
      const fast = runProgram(program, tape, { maxSteps: MAX_STEPS, hashChain: false });
      expect(fast.chain).toEqual([]);
      expect(fast.steps).toEqual(run.steps);
    }
  });

  it('h_0 changes with any tape word (either half) and with the program', () => {
    const { program } = randomCase(7);
    const image = [1n, 2n, 3n];
    const inputs = [4n, 5n];
    const h0 = (im: bigint[], inp: bigint[], p = program) =>
      Buffer.from(
        runProgram(p, new Tape({ image: im, inputs: inp }), { maxSteps: MAX_STEPS }).chain[0] as Uint8Array,
      ).toString('hex');
    const base = h0(image, inputs);
    expect(h0([1n, 2n, 3n], [4n, 5n])).toBe(base);
    expect(h0([1n, 2n, 4n], inputs)).not.toBe(base);
    expect(h0(image, [4n, 6n])).not.toBe(base);
    expect(h0([1n, 2n, 3n, 1n], inputs)).not.toBe(base);
    expect(h0(inputs, image)).not.toBe(base);
    const other = { instructions: [{ op: 'halt', result: 1 } as const, ...program.instructions.slice(1)] };
    expect(h0(image, inputs, other)).not.toBe(base);
  });

  it('an endless loop throws StepLimitError; the budget allows exactly maxSteps steps', () => {
    const loop = { instructions: [{ op: 'jmp', target: 0 } as const, { op: 'halt', result: 0 } as const] };
    const tape = new Tape({ image: [], inputs: [] });
    expect(() => runProgram(loop, tape, { maxSteps: 1_000 })).toThrow(StepLimitError);
    const { program } = randomCase(9);
    const n = runProgram(program, tape, { maxSteps: MAX_STEPS }).stepCount;
    expect(runProgram(program, tape, { maxSteps: n }).stepCount).toBe(n);
    expect(() => runProgram(program, tape, { maxSteps: n - 1 })).toThrow(StepLimitError);
  });
});
