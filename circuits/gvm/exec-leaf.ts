/**
 * The execution disprove leaves of GVM-1 (docs/protocol.md §22.3, §22.6), one per program position,
 * for every opcode but `hash` (`hash-leaf.ts`): the operator has Winternitz-committed the 8 fields of a
 * step record (`STEP_FIELDS`), and the leaf generated for (pc, instruction) can be spent exactly when
 * `isWrongStep(pc, ins, step)` (semantics.ts) holds for the committed step. A committed pc other than
 * the leaf's makes the script fail (`OP_NUMEQUALVERIFY` on pc): another leaf owns that step.
 *
 * Script: `appendValuesVerify` (covenant keys, then the 8 Winternitz verifications, nextPc on top of the
 * witness and verified first), each 32-byte value turned into its 9 limbs (`digits-to-limbs`) and each
 * 4-byte value into one number (`small-value`: anything above `NONE` reads as a sentinel no expected
 * value equals), all parked on the altstack while the rest is verified. pc's transform checks it against
 * the leaf's pc and leaves nothing, so the judgement starts on `[a1 R1 a2 R2 wa W np]` (31 items, limbs
 * most significant deepest) and folds every condition of a correct step into one flag `ok`; the leaf
 * leaves `NOT ok` alone on the stack (tapscript's clean-stack rule).
 *
 * What a correct step is (the record `execute` would produce from the values the step says it read):
 * - a memory operand at address a: that slot is (a, anything); an immediate: (NONE, 0); two reads of
 *   one address must agree; an absent slot is (NONE, 0);
 * - binary ops, mov: w = (dst, f(x, y)), next pc = pc + 1; add/sub/mul mod 2^256, div with y = 0 → 0,
 *   lt/eq → 0/1;
 * - load / store: slot 1 = (ptr, p), effective address e = p + offset; e ≥ 2^29 faults: w = (NONE, 0),
 *   next pc = NONE (and slot 2 = (NONE, 0) for load); else load reads slot 2 = (e, v) and writes (dst,
 *   v), store writes (e, x);
 * - tape: slot 1 = (pos, p); p ≥ 2^30 faults as above; else w = (dst, anything: the tape leaves judge
 *   the word), slot 2 absent;
 * - jmp / jz / jnz: nothing read but jz/jnz's slot 1 = (x, v), no write, next pc = target or pc + 1;
 * - halt: slot 1 = (result, anything), next pc = pc.
 *
 * Witness (bottom first): the signatures of pc, r1addr, …, nextPc (`execLeafWitness`), then the
 * covenant signatures.
 */

import { ScriptBuilder } from '../../src/bitcoin/script/builder.ts';
import { Op } from '../../src/bitcoin/script/opcodes.ts';
import { concatBytes } from '../../src/core/bytes.ts';
import type { WotsPublicKey } from '../../src/dispute/winternitz/keys.ts';
import type { WotsSignature } from '../../src/dispute/winternitz/sign.ts';
import {
  ADDRESS_LIMIT,
  fieldBytes,
  type Instruction,
  isAddress,
  NONE,
  type Operand,
  STEP_FIELDS,
  type StepField,
  TAPE_LIMIT,
} from '../../src/machine/isa.ts';
import { appendValuesVerify, type CommittedValue, valuesWitness } from '../committed-values.ts';
import { digitsToLimbsScript } from '../digits-to-limbs.ts';
import { LIMB_BASE, UINT256_LIMBS } from '../limbs.ts';
import { type ItemId, StackModel } from '../stack-model.ts';
import { smallValueTransform } from './small-value.ts';
import {
  addMod,
  all,
  divCheck,
  either,
  isZero,
  lessThan,
  mulMod,
  numberIs,
  numbersEqual,
  pushWord,
  select,
  wordIs,
  wordsEqual,
} from './word-ops.ts';

export type ExecLeafKeys = Readonly<Record<StepField, WotsPublicKey>>;
export type ExecLeafSignatures = Readonly<Record<StepField, WotsSignature>>;

/** The opcodes this module has leaves for (`hash` has its own). */
export type ExecOpcode = Exclude<Instruction['op'], 'hash'>;
export const EXEC_OPCODES: readonly ExecOpcode[] = [
  'add',
  'sub',
  'mul',
  'div',
  'lt',
  'eq',
  'mov',
  'load',
  'store',
  'tape',
  'jmp',
  'jz',
  'jnz',
  'halt',
];

export type ExecLeaf = {
  script: Uint8Array;
  /** Bytes of the covenant, the 8 Winternitz verifications, their transforms and altstack moves. */
  verifyBytes: number;
  /** Bytes of the judgement on the 31 transformed items. */
  circuitBytes: number;
};

const N = UINT256_LIMBS;

/** The committed step as the judgement sees it (ids; words least significant limb first). */
type Fields = {
  a1: ItemId;
  r1: ItemId[];
  a2: ItemId;
  r2: ItemId[];
  wa: ItemId;
  w: ItemId[];
  np: ItemId;
};

function checkConstants(pc: number, ins: Instruction): void {
  const named: number[] = [pc];
  const operand = (o: Operand) => {
    if ('mem' in o) named.push(o.mem);
  };
  switch (ins.op) {
    case 'mov':
      named.push(ins.dst);
      operand(ins.x);
      break;
    case 'load':
      named.push(ins.dst, ins.ptr, ins.offset);
      break;
    case 'store':
      named.push(ins.ptr, ins.offset);
      operand(ins.x);
      break;
    case 'tape':
      named.push(ins.dst, ins.pos);
      break;
    case 'jmp':
      named.push(ins.target);
      break;
    case 'jz':
    case 'jnz':
      named.push(ins.x, ins.target);
      break;
    case 'halt':
      named.push(ins.result);
      break;
    default:
      named.push(ins.dst);
      operand(ins.x);
      operand(ins.y);
  }
  // Every constant below 2^29 keeps expected values ≤ 2^29 (pc + 1 included) and sums inside 4 bytes.
  for (const n of named)
    if (!isAddress(n)) throw new RangeError(`${ins.op} at ${pc}: ${n} is not below 2^29`);
}

/** The slot reads memory at `a`, or is absent for an immediate. */
function slotOk(m: StackModel, o: Operand, addr: ItemId, value: ItemId[]): ItemId {
  return 'mem' in o ? numberIs(m, addr, o.mem) : absent(m, addr, value);
}

function absent(m: StackModel, addr: ItemId, value: ItemId[]): ItemId {
  const a = numberIs(m, addr, NONE);
  const v = isZero(m, value);
  return all(m, [a, v]);
}

/** The operand's word: the slot's committed value, or the immediate pushed as a constant. */
const operandWord = (m: StackModel, o: Operand, value: ItemId[]): ItemId[] =>
  'mem' in o ? value : pushWord(m, o.imm);

/** The written word is the operand: the slot's value, or the immediate. */
const writesOperand = (m: StackModel, w: ItemId[], o: Operand, value: ItemId[]): ItemId =>
  'mem' in o ? wordsEqual(m, w, value) : wordIs(m, w, o.imm);

/** w = 0 or 1 as `bit` says (bit consumed). */
function wordIsBit(m: StackModel, w: ItemId[], bit: ItemId): ItemId {
  m.pick(w[0] as ItemId);
  m.roll(bit);
  const low = m.op(Op.OP_NUMEQUAL, 2, 1)[0] as ItemId;
  const rest = isZero(m, w.slice(1));
  return all(m, [low, rest]);
}

/** A binary instruction (add … eq, hash). */
type BinaryInstruction = Extract<Instruction, { readonly y: Operand }>;

/**
 * What a binary step must satisfy besides its result (each read slot, the write's address, the next pc,
 * two reads of one address agreeing), and the operand words the result is computed from.
 */
function binaryOperands(
  m: StackModel,
  pc: number,
  ins: BinaryInstruction,
  f: Fields,
): { conditions: ItemId[]; x: ItemId[]; y: ItemId[] } {
  const out = [
    slotOk(m, ins.x, f.a1, f.r1),
    slotOk(m, ins.y, f.a2, f.r2),
    numberIs(m, f.wa, ins.dst),
    numberIs(m, f.np, pc + 1),
  ];
  if ('mem' in ins.x && 'mem' in ins.y && ins.x.mem === ins.y.mem) out.push(wordsEqual(m, f.r1, f.r2));
  return { conditions: out, x: operandWord(m, ins.x, f.r1), y: operandWord(m, ins.y, f.r2) };
}

/** The conditions of a correct step, each a boolean on the stack. */
function conditions(m: StackModel, pc: number, ins: Instruction, f: Fields): ItemId[] {
  const next = pc + 1;
  switch (ins.op) {
    case 'jmp':
      return [
        absent(m, f.a1, f.r1),
        absent(m, f.a2, f.r2),
        absent(m, f.wa, f.w),
        numberIs(m, f.np, ins.target),
      ];
    case 'jz':
    case 'jnz': {
      const addr = numberIs(m, f.a1, ins.x);
      let taken = isZero(m, f.r1);
      if (ins.op === 'jnz') taken = m.op(Op.OP_NOT, 1, 1)[0] as ItemId;
      const toTarget = numberIs(m, f.np, ins.target);
      const toNext = numberIs(m, f.np, next);
      return [addr, absent(m, f.a2, f.r2), absent(m, f.wa, f.w), select(m, taken, toTarget, toNext)];
    }
    case 'halt':
      return [
        numberIs(m, f.a1, ins.result),
        absent(m, f.a2, f.r2),
        absent(m, f.wa, f.w),
        numberIs(m, f.np, pc),
      ];
    case 'mov':
      return [
        slotOk(m, ins.x, f.a1, f.r1),
        absent(m, f.a2, f.r2),
        numberIs(m, f.wa, ins.dst),
        writesOperand(m, f.w, ins.x, f.r1),
        numberIs(m, f.np, next),
      ];
    case 'tape': {
      // p < 2^30: limb 1 ≤ 1 and limbs 2 … 8 zero (limb 0 is always below 2^29).
      m.pick(f.r1[1] as ItemId);
      m.number(TAPE_LIMIT / LIMB_BASE);
      const lowLimbs = m.op(Op.OP_LESSTHAN, 2, 1)[0] as ItemId;
      const inRange = all(m, [lowLimbs, isZero(m, f.r1.slice(2))]);
      const ran = all(m, [numberIs(m, f.wa, ins.dst), numberIs(m, f.np, next)]);
      const faulted = all(m, [numberIs(m, f.wa, NONE), isZero(m, f.w), numberIs(m, f.np, NONE)]);
      return [numberIs(m, f.a1, ins.pos), absent(m, f.a2, f.r2), select(m, inRange, ran, faulted)];
    }
    case 'load':
    case 'store': {
      // e = p + offset, below 2^29 exactly when p's limbs 1 … 8 are zero and limb 0 + offset < 2^29.
      m.pick(f.r1[0] as ItemId);
      m.number(ins.offset);
      const e = m.add();
      m.pick(e);
      m.number(ADDRESS_LIMIT);
      const eLow = m.op(Op.OP_LESSTHAN, 2, 1)[0] as ItemId;
      const inRange = all(m, [eLow, isZero(m, f.r1.slice(1))]);
      const faultedWrite = [numberIs(m, f.wa, NONE), isZero(m, f.w), numberIs(m, f.np, NONE)];
      if (ins.op === 'load') {
        // The read at e; when e is ptr itself both slots read one address and must agree.
        m.pick(e);
        m.number(ins.ptr);
        const elsewhere = m.op(Op.OP_NUMNOTEQUAL, 2, 1)[0] as ItemId;
        const agree = either(m, elsewhere, wordsEqual(m, f.r2, f.r1));
        const ran = all(m, [
          numbersEqual(m, f.a2, e),
          agree,
          numberIs(m, f.wa, ins.dst),
          wordsEqual(m, f.w, f.r2),
          numberIs(m, f.np, next),
        ]);
        const faulted = all(m, [absent(m, f.a2, f.r2), ...faultedWrite]);
        return [numberIs(m, f.a1, ins.ptr), select(m, inRange, ran, faulted)];
      }
      const ran = all(m, [
        numbersEqual(m, f.wa, e),
        writesOperand(m, f.w, ins.x, f.r2),
        numberIs(m, f.np, next),
      ]);
      const faulted = all(m, faultedWrite);
      const out = [
        numberIs(m, f.a1, ins.ptr),
        slotOk(m, ins.x, f.a2, f.r2),
        select(m, inRange, ran, faulted),
      ];
      if ('mem' in ins.x && ins.x.mem === ins.ptr) out.push(wordsEqual(m, f.r1, f.r2));
      return out;
    }
    default: {
      const { conditions: out, x, y } = binaryOperands(m, pc, ins, f);
      switch (ins.op) {
        case 'add':
          out.push(wordsEqual(m, addMod(m, x, y), f.w));
          break;
        case 'sub':
          // x − y ≡ w ⇔ w + y ≡ x (mod 2^256): one adder serves both.
          out.push(wordsEqual(m, addMod(m, f.w, y), x));
          break;
        case 'mul':
          out.push(wordsEqual(m, mulMod(m, x, y), f.w));
          break;
        case 'div':
          out.push(divCheck(m, x, y, f.w));
          break;
        case 'lt':
          out.push(wordIsBit(m, f.w, lessThan(m, x, y)));
          break;
        case 'eq':
          out.push(wordIsBit(m, f.w, wordsEqual(m, x, y)));
          break;
        case 'hash':
          throw new RangeError('hash steps have their own leaf (hash-leaf.ts)');
      }
      return out;
    }
  }
}

/** Declares the 31 judged items `[a1 R1 a2 R2 wa W np]` (words most significant limb deepest). */
function judgedFields(m: StackModel): Fields {
  const word = () => m.inputs(N).reverse();
  const a1 = m.inputs(1)[0] as ItemId;
  const r1 = word();
  const a2 = m.inputs(1)[0] as ItemId;
  const r2 = word();
  const wa = m.inputs(1)[0] as ItemId;
  const w = word();
  const np = m.inputs(1)[0] as ItemId;
  return { a1, r1, a2, r2, wa, w, np };
}

/** Leaves `ok` alone, inverted: the leaf's result is "the step is wrong". */
function finish(m: StackModel, ok: ItemId): { script: Uint8Array; maxStack: number } {
  m.toAlt(ok);
  m.dropTop(m.height);
  m.fromAlt();
  m.op(Op.OP_NOT, 1, 1);
  return { script: m.build(), maxStack: m.maxStack };
}

/** The judgement on `[a1 R1 a2 R2 wa W np]` → `[wrong]`. Exported for tests and the bench. */
export function execJudgement(pc: number, ins: Instruction): { script: Uint8Array; maxStack: number } {
  if (ins.op === 'hash') throw new RangeError('hash steps have their own leaf (hash-leaf.ts)');
  checkConstants(pc, ins);
  const m = new StackModel();
  const f = judgedFields(m);
  return finish(m, all(m, conditions(m, pc, ins, f)));
}

/** The opcodes whose result check is a product circuit (about 68 KB), shared by a group's positions. */
export type ProductOpcode = 'mul' | 'div';
export const isProductOpcode = (op: Instruction['op']): op is ProductOpcode => op === 'mul' || op === 'div';

/** Items a product prefix leaves: `[ok X Y W]`, each word most significant limb deepest. */
export const PRODUCT_OPERAND_ITEMS = 1 + 3 * N;

/**
 * The part of a mul or div judgement that depends on the position: `[a1 R1 a2 R2 wa W np]` →
 * `[ok X Y W]`, where ok holds every condition but the result's, X and Y are the operand words (a read
 * slot's value, or the immediate pushed) and W the written word. `productTail` finishes it; the two
 * together judge exactly as `execJudgement`.
 */
export function productPrefix(pc: number, ins: Instruction): { script: Uint8Array; maxStack: number } {
  if (!isProductOpcode(ins.op)) throw new RangeError(`${ins.op} at ${pc} is not a product instruction`);
  checkConstants(pc, ins);
  const m = new StackModel();
  const f = judgedFields(m);
  const { conditions: out, x, y } = binaryOperands(m, pc, ins as BinaryInstruction, f);
  const kept = [all(m, out), ...[x, y, f.w].flatMap((word) => word.slice().reverse())];
  for (let i = kept.length - 1; i >= 0; i--) m.toAlt(kept[i] as ItemId);
  m.dropTop(m.height);
  for (let i = 0; i < kept.length; i++) m.fromAlt();
  return { script: m.build(), maxStack: m.maxStack };
}

/** The product check every position of a mul or div group shares: `[ok X Y W]` → `[wrong]`. */
export function productTail(op: ProductOpcode): { script: Uint8Array; maxStack: number } {
  const m = new StackModel();
  const ok = m.inputs(1)[0] as ItemId;
  const [x, y, w] = [m.inputs(N).reverse(), m.inputs(N).reverse(), m.inputs(N).reverse()] as [
    ItemId[],
    ItemId[],
    ItemId[],
  ];
  const result = op === 'mul' ? wordsEqual(m, mulMod(m, x, y), w) : divCheck(m, x, y, w);
  return finish(m, all(m, [ok, result]));
}

/**
 * The committed values in witness order, with their transforms. `pc` given: pc's transform checks it is
 * the leaf's and leaves nothing. `pc` undefined (a group's leaf): pc is left as a number below the 31
 * judged items, for the group's dispatch.
 */
export function execCommittedValues(pc: number | undefined, keys: ExecLeafKeys): CommittedValue[] {
  const small = smallValueTransform();
  return STEP_FIELDS.map((field) => {
    const key = keys[field];
    if (key.messageBytes !== fieldBytes(field)) {
      throw new RangeError(`${field}: a ${key.messageBytes}-byte key, not ${fieldBytes(field)}`);
    }
    if (field === 'pc' && pc !== undefined) {
      const pcCheck = new ScriptBuilder().raw(small.script).number(pc).op(Op.OP_NUMEQUALVERIFY).build();
      return { key, transform: { script: pcCheck, outputItems: 0 } };
    }
    if (fieldBytes(field) === 4) return { key, transform: small };
    return { key, transform: { script: digitsToLimbsScript(), outputItems: N } };
  });
}

/** The leaf for the instruction at `pc`. `covenant`: x-only keys checked first (may be empty). */
export function execLeaf(
  pc: number,
  ins: Instruction,
  keys: ExecLeafKeys,
  covenant: readonly Uint8Array[] = [],
): ExecLeaf {
  const circuit = execJudgement(pc, ins).script;
  const b = new ScriptBuilder();
  appendValuesVerify(b, execCommittedValues(pc, keys), covenant);
  const verify = b.build();
  return { script: concatBytes(verify, circuit), verifyBytes: verify.length, circuitBytes: circuit.length };
}

/** The witness items below the script and control block, bottom first. */
export function execLeafWitness(
  sigs: ExecLeafSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness(
    STEP_FIELDS.map((f) => sigs[f]),
    covenantSigs,
  );
}
