/**
 * GVM-1's execution disprove leaves (every opcode but hash), run in Vigil's interpreter under tapscript
 * rules with real Winternitz keys and signatures for the 8 committed fields: a leaf is spendable exactly
 * when `isWrongStep` says the committed step is wrong. Correct steps come first from real traces (the
 * governance program on seeded random workloads, test/machine/trace-samples.ts: distinct step records
 * only), topped up with random steps where the traces hold too few (below); then, as before, from random
 * instructions and memories run by `execute`. Each correct step runs its honest witness and all three
 * forgeries (a digit changed, a digit raised, the record signed for another pc): none may spend. Wrong
 * steps perturb one field of a correct step at a time (addresses, values, next pc, garbage u32s above
 * 2^29, word edges); perturbations are drawn until exactly the configured count were wrong by
 * `isWrongStep` (`untilWrong`: at most 20 draws per case), the leaf agreeing with the twin on every draw.
 *
 * Too few distinct traced steps. Over the long suite's 96 traces (12,645,805 steps) six opcodes have
 * fewer than 10,000 distinct step records: halt 96 (one per run), jmp 139 (a jmp's record is fixed by its
 * pc: the program has 157 jmps), jnz 718 and jz 5,124 (their records differ only in the word tested),
 * mul 3,542 and mov 3,582 (rare in the program: 44,796 and 79,053 steps run); div has 12,927, sub
 * 14,035, the others more. So of the long suite's 10,000 correct steps per opcode, halt takes 9,904 from
 * random top-ups, jmp 9,861, jnz 9,282, mul 6,458, mov 6,418 and jz 4,876; its 10,000 wrong ones perturb
 * traced steps first (about 6 wrong perturbations a step), so only halt, jmp and jnz perturb top-ups too.
 * The test prints each split. A top-up is a real step of its opcode: a random instruction of that opcode
 * at a random pc, on a memory and tape set up to reach its edges (colliding addresses, word edges, zero
 * divisors, pointers and tape positions at and past their limits), run by `execute`, the machine's own
 * step function, so its record is exactly the one the machine makes for that instruction; it is only not
 * an instruction the governance program holds. Counts come from `process.env.VIGIL_LONG`
 * (exec-leaf.long.test.ts and exec-leaf-2.long.test.ts split the opcodes).
 */
import { describe, expect, it } from 'vitest';
import {
  EXEC_OPCODES,
  type ExecOpcode,
  execJudgement,
  execLeaf,
  execLeafWitness,
} from '../../../circuits/gvm/exec-leaf.ts';
import { clampSmall } from '../../../circuits/gvm/small-value.ts';
import { toLimbs, UINT256_LIMBS } from '../../../circuits/limbs.ts';
import { tapscriptWitnessWeight } from '../../../circuits/wots-values.ts';
import { CONSENSUS_FLAGS } from '../../../src/bitcoin/script/flags.ts';
import { runScript } from '../../../src/bitcoin/script/interpreter.ts';
import { castToBool, encodeScriptNum } from '../../../src/bitcoin/script/num.ts';
import { bytesToHex } from '../../../src/core/bytes.ts';
import type { WotsPublicKey, WotsSecretKey } from '../../../src/dispute/winternitz/keys.ts';
import { type WotsSignature, wotsSign as wotsSignReference } from '../../../src/dispute/winternitz/sign.ts';
import {
  ADDRESS_LIMIT,
  fieldBytes,
  fieldValue,
  type Instruction,
  NONE,
  type Operand,
  STEP_FIELDS,
  type StepField,
  type StepRecord,
  TAPE_LIMIT,
  WORD_MAX,
  WORD_MODULUS,
} from '../../../src/machine/isa.ts';
import { execute, isWrongStep, type Memory } from '../../../src/machine/semantics.ts';
import type { TraceStep } from '../../machine/trace-samples.ts';
import {
  fieldSecrets,
  gvmTraces,
  type Leaf,
  LONG,
  measure,
  parsedLeaf,
  publicKeysOf,
  rng,
  spends,
  untilWrong,
  withDigitChanged,
  withDigitRaised,
  wotsSign,
} from './helpers.ts';

/**
 * Cases per opcode (correct ones, and wrong ones counted by the twin), from real traces topped up with
 * random steps: 10,000 each in the long suite (VIGIL_EXEC_CASES / VIGIL_EXEC_WRONG override). Then the
 * random-machine cases of before (VIGIL_EXEC_RANDOM / VIGIL_EXEC_RANDOM_WRONG; 10,000 each in the long
 * suite). In the default suite the product leaves (mul, div, ~4× slower) get a third, and correct steps
 * are 10 (from 15, since each now runs all three forgeries: the file's time stays about the same).
 */
const CORRECT = Number(process.env.VIGIL_EXEC_CASES ?? (LONG ? 10_000 : 10));
const WRONG = Number(process.env.VIGIL_EXEC_WRONG ?? (LONG ? 10_000 : 42));
const RANDOM_CORRECT = Number(process.env.VIGIL_EXEC_RANDOM ?? (LONG ? 10_000 : 10));
const RANDOM_WRONG = Number(process.env.VIGIL_EXEC_RANDOM_WRONG ?? (LONG ? 10_000 : 42));
/** Per test: a full-count run of one opcode takes well over an hour on a loaded 2-core machine. */
const TIMEOUT = LONG ? 6 * 3_600_000 : 300_000;
const share = (op: ExecOpcode, n: number) =>
  !LONG && (op === 'mul' || op === 'div') ? Math.max(3, Math.ceil(n / 3)) : n;

/**
 * `VIGIL_GVM_PART=k/n` runs the k-th of n interleaved shares of the opcodes (1-based), so that n
 * processes can split a long run over the cores; unset, every opcode.
 */
function part<T>(xs: readonly T[]): T[] {
  const m = /^(\d+)\/(\d+)$/.exec(process.env.VIGIL_GVM_PART ?? '');
  if (m === null) return xs.slice();
  const k = Number(m[1]);
  const n = Number(m[2]);
  return xs.filter((_, i) => i % n === k - 1);
}
const OPCODES = part(EXEC_OPCODES);

type Next = () => number;

// ---- Keys and signatures ----

type KeySet = { secrets: Record<StepField, WotsSecretKey>; keys: Record<StepField, WotsPublicKey> };

/** One Winternitz key per committed field, sized to it, as a graph derives them. */
function keySet(instance: number): KeySet {
  const secrets = fieldSecrets(STEP_FIELDS, 'e8', instance, fieldBytes);
  return { secrets, keys: publicKeysOf(STEP_FIELDS, secrets) };
}

const SETS = [keySet(0), keySet(1)];
const signatures = new Map<string, WotsSignature>();

/** The 8 signatures of a step (cached: perturbations re-sign one field only). */
function witnessOf(set: number, step: StepRecord): Uint8Array[] {
  const k = SETS[set] as KeySet;
  if (signatures.size > 20_000) signatures.clear();
  const sigs = {} as Record<StepField, WotsSignature>;
  for (const field of STEP_FIELDS) {
    const bytes = fieldValue(step, field);
    const id = `${set}:${field}:${bytesToHex(bytes)}`;
    let s = signatures.get(id);
    if (s === undefined) {
      s = wotsSign(k.secrets[field], bytes);
      signatures.set(id, s);
    }
    sigs[field] = s;
  }
  return execLeafWitness(sigs);
}

// ---- Random machines ----

const ADDRESS_EDGES = [0, 1, 2, 3, 7, ADDRESS_LIMIT - 1, ADDRESS_LIMIT - 2];

/** An address; a small pool most of the time, so operands collide (same address, e = ptr). */
function address(next: Next): number {
  const r = next() % 8;
  if (r < 5) return ADDRESS_EDGES[next() % ADDRESS_EDGES.length] as number;
  return next() % ADDRESS_LIMIT;
}

const WORD_EDGES = [
  0n,
  1n,
  2n,
  WORD_MAX,
  WORD_MAX - 1n,
  1n << 255n,
  (1n << 255n) - 1n,
  1n << 29n,
  (1n << 29n) - 1n,
  1n << 232n,
  WORD_MODULUS - (1n << 29n),
];

/** A word of random bit length, or an edge. */
function word(next: Next): bigint {
  if (next() % 6 === 0) return WORD_EDGES[next() % WORD_EDGES.length] as bigint;
  const bits = next() % 257;
  let x = 0n;
  for (let i = 0; i < 8; i++) x = (x << 32n) | BigInt(next());
  return bits === 256 ? x : x & ((1n << BigInt(bits)) - 1n);
}

const operand = (next: Next): Operand => (next() % 2 === 0 ? { mem: address(next) } : { imm: word(next) });

/** A memory answering from `set` first, else with random words it then remembers. */
function memory(next: Next, set: Map<number, bigint>): Memory {
  return {
    read(a) {
      let v = set.get(a);
      if (v === undefined) {
        v = word(next);
        set.set(a, v);
      }
      return v;
    },
  };
}

/** A pointer value for load/store: in range (sometimes e = ptr, sometimes the last address) or faulting. */
function pointer(next: Next, ptr: number, offset: number, mode: number): bigint {
  switch (mode % 6) {
    case 0:
      return BigInt(next() % (ADDRESS_LIMIT - offset));
    case 1:
      return ptr >= offset ? BigInt(ptr - offset) : 0n;
    case 2:
      return BigInt(ADDRESS_LIMIT - 1 - offset);
    case 3:
      return BigInt(ADDRESS_LIMIT - offset); // e = 2^29: the first faulting address
    case 4:
      return word(next) | (1n << BigInt(29 + (next() % 227)));
    default:
      return [WORD_MAX, 1n << 29n, (1n << 256n) - BigInt(offset + 1)][next() % 3] as bigint;
  }
}

/** A random instruction of `op` at a random pc, with a memory set up to exercise its cases. */
function machine(op: ExecOpcode, c: number, next: Next): { pc: number; ins: Instruction; mem: Memory } {
  const pc = c % 11 === 5 ? ADDRESS_LIMIT - 1 : next() % ADDRESS_LIMIT;
  const set = new Map<number, bigint>();
  const mem = memory(next, set);
  let ins: Instruction;
  switch (op) {
    case 'mov':
      ins = { op, dst: address(next), x: operand(next) };
      break;
    case 'load':
    case 'store': {
      const ptr = address(next);
      const offset = [0, 1, 5, ADDRESS_LIMIT - 1, next() % ADDRESS_LIMIT][next() % 5] as number;
      set.set(ptr, pointer(next, ptr, offset, c));
      ins = op === 'load' ? { op, dst: address(next), ptr, offset } : { op, ptr, offset, x: operand(next) };
      break;
    }
    case 'tape': {
      const pos = address(next);
      const edges = [0n, 1n << 29n, BigInt(TAPE_LIMIT - 1), BigInt(TAPE_LIMIT), WORD_MAX];
      const p =
        c % 3 === 0
          ? (edges[next() % edges.length] as bigint)
          : c % 3 === 1
            ? BigInt(next() % TAPE_LIMIT)
            : word(next);
      set.set(pos, p);
      ins = { op, dst: address(next), pos };
      break;
    }
    case 'jmp':
      ins = { op, target: address(next) };
      break;
    case 'jz':
    case 'jnz': {
      const x = address(next);
      if (c % 2 === 0) set.set(x, 0n);
      ins = { op, x, target: address(next) };
      break;
    }
    case 'halt':
      ins = { op, result: address(next) };
      break;
    default: {
      const x = operand(next);
      // One in four: the same operand twice (same address, or the same immediate).
      const y = c % 4 === 0 ? x : operand(next);
      // div: a zero divisor one in five.
      if (op === 'div' && c % 5 === 1) {
        if ('mem' in y) set.set(y.mem, 0n);
        ins = { op, dst: address(next), x, y: 'mem' in y ? y : { imm: 0n } };
      } else ins = { op, dst: address(next), x, y };
    }
  }
  return { pc, ins, mem };
}

const tapeOf = (next: Next) => ({ word: () => word(next) });

// ---- Wrong steps ----

const PERTURBED = ['r1addr', 'r1value', 'r2addr', 'r2value', 'waddr', 'wvalue', 'nextPc'] as const;
type Perturbed = (typeof PERTURBED)[number];

const GARBAGE = [NONE + 1, 0xffffffff, 0x80000000, 0x3fffffff, 0xf0000000, NONE * 2];

function smallChanged(v: number, next: Next): number {
  switch (next() % 7) {
    case 0:
      return v === 0xffffffff ? 0 : v + 1;
    case 1:
      return v === 0 ? 1 : v - 1;
    case 2:
      return v === NONE ? 0 : NONE;
    case 3:
      return GARBAGE[next() % GARBAGE.length] as number;
    case 4:
      return NONE + 1 + (next() % (0xffffffff - NONE));
    case 5:
      return v ^ (1 << (next() % 29));
    default:
      return address(next);
  }
}

function wordChanged(v: bigint, next: Next): bigint {
  const wrap = (x: bigint) => ((x % WORD_MODULUS) + WORD_MODULUS) % WORD_MODULUS;
  switch (next() % 7) {
    case 0:
      return wrap(v + 1n);
    case 1:
      return wrap(v - 1n);
    case 2:
      return v ^ (1n << BigInt(next() % 256));
    case 3:
      return WORD_EDGES[next() % WORD_EDGES.length] as bigint;
    case 4:
      return wrap(v + (1n << 29n));
    case 5:
      return v ^ (1n << BigInt(232 + (next() % 24)));
    default:
      return word(next);
  }
}

/** The step with one field changed (possibly to the same value; the caller skips those). */
function perturbed(s: StepRecord, field: Perturbed, next: Next): StepRecord {
  switch (field) {
    case 'r1addr':
      return { ...s, r1: { ...s.r1, addr: smallChanged(s.r1.addr, next) } };
    case 'r1value':
      return { ...s, r1: { ...s.r1, value: wordChanged(s.r1.value, next) } };
    case 'r2addr':
      return { ...s, r2: { ...s.r2, addr: smallChanged(s.r2.addr, next) } };
    case 'r2value':
      return { ...s, r2: { ...s.r2, value: wordChanged(s.r2.value, next) } };
    case 'waddr':
      return { ...s, w: { ...s.w, addr: smallChanged(s.w.addr, next) } };
    case 'wvalue':
      return { ...s, w: { ...s.w, value: wordChanged(s.w.value, next) } };
    case 'nextPc':
      return { ...s, nextPc: smallChanged(s.nextPc, next) };
  }
}

const show = (s: StepRecord) =>
  JSON.stringify(s, (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));

// ---- Where the cases come from ----

/** A correct step to judge: its pc and instruction, the record `execute` made, and its origin. */
type Case = { pc: number; ins: Instruction; step: StepRecord; traced: boolean };

/** Real traces' steps by opcode (sampled once per file; the printed counts say how many each got). */
const TRACES = gvmTraces(Math.max(CORRECT, Math.ceil(WRONG / 4)));

/** Case c of `op`: the c-th traced step while the traces have one, else a random one (a top-up). */
function caseOf(op: ExecOpcode, traced: readonly TraceStep[], c: number, next: Next): Case {
  const t = traced[c];
  if (t !== undefined) return { pc: t.pc, ins: t.ins, step: t.step, traced: true };
  const { pc, ins, mem } = machine(op, c, next);
  return { pc, ins, step: execute(pc, ins, mem, tapeOf(next)), traced: false };
}

/**
 * A case's leaf under key set `set`, parsed once. Traced steps share their program's few pcs, so their
 * leaves are kept (keyed by set and pc: one program, one instruction a pc); random ones are built anew.
 */
const tracedLeaves = new Map<string, Leaf>();
function leafOf(set: number, k: Case): Leaf {
  const build = () => parsedLeaf(execLeaf(k.pc, k.ins, (SETS[set] as KeySet).keys).script);
  if (!k.traced) return build();
  const id = `${set}:${k.pc}`;
  let leaf = tracedLeaves.get(id);
  if (leaf === undefined) {
    leaf = build();
    tracedLeaves.set(id, leaf);
  }
  return leaf;
}

/** The opcode's own seed. */
const SEEDS: Record<ExecOpcode, number> = Object.fromEntries(
  EXEC_OPCODES.map((op, i) => [op, 10 + i]),
) as Record<ExecOpcode, number>;

/**
 * `cases` correct steps (from `source`), each with its honest witness run to the end of the leaf (false
 * left: it fails on the judgement, not before) and all three forgeries: a digit changed, a digit raised,
 * the whole record signed for another pc (another leaf's step, or, every other case, a garbage pc above
 * 2^29).
 */
function checkCorrect(cases: number, next: Next, source: (c: number) => Case): { traced: number } {
  let traced = 0;
  let forged = 0;
  for (let c = 0; c < cases; c++) {
    const set = c % SETS.length;
    const k = source(c);
    if (k.traced) traced++;
    const { pc, ins, step } = k;
    const leaf = leafOf(set, k);
    expect(isWrongStep(pc, ins, step)).toBe(false);
    const honest = witnessOf(set, step);
    const r = runScript(leaf, { stack: honest, flags: CONSENSUS_FLAGS });
    if (r.error !== 'OK' || r.stack.length !== 1 || castToBool(r.stack[0] as Uint8Array)) {
      expect.fail(`case ${c} ${show(step)}: honest run ${r.error}, ${r.stack.length} items`);
    }
    const otherPc = c % 2 === 1 ? NONE + 1 + (next() % 1000) : (pc + 1 + (next() % 1000)) % ADDRESS_LIMIT;
    const forgeries = [
      withDigitChanged(honest, next),
      withDigitRaised(honest, next),
      witnessOf(set, { ...step, pc: otherPc }),
    ];
    for (const [i, forgery] of forgeries.entries()) {
      if (spends(leaf, forgery)) expect.fail(`case ${c} forgery ${i} spent ${show(step)}`);
      forged++;
    }
  }
  expect(forged).toBe(3 * cases);
  return { traced };
}

/** Each correct step from `source` in turn, with each field to perturb in turn. */
function* perturbations(
  source: (c: number) => Case,
): Generator<{ c: number; set: number; k: Case; leaf: Leaf; field: Perturbed }, never> {
  for (let c = 0; ; c++) {
    const set = c % SETS.length;
    const k = source(c);
    const leaf = leafOf(set, k);
    for (const field of PERTURBED) yield { c, set, k, leaf, field };
  }
}

/**
 * Perturbations of correct steps (from `source`, each field in turn; one base step in four the next-pc
 * perturbation is also signed for another pc) until `cases` of them were wrong: the leaf spends exactly
 * when `isWrongStep` says, on every one drawn (one that left the step correct, e.g. another read value
 * under lt or eq with the same result, is judged too but not counted; one that changed nothing is not
 * run).
 */
function checkWrong(
  op: ExecOpcode,
  cases: number,
  next: Next,
  source: (c: number) => Case,
  pinnedFrom: number,
): { traced: number; bases: number; draws: number } {
  const wrongBy = new Map<Perturbed, number>();
  let otherPc = 0;
  let traced = 0;
  let bases = 0;
  const drawn = perturbations(source);
  const { draws } = untilWrong(cases, () => {
    const { c, set, k, leaf, field } = drawn.next().value;
    bases = c + 1;
    const { pc, ins, step } = k;
    let s = perturbed(step, field, next);
    if (show(s) === show(step)) return false;
    if (c % 4 === 3 && field === 'nextPc') {
      s = { ...s, pc: (pc + 1) % ADDRESS_LIMIT };
      otherPc++;
    }
    const wrong = isWrongStep(pc, ins, s);
    const spent = spends(leaf, witnessOf(set, s));
    if (spent !== wrong) expect.fail(`case ${c} ${field} ${show(s)}: leaf ${spent}, isWrongStep ${wrong}`);
    if (wrong) {
      wrongBy.set(field, (wrongBy.get(field) ?? 0) + 1);
      if (k.traced) traced++;
    }
    return wrong;
  });
  // Every field a step of this opcode pins was caught wrong at least once (given enough cases: a traced
  // lt or eq step often stays correct with another read value, as the result does not change).
  if (cases >= pinnedFrom) {
    const pinned: Perturbed[] = ['r1addr', 'r2addr', 'waddr', 'nextPc', 'r2value'];
    if (op !== 'tape') pinned.push('wvalue');
    for (const field of pinned) expect(wrongBy.get(field) ?? 0, field).toBeGreaterThan(0);
    expect(otherPc).toBeGreaterThan(0);
  }
  expect([...wrongBy.values()].reduce((a, b) => a + b, 0)).toBe(cases);
  return { traced, bases, draws };
}

// ---- The tests ----

describe('GVM-1 execution leaves: the traces sampled, the fast paths checked', () => {
  it('real traces hold steps of every opcode the program uses; the counts per opcode', () => {
    const seen = EXEC_OPCODES.map(
      (op) => `${op} ${TRACES.seen.get(op) ?? 0} (${TRACES.distinct.get(op) ?? 0} distinct)`,
    ).join(', ');
    console.info(
      `exec leaves: ${TRACES.traces} traces, ${TRACES.totalSteps} steps; steps per opcode: ${seen}; ` +
        `cases per opcode from traces: correct ${CORRECT}, wrong ${WRONG} (the rest random top-ups)`,
    );
    expect(TRACES.totalSteps).toBeGreaterThan(10_000);
    // The program's arithmetic, memory and control flow all appear; halt once a trace.
    for (const op of [
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
      'jz',
      'jnz',
      'jmp',
    ] as const) {
      expect(TRACES.seen.get(op) ?? 0, op).toBeGreaterThan(0);
    }
  });

  it("the tests' table signer signs exactly as wotsSign", () => {
    const next = rng(77);
    const k = SETS[1] as KeySet;
    for (const field of STEP_FIELDS) {
      for (let i = 0; i < 4; i++) {
        const bytes = Uint8Array.from({ length: fieldBytes(field) }, () => next() & 0xff);
        expect(wotsSign(k.secrets[field], bytes)).toEqual(wotsSignReference(k.secrets[field], bytes));
      }
    }
  });
});

describe.each(OPCODES)('GVM-1 execution leaf: %s', (op) => {
  const traced = TRACES.steps.get(op) ?? [];
  const correctCases = share(op, CORRECT);
  const wrongCases = share(op, WRONG);

  it('is a standard-size leaf with a bounded stack, spendable on a wrong step', () => {
    const next = rng(SEEDS[op]);
    const { pc, ins, mem } = machine(op, 0, next);
    const leaf = execLeaf(pc, ins, (SETS[0] as KeySet).keys);
    const step = execute(pc, ins, mem, tapeOf(next));
    const wrong = { ...step, nextPc: step.nextPc === 3 ? 4 : 3 };
    const items = witnessOf(0, wrong);
    const r = measure(leaf.script, items);
    expect(r.error).toBe('OK');
    expect(r.left).toBe(1);
    expect(items.length).toBe(2 * (5 * 10 + 3 * 67));
    expect(r.max).toBeLessThanOrEqual(1_000);
    expect(tapscriptWitnessWeight(items, leaf.script, 8)).toBeLessThan(400_000);
  });

  it(
    `real traces: a correct step cannot be disproved: ${correctCases} cases (random top-ups past the traced), honest witness and forgeries`,
    () => {
      const next = rng(400 * SEEDS[op]);
      const { traced: n } = checkCorrect(correctCases, next, (c) => caseOf(op, traced, c, next));
      console.info(`exec ${op} correct: ${n} traced steps, ${correctCases - n} random top-ups`);
      expect(n).toBe(Math.min(correctCases, traced.length));
    },
    TIMEOUT,
  );

  it(
    `real traces: a wrong step is disproved, and only then: ${wrongCases} wrong perturbations of traced steps (random top-ups past them)`,
    () => {
      const next = rng(500 * SEEDS[op]);
      // The traced steps taken from the back, so the wrong cases mostly perturb other steps than the correct ones.
      const back = traced.slice().reverse();
      const {
        traced: n,
        bases,
        draws,
      } = checkWrong(op, wrongCases, next, (c) => caseOf(op, back, c, next), 300);
      console.info(
        `exec ${op} wrong: ${n} wrong perturbations of traced steps, ${wrongCases - n} of random top-ups ` +
          `(${draws} drawn over ${bases} steps)`,
      );
    },
    TIMEOUT,
  );

  it(
    `random machines: a correct step cannot be disproved: ${share(op, RANDOM_CORRECT)} cases, honest witness and forgeries`,
    () => {
      const next = rng(100 * SEEDS[op]);
      checkCorrect(share(op, RANDOM_CORRECT), next, (c) => caseOf(op, [], c, next));
    },
    TIMEOUT,
  );

  it(
    `random machines: a wrong step is disproved, and only then: ${share(op, RANDOM_WRONG)} wrong perturbations of correct steps`,
    () => {
      const next = rng(200 * SEEDS[op]);
      checkWrong(op, share(op, RANDOM_WRONG), next, (c) => caseOf(op, [], c, next), 30);
    },
    TIMEOUT,
  );
});

/** The judgement's input for a step: [a1 R1 a2 R2 wa W np], small fields as the transform reads them. */
function judgementStack(s: StepRecord): Uint8Array[] {
  const word = (v: bigint) => toLimbs(v, UINT256_LIMBS).reverse();
  const small = (n: number) => [clampSmall(n)];
  return [
    ...small(s.r1.addr),
    ...word(s.r1.value),
    ...small(s.r2.addr),
    ...word(s.r2.value),
    ...small(s.w.addr),
    ...word(s.w.value),
    ...small(s.nextPc),
  ].map((n) => encodeScriptNum(n));
}

/** The judgement alone (no Winternitz: ~50× faster), on many more perturbations per opcode. */
const JUDGED = Number(process.env.VIGIL_EXEC_JUDGED ?? (LONG ? 20_000 : 600));

describe.each(OPCODES)('GVM-1 execution judgement alone: %s', (op) => {
  it(
    `agrees with isWrongStep on ${share(op, JUDGED)} correct steps and their perturbations`,
    () => {
      const next = rng(300 * SEEDS[op]);
      let wrong = 0;
      for (let c = 0; c < share(op, JUDGED); c++) {
        const { pc, ins, mem } = machine(op, c, next);
        const script = execJudgement(pc, ins).script;
        const step = execute(pc, ins, mem, tapeOf(next));
        for (const s of [step, perturbed(step, PERTURBED[c % PERTURBED.length] as Perturbed, next)]) {
          const r = runScript(script, { stack: judgementStack(s), flags: CONSENSUS_FLAGS });
          const expected = isWrongStep(pc, ins, s);
          if (r.error !== 'OK' || r.stack.length !== 1) expect.fail(`case ${c} ${show(s)}: ${r.error}`);
          if (castToBool(r.stack[0] as Uint8Array) !== expected)
            expect.fail(`case ${c} ${show(s)}: not ${expected}`);
          if (expected) wrong++;
        }
      }
      expect(wrong).toBeGreaterThan(0);
    },
    TIMEOUT,
  );
});

describe('GVM-1 execution leaves: edges', () => {
  const k = SETS[0] as KeySet;
  const pc = 1234;
  const at = (ins: Instruction, step: StepRecord) => {
    const leaf = execLeaf(pc, ins, k.keys).script;
    const spent = spends(leaf, witnessOf(0, step));
    expect(spent, show(step)).toBe(isWrongStep(pc, ins, step));
    return spent;
  };
  const none = { addr: NONE, value: 0n };

  it('add, sub and mul wrap mod 2^256; div by zero is 0; lt and eq are 0/1', () => {
    const x = { mem: 10 };
    const y = { mem: 11 };
    const run = (op: 'add' | 'sub' | 'mul' | 'div' | 'lt' | 'eq', a: bigint, b: bigint, w: bigint) =>
      at(
        { op, dst: 12, x, y },
        {
          pc,
          r1: { addr: 10, value: a },
          r2: { addr: 11, value: b },
          w: { addr: 12, value: w },
          nextPc: pc + 1,
        },
      );
    expect(run('add', WORD_MAX, 2n, 1n)).toBe(false);
    expect(run('add', WORD_MAX, 2n, WORD_MAX)).toBe(true);
    expect(run('sub', 0n, 1n, WORD_MAX)).toBe(false);
    expect(run('sub', 0n, 1n, 0n)).toBe(true);
    expect(run('mul', WORD_MAX, WORD_MAX, 1n)).toBe(false);
    expect(run('mul', 1n << 255n, 2n, 0n)).toBe(false);
    expect(run('mul', 1n << 255n, 2n, (1n << 256n) >> 1n)).toBe(true);
    expect(run('div', WORD_MAX, 0n, 0n)).toBe(false);
    expect(run('div', WORD_MAX, 0n, WORD_MAX)).toBe(true);
    expect(run('div', WORD_MAX, 1n, WORD_MAX)).toBe(false);
    expect(run('div', WORD_MAX, 2n, WORD_MAX >> 1n)).toBe(false);
    expect(run('div', WORD_MAX, 2n, (WORD_MAX >> 1n) + 1n)).toBe(true);
    expect(run('div', 5n, WORD_MAX, 0n)).toBe(false);
    expect(run('lt', 1n, 2n, 1n)).toBe(false);
    expect(run('lt', 1n, 2n, 2n)).toBe(true);
    expect(run('eq', WORD_MAX, WORD_MAX, 1n)).toBe(false);
    expect(run('eq', WORD_MAX, WORD_MAX, 1n + (1n << 29n))).toBe(true);
  });

  it('two reads of one address must agree', () => {
    const ins: Instruction = { op: 'add', dst: 12, x: { mem: 10 }, y: { mem: 10 } };
    const step = (b: bigint) => ({
      pc,
      r1: { addr: 10, value: 3n },
      r2: { addr: 10, value: b },
      w: { addr: 12, value: 3n + b },
      nextPc: pc + 1,
    });
    expect(at(ins, step(3n))).toBe(false);
    expect(at(ins, step(4n))).toBe(true);
    const load: Instruction = { op: 'load', dst: 1, ptr: 10, offset: 0 };
    const l = (b: bigint) => ({
      pc,
      r1: { addr: 10, value: 10n },
      r2: { addr: 10, value: b },
      w: { addr: 1, value: b },
      nextPc: pc + 1,
    });
    expect(at(load, l(10n))).toBe(false);
    expect(at(load, l(11n))).toBe(true);
  });

  it('load faults exactly from 2^29 on; tape from 2^30 on, its word unjudged', () => {
    const load: Instruction = { op: 'load', dst: 1, ptr: 2, offset: 9 };
    const fault = (p: bigint) => ({ pc, r1: { addr: 2, value: p }, r2: none, w: none, nextPc: NONE });
    expect(at(load, fault(BigInt(ADDRESS_LIMIT - 9)))).toBe(false);
    expect(at(load, fault(BigInt(ADDRESS_LIMIT - 10)))).toBe(true);
    expect(at(load, fault(WORD_MAX))).toBe(false);
    const tape: Instruction = { op: 'tape', dst: 3, pos: 4 };
    const ran = (p: bigint, w: bigint) => ({
      pc,
      r1: { addr: 4, value: p },
      r2: none,
      w: { addr: 3, value: w },
      nextPc: pc + 1,
    });
    expect(at(tape, ran(BigInt(TAPE_LIMIT - 1), WORD_MAX))).toBe(false);
    expect(at(tape, ran(BigInt(TAPE_LIMIT), WORD_MAX))).toBe(true);
    expect(at(tape, { ...fault(BigInt(TAPE_LIMIT)), r1: { addr: 4, value: BigInt(TAPE_LIMIT) } })).toBe(
      false,
    );
  });

  it('a garbage u32 above 2^29 in any 4-byte field makes the step wrong, never the script fail', () => {
    const ins: Instruction = { op: 'jmp', target: 77 };
    const ok: StepRecord = { pc, r1: none, r2: none, w: none, nextPc: 77 };
    expect(at(ins, ok)).toBe(false);
    for (const g of GARBAGE) {
      expect(at(ins, { ...ok, r1: { ...none, addr: g } })).toBe(true);
      expect(at(ins, { ...ok, w: { ...none, addr: g } })).toBe(true);
      expect(at(ins, { ...ok, nextPc: g })).toBe(true);
      expect(at(ins, { ...ok, pc: g })).toBe(false);
    }
  });

  it('checks the covenant keys first, then the same verification and judgement', () => {
    const ins: Instruction = { op: 'jmp', target: 1 };
    const bare = execLeaf(pc, ins, k.keys);
    const key = new Uint8Array(32).fill(0x42);
    const leaf = execLeaf(pc, ins, k.keys, [key]);
    expect(leaf.script.slice(0, 34)).toEqual(Uint8Array.of(32, ...key, 0xad)); // <key> OP_CHECKSIGVERIFY
    expect(leaf.script.slice(34)).toEqual(bare.script);
    expect(leaf.verifyBytes + leaf.circuitBytes).toBe(leaf.script.length);
  });

  it('refuses hash, constants at or above 2^29 and keys of the wrong size', () => {
    expect(() => execLeaf(pc, { op: 'hash', dst: 1, x: { mem: 1 }, y: { mem: 2 } }, k.keys)).toThrow(
      RangeError,
    );
    expect(() => execLeaf(pc, { op: 'jmp', target: NONE }, k.keys)).toThrow(RangeError);
    expect(() => execLeaf(NONE, { op: 'jmp', target: 1 }, k.keys)).toThrow(RangeError);
    expect(() => execLeaf(pc, { op: 'jmp', target: 1 }, { ...k.keys, pc: k.keys.r1value })).toThrow(
      RangeError,
    );
  });
});
