/**
 * Grouped execution leaves (circuits/gvm/exec-groups.ts) on the governance program: the plan covers
 * every non-hash position once and keeps every leaf under its bound; and, run in Vigil's interpreter
 * under tapscript rules with real Winternitz signatures, a group's leaf spends exactly when the
 * position's own leaf (`execLeaf`) does, on the same witness, which is exactly when `isWrongStep` holds
 * at a position of the group. Steps come from real traces of the program (test/machine/trace-samples.ts),
 * correct and with one field perturbed; steps of other groups' positions, of hash positions and of
 * garbage pcs never spend a group's leaf; digit forgeries never spend. The product groups (mul, div)
 * share one product circuit after their dispatch, so their cases are checked at the first and last
 * positions of the group as well as the traced ones.
 */
import { describe, expect, it } from 'vitest';
import {
  EXEC_GROUP_MAX_SCRIPT_BYTES,
  type ExecGroup,
  execGroupLeaf,
  execGroupOf,
  isFaultyExecGroup,
  planExecGroups,
} from '../../../circuits/gvm/exec-groups.ts';
import { execLeaf, execLeafWitness } from '../../../circuits/gvm/exec-leaf.ts';
import {
  ADDRESS_LIMIT,
  fieldBytes,
  fieldValue,
  type Instruction,
  NONE,
  STEP_FIELDS,
  type StepField,
  type StepRecord,
  WORD_MODULUS,
} from '../../../src/machine/isa.ts';
import type { Program } from '../../../src/machine/program.ts';
import { buildGovernanceProgram } from '../../../src/machine/programs/governance.ts';
import { execute, isWrongStep } from '../../../src/machine/semantics.ts';
import { hasOpSuccess } from '../helpers.ts';
import {
  expectStandardSpend,
  fieldSecrets,
  gvmTraces,
  type Leaf,
  LONG,
  parsedLeaf,
  publicKeysOf,
  rng,
  spends,
  withDigitChanged,
  withDigitRaised,
  wotsSign,
} from './helpers.ts';

const PROGRAM: Program = buildGovernanceProgram().program;
const GROUPS = planExecGroups(PROGRAM);
/** Traced steps per opcode checked against their group (a few dozen a kind by default). */
const PER_KIND = LONG ? 400 : 12;
const TRACES = gvmTraces(PER_KIND);

const SECRETS = fieldSecrets(STEP_FIELDS, 'e9', 0, fieldBytes);
const KEYS = publicKeysOf(STEP_FIELDS, SECRETS);

function witnessOf(step: StepRecord): Uint8Array[] {
  return execLeafWitness(
    Object.fromEntries(STEP_FIELDS.map((f) => [f, wotsSign(SECRETS[f], fieldValue(step, f))])) as Record<
      StepField,
      ReturnType<typeof wotsSign>
    >,
  );
}

/** `build(k)` once per k. */
function memo(build: (k: number) => Leaf): (k: number) => Leaf {
  const made = new Map<number, Leaf>();
  return (k) => {
    let leaf = made.get(k);
    if (leaf === undefined) {
      leaf = build(k);
      made.set(k, leaf);
    }
    return leaf;
  };
}

/** Group i's leaf, and the own leaf of the position pc, parsed once each. */
const groupLeaf = memo((i) => parsedLeaf(execGroupLeaf(PROGRAM, GROUPS[i] as ExecGroup, KEYS).script));
const singleLeaf = memo((pc) =>
  parsedLeaf(execLeaf(pc, PROGRAM.instructions[pc] as Instruction, KEYS).script),
);

const show = (s: StepRecord) =>
  JSON.stringify(s, (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));

/** One field of the step changed: an address or next pc moved or made garbage, a word nudged. */
function perturbed(s: StepRecord, next: () => number): StepRecord {
  const small = (v: number) =>
    [v + 1, v === 0 ? 1 : v - 1, NONE, NONE + 1 + (next() % 1000), 0xffffffff][next() % 5] as number;
  const word = (v: bigint) =>
    [(v + 1n) % WORD_MODULUS, v ^ (1n << BigInt(next() % 256)), 0n, WORD_MODULUS - 1n][next() % 4] as bigint;
  switch (next() % 7) {
    case 0:
      return { ...s, r1: { ...s.r1, addr: small(s.r1.addr) } };
    case 1:
      return { ...s, r1: { ...s.r1, value: word(s.r1.value) } };
    case 2:
      return { ...s, r2: { ...s.r2, addr: small(s.r2.addr) } };
    case 3:
      return { ...s, r2: { ...s.r2, value: word(s.r2.value) } };
    case 4:
      return { ...s, w: { ...s.w, addr: small(s.w.addr) } };
    case 5:
      return { ...s, w: { ...s.w, value: word(s.w.value) } };
    default:
      return { ...s, nextPc: small(s.nextPc) };
  }
}

/**
 * The step judged by its own group's leaf (and its twin, and the position's own leaf, which must agree)
 * and by one other group's leaf (which must refuse it). Returns whether it was wrong.
 */
function checkStep(step: StepRecord, otherGroup: number): boolean {
  const own = execGroupOf(GROUPS, step.pc);
  if (own === undefined) throw new Error(`no group owns ${step.pc}`);
  const group = GROUPS[own] as ExecGroup;
  const items = witnessOf(step);
  const wrong = isWrongStep(step.pc, PROGRAM.instructions[step.pc] as Instruction, step);
  expect(isFaultyExecGroup(PROGRAM, group, step)).toBe(wrong);
  const byGroup = spends(groupLeaf(own), items);
  const bySingle = spends(singleLeaf(step.pc), items);
  if (byGroup !== wrong || bySingle !== wrong) {
    expect.fail(`${show(step)}: group leaf ${byGroup}, own leaf ${bySingle}, isWrongStep ${wrong}`);
  }
  if (otherGroup !== own) {
    expect(isFaultyExecGroup(PROGRAM, GROUPS[otherGroup] as ExecGroup, step)).toBe(false);
    if (spends(groupLeaf(otherGroup), items)) expect.fail(`group ${otherGroup} spent ${show(step)}`);
  }
  return wrong;
}

/** A memory where every word is a small pointer or a value, so a step at any position runs somewhere. */
const MEMORY = { read: (a: number) => (a % 3 === 0 ? BigInt(a % 1000) : (1n << 200n) + BigInt(a)) };

describe('execution groups: the plan', () => {
  it('covers every non-hash position of the program exactly once, in leaves under the bound', () => {
    const owner = new Map<number, number>();
    GROUPS.forEach((g, i) => {
      for (const pc of g.positions) {
        expect(owner.has(pc), `position ${pc} twice`).toBe(false);
        owner.set(pc, i);
        const op = (PROGRAM.instructions[pc] as Instruction).op;
        expect(g.kind === 'plain' ? op !== 'mul' && op !== 'div' : op === g.kind, `${op} in ${g.kind}`).toBe(
          true,
        );
      }
      expect([...g.positions].sort((a, b) => a - b)).toEqual(g.positions);
    });
    PROGRAM.instructions.forEach((ins, pc) => {
      expect(owner.has(pc), `${ins.op} at ${pc}`).toBe(ins.op !== 'hash');
      expect(execGroupOf(GROUPS, pc)).toBe(owner.get(pc));
    });
    const covenant = [new Uint8Array(32).fill(2), new Uint8Array(32).fill(3)];
    const withCovenant = planExecGroups(PROGRAM, { covenantKeys: covenant.length });
    let total = 0;
    for (const g of withCovenant) {
      const leaf = execGroupLeaf(PROGRAM, g, KEYS, covenant);
      expect(leaf.script.length).toBeLessThanOrEqual(EXEC_GROUP_MAX_SCRIPT_BYTES);
      total += leaf.script.length;
    }
    // The figures the docs quote: a few leaves and about 0.9 MB, against 2,121 leaves and 53.6 MB.
    console.info(
      `execution groups: ${GROUPS.length} leaves (${GROUPS.map((g) => `${g.kind} ${g.positions.length}`).join(', ')}), ${total} bytes of script with a 2-key covenant`,
    );
    expect(GROUPS.length).toBeLessThan(20);
    expect(GROUPS.filter((g) => g.kind === 'mul')).toHaveLength(1);
    expect(GROUPS.filter((g) => g.kind === 'div')).toHaveLength(1);
  });

  it('is a function of the program and the bound; a bound one leaf cannot meet is refused by name', () => {
    expect(planExecGroups(PROGRAM)).toEqual(GROUPS);
    const smaller = planExecGroups(PROGRAM, { maxScriptBytes: 100_000 });
    expect(smaller.length).toBeGreaterThan(GROUPS.length);
    for (const g of smaller) {
      expect(execGroupLeaf(PROGRAM, g, KEYS).script.length).toBeLessThanOrEqual(100_000);
    }
    expect(() => planExecGroups(PROGRAM, { maxScriptBytes: 60_000 })).toThrow(
      /the leaf for mul at \d+ alone needs \d+ bytes, over 60000/,
    );
  });

  it('refuses a group that holds a hash position, none, or the same position twice', () => {
    const hashAt = PROGRAM.instructions.findIndex((i) => i.op === 'hash');
    expect(hashAt).toBeGreaterThanOrEqual(0);
    expect(() => execGroupLeaf(PROGRAM, { kind: 'plain', positions: [hashAt] }, KEYS)).toThrow(/hash at/);
    expect(() => execGroupLeaf(PROGRAM, { kind: 'plain', positions: [] }, KEYS)).toThrow(/at least one/);
    const first = (GROUPS[0] as ExecGroup).positions[0] as number;
    expect(() => execGroupLeaf(PROGRAM, { kind: 'plain', positions: [first, first] }, KEYS)).toThrow(
      /once each/,
    );
    const mulAt = PROGRAM.instructions.findIndex((i) => i.op === 'mul');
    expect(() => execGroupLeaf(PROGRAM, { kind: 'plain', positions: [mulAt] }, KEYS)).toThrow(/mul group/);
    expect(() => execGroupLeaf(PROGRAM, { kind: 'div', positions: [mulAt] }, KEYS)).toThrow(/in a div group/);
  });
});

describe('execution groups: a group leaf spends exactly when the position’s own leaf does', () => {
  it('real traces: correct steps and one-field perturbations of every opcode, judged by their group and refused by another', () => {
    const next = rng(2024);
    let wrong = 0;
    let correct = 0;
    for (const [op, steps] of TRACES.steps) {
      if (op === 'hash') continue;
      for (const t of steps) {
        expect(PROGRAM.instructions[t.pc]).toEqual(t.ins);
        const other = next() % GROUPS.length;
        expect(checkStep(t.step, other)).toBe(false);
        correct++;
        for (let k = 0; k < 3; k++) {
          const s = perturbed(t.step, next);
          if (show(s) !== show(t.step) && checkStep(s, next() % GROUPS.length)) wrong++;
        }
      }
    }
    console.info(`execution groups on traces: ${correct} correct steps, ${wrong} wrong ones disproved`);
    expect(correct).toBeGreaterThan(100);
    expect(wrong).toBeGreaterThan(200);
  });

  it('the first and last positions of every group: a wrong next pc spends, the correct step does not', () => {
    for (const [i, g] of GROUPS.entries()) {
      for (const pc of [g.positions[0] as number, g.positions.at(-1) as number]) {
        const ins = PROGRAM.instructions[pc] as Instruction;
        const step = execute(pc, ins, MEMORY, { word: () => 7n });
        expect(checkStep(step, (i + 1) % GROUPS.length)).toBe(false);
        const wrong = { ...step, nextPc: (step.nextPc + 1) % ADDRESS_LIMIT };
        expect(checkStep(wrong, (i + 1) % GROUPS.length)).toBe(true);
      }
    }
  });

  it('a step at a hash position, past the program or at a garbage pc spends no group leaf, however wrong', () => {
    const hashAt = PROGRAM.instructions.findIndex((i) => i.op === 'hash');
    const base = execute(0, PROGRAM.instructions[0] as Instruction, MEMORY, { word: () => 7n });
    for (const pc of [hashAt, PROGRAM.instructions.length, NONE, NONE + 1, 0xffffffff]) {
      const step = { ...base, pc, nextPc: 12_345 };
      const items = witnessOf(step);
      GROUPS.forEach((g, i) => {
        expect(isFaultyExecGroup(PROGRAM, g, step)).toBe(false);
        if (spends(groupLeaf(i), items)) expect.fail(`group ${i} spent a step at pc ${pc}`);
      });
    }
  });

  it('forged digits never spend, on a correct step or a wrong one', () => {
    const next = rng(77);
    for (const [i, g] of GROUPS.entries()) {
      const pc = g.positions[next() % g.positions.length] as number;
      const step = execute(pc, PROGRAM.instructions[pc] as Instruction, MEMORY, { word: () => 7n });
      for (const s of [step, { ...step, nextPc: (step.nextPc + 1) % ADDRESS_LIMIT }]) {
        const items = witnessOf(s);
        for (const forged of [withDigitChanged(items, next), withDigitRaised(items, next)]) {
          if (spends(groupLeaf(i), forged)) expect.fail(`group ${i}: a forged witness spent at ${pc}`);
        }
      }
    }
  });

  it('the deepest branch of every group spends within tapscript limits, and no leaf holds an OP_SUCCESSx', () => {
    for (const g of GROUPS) {
      const leaf = execGroupLeaf(PROGRAM, g, KEYS);
      // BIP-342: one OP_SUCCESSx byte anywhere, even in a branch no test takes, lets anyone spend.
      expect(hasOpSuccess(leaf.script)).toBe(false);
      const pc = g.positions.at(-1) as number;
      const step = execute(pc, PROGRAM.instructions[pc] as Instruction, MEMORY, { word: () => 7n });
      expectStandardSpend(leaf.script, witnessOf({ ...step, nextPc: (step.nextPc + 1) % ADDRESS_LIMIT }));
    }
  });

  it('the spend rule of these tests applies BIP-342: an OP_SUCCESSx in an untaken branch spends', () => {
    const leaf = execGroupLeaf(PROGRAM, GROUPS[0] as ExecGroup, KEYS).script;
    // OP_0 OP_IF OP_SUCCESS187 OP_ENDIF: never executed, yet the script succeeds for any witness.
    const poisoned = new Uint8Array([...leaf.slice(0, -1), 0x00, 0x63, 0xbb, 0x68, leaf.at(-1) as number]);
    expect(hasOpSuccess(poisoned)).toBe(true);
    expect(spends(poisoned, [])).toBe(true);
  });
});
