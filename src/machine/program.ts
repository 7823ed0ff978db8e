/**
 * A GVM-1 program: its validation, its canonical bytes and its hash (the hash h_0 of the trace chain
 * binds, docs/protocol.md §22.4). Pure: no I/O.
 *
 * Canonical encoding: the instructions' encodings concatenated, nothing else (each encoding is
 * self-delimiting, so the concatenation decodes one way). One instruction is
 *   1 byte   its opcode's index in `OPCODES` (add 0, sub 1, mul 2, div 3, lt 4, eq 5, hash 6, mov 7,
 *            load 8, store 9, tape 10, jmp 11, jz 12, jnz 13, halt 14),
 * then its fields in the order `Instruction` declares them:
 *   binary ops  dst, x, y        mov  dst, x           load  dst, ptr, offset
 *   store       ptr, offset, x   tape dst, pos         jmp   target
 *   jz / jnz    x, target        halt result
 * where an address (dst, ptr, pos, x of jz/jnz, result), a target and an offset are 4 bytes big-endian,
 * and an operand is a tag byte, 0 = memory followed by its 4-byte address, or 1 = immediate followed by
 * its 32-byte big-endian word. `programHash` is the full BLAKE3 (32 bytes) of that encoding.
 */
import { blake3 } from '../../circuits/blake3-reference.ts';
import { VigilError } from '../core/errors.ts';
import {
  ADDRESS_LIMIT,
  BINARY_OPS,
  type BinaryOp,
  type Instruction,
  OPCODES,
  type Opcode,
  type Operand,
  SMALL_BYTES,
  smallBytes,
  smallOf,
  WORD_BYTES,
  WORD_MAX,
  wordBytes,
  wordOf,
} from './isa.ts';

export type Program = { readonly instructions: readonly Instruction[] };

/** A program that does not satisfy GVM-1's static rules; `pc` and `field` name the offending place. */
export class ProgramError extends VigilError {
  override name = 'ProgramError';
  readonly pc: number | undefined;
  readonly field: string | undefined;

  constructor(message: string, where: { pc?: number; field?: string } = {}) {
    const at = where.pc === undefined ? '' : `pc ${where.pc}${where.field ? ` (${where.field})` : ''}: `;
    super(`${at}${message}`);
    this.pc = where.pc;
    this.field = where.field;
  }
}

const isBinary = (op: string): op is BinaryOp => (BINARY_OPS as readonly string[]).includes(op);

/**
 * Checks every static rule: addresses below 2^29, jump targets inside the program, immediates in
 * 0 .. 2^256 − 1, offsets in 0 .. 2^29 − 1, at least one `halt`, and a last instruction that cannot fall
 * through (`halt` or `jmp`): the ISA has no instruction past the end, so pc = length would be a step
 * no leaf can judge.
 */
export function validateProgram(program: Program): void {
  const list = program.instructions;
  const n = list.length;
  const address = (pc: number, field: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= ADDRESS_LIMIT) {
      throw new ProgramError(`address ${String(v)} is not in 0 .. 2^29 − 1`, { pc, field });
    }
  };
  const target = (pc: number, v: unknown) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= n) {
      throw new ProgramError(`jump target ${String(v)} is not an instruction (0 .. ${n - 1})`, {
        pc,
        field: 'target',
      });
    }
  };
  const offset = (pc: number, v: unknown) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= ADDRESS_LIMIT) {
      throw new ProgramError(`offset ${String(v)} is not in 0 .. 2^29 − 1`, { pc, field: 'offset' });
    }
  };
  const operand = (pc: number, field: string, o: Operand | undefined) => {
    if (o !== null && typeof o === 'object' && 'mem' in o) return address(pc, field, o.mem);
    if (o !== null && typeof o === 'object' && 'imm' in o) {
      const v: unknown = o.imm;
      if (typeof v !== 'bigint' || v < 0n || v > WORD_MAX) {
        throw new ProgramError(`immediate ${String(v)} is not in 0 .. 2^256 − 1`, { pc, field });
      }
      return;
    }
    throw new ProgramError('operand is neither { mem } nor { imm }', { pc, field });
  };
  let halts = 0;
  list.forEach((ins, pc) => {
    const op: string = ins.op;
    if (isBinary(op)) {
      const b = ins as Extract<Instruction, { op: BinaryOp }>;
      address(pc, 'dst', b.dst);
      operand(pc, 'x', b.x);
      operand(pc, 'y', b.y);
      return;
    }
    switch (ins.op) {
      case 'mov':
        address(pc, 'dst', ins.dst);
        operand(pc, 'x', ins.x);
        return;
      case 'load':
        address(pc, 'dst', ins.dst);
        address(pc, 'ptr', ins.ptr);
        offset(pc, ins.offset);
        return;
      case 'store':
        address(pc, 'ptr', ins.ptr);
        offset(pc, ins.offset);
        operand(pc, 'x', ins.x);
        return;
      case 'tape':
        address(pc, 'dst', ins.dst);
        address(pc, 'pos', ins.pos);
        return;
      case 'jmp':
        target(pc, ins.target);
        return;
      case 'jz':
      case 'jnz':
        address(pc, 'x', ins.x);
        target(pc, ins.target);
        return;
      case 'halt':
        address(pc, 'result', ins.result);
        halts++;
        return;
      default:
        throw new ProgramError(`unknown opcode ${JSON.stringify(op)}`, { pc, field: 'op' });
    }
  });
  if (halts === 0) throw new ProgramError('the program has no halt instruction');
  const last = list[n - 1];
  if (last !== undefined && last.op !== 'halt' && last.op !== 'jmp') {
    throw new ProgramError(`the last instruction (${last.op}) falls through past the end`, {
      pc: n - 1,
      field: 'op',
    });
  }
}

function encodeOperand(o: Operand, out: number[]): void {
  if ('mem' in o) out.push(0, ...smallBytes(o.mem));
  else out.push(1, ...wordBytes(o.imm));
}

function encodeInstruction(ins: Instruction, out: number[]): void {
  out.push(OPCODES.indexOf(ins.op));
  const small = (v: number) => out.push(...smallBytes(v));
  switch (ins.op) {
    case 'mov':
      small(ins.dst);
      encodeOperand(ins.x, out);
      return;
    case 'load':
      small(ins.dst);
      small(ins.ptr);
      small(ins.offset);
      return;
    case 'store':
      small(ins.ptr);
      small(ins.offset);
      encodeOperand(ins.x, out);
      return;
    case 'tape':
      small(ins.dst);
      small(ins.pos);
      return;
    case 'jmp':
      small(ins.target);
      return;
    case 'jz':
    case 'jnz':
      small(ins.x);
      small(ins.target);
      return;
    case 'halt':
      small(ins.result);
      return;
    default:
      small(ins.dst);
      encodeOperand(ins.x, out);
      encodeOperand(ins.y, out);
  }
}

/** The canonical bytes of a valid program (see the header); throws `ProgramError` on an invalid one. */
export function encodeProgram(program: Program): Uint8Array {
  validateProgram(program);
  const out: number[] = [];
  for (const ins of program.instructions) encodeInstruction(ins, out);
  return Uint8Array.from(out);
}

/** Reads canonical bytes back into a program, and validates it. */
export function decodeProgram(bytes: Uint8Array): Program {
  let at = 0;
  const take = (n: number, what: string): Uint8Array => {
    if (at + n > bytes.length) {
      throw new ProgramError(`truncated encoding: ${what} needs ${n} bytes at byte ${at}`, {
        pc: instructions.length,
        field: what,
      });
    }
    const b = bytes.subarray(at, at + n);
    at += n;
    return b;
  };
  const small = (what: string) => smallOf(take(SMALL_BYTES, what));
  const operand = (what: string): Operand => {
    const tag = take(1, what)[0];
    if (tag === 0) return { mem: small(what) };
    if (tag === 1) return { imm: wordOf(take(WORD_BYTES, what)) };
    throw new ProgramError(`operand tag ${tag} is neither 0 (memory) nor 1 (immediate)`, {
      pc: instructions.length,
      field: what,
    });
  };
  const instructions: Instruction[] = [];
  while (at < bytes.length) {
    const code = take(1, 'op')[0] as number;
    const op: Opcode | undefined = OPCODES[code];
    if (op === undefined) {
      throw new ProgramError(`unknown opcode byte ${code}`, { pc: instructions.length, field: 'op' });
    }
    switch (op) {
      case 'mov':
        instructions.push({ op, dst: small('dst'), x: operand('x') });
        break;
      case 'load':
        instructions.push({ op, dst: small('dst'), ptr: small('ptr'), offset: small('offset') });
        break;
      case 'store':
        instructions.push({ op, ptr: small('ptr'), offset: small('offset'), x: operand('x') });
        break;
      case 'tape':
        instructions.push({ op, dst: small('dst'), pos: small('pos') });
        break;
      case 'jmp':
        instructions.push({ op, target: small('target') });
        break;
      case 'jz':
      case 'jnz':
        instructions.push({ op, x: small('x'), target: small('target') });
        break;
      case 'halt':
        instructions.push({ op, result: small('result') });
        break;
      default:
        instructions.push({ op, dst: small('dst'), x: operand('x'), y: operand('y') });
    }
  }
  const program: Program = { instructions };
  validateProgram(program);
  return program;
}

const hashes = new WeakMap<Program, Uint8Array>();

/**
 * BLAKE3 (full hash mode, 32 bytes) of the canonical encoding. Kept per program object: the governance
 * program is about a second to encode and hash, and every game run checks h_0 against it. A `Program` is
 * read-only, so its hash cannot go stale; each caller gets its own copy.
 */
export function programHash(program: Program): Uint8Array {
  let h = hashes.get(program);
  if (h === undefined) {
    h = blake3(encodeProgram(program));
    hashes.set(program, h);
  }
  return h.slice();
}
