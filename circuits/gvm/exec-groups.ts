/**
 * Grouped execution leaves (docs/protocol.md §24.4): many program positions share one disprove leaf.
 *
 * Why: a leaf per position (`execLeaf`) repeats the 8 Winternitz verifications, about 27 KB of script,
 * at each of the governance program's 2,526 non-hash positions, and a mul or div position adds a 68 KB
 * product circuit of its own. A game's graph holds one set of these leaves per challenger, so that is
 * about 62 MB of script per game to build, hash and import. A group verifies the step record once, then
 * dispatches on the committed pc to the judgement of that position:
 *
 *   verify (pc left as a number under [a1 R1 a2 R2 wa W np]) · <31> OP_ROLL ·
 *   OP_DUP <p_1> OP_NUMEQUAL OP_IF OP_DROP branch_1 OP_ELSE … OP_ELSE <p_k> OP_NUMEQUALVERIFY branch_k
 *   OP_ENDIF … OP_ENDIF · [tail]
 *
 * A plain group's branches are whole judgements (`execJudgement`: a few hundred bytes each) and any
 * opcode but mul, div and hash may share one. A product group holds only mul or only div positions:
 * each branch checks what depends on the position and leaves `[ok X Y W]` (`productPrefix`), and one
 * product circuit after the dispatch finishes all of them (`productTail`). A committed pc that is not one
 * of the group's positions fails the script, as in a leaf per position: another leaf owns that step.
 * So a group spends exactly when the committed pc is one of its positions and `isWrongStep` holds there,
 * with the same witness as `execLeaf`'s (`execLeafWitness`).
 *
 * Groups are planned from the program alone (`planExecGroups`), in program order, each leaf kept under a
 * script size so that its disprove stays a standard transaction with room for the other inputs and a
 * CPFP child: a larger group makes the graph smaller and the disprove dearer.
 */

import { ScriptBuilder } from '../../src/bitcoin/script/builder.ts';
import { Op } from '../../src/bitcoin/script/opcodes.ts';
import type { WotsPublicKey } from '../../src/dispute/winternitz/keys.ts';
import { wotsParameters } from '../../src/dispute/winternitz/parameters.ts';
import {
  fieldBytes,
  type Instruction,
  NONE,
  STEP_FIELDS,
  type StepField,
  type StepRecord,
} from '../../src/machine/isa.ts';
import type { Program } from '../../src/machine/program.ts';
import { isWrongStep } from '../../src/machine/semantics.ts';
import { appendValuesVerify } from '../committed-values.ts';
import { UINT256_LIMBS } from '../limbs.ts';
import {
  type ExecLeaf,
  type ExecLeafKeys,
  execCommittedValues,
  execJudgement,
  isProductOpcode,
  type ProductOpcode,
  productPrefix,
  productTail,
} from './exec-leaf.ts';

/** `plain`: whole judgements of any opcode but mul, div and hash; `mul` / `div`: one shared product check. */
export type ExecGroupKind = 'plain' | ProductOpcode;

export type ExecGroup = {
  readonly kind: ExecGroupKind;
  /** Program positions, ascending; each position of the program is in at most one group. */
  readonly positions: readonly number[];
};

/**
 * Default bound on a group leaf's script: 120 kB keeps the disprove input near 135 kWU (script,
 * the 502 Winternitz witness items, a deep control block), a third of the 400 kWU standard limit.
 */
export const EXEC_GROUP_MAX_SCRIPT_BYTES = 120_000;

/** Items above the dispatched pc once the record is verified: `[a1 R1 a2 R2 wa W np]`. */
const JUDGED_ITEMS = 4 + 3 * UINT256_LIMBS;

export type ExecGroupPlanOptions = {
  /** Largest script of one leaf, covenant checks included (default `EXEC_GROUP_MAX_SCRIPT_BYTES`). */
  readonly maxScriptBytes?: number;
  /** Covenant keys the leaves will check (34 bytes of script each); default 0. */
  readonly covenantKeys?: number;
};

function instructionAt(program: Program, pc: number): Instruction {
  const ins = program.instructions[pc];
  if (ins === undefined) throw new RangeError(`no instruction at ${pc}`);
  return ins;
}

/** Branch scripts by program and position: they depend on neither keys nor covenant, so every game reuses them. */
const branches = new WeakMap<Program, Map<number, Uint8Array>>();

/** A branch's script: a product prefix in a product group, else the whole judgement. */
function branchScript(program: Program, kind: ExecGroupKind, pc: number): Uint8Array {
  const ins = instructionAt(program, pc);
  if (kind === 'plain') {
    if (isProductOpcode(ins.op)) throw new RangeError(`${ins.op} at ${pc} belongs in a ${ins.op} group`);
  } else if (ins.op !== kind) throw new RangeError(`${ins.op} at ${pc} in a ${kind} group`);
  let byPc = branches.get(program);
  if (byPc === undefined) {
    byPc = new Map();
    branches.set(program, byPc);
  }
  let script = byPc.get(pc);
  if (script === undefined) {
    script = kind === 'plain' ? execJudgement(pc, ins).script : productPrefix(pc, ins).script;
    byPc.set(pc, script);
  }
  return script;
}

const tails = new Map<ProductOpcode, Uint8Array>();
function tailScript(op: ProductOpcode): Uint8Array {
  let t = tails.get(op);
  if (t === undefined) {
    t = productTail(op).script;
    tails.set(op, t);
  }
  return t;
}

/** `<p> OP_NUMEQUAL…` as pushed by the builder: the bytes a position's number takes in script. */
const numberBytes = (n: number): number => new ScriptBuilder().number(n).build().length;

/** Bytes of the dispatch around one branch: DUP <p> NUMEQUAL IF DROP … ELSE … ENDIF (at most). */
const dispatchBytes = (pc: number): number => numberBytes(pc) + 6;

/** Bytes of the covenant checks and the 8 verifications with pc left as a number (keys' sizes only). */
function verifyBytes(covenantKeys: number): number {
  const keys = {} as Record<StepField, WotsPublicKey>;
  for (const f of STEP_FIELDS) {
    const { totalDigits } = wotsParameters(fieldBytes(f));
    keys[f] = {
      messageBytes: fieldBytes(f),
      hashes: Array.from({ length: totalDigits }, () => new Uint8Array(20)),
    };
  }
  const b = new ScriptBuilder();
  appendValuesVerify(
    b,
    execCommittedValues(undefined, keys),
    Array.from({ length: covenantKeys }, () => new Uint8Array(32)),
  );
  return b.build().length + numberBytes(JUDGED_ITEMS) + 1;
}

/**
 * The groups of a program's execution positions (every position but `hash`, which has its own leaves),
 * in program order: plain positions packed into leaves under the size bound, mul and div positions into
 * leaves of their own opcode. Deterministic: the program and the options fix it.
 */
export function planExecGroups(program: Program, options: ExecGroupPlanOptions = {}): ExecGroup[] {
  const max = options.maxScriptBytes ?? EXEC_GROUP_MAX_SCRIPT_BYTES;
  const base = verifyBytes(options.covenantKeys ?? 0);
  const open = new Map<ExecGroupKind, { positions: number[]; bytes: number }>();
  const groups: ExecGroup[] = [];
  const close = (kind: ExecGroupKind) => {
    const g = open.get(kind);
    if (g !== undefined && g.positions.length > 0) groups.push({ kind, positions: g.positions });
    open.delete(kind);
  };
  program.instructions.forEach((ins, pc) => {
    if (ins.op === 'hash') return;
    const kind: ExecGroupKind = isProductOpcode(ins.op) ? ins.op : 'plain';
    const cost = branchScript(program, kind, pc).length + dispatchBytes(pc);
    const fixed = base + (kind === 'plain' ? 0 : tailScript(kind).length);
    if (fixed + cost > max) {
      throw new RangeError(`the leaf for ${ins.op} at ${pc} alone needs ${fixed + cost} bytes, over ${max}`);
    }
    let g = open.get(kind);
    if (g !== undefined && g.bytes + cost > max) {
      close(kind);
      g = undefined;
    }
    if (g === undefined) {
      g = { positions: [], bytes: fixed };
      open.set(kind, g);
    }
    g.positions.push(pc);
    g.bytes += cost;
  });
  for (const kind of [...open.keys()]) close(kind);
  return groups.sort((a, b) => (a.positions[0] as number) - (b.positions[0] as number));
}

function checkGroup(program: Program, group: ExecGroup): void {
  if (group.positions.length === 0) throw new RangeError('an execution group has at least one position');
  for (let i = 1; i < group.positions.length; i++) {
    if ((group.positions[i] as number) <= (group.positions[i - 1] as number)) {
      throw new RangeError('an execution group lists its positions once each, ascending');
    }
  }
  for (const pc of group.positions) {
    const ins = instructionAt(program, pc);
    if (ins.op === 'hash') throw new RangeError(`hash at ${pc} has its own leaf (hash-leaf.ts)`);
  }
}

/** The leaf of one group. `covenant`: x-only keys checked first (may be empty). */
export function execGroupLeaf(
  program: Program,
  group: ExecGroup,
  keys: ExecLeafKeys,
  covenant: readonly Uint8Array[] = [],
): ExecLeaf {
  checkGroup(program, group);
  const b = new ScriptBuilder();
  appendValuesVerify(b, execCommittedValues(undefined, keys), covenant);
  const verifyBytesBuilt = b.size;
  b.number(JUDGED_ITEMS).op(Op.OP_ROLL);
  const last = group.positions.length - 1;
  group.positions.forEach((pc, i) => {
    const branch = branchScript(program, group.kind, pc);
    if (i < last) b.op(Op.OP_DUP).number(pc).op(Op.OP_NUMEQUAL, Op.OP_IF, Op.OP_DROP);
    else b.number(pc).op(Op.OP_NUMEQUALVERIFY);
    b.raw(branch);
    if (i < last) b.op(Op.OP_ELSE);
  });
  for (let i = 0; i < last; i++) b.op(Op.OP_ENDIF);
  if (group.kind !== 'plain') b.raw(tailScript(group.kind));
  const script = b.build();
  return { script, verifyBytes: verifyBytesBuilt, circuitBytes: script.length - verifyBytesBuilt };
}

/** The index of the group that owns `pc`, or undefined (a hash position, or outside the program). */
export function execGroupOf(groups: readonly ExecGroup[], pc: number): number | undefined {
  const i = groups.findIndex((g) => g.positions.includes(pc));
  return i < 0 ? undefined : i;
}

/**
 * The twin: whether the group's leaf spends on `step`. The committed pc must be one of its positions
 * (a u32 above `NONE` reads as a sentinel no position equals) and the step wrong there.
 */
export function isFaultyExecGroup(program: Program, group: ExecGroup, step: StepRecord): boolean {
  checkGroup(program, group);
  if (step.pc > NONE || !group.positions.includes(step.pc)) return false;
  return isWrongStep(step.pc, instructionAt(program, step.pc), step);
}
