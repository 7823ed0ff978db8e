/**
 * What one GVM-1 instruction does (docs/protocol.md §22.2), twice: `execute` runs it against memory and
 * the tape; `isWrongStep` judges a committed step record against the instruction at its pc, taking the
 * record's read values as given (whether a read value is the word memory held is the read checks'
 * business, §22.5, and whether a tape word is the tape's, the tape checks'). `isWrongStep` is the
 * TypeScript twin of the execution leaves in `circuits/gvm/`: a leaf is spendable exactly when it is true.
 */
import { blake3Node } from '../../circuits/blake3-reference.ts';
import {
  type Access,
  ADDRESS_LIMIT,
  type Instruction,
  NO_ACCESS,
  NONE,
  type Operand,
  type StepRecord,
  TAPE_LIMIT,
  WORD_MODULUS,
  wordBytes,
  wordOf,
} from './isa.ts';

export type Memory = { read(addr: number): bigint };
export type Tape = { word(pos: number): bigint };

/** The `hash` instruction's word: BLAKE3 of the two words, big-endian, as one 64-byte block. */
export function hashWords(x: bigint, y: bigint): bigint {
  const m = new Uint8Array(64);
  m.set(wordBytes(x), 0);
  m.set(wordBytes(y), 32);
  return wordOf(blake3Node(m));
}

function binary(op: string, x: bigint, y: bigint): bigint {
  switch (op) {
    case 'add':
      return (x + y) % WORD_MODULUS;
    case 'sub':
      return (x - y + WORD_MODULUS) % WORD_MODULUS;
    case 'mul':
      return (x * y) % WORD_MODULUS;
    case 'div':
      return y === 0n ? 0n : x / y;
    case 'lt':
      return x < y ? 1n : 0n;
    case 'eq':
      return x === y ? 1n : 0n;
    case 'hash':
      return hashWords(x, y);
    default:
      throw new RangeError(`Not a binary op: ${op}`);
  }
}

const readOf = (o: Operand, mem: Memory): Access =>
  'mem' in o ? { addr: o.mem, value: mem.read(o.mem) } : NO_ACCESS;
const operandValue = (o: Operand, a: Access): bigint => ('mem' in o ? a.value : o.imm);

/** The effective address `base + offset`, or undefined when it is not below 2^29 (the step faults). */
export function effectiveAddress(base: bigint, offset: number): number | undefined {
  const e = base + BigInt(offset);
  return e < BigInt(ADDRESS_LIMIT) ? Number(e) : undefined;
}

const faulted = (pc: number, r1: Access, r2: Access = NO_ACCESS): StepRecord => ({
  pc,
  r1,
  r2,
  w: NO_ACCESS,
  nextPc: NONE,
});

/** Runs the instruction at `pc`; a `NONE` next pc means the step faulted (the machine stops). */
export function execute(pc: number, ins: Instruction, mem: Memory, tape: Tape): StepRecord {
  const next = pc + 1;
  switch (ins.op) {
    case 'mov': {
      const r1 = readOf(ins.x, mem);
      return { pc, r1, r2: NO_ACCESS, w: { addr: ins.dst, value: operandValue(ins.x, r1) }, nextPc: next };
    }
    case 'load': {
      const r1 = { addr: ins.ptr, value: mem.read(ins.ptr) };
      const e = effectiveAddress(r1.value, ins.offset);
      if (e === undefined) return faulted(pc, r1);
      const r2 = { addr: e, value: mem.read(e) };
      return { pc, r1, r2, w: { addr: ins.dst, value: r2.value }, nextPc: next };
    }
    case 'store': {
      const r1 = { addr: ins.ptr, value: mem.read(ins.ptr) };
      const r2 = readOf(ins.x, mem);
      const e = effectiveAddress(r1.value, ins.offset);
      if (e === undefined) return faulted(pc, r1, r2);
      return { pc, r1, r2, w: { addr: e, value: operandValue(ins.x, r2) }, nextPc: next };
    }
    case 'tape': {
      const r1 = { addr: ins.pos, value: mem.read(ins.pos) };
      if (r1.value >= BigInt(TAPE_LIMIT)) return faulted(pc, r1);
      return {
        pc,
        r1,
        r2: NO_ACCESS,
        w: { addr: ins.dst, value: tape.word(Number(r1.value)) },
        nextPc: next,
      };
    }
    case 'jmp':
      return { pc, r1: NO_ACCESS, r2: NO_ACCESS, w: NO_ACCESS, nextPc: ins.target };
    case 'jz':
    case 'jnz': {
      const r1 = { addr: ins.x, value: mem.read(ins.x) };
      const taken = ins.op === 'jz' ? r1.value === 0n : r1.value !== 0n;
      return { pc, r1, r2: NO_ACCESS, w: NO_ACCESS, nextPc: taken ? ins.target : next };
    }
    case 'halt':
      return {
        pc,
        r1: { addr: ins.result, value: mem.read(ins.result) },
        r2: NO_ACCESS,
        w: NO_ACCESS,
        nextPc: pc,
      };
    default: {
      const r1 = readOf(ins.x, mem);
      const r2 = readOf(ins.y, mem);
      const value = binary(ins.op, operandValue(ins.x, r1), operandValue(ins.y, r2));
      return { pc, r1, r2, w: { addr: ins.dst, value }, nextPc: next };
    }
  }
}

const sameAccess = (a: Access, b: Access) => a.addr === b.addr && a.value === b.value;

/**
 * True when the committed `step` is not what the instruction at its pc does with the read values the
 * step itself names. A record whose pc is not `pc` is not judged here (false): another leaf owns it.
 */
export function isWrongStep(pc: number, ins: Instruction, step: StepRecord): boolean {
  if (step.pc !== pc) return false;
  // Re-run the instruction on a memory that answers exactly what the step says it read, and a tape
  // that answers the step's own write (a tape word is judged against the tape's root, not here).
  const said = new Map<number, bigint>();
  const consistent = [step.r1, step.r2].every((r) => {
    if (r.addr === NONE) return r.value === 0n;
    const before = said.get(r.addr);
    said.set(r.addr, r.value);
    return before === undefined || before === r.value;
  });
  if (!consistent) return true;
  const mem: Memory = { read: (a) => said.get(a) ?? 0n };
  const tape: Tape = { word: () => step.w.value };
  const expected = execute(pc, ins, mem, tape);
  return !(
    sameAccess(expected.r1, step.r1) &&
    sameAccess(expected.r2, step.r2) &&
    sameAccess(expected.w, step.w) &&
    expected.nextPc === step.nextPc
  );
}
