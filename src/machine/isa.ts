/**
 * GVM-1, the micro-step machine governance runs on when a claim is disputed (docs/protocol.md Part III,
 * §22). Everything a disprove leaf needs to judge one step is here: the instruction set, the step
 * record the operator commits for a disputed step, the byte widths of its fields, and the bounds a
 * committed field must respect. Pure: no I/O.
 *
 * Words are uint256 (`bigint` in 0 .. 2^256 − 1). Memory addresses, tape positions and program
 * counters are below 2^29 (one 29-bit limb in script, a positive 4-byte script number), and
 * `NONE` = 2^29 marks an absent read or write and the next pc of a faulting step.
 */

/** Exclusive bound of memory addresses and program counters. */
export const ADDRESS_LIMIT = 1 << 29;
/** An absent read or write in a step record; the next pc of a step that faulted. */
export const NONE = ADDRESS_LIMIT;
/** Exclusive bound of tape positions: the state image below 2^29, the inputs from 2^29 on. */
export const TAPE_LIMIT = 2 * ADDRESS_LIMIT;
/** Depth of each half of the tape's Merkle tree (the state image, the inputs). */
export const TAPE_HALF_DEPTH = 29;

export const WORD_BYTES = 32;
/** pc, next pc and addresses are committed as 4-byte big-endian values. */
export const SMALL_BYTES = 4;
/** The trace chain's values are the first 20 bytes of a BLAKE3 digest. */
export const CHAIN_BYTES = 20;

export const WORD_MODULUS = 1n << 256n;
export const WORD_MAX = WORD_MODULUS - 1n;

/** A memory operand read at a fixed address, or an immediate word (no read). */
export type Operand = { readonly mem: number } | { readonly imm: bigint };

/** `d ← f(x, y)`: both operands read in order (slot 1 then slot 2), one write. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'lt' | 'eq' | 'hash';
export const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'lt', 'eq', 'hash'];

export type Instruction =
  | { readonly op: BinaryOp; readonly dst: number; readonly x: Operand; readonly y: Operand }
  /** `d ← x`. */
  | { readonly op: 'mov'; readonly dst: number; readonly x: Operand }
  /** `d ← M[M[ptr] + offset]`: slot 1 reads the pointer, slot 2 the word it points at. */
  | { readonly op: 'load'; readonly dst: number; readonly ptr: number; readonly offset: number }
  /** `M[M[ptr] + offset] ← x`: slot 1 reads the pointer, slot 2 reads x (absent if immediate). */
  | { readonly op: 'store'; readonly ptr: number; readonly offset: number; readonly x: Operand }
  /** `d ← TAPE[M[pos]]`: slot 1 reads the position; the tape word is the write. */
  | { readonly op: 'tape'; readonly dst: number; readonly pos: number }
  | { readonly op: 'jmp'; readonly target: number }
  /** Jump when M[x] is zero (`jz`) or non-zero (`jnz`); slot 1 reads it. */
  | { readonly op: 'jz' | 'jnz'; readonly x: number; readonly target: number }
  /** Stop; slot 1 reads the result word (the claimed state root), next pc = pc. */
  | { readonly op: 'halt'; readonly result: number };

export type Opcode = Instruction['op'];

export const OPCODES: readonly Opcode[] = [
  ...BINARY_OPS,
  'mov',
  'load',
  'store',
  'tape',
  'jmp',
  'jz',
  'jnz',
  'halt',
];

/** One read of a step: its address and the word read, or `{ addr: NONE, value: 0n }`. */
export type Access = { readonly addr: number; readonly value: bigint };

export const NO_ACCESS: Access = { addr: NONE, value: 0n };

/**
 * What the operator commits for one step (Part III §22.3): the pc it ran at, up to two reads, the
 * write (`NO_ACCESS` when none), and the pc of the next step (`NONE` when the step faulted, pc itself
 * on `halt`).
 */
export type StepRecord = {
  readonly pc: number;
  readonly r1: Access;
  readonly r2: Access;
  readonly w: Access;
  readonly nextPc: number;
};

/** The committed fields of a step record, in the order a disprove leaf's witness carries them. */
export const STEP_FIELDS = [
  'pc',
  'r1addr',
  'r1value',
  'r2addr',
  'r2value',
  'waddr',
  'wvalue',
  'nextPc',
] as const;
export type StepField = (typeof STEP_FIELDS)[number];

export function fieldBytes(field: StepField): number {
  return field.endsWith('value') ? WORD_BYTES : SMALL_BYTES;
}

/** The field's committed bytes (big-endian), as the operator Winternitz-signs them. */
export function fieldValue(step: StepRecord, field: StepField): Uint8Array {
  switch (field) {
    case 'pc':
      return smallBytes(step.pc);
    case 'r1addr':
      return smallBytes(step.r1.addr);
    case 'r1value':
      return wordBytes(step.r1.value);
    case 'r2addr':
      return smallBytes(step.r2.addr);
    case 'r2value':
      return wordBytes(step.r2.value);
    case 'waddr':
      return smallBytes(step.w.addr);
    case 'wvalue':
      return wordBytes(step.w.value);
    case 'nextPc':
      return smallBytes(step.nextPc);
  }
}

export function smallBytes(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`Not a u32: ${n}`);
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

export function wordBytes(w: bigint): Uint8Array {
  if (w < 0n || w > WORD_MAX) throw new RangeError(`Not a uint256: ${w}`);
  const out = new Uint8Array(WORD_BYTES);
  let x = w;
  for (let i = WORD_BYTES - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

export function wordOf(bytes: Uint8Array): bigint {
  let x = 0n;
  for (const b of bytes) x = (x << 8n) | BigInt(b);
  return x;
}

export function smallOf(bytes: Uint8Array): number {
  let x = 0;
  for (const b of bytes) x = x * 256 + b;
  return x;
}

/** True for an address, pc or tape position a step record may name (not `NONE`). */
export const isAddress = (n: number): boolean => Number.isInteger(n) && n >= 0 && n < ADDRESS_LIMIT;
