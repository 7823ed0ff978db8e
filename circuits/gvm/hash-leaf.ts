/**
 * The execution leaf of GVM-1's `hash` instruction at one pc (docs/protocol.md §22.2): the operator has
 * Winternitz-committed the 8 fields of a step record (`STEP_FIELDS`, pc deepest … nextPc on top; 4-byte
 * fields, 32-byte values), and the leaf is spendable exactly when `isWrongStep(pc, ins, step)`: the
 * committed pc is this pc and the record is not what `d ← BLAKE3(x ‖ y)` does with the reads it names.
 * A record at another pc is not judged here (never spendable): another leaf owns it.
 *
 * What "wrong" means for `hash` (derived from `isWrongStep`): a memory operand's read slot names
 * another address; an immediate operand's slot is not (NONE, 0); both operands read the same address
 * but the two reads disagree; the write is not at `dst`; the next pc is not pc + 1; or the written word
 * is not blake3Node(x ‖ y) (32-byte big-endian words, x the first operand: the slot-1 value or the
 * immediate, y likewise). Operands' addresses are constants of the leaf, so every small field is
 * judged against a constant right after its verification (a `ValueTransform` turning its 8 digits into
 * one flag), and only the words the hash needs stay as digits.
 *
 * Script: covenant, the 8 verifications (small fields → flags; an immediate operand's slot value →
 * "≠ 0" flag), the flags ORed and parked with "pc = this pc" on the altstack, the words arranged as
 * `blake3Gadget('notEqual')` wants them (expected digest = wvalue, then y's digits, then x's on top;
 * an immediate's digits are pushed as constants), the gadget, then (its result OR the flags) AND "pc =
 * this pc": one item. Witness: the 8 signatures in `STEP_FIELDS` order (pc's deepest), then the
 * covenant signatures.
 */

import { Op } from '../../src/bitcoin/script/opcodes.ts';
import type { WotsPublicKey } from '../../src/dispute/winternitz/keys.ts';
import type { WotsSignature } from '../../src/dispute/winternitz/sign.ts';
import {
  fieldBytes,
  type Instruction,
  isAddress,
  NONE,
  type Operand,
  STEP_FIELDS,
  type StepField,
  type StepRecord,
  smallBytes,
  WORD_BYTES,
  wordBytes,
} from '../../src/machine/isa.ts';
import { isWrongStep } from '../../src/machine/semantics.ts';
import { blake3Gadget } from '../blake3.ts';
import { type CommittedValue, valuesWitness } from '../committed-values.ts';
import { type ItemId, StackModel } from '../stack-model.ts';
import {
  assembleLeaf,
  checkKeySize,
  digitsDiffer,
  digitsDifferFrom,
  digitsOf,
  digitTransform,
  type GvmLeaf,
} from './memory-leaves.ts';

/** A binary instruction (its op is checked to be 'hash'). */
export type HashInstruction = Extract<Instruction, { readonly y: Operand }>;
export type StepKeys = Record<StepField, WotsPublicKey>;
export type StepSignatures = Record<StepField, WotsSignature>;

let notEqualGadget: Uint8Array | undefined;
function blake3NotEqual(): Uint8Array {
  notEqualGadget ??= blake3Gadget('notEqual').script;
  return notEqualGadget;
}

/** "The field ≠ constant" (4-byte field): its 8 digits → 1 flag. */
const differsFrom = (bytes: Uint8Array) =>
  digitTransform(2 * bytes.length, (m, ids) => [digitsDifferFrom(m, ids, bytes)]);

/** "The field = constant": its digits → 1 flag. */
const equals = (bytes: Uint8Array) =>
  digitTransform(2 * bytes.length, (m, ids) => {
    digitsDifferFrom(m, ids, bytes);
    return [m.op(Op.OP_NOT, 1, 1)[0] as ItemId];
  });

function checkInstruction(pc: number, ins: Instruction): HashInstruction {
  if (ins.op !== 'hash') throw new RangeError(`not a hash instruction: ${ins.op}`);
  if (!isAddress(pc)) throw new RangeError(`not a pc: ${pc}`);
  for (const o of [ins.x, ins.y]) {
    if ('mem' in o && !isAddress(o.mem)) throw new RangeError(`not a memory address: ${o.mem}`);
  }
  smallBytes(ins.dst);
  return ins;
}

/** The address a read slot must name: the operand's, or NONE for an immediate. */
const slotAddress = (o: Operand): number => ('mem' in o ? o.mem : NONE);

/** The leaf script. `covenant`: x-only keys checked first (may be empty). */
export function hashExecLeaf(
  pc: number,
  instruction: Instruction,
  keys: StepKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const ins = checkInstruction(pc, instruction);
  const zeroWord = new Uint8Array(WORD_BYTES);
  const key = (f: StepField) => checkKeySize(keys[f], fieldBytes(f), f);
  const values: CommittedValue[] = [
    { key: key('pc'), transform: equals(smallBytes(pc)) },
    { key: key('r1addr'), transform: differsFrom(smallBytes(slotAddress(ins.x))) },
    'imm' in ins.x ? { key: key('r1value'), transform: differsFrom(zeroWord) } : { key: key('r1value') },
    { key: key('r2addr'), transform: differsFrom(smallBytes(slotAddress(ins.y))) },
    'imm' in ins.y ? { key: key('r2value'), transform: differsFrom(zeroWord) } : { key: key('r2value') },
    { key: key('waddr'), transform: differsFrom(smallBytes(ins.dst)) },
    { key: key('wvalue') },
    { key: key('nextPc'), transform: differsFrom(smallBytes(pc + 1)) },
  ];

  // After the verifications (bottom first): pcEq, r1addr≠, r1value (64 digits | ≠0), r2addr≠,
  // r2value (64 digits | ≠0), waddr≠, wvalue (64 digits), nextPc≠.
  const m = new StackModel();
  const word = () => m.inputs(2 * WORD_BYTES);
  const flag = () => m.inputs(1)[0] as ItemId;
  const pcEq = flag();
  const flags: ItemId[] = [flag()];
  /** A memory operand's slot value stays as digits; an immediate's became a "≠ 0" flag. */
  const slotValue = (o: Operand): ItemId[] | undefined => {
    if ('mem' in o) return word();
    flags.push(flag());
    return undefined;
  };
  const x = slotValue(ins.x);
  flags.push(flag());
  const y = slotValue(ins.y);
  flags.push(flag());
  const w = word();
  flags.push(flag());
  // Every "wrong" flag ORed, nearest first.
  let acc = flags.pop() as ItemId;
  while (flags.length > 0) {
    m.roll(flags.pop() as ItemId);
    m.roll(acc);
    acc = m.op(Op.OP_BOOLOR, 2, 1)[0] as ItemId;
  }
  // Both operands read one address: the two reads must agree (kept: the hash needs them).
  if (x !== undefined && y !== undefined && slotAddress(ins.x) === slotAddress(ins.y)) {
    digitsDiffer(m, x, y, false);
    m.roll(acc);
    acc = m.op(Op.OP_BOOLOR, 2, 1)[0] as ItemId;
  }
  m.toAlt(pcEq);
  m.toAlt(acc);
  // The gadget's layout: expected digest (wvalue), then the message x ‖ y as y's digits then x's.
  const groups: (readonly ItemId[] | Uint8Array)[] = [
    w,
    y ?? wordBytes((ins.y as { imm: bigint }).imm),
    x ?? wordBytes((ins.x as { imm: bigint }).imm),
  ];
  let settled = 0;
  for (const g of groups) {
    if (g instanceof Uint8Array) {
      for (const d of digitsOf(g)) m.number(d);
      settled = Number.POSITIVE_INFINITY;
      continue;
    }
    const here = m.stack.slice(settled, settled + g.length);
    if (settled !== Number.POSITIVE_INFINITY && here.every((id, k) => id === g[k])) {
      settled += g.length;
      continue;
    }
    for (const id of g) m.roll(id);
    settled = Number.POSITIVE_INFINITY;
  }
  const arrange = m.build();
  const judge = new Uint8Array(arrange.length + blake3NotEqual().length + 4);
  judge.set(arrange, 0);
  judge.set(blake3NotEqual(), arrange.length);
  // (hash ≠ wvalue) OR flags, AND pc = this pc.
  judge.set(
    [Op.OP_FROMALTSTACK, Op.OP_BOOLOR, Op.OP_FROMALTSTACK, Op.OP_BOOLAND],
    arrange.length + blake3NotEqual().length,
  );
  return assembleLeaf(values, covenant, judge);
}

/** The witness items below the script and control block, bottom first. */
export function hashExecWitness(
  sigs: StepSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness(
    STEP_FIELDS.map((f) => sigs[f]),
    covenantSigs,
  );
}

/** The twin: `isWrongStep` for the hash instruction at `pc` (fields must be committable: u32s). */
export function isFaultyHashExec(pc: number, instruction: Instruction, step: StepRecord): boolean {
  const ins = checkInstruction(pc, instruction);
  for (const n of [step.pc, step.r1.addr, step.r2.addr, step.w.addr, step.nextPc]) smallBytes(n);
  for (const v of [step.r1.value, step.r2.value, step.w.value]) wordBytes(v);
  return isWrongStep(pc, ins, step);
}
