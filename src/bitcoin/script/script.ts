/**
 * Script parsing and serialization. Parsing follows Core's GetScriptOp: a push whose length runs past
 * the end of the script is a parse failure, and everything before it is still a valid op sequence
 * (the interpreter reports BAD_OPCODE only when execution reaches that point).
 */

import { encodeScriptNum } from './num.ts';
import { Op } from './opcodes.ts';

/** One decoded instruction. `data` is set for push opcodes (0x00..0x4e), a view into the script. */
export type ScriptOp = {
  opcode: number;
  data?: Uint8Array;
  /** Byte offset of the opcode in the script. */
  offset: number;
  /** Byte offset just past the instruction (the next instruction's offset). */
  end: number;
};

/**
 * The script decoded once into flat typed arrays, as the interpreter consumes it. If `truncated`, the
 * instruction at index `count` failed to parse; it starts at byte `offsets[count]`. For a push
 * instruction i, its data is `bytes.subarray(dataStarts[i], ends[i])`.
 */
export class ParsedScript {
  readonly bytes: Uint8Array;
  readonly count: number;
  readonly opcodes: Uint8Array;
  readonly offsets: Uint32Array;
  readonly ends: Uint32Array;
  readonly dataStarts: Uint32Array;
  readonly truncated: boolean;
  private pushCache: (Uint8Array | undefined)[] | undefined;

  constructor(
    bytes: Uint8Array,
    count: number,
    opcodes: Uint8Array,
    offsets: Uint32Array,
    ends: Uint32Array,
    dataStarts: Uint32Array,
    truncated: boolean,
  ) {
    this.bytes = bytes;
    this.count = count;
    this.opcodes = opcodes;
    this.offsets = offsets;
    this.ends = ends;
    this.dataStarts = dataStarts;
    this.truncated = truncated;
  }

  /** Byte offset of instruction `i`; the script length for the position just past the last one. */
  offsetOf(i: number): number {
    if (i < this.count || (this.truncated && i === this.count)) return this.offsets[i] as number;
    return this.bytes.length;
  }

  /** Push data of instruction `i` (a view into `bytes`), undefined for non-push opcodes. */
  pushData(i: number): Uint8Array | undefined {
    if (i >= this.count || (this.opcodes[i] as number) > Op.OP_PUSHDATA4) return undefined;
    return this.bytes.subarray(this.dataStarts[i] as number, this.ends[i] as number);
  }

  /** Push data per instruction, built on first use (convenient for small scripts). */
  get pushes(): (Uint8Array | undefined)[] {
    if (this.pushCache === undefined) {
      const out: (Uint8Array | undefined)[] = [];
      for (let i = 0; i < this.count; i++) out.push(this.pushData(i));
      this.pushCache = out;
    }
    return this.pushCache;
  }
}

/** Decodes `bytes` into flat arrays (see ParsedScript). Never throws. */
export function parseScript(bytes: Uint8Array): ParsedScript {
  const len = bytes.length;
  // Upper bound on instruction count: one per byte, plus one slot for a failing tail.
  const opcodes = new Uint8Array(len + 1);
  const offsets = new Uint32Array(len + 1);
  const ends = new Uint32Array(len + 1);
  const dataStarts = new Uint32Array(len + 1);
  let pc = 0;
  let count = 0;
  let truncated = false;
  while (pc < len) {
    const start = pc;
    const opcode = bytes[pc++] as number;
    opcodes[count] = opcode;
    offsets[count] = start;
    if (opcode <= Op.OP_PUSHDATA4) {
      let size: number;
      if (opcode < Op.OP_PUSHDATA1) {
        size = opcode;
      } else if (opcode === Op.OP_PUSHDATA1) {
        if (len - pc < 1) {
          truncated = true;
          break;
        }
        size = bytes[pc] as number;
        pc += 1;
      } else if (opcode === Op.OP_PUSHDATA2) {
        if (len - pc < 2) {
          truncated = true;
          break;
        }
        size = (bytes[pc] as number) | ((bytes[pc + 1] as number) << 8);
        pc += 2;
      } else {
        if (len - pc < 4) {
          truncated = true;
          break;
        }
        size =
          ((bytes[pc] as number) |
            ((bytes[pc + 1] as number) << 8) |
            ((bytes[pc + 2] as number) << 16) |
            ((bytes[pc + 3] as number) << 24)) >>>
          0;
        pc += 4;
      }
      if (len - pc < size) {
        truncated = true;
        break;
      }
      dataStarts[count] = pc;
      pc += size;
    }
    ends[count] = pc;
    count++;
  }
  return new ParsedScript(
    bytes,
    count,
    opcodes.subarray(0, count + 1),
    offsets.subarray(0, count + 1),
    ends.subarray(0, count + 1),
    dataStarts.subarray(0, count + 1),
    truncated,
  );
}

export type DecodedScript = { ops: ScriptOp[]; truncated: boolean; truncatedAt?: number };

/** Decodes a script into instruction objects; `truncated` says the tail failed to parse. */
export function decodeScript(bytes: Uint8Array): DecodedScript {
  const p = parseScript(bytes);
  const ops: ScriptOp[] = [];
  for (let i = 0; i < p.count; i++) {
    const opcode = p.opcodes[i] as number;
    const op: ScriptOp = { opcode, offset: p.offsets[i] as number, end: p.ends[i] as number };
    const data = p.pushData(i);
    if (data !== undefined) op.data = data;
    ops.push(op);
  }
  return p.truncated
    ? { ops, truncated: true, truncatedAt: p.offsets[p.count] as number }
    : { ops, truncated: false };
}

/** The smallest push opcode prefix for `data`, as Core's `CScript << std::vector` (no OP_N shortcut). */
export function encodePush(data: Uint8Array): Uint8Array {
  const n = data.length;
  let head: number[];
  if (n < Op.OP_PUSHDATA1) head = [n];
  else if (n <= 0xff) head = [Op.OP_PUSHDATA1, n];
  else if (n <= 0xffff) head = [Op.OP_PUSHDATA2, n & 0xff, n >> 8];
  else head = [Op.OP_PUSHDATA4, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
  const out = new Uint8Array(head.length + n);
  out.set(head, 0);
  out.set(data, head.length);
  return out;
}

/** Core's `CScript << int64`: OP_0, OP_1NEGATE, OP_1..OP_16, otherwise a push of the script number. */
export function encodeNumberPush(n: number | bigint): Uint8Array {
  const v = Number(n);
  if (v === 0) return Uint8Array.of(Op.OP_0);
  if (v === -1 || (v >= 1 && v <= 16)) return Uint8Array.of(Op.OP_1 + v - 1);
  return encodePush(encodeScriptNum(v));
}

/** Serializes instructions back to bytes; push data is written with the given opcode's length prefix. */
export function serializeScript(ops: readonly Pick<ScriptOp, 'opcode' | 'data'>[]): Uint8Array {
  const parts: number[] = [];
  for (const op of ops) {
    const { opcode, data } = op;
    parts.push(opcode);
    if (opcode <= Op.OP_PUSHDATA4) {
      const d = data ?? new Uint8Array(0);
      const n = d.length;
      if (opcode < Op.OP_PUSHDATA1) {
        if (n !== opcode) throw new RangeError(`push opcode ${opcode} with ${n} bytes of data`);
      } else if (opcode === Op.OP_PUSHDATA1) parts.push(n);
      else if (opcode === Op.OP_PUSHDATA2) parts.push(n & 0xff, n >> 8);
      else parts.push(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
      for (let i = 0; i < n; i++) parts.push(d[i] as number);
    }
  }
  return Uint8Array.from(parts);
}

/** Core's CScript::IsPushOnly: every instruction parses and is ≤ OP_16 (OP_RESERVED included). */
export function isPushOnly(script: Uint8Array | ParsedScript): boolean {
  const p = script instanceof Uint8Array ? parseScript(script) : script;
  if (p.truncated) return false;
  for (let i = 0; i < p.count; i++) if ((p.opcodes[i] as number) > Op.OP_16) return false;
  return true;
}

/** Core's IsPayToScriptHash: exactly OP_HASH160 <20 bytes> OP_EQUAL. */
export function isPayToScriptHash(spk: Uint8Array): boolean {
  return spk.length === 23 && spk[0] === Op.OP_HASH160 && spk[1] === 0x14 && spk[22] === Op.OP_EQUAL;
}

/** Core's IsWitnessProgram: a version opcode then one direct push of 2..40 bytes, nothing else. */
export function witnessProgram(spk: Uint8Array): { version: number; program: Uint8Array } | undefined {
  if (spk.length < 4 || spk.length > 42) return undefined;
  const v = spk[0] as number;
  if (v !== Op.OP_0 && (v < Op.OP_1 || v > Op.OP_16)) return undefined;
  if ((spk[1] as number) + 2 !== spk.length) return undefined;
  return { version: v === Op.OP_0 ? 0 : v - (Op.OP_1 - 1), program: spk.subarray(2) };
}

/**
 * Core's FindAndDelete: removes every occurrence of `pattern` that starts at an instruction boundary
 * (matches may repeat back to back). Returns the new script and how many were removed.
 */
export function findAndDelete(
  script: Uint8Array,
  pattern: Uint8Array,
): { script: Uint8Array; found: number } {
  if (pattern.length === 0) return { script, found: 0 };
  const end = script.length;
  const kept: Uint8Array[] = [];
  let found = 0;
  let pc = 0;
  let pc2 = 0;
  // Mirrors Core's do { copy [pc2, pc); skip matches at pc; pc2 = pc } while (GetOp(pc)).
  for (;;) {
    if (pc > pc2) kept.push(script.subarray(pc2, pc));
    while (end - pc >= pattern.length && matchesAt(script, pc, pattern)) {
      pc += pattern.length;
      found++;
    }
    pc2 = pc;
    const next = nextInstructionEnd(script, pc);
    if (next < 0) break;
    pc = next;
  }
  if (found === 0) return { script, found: 0 };
  kept.push(script.subarray(pc2, end));
  let total = 0;
  for (const k of kept) total += k.length;
  const out = new Uint8Array(total);
  let o = 0;
  for (const k of kept) {
    out.set(k, o);
    o += k.length;
  }
  return { script: out, found };
}

function matchesAt(script: Uint8Array, at: number, pattern: Uint8Array): boolean {
  for (let j = 0; j < pattern.length; j++) if (script[at + j] !== pattern[j]) return false;
  return true;
}

/** End offset of the instruction starting at `pc`, or -1 when it fails to parse. */
function nextInstructionEnd(script: Uint8Array, pc: number): number {
  const len = script.length;
  if (pc >= len) return -1;
  const opcode = script[pc++] as number;
  if (opcode > Op.OP_PUSHDATA4) return pc;
  let size: number;
  if (opcode < Op.OP_PUSHDATA1) size = opcode;
  else if (opcode === Op.OP_PUSHDATA1) {
    if (len - pc < 1) return -1;
    size = script[pc] as number;
    pc += 1;
  } else if (opcode === Op.OP_PUSHDATA2) {
    if (len - pc < 2) return -1;
    size = (script[pc] as number) | ((script[pc + 1] as number) << 8);
    pc += 2;
  } else {
    if (len - pc < 4) return -1;
    size =
      ((script[pc] as number) |
        ((script[pc + 1] as number) << 8) |
        ((script[pc + 2] as number) << 16) |
        ((script[pc + 3] as number) << 24)) >>>
      0;
    pc += 4;
  }
  if (len - pc < size) return -1;
  return pc + size;
}
