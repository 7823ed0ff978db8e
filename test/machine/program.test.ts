/**
 * GVM-1 programs: validation (each rule names the pc and the field), the canonical encoding's layout and
 * round trip, and a program hash that changes with any field of any instruction.
 */
import { describe, expect, it } from 'vitest';
import { blake3 } from '../../circuits/blake3-reference.ts';
import { VigilError } from '../../src/core/errors.ts';
import { ADDRESS_LIMIT, type Instruction, OPCODES, WORD_MAX, WORD_MODULUS } from '../../src/machine/isa.ts';
import {
  decodeProgram,
  encodeProgram,
  type Program,
  ProgramError,
  programHash,
  validateProgram,
} from '../../src/machine/program.ts';
import { randomCase } from './gen.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** One program with every opcode and both operand kinds. */
const everyOpcode: Program = {
  instructions: [
    { op: 'add', dst: 1, x: { mem: 2 }, y: { imm: 3n } },
    { op: 'sub', dst: 1, x: { imm: WORD_MAX }, y: { mem: 2 } },
    { op: 'mul', dst: 4, x: { mem: 4 }, y: { mem: 5 } },
    { op: 'div', dst: 4, x: { mem: 4 }, y: { imm: 0n } },
    { op: 'lt', dst: 6, x: { mem: 1 }, y: { mem: 2 } },
    { op: 'eq', dst: 6, x: { mem: 1 }, y: { imm: 7n } },
    { op: 'hash', dst: 7, x: { mem: 1 }, y: { mem: 2 } },
    { op: 'mov', dst: 8, x: { imm: 1n << 200n } },
    { op: 'load', dst: 9, ptr: 8, offset: 3 },
    { op: 'store', ptr: 8, offset: ADDRESS_LIMIT - 1, x: { mem: 9 } },
    { op: 'tape', dst: 10, pos: 11 },
    { op: 'jz', x: 10, target: 13 },
    { op: 'jnz', x: 10, target: 0 },
    { op: 'halt', result: ADDRESS_LIMIT - 1 },
    { op: 'jmp', target: 13 },
  ],
};

const errorOf = (p: Program): ProgramError => {
  try {
    validateProgram(p);
  } catch (e) {
    if (e instanceof ProgramError) return e;
    throw e;
  }
  throw new Error('validateProgram accepted the program');
};

const withInstruction = (p: Program, pc: number, ins: unknown): Program => {
  const list = p.instructions.slice();
  list[pc] = ins as Instruction;
  return { instructions: list };
};

describe('validateProgram', () => {
  it('accepts a program with every opcode', () => {
    expect(() => validateProgram(everyOpcode)).not.toThrow();
  });

  it('names the pc and the field of each broken rule', () => {
    const cases: [number, unknown, string][] = [
      [0, { op: 'add', dst: ADDRESS_LIMIT, x: { mem: 2 }, y: { imm: 3n } }, 'dst'],
      [0, { op: 'add', dst: 1, x: { mem: -1 }, y: { imm: 3n } }, 'x'],
      [0, { op: 'add', dst: 1, x: { mem: 2 }, y: { imm: WORD_MODULUS } }, 'y'],
      [0, { op: 'add', dst: 1, x: { mem: 2 }, y: { imm: -1n } }, 'y'],
      [1, { op: 'sub', dst: 1, x: { imm: 5 }, y: { mem: 2 } }, 'x'],
      [2, { op: 'mul', dst: 1.5, x: { mem: 2 }, y: { mem: 2 } }, 'dst'],
      [7, { op: 'mov', dst: 8, x: {} }, 'x'],
      [8, { op: 'load', dst: 9, ptr: ADDRESS_LIMIT, offset: 3 }, 'ptr'],
      [8, { op: 'load', dst: 9, ptr: 8, offset: ADDRESS_LIMIT }, 'offset'],
      [9, { op: 'store', ptr: 8, offset: -1, x: { mem: 9 } }, 'offset'],
      [10, { op: 'tape', dst: 10, pos: ADDRESS_LIMIT }, 'pos'],
      [11, { op: 'jz', x: 10, target: 15 }, 'target'],
      [12, { op: 'jnz', x: ADDRESS_LIMIT, target: 0 }, 'x'],
      [14, { op: 'jmp', target: -1 }, 'target'],
      [13, { op: 'halt', result: ADDRESS_LIMIT }, 'result'],
      [5, { op: 'xor', dst: 1, x: { mem: 1 }, y: { mem: 1 } }, 'op'],
    ];
    for (const [pc, ins, field] of cases) {
      const e = errorOf(withInstruction(everyOpcode, pc, ins));
      expect(e).toBeInstanceOf(VigilError);
      expect(e.pc).toBe(pc);
      expect(e.field).toBe(field);
      expect(e.message).toContain(`pc ${pc} (${field})`);
    }
  });

  it('requires a halt, and a last instruction that cannot fall through', () => {
    expect(errorOf({ instructions: [] }).message).toMatch(/no halt/);
    expect(errorOf({ instructions: [{ op: 'jmp', target: 0 }] }).message).toMatch(/no halt/);
    const e = errorOf({
      instructions: [
        { op: 'halt', result: 0 },
        { op: 'mov', dst: 0, x: { imm: 1n } },
      ],
    });
    expect(e.pc).toBe(1);
    expect(e.message).toMatch(/falls through/);
  });
});

describe('program encoding and hash', () => {
  it('lays out opcode bytes and fields as documented', () => {
    const bytes = encodeProgram({
      instructions: [
        { op: 'add', dst: 1, x: { mem: 0x01020304 }, y: { imm: 5n } },
        { op: 'halt', result: 7 },
      ],
    });
    expect(hex(bytes)).toBe(
      ['00', '00000001', '00', '01020304', '01', '00'.repeat(31), '05', '0e', '00000007'].join(''),
    );
    expect(OPCODES.indexOf('halt')).toBe(14);
    expect(hex(programHash({ instructions: [{ op: 'halt', result: 7 }] }))).toBe(
      hex(blake3(Uint8Array.of(14, 0, 0, 0, 7))),
    );
  });

  it('round-trips every opcode and random programs', () => {
    expect(decodeProgram(encodeProgram(everyOpcode))).toEqual(everyOpcode);
    for (let seed = 1; seed <= 60; seed++) {
      const { program } = randomCase(seed);
      const bytes = encodeProgram(program);
      expect(decodeProgram(bytes)).toEqual(program);
      expect(programHash(program)).toHaveLength(32);
    }
  });

  it('hashes a program object once, and hands each caller its own copy of the hash', () => {
    const program = { instructions: everyOpcode.instructions.slice() };
    const first = programHash(program);
    first.fill(0);
    expect(programHash(program)).toEqual(blake3(encodeProgram(program)));
    expect(programHash(program)).not.toBe(programHash(program));
    // An equal program in another object hashes the same.
    expect(programHash({ instructions: everyOpcode.instructions.slice() })).toEqual(programHash(program));
  });

  it('refuses truncated bytes, unknown opcodes and bad operand tags', () => {
    const bytes = encodeProgram(everyOpcode);
    expect(() => decodeProgram(bytes.subarray(0, bytes.length - 1))).toThrow(ProgramError);
    expect(() => decodeProgram(Uint8Array.of(15, 0, 0, 0, 0))).toThrow(/unknown opcode byte 15/);
    expect(() => decodeProgram(Uint8Array.of(7, 0, 0, 0, 1, 2, 0, 0, 0, 0))).toThrow(/operand tag 2/);
    expect(() => encodeProgram({ instructions: [] })).toThrow(ProgramError);
  });

  it('the hash changes with any field of any instruction', () => {
    const base = hex(programHash(everyOpcode));
    const seen = new Set([base]);
    let variants = 0;
    everyOpcode.instructions.forEach((ins, pc) => {
      const tweaks: Instruction[] = [];
      for (const [key, value] of Object.entries(ins)) {
        if (key === 'op') continue;
        if (typeof value === 'number') {
          // Still valid: addresses and offsets stay below 2^29, targets inside the program.
          const changed = key === 'target' ? (value + 1) % everyOpcode.instructions.length : value ^ 1;
          tweaks.push({ ...ins, [key]: changed } as Instruction);
        } else if ('mem' in value) {
          tweaks.push({ ...ins, [key]: { mem: value.mem ^ 1 } } as Instruction);
          tweaks.push({ ...ins, [key]: { imm: BigInt(value.mem) } } as Instruction);
        } else {
          tweaks.push({ ...ins, [key]: { imm: value.imm ^ 1n } } as Instruction);
          tweaks.push({ ...ins, [key]: { mem: Number(value.imm % BigInt(ADDRESS_LIMIT)) } } as Instruction);
        }
      }
      // Another opcode with the same fields where one exists.
      if (ins.op === 'jz') tweaks.push({ ...ins, op: 'jnz' });
      if (ins.op === 'add') tweaks.push({ ...ins, op: 'sub' });
      for (const t of tweaks) {
        const h = hex(programHash(withInstruction(everyOpcode, pc, t)));
        expect(seen.has(h)).toBe(false);
        seen.add(h);
        variants++;
      }
    });
    expect(variants).toBeGreaterThan(40);
    // Order matters too.
    const swapped = everyOpcode.instructions.slice();
    [swapped[0], swapped[1]] = [swapped[1] as Instruction, swapped[0] as Instruction];
    expect(hex(programHash({ instructions: swapped }))).not.toBe(base);
  });
});
