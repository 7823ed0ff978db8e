/**
 * The execution leaf of GVM-1's `hash` instruction, run in Vigil's interpreter under tapscript rules
 * with real Winternitz keys: with steps produced by `execute` it can never be spent (honest witness,
 * forgeries from the committed signatures), and with any field perturbed it is spendable exactly when
 * its twin (`isWrongStep`) says the step is wrong; never when the committed pc is another pc. The steps
 * come from real traces (the governance program's hash steps on seeded workloads,
 * test/machine/trace-samples.ts; 64,710 distinct over the long suite's 96 workloads) and, as before, from
 * random instructions and memories. Wrong cases are counted by the twin: perturbations are drawn until
 * exactly the count were wrong (`untilWrong`), a changed pc or an unchanged value judged but not counted.
 * Counts: small here; VIGIL_LONG=1 (hash-leaf.long.test.ts) runs 10,000 traced each way
 * (VIGIL_GVM_CASES overrides) and 10,000 random ones each way (VIGIL_GVM_RANDOM).
 */
import { describe, expect, it } from 'vitest';
import {
  hashExecLeaf,
  hashExecWitness,
  isFaultyHashExec,
  type StepKeys,
  type StepSignatures,
} from '../../../circuits/gvm/hash-leaf.ts';
import { hexToBytes } from '../../../src/core/bytes.ts';
import {
  fieldBytes,
  fieldValue,
  type Instruction,
  NONE,
  type Operand,
  STEP_FIELDS,
  type StepField,
  type StepRecord,
  smallOf,
  WORD_MAX,
  wordOf,
} from '../../../src/machine/isa.ts';
import { execute } from '../../../src/machine/semantics.ts';
import {
  digitForgeries,
  expectStandardSpend,
  fieldSecrets,
  gvmCases,
  gvmRandomCases,
  gvmTraces,
  honestRunFault,
  LONG,
  publicKeysOf,
  randomBytes,
  rng,
  signFields,
  spends,
  untilWrong,
  withBitFlipped,
} from './helpers.ts';

/** Cases on random instructions and memories (long: 10,000, VIGIL_GVM_RANDOM). */
const CASES = gvmRandomCases(20);
/** Cases from real traces' hash steps (long: 10,000, VIGIL_GVM_CASES). */
const TRACED = gvmCases(20);
const LONG_TIMEOUT = LONG ? 4 * 3_600_000 : 600_000;

const SECRETS = fieldSecrets(STEP_FIELDS, '4a', 0, fieldBytes);
const KEYS: StepKeys = publicKeysOf(STEP_FIELDS, SECRETS);

const sign = (step: StepRecord): StepSignatures =>
  signFields(STEP_FIELDS, SECRETS, (f) => fieldValue(step, f));

/** Five operand shapes: two addresses, one address twice, and immediates on either side or both. */
function instruction(next: () => number, shape: number): Instruction {
  const addr = () => next() % NONE;
  const imm = (): Operand => ({ imm: wordOf(randomBytes(next, 32)) >> BigInt(next() % 256) });
  const a = addr();
  const x: Operand = shape === 2 || shape === 4 ? imm() : { mem: a };
  const y: Operand = shape === 3 || shape === 4 ? imm() : shape === 1 ? { mem: a } : { mem: addr() };
  return { op: 'hash', dst: shape === 0 ? a : addr(), x, y };
}

const PCS = [0, 7, NONE - 1];

type Case = { pc: number; ins: Instruction; leaf: Uint8Array };
const leafCache = new Map<string, Case>();
function caseFor(next: () => number, c: number): Case {
  // Few distinct leaves (building one costs more than running it): 5 shapes × 3 pcs, 2 draws each
  // (20 in the long run).
  const key = `${c % 5}/${c % 3}/${Math.floor(c / 15) % (LONG ? 20 : 2)}`;
  let k = leafCache.get(key);
  if (k === undefined) {
    const pc = PCS[c % 3] as number;
    const ins = instruction(next, c % 5);
    k = { pc, ins, leaf: hashExecLeaf(pc, ins, KEYS).script };
    leafCache.set(key, k);
  }
  return k;
}

function honestStep(next: () => number, k: Case): StepRecord {
  const words = new Map<number, bigint>();
  const mem = {
    read: (a: number) => {
      let v = words.get(a);
      if (v === undefined) {
        v = next() % 7 === 0 ? 0n : wordOf(randomBytes(next, 32));
        words.set(a, v);
      }
      return v;
    },
  };
  return execute(k.pc, k.ins, mem, { word: () => 0n });
}

/** The governance program's hash steps, each with its pc's leaf (built once: a trace has few pcs). */
const traceLeaves = new Map<number, Case>();
const TRACED_STEPS: Sample[] = (gvmTraces(TRACED).steps.get('hash') ?? []).map(({ pc, ins, step }) => {
  let k = traceLeaves.get(pc);
  if (k === undefined) {
    k = { pc, ins, leaf: hashExecLeaf(pc, ins, KEYS).script };
    traceLeaves.set(pc, k);
  }
  return { k, step };
});

/** The step with one field replaced by `bytes`. */
function withField(step: StepRecord, f: StepField, bytes: Uint8Array): StepRecord {
  const n = () => smallOf(bytes);
  const v = () => wordOf(bytes);
  switch (f) {
    case 'pc':
      return { ...step, pc: n() };
    case 'r1addr':
      return { ...step, r1: { ...step.r1, addr: n() } };
    case 'r1value':
      return { ...step, r1: { ...step.r1, value: v() } };
    case 'r2addr':
      return { ...step, r2: { ...step.r2, addr: n() } };
    case 'r2value':
      return { ...step, r2: { ...step.r2, value: v() } };
    case 'waddr':
      return { ...step, w: { ...step.w, addr: n() } };
    case 'wvalue':
      return { ...step, w: { ...step.w, value: v() } };
    case 'nextPc':
      return { ...step, nextPc: n() };
  }
}

/** A changed value of `bytes.length` bytes: one bit flipped, random, or an edge. */
function perturbed(next: () => number, bytes: Uint8Array, kind: number): Uint8Array {
  if (kind === 0) return withBitFlipped(next, bytes);
  if (kind === 1) return randomBytes(next, bytes.length);
  const edges =
    bytes.length === 4
      ? [Uint8Array.of(0, 0, 0, 0), Uint8Array.of(0x20, 0, 0, 0), Uint8Array.of(0xff, 0xff, 0xff, 0xff)]
      : [new Uint8Array(32), hexToBytes(WORD_MAX.toString(16)), hexToBytes(`01${'00'.repeat(31)}`)];
  return edges[next() % edges.length] as Uint8Array;
}

type Sample = { k: Case; step: StepRecord };

/** Honest witness run to the end (false left), and six forgeries from its signatures, per case. */
function checkCorrect(next: () => number, cases: number, source: (c: number) => Sample): void {
  let runs = 0;
  for (let c = 0; c < cases; c++) {
    const { k, step } = source(c);
    expect(isFaultyHashExec(k.pc, k.ins, step)).toBe(false);
    const sigs = sign(step);
    const fault = honestRunFault(k.leaf, hashExecWitness(sigs));
    if (fault !== undefined) expect.fail(`case ${c}: honest run ${fault}`);
    const witnesses = [
      ...digitForgeries(hashExecWitness(sigs), next),
      // Same-size values swapped (each signature under the other's key).
      hashExecWitness({ ...sigs, r1value: sigs.r2value, r2value: sigs.r1value }),
      hashExecWitness({ ...sigs, wvalue: sigs.r1value, r1value: sigs.wvalue }),
      hashExecWitness({ ...sigs, pc: sigs.nextPc, nextPc: sigs.pc }),
      hashExecWitness({ ...sigs, waddr: sigs.r1addr, r1addr: sigs.waddr }),
    ];
    for (const w of witnesses) {
      runs++;
      if (spends(k.leaf, w)) expect.fail(`case ${c}: a correct step was disproved`);
    }
  }
  expect(runs).toBe(cases * 6);
}

/**
 * One field perturbed per draw, each in turn, until `cases` draws were wrong (a changed pc, or a value
 * left as it was, is no wrong step: judged all the same, not counted): the leaf spends exactly when
 * isWrongStep says.
 */
function checkWrong(next: () => number, cases: number, source: (c: number) => Sample): void {
  let otherPc = 0;
  const { draws } = untilWrong(cases, (c) => {
    const { k, step } = source(c);
    const f = STEP_FIELDS[(c + Math.floor(c / 15)) % STEP_FIELDS.length] as StepField;
    const old = fieldValue(step, f);
    const bytes = perturbed(next, old, next() % 3);
    const bad = withField(step, f, bytes);
    const faulty = isFaultyHashExec(k.pc, k.ins, bad);
    const changed = !bytes.every((b, i) => b === old[i]);
    // Any change but the pc's makes the step wrong; a changed pc makes it another leaf's business.
    expect(faulty).toBe(changed && f !== 'pc');
    if (f === 'pc' && changed) otherPc++;
    const ok = spends(k.leaf, hashExecWitness(sign(bad)));
    if (ok !== faulty) expect.fail(`case ${c} (${f}): leaf ${ok} but isWrongStep ${faulty}`);
    return faulty;
  });
  if (draws >= 8) expect(otherPc).toBeGreaterThan(0);
}

describe('GVM-1 hash execution leaf (8 committed step fields, BLAKE3 of two words)', () => {
  it('every operand shape is a standard-size leaf with a bounded stack', () => {
    const next = rng(11);
    for (let shape = 0; shape < 5; shape++) {
      const k = caseFor(next, shape);
      const step = { ...honestStep(next, k) };
      const wrong = withField(step, 'wvalue', perturbed(next, fieldValue(step, 'wvalue'), 0));
      const items = hashExecWitness(sign(wrong));
      expectStandardSpend(k.leaf, items);
    }
  });

  it(
    `real traces: a hash step of the governance program cannot be disproved: ${TRACED} cases, honest witness and forgeries`,
    () => {
      expect(TRACED_STEPS.length).toBe(TRACED);
      checkCorrect(rng(2027), TRACED, (c) => TRACED_STEPS[c] as Sample);
    },
    LONG_TIMEOUT,
  );

  it(
    `real traces: a hash step with a field perturbed is disproved exactly when isWrongStep says so: ${TRACED} wrong cases`,
    () => {
      checkWrong(rng(4053), TRACED, (c) => TRACED_STEPS[c % TRACED_STEPS.length] as Sample);
    },
    LONG_TIMEOUT,
  );

  it(
    `a random step produced by execute cannot be disproved: ${CASES} cases, honest witness and forgeries`,
    () => {
      const next = rng(2026);
      checkCorrect(next, CASES, (c) => {
        const k = caseFor(next, c);
        return { k, step: honestStep(next, k) };
      });
    },
    LONG_TIMEOUT,
  );

  it(
    `a random step with a field perturbed is disproved exactly when isWrongStep says so: ${CASES} wrong cases`,
    () => {
      const next = rng(4052);
      checkWrong(next, CASES, (c) => {
        const k = caseFor(next, c);
        return { k, step: honestStep(next, k) };
      });
    },
    LONG_TIMEOUT,
  );

  it('judges the consistency rules: an immediate slot must be (NONE, 0); one address read twice agrees', () => {
    const next = rng(77);
    const cases: [Case, (s: StepRecord) => StepRecord, boolean][] = [];
    const same = caseFor(next, 1); // x and y read the same address
    cases.push([same, (s) => ({ ...s, r2: { ...s.r2, value: s.r2.value ^ 1n } }), true]);
    const immX = caseFor(next, 2);
    cases.push([immX, (s) => ({ ...s, r1: { addr: NONE, value: 1n } }), true]);
    cases.push([immX, (s) => ({ ...s, r1: { addr: 5, value: 0n } }), true]);
    cases.push([immX, (s) => s, false]);
    for (const [k, change, want] of cases) {
      const bad = change(honestStep(next, k));
      expect(isFaultyHashExec(k.pc, k.ins, bad)).toBe(want);
      expect(spends(k.leaf, hashExecWitness(sign(bad)))).toBe(want);
    }
  }, 120_000);

  it('refuses other instructions and keys of the wrong size', () => {
    const ins: Instruction = { op: 'add', dst: 1, x: { mem: 2 }, y: { mem: 3 } };
    expect(() => hashExecLeaf(0, ins, KEYS)).toThrow(RangeError);
    const hash: Instruction = { op: 'hash', dst: 1, x: { mem: 2 }, y: { mem: 3 } };
    expect(() => hashExecLeaf(0, hash, { ...KEYS, pc: KEYS.r1value })).toThrow(RangeError);
    expect(() => hashExecLeaf(0, { ...hash, x: { mem: NONE } }, KEYS)).toThrow(RangeError);
  });
});
