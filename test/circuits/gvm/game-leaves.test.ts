/**
 * The narrowing game's small leaves (circuits/gvm/game-leaves.ts), run in Vigil's interpreter under
 * tapscript rules with real Winternitz keys: the step rebuilt from the signed choices, future read, last
 * step, early halt, RV1–RV3, resign (every end a small shape can produce), the operator's refusals, and
 * length, unwritten read with ℓ and tape position (held to leaves.ts's twins on real asserts and reveals).
 * Each leaf is held to its twin over the committed values, and each twin to src/dispute/game/leaves.ts's
 * (or the referee's refusal condition) on the same game values: values from real games (the governance
 * program's epochs, played by `playGame` between `traceOperator` and `ruleChallenger`, honest and lying),
 * the honest operator's reveals at many steps and its griefing games (never spendable but for the
 * refusals it is owed, nor their forgeries), and perturbed values (leaf = twin). Counts: small here;
 * VIGIL_LONG=1 (game-leaves.long.test.ts) runs 10,000 perturbations per leaf and 10,000 honest steps
 * (VIGIL_GVM_CASES overrides) and 1,000 griefing games.
 */
import { describe, expect, it } from 'vitest';
import {
  choiceBytes,
  earlyHaltLeaf,
  earlyHaltWitness,
  futureReadLeaf,
  futureReadWitness,
  isEarlyHalt,
  isFutureRead,
  isLaterWrite,
  isNotATapeStep,
  isNotAWrite,
  isPastEnd,
  isPastRead,
  isResignAtReadFault,
  isResignFault,
  isUnwrittenReadWithLast,
  isWrongLastStep,
  isWrongLength,
  isWrongReadValue,
  isWrongTapePosition,
  lastStepLeaf,
  lastStepWitness,
  laterWriteLeaf,
  laterWriteWitness,
  lengthLeaf,
  lengthWitness,
  notATapeStepLeaf,
  notATapeStepWitness,
  notAWriteLeaf,
  notAWriteWitness,
  pastEndLeaf,
  pastEndWitness,
  pastReadLeaf,
  pastReadWitness,
  type ResignPoint,
  readValueLeaf,
  readValueWitness,
  resignAtReadLeaf,
  resignAtReadWitness,
  resignFixedChoices,
  resignLeaf,
  resignPoints,
  resignWitness,
  spelledStep,
  tapePositionLeaf,
  tapePositionWitness,
  unwrittenReadLastLeaf,
  unwrittenReadLastWitness,
} from '../../../circuits/gvm/game-leaves.ts';
import type { GvmLeaf } from '../../../circuits/gvm/memory-leaves.ts';
import { tapscriptWitnessWeight } from '../../../circuits/wots-values.ts';
import { equalBytes } from '../../../src/core/bytes.ts';
import {
  MAINNET_SEARCH,
  narrow,
  REGTEST_SEARCH,
  roundBits,
  type SearchShape,
  type Segment,
  splitPoints,
  stepOfChoices,
  wholeTrace,
} from '../../../src/dispute/game/grid.ts';
import {
  assertLeafSpends,
  type RevealSite,
  revealLeafSpends,
  tapeRevealLeafSpends,
  type WriteRevealSite,
  writeRevealLeafSpends,
} from '../../../src/dispute/game/leaves.ts';
import type {
  AssertMove,
  GameContext,
  Query,
  StepReveal,
  TapeReveal,
  WriteReveal,
} from '../../../src/dispute/game/moves.ts';
import type { ChallengerPlayer, OperatorPlayer } from '../../../src/dispute/game/players.ts';
import { type GameOutcome, playGame } from '../../../src/dispute/game/referee.ts';
import { ruleChallenger } from '../../../src/dispute/game/rule.ts';
import { type WotsSecretKey, wotsPublicKey } from '../../../src/dispute/winternitz/keys.ts';
import type { WotsSignature } from '../../../src/dispute/winternitz/sign.ts';
import { NONE, type StepRecord, smallBytes, WORD_MAX, wordBytes } from '../../../src/machine/isa.ts';
import { PROGRAM_FAULTS } from '../../../src/machine/programs/faults.ts';
import { lastWriteBefore } from '../../../src/machine/reads.ts';
import { contextOf, type Epoch, faultyRun, honestEpoch, operatorOf } from '../../dispute/game/setup.ts';
import { FAULT_CASES } from '../../governance/fault-cases.ts';
import { reference } from '../../machine/equivalence.ts';
import {
  digitForgeries,
  gvmCases,
  type Leaf,
  LONG,
  measure,
  parsedLeaf,
  randomBytes,
  refusesHonest,
  rng,
  spends,
  valueSecret,
  wotsSign,
} from './helpers.ts';

const CASES = gvmCases(100);
/** Honest steps of the real trace (each with its reveal′s and forgeries). */
const HONEST = gvmCases(40);
const TIMEOUT = LONG ? 4 * 3_600_000 : 600_000;

const SMALL: SearchShape = { pointsPerRound: 8, depth: 6 };
const NARROW: SearchShape = { pointsPerRound: 4, depth: 5 };

const PROGRAM = reference.program;
const positionsOf = (op: string) => PROGRAM.instructions.flatMap((ins, pc) => (ins.op === op ? [pc] : []));
const HALTS = positionsOf('halt');
const TAPES = positionsOf('tape');

// ---------------------------------------------------------------------------------------------------
// Keys: one per committed value, each choice its own 1-byte key.

const secret = (valueIndex: number, bytes: number) => valueSecret('5e', 15, valueIndex, bytes);
const S = {
  raddr: secret(0, 4),
  rvalue: secret(1, 32),
  rlast: secret(2, 4),
  waddr: secret(3, 4),
  wvalue: secret(4, 32),
  steps: secret(5, 4),
  pc: secret(6, 4),
  r1value: secret(7, 32),
  root: secret(8, 32),
  committed: secret(9, 20),
  resigned: secret(10, 20),
};
type Field = keyof typeof S;
const pub = (f: Field) => wotsPublicKey(S[f]);
/** The first search's choice keys (value indexes 100 …) and the second's (200 …): 10 rounds at most. */
const FIRST = Array.from({ length: 10 }, (_, r) => secret(100 + r, 1));
const SECOND = Array.from({ length: 10 }, (_, r) => secret(200 + r, 1));
const rounds = (shape: SearchShape) => roundBits(shape).length;
const choiceKeys = (keys: readonly WotsSecretKey[], shape: SearchShape) =>
  keys.slice(0, rounds(shape)).map((k) => wotsPublicKey(k));
const signChoices = (keys: readonly WotsSecretKey[], choices: readonly number[]): WotsSignature[] =>
  choices.map((c, r) => wotsSign(keys[r] as WotsSecretKey, choiceBytes(c)));
const sign = (f: Field, message: Uint8Array) => wotsSign(S[f], message);
const u32 = (f: Field, n: number) => sign(f, smallBytes(n));
const word = (f: Field, w: bigint) => sign(f, wordBytes(w));

/** The choices that spell step i, most significant first (the rule's `choiceFor` at every round). */
function choicesOf(shape: SearchShape, i: number): number[] {
  let segment: Segment = wholeTrace(shape);
  return roundBits(shape).map((b) => {
    const c = Math.floor((i - segment.left) / (segment.width / 2 ** b));
    segment = narrow(segment, b, c);
    return c;
  });
}

// ---------------------------------------------------------------------------------------------------
// Each leaf as a case kind: its values, script, witness, twin, and the game's twin on the same values.

type Reveal = {
  readonly choices: readonly number[];
  readonly readChoices: readonly number[];
  readonly raddr: number;
  readonly rvalue: bigint;
  readonly rlast: number;
  readonly waddr: number;
  readonly wvalue: bigint;
  readonly steps: number;
  readonly pc: number;
  readonly r1value: bigint;
  readonly root: bigint;
};

type Kind = {
  readonly name: string;
  leaf(shape: SearchShape): GvmLeaf;
  witness(shape: SearchShape, v: Reveal): Uint8Array[];
  twin(shape: SearchShape, v: Reveal): boolean;
  /** The game's verdict (leaves.ts, or the referee's refusal condition), for choices a game can make. */
  game(shape: SearchShape, v: Reveal): boolean;
  /** A refusal leaf spends for the operator: an honest operator's values make it true, not false. */
  readonly refusal?: boolean;
};

/** A record whose read `slot` is (raddr, rvalue) and whose pc is v.pc; the other read names no address. */
const record = (v: Reveal, slot: 1 | 2 = 1): StepRecord => {
  const read = { addr: v.raddr, value: v.rvalue };
  const other = { addr: NONE, value: 0n };
  return { pc: v.pc, nextPc: 0, r1: slot === 1 ? read : other, r2: slot === 2 ? read : other, w: other };
};
const CHAIN0 = new Uint8Array(20);
const revealSite = (shape: SearchShape, v: Reveal): RevealSite => ({
  step: stepOfChoices(shape, v.choices),
  claimedSteps: v.steps,
  committedH: CHAIN0,
  committedHNext: CHAIN0,
});
const stepReveal = (r: StepRecord, rlast: number, slot: 1 | 2): StepReveal => ({
  record: r,
  r1last: slot === 1 ? rlast : NONE,
  r2last: slot === 2 ? rlast : NONE,
  h: CHAIN0,
  hNext: CHAIN0,
});
const ctxOf = (root: bigint): GameContext => ({
  program: PROGRAM,
  imageRoot: CHAIN0,
  inputsRoot: CHAIN0,
  agreedImageRoot: CHAIN0,
  claimedRoot: root,
});
const writeSite = (shape: SearchShape, v: Reveal): WriteRevealSite => ({
  step: stepOfChoices(shape, v.choices),
  readStep: stepOfChoices(shape, v.readChoices),
  address: v.raddr,
  value: v.rvalue,
  lastWrite: v.rlast,
  committedH: CHAIN0,
  committedHNext: CHAIN0,
});
const writeReveal = (v: Reveal): WriteReveal => ({
  h: CHAIN0,
  hNext: CHAIN0,
  pc: 0,
  nextPc: 0,
  w: { addr: v.waddr, value: v.wvalue },
});

const leafCache = new Map<string, GvmLeaf>();
const cached = (name: string, shape: SearchShape, build: () => GvmLeaf): GvmLeaf => {
  const key = `${name} ${shape.pointsPerRound}/${shape.depth}`;
  let leaf = leafCache.get(key);
  if (leaf === undefined) {
    leaf = build();
    leafCache.set(key, leaf);
  }
  return leaf;
};

const futureRead = (slot: 1 | 2): Kind => ({
  name: `future-read (read ${slot})`,
  leaf: (shape) =>
    cached(`future ${slot}`, shape, () =>
      futureReadLeaf(shape, { choices: choiceKeys(FIRST, shape), raddr: pub('raddr'), rlast: pub('rlast') }),
    ),
  witness: (shape, v) =>
    futureReadWitness(shape, {
      choices: signChoices(FIRST, v.choices),
      raddr: u32('raddr', v.raddr),
      rlast: u32('rlast', v.rlast),
    }),
  twin: (shape, v) => isFutureRead(shape, v.choices, v.raddr, v.rlast),
  game: (shape, v) =>
    revealLeafSpends(ctxOf(v.root), revealSite(shape, v), stepReveal(record(v, slot), v.rlast, slot), {
      leaf: 'future-read',
      read: slot,
    }),
});

const LAST_STEP: Kind = {
  name: 'last-step',
  leaf: (shape) =>
    cached('last', shape, () =>
      lastStepLeaf(shape, HALTS, {
        choices: choiceKeys(FIRST, shape),
        steps: pub('steps'),
        pc: pub('pc'),
        r1value: pub('r1value'),
        root: pub('root'),
      }),
    ),
  witness: (shape, v) =>
    lastStepWitness(shape, {
      choices: signChoices(FIRST, v.choices),
      steps: u32('steps', v.steps),
      pc: u32('pc', v.pc),
      r1value: word('r1value', v.r1value),
      root: word('root', v.root),
    }),
  twin: (shape, v) => isWrongLastStep(shape, HALTS, v.choices, v.steps, v.pc, v.r1value, v.root),
  game: (shape, v) =>
    revealLeafSpends(
      ctxOf(v.root),
      revealSite(shape, v),
      stepReveal({ ...record(v), r1: { addr: v.raddr, value: v.r1value } }, v.rlast, 1),
      { leaf: 'last-step' },
    ),
};

const EARLY_HALT: Kind = {
  name: 'early-halt',
  leaf: (shape) =>
    cached('early', shape, () =>
      earlyHaltLeaf(shape, HALTS, { choices: choiceKeys(FIRST, shape), steps: pub('steps'), pc: pub('pc') }),
    ),
  witness: (shape, v) =>
    earlyHaltWitness(shape, {
      choices: signChoices(FIRST, v.choices),
      steps: u32('steps', v.steps),
      pc: u32('pc', v.pc),
    }),
  twin: (shape, v) => isEarlyHalt(shape, HALTS, v.choices, v.steps, v.pc),
  game: (shape, v) =>
    revealLeafSpends(ctxOf(v.root), revealSite(shape, v), stepReveal(record(v), v.rlast, 1), {
      leaf: 'early-halt',
    }),
};

const READ_VALUE: Kind = {
  name: 'read-value (RV1)',
  leaf: (shape) =>
    cached('rv1', shape, () =>
      readValueLeaf(shape, {
        choices: choiceKeys(SECOND, shape),
        raddr: pub('raddr'),
        rvalue: pub('rvalue'),
        rlast: pub('rlast'),
        waddr: pub('waddr'),
        wvalue: pub('wvalue'),
      }),
    ),
  witness: (shape, v) =>
    readValueWitness(shape, {
      choices: signChoices(SECOND, v.choices),
      raddr: u32('raddr', v.raddr),
      rvalue: word('rvalue', v.rvalue),
      rlast: u32('rlast', v.rlast),
      waddr: u32('waddr', v.waddr),
      wvalue: word('wvalue', v.wvalue),
    }),
  twin: (shape, v) => isWrongReadValue(shape, v.choices, v.raddr, v.rvalue, v.rlast, v.waddr, v.wvalue),
  game: (shape, v) => writeRevealLeafSpends(writeSite(shape, v), writeReveal(v), { leaf: 'read-value' }),
};

const LATER_WRITE: Kind = {
  name: 'later-write (RV2)',
  leaf: (shape) =>
    cached('rv2', shape, () =>
      laterWriteLeaf(shape, {
        readChoices: choiceKeys(FIRST, shape),
        choices: choiceKeys(SECOND, shape),
        raddr: pub('raddr'),
        rlast: pub('rlast'),
        waddr: pub('waddr'),
      }),
    ),
  witness: (shape, v) =>
    laterWriteWitness(shape, {
      readChoices: signChoices(FIRST, v.readChoices),
      choices: signChoices(SECOND, v.choices),
      raddr: u32('raddr', v.raddr),
      rlast: u32('rlast', v.rlast),
      waddr: u32('waddr', v.waddr),
    }),
  twin: (shape, v) => isLaterWrite(shape, v.readChoices, v.choices, v.raddr, v.rlast, v.waddr),
  game: (shape, v) => writeRevealLeafSpends(writeSite(shape, v), writeReveal(v), { leaf: 'later-write' }),
};

const NOT_A_WRITE: Kind = {
  name: 'not-a-write (RV3)',
  leaf: (shape) =>
    cached('rv3', shape, () =>
      notAWriteLeaf(shape, {
        choices: choiceKeys(SECOND, shape),
        raddr: pub('raddr'),
        rlast: pub('rlast'),
        waddr: pub('waddr'),
      }),
    ),
  witness: (shape, v) =>
    notAWriteWitness(shape, {
      choices: signChoices(SECOND, v.choices),
      raddr: u32('raddr', v.raddr),
      rlast: u32('rlast', v.rlast),
      waddr: u32('waddr', v.waddr),
    }),
  twin: (shape, v) => isNotAWrite(shape, v.choices, v.raddr, v.rlast, v.waddr),
  game: (shape, v) => writeRevealLeafSpends(writeSite(shape, v), writeReveal(v), { leaf: 'not-a-write' }),
};

const PAST_END: Kind = {
  name: 'past-end (refusal, first search)',
  refusal: true,
  leaf: (shape) =>
    cached('past', shape, () =>
      pastEndLeaf(shape, { choices: choiceKeys(FIRST, shape), steps: pub('steps') }),
    ),
  witness: (shape, v) =>
    pastEndWitness(shape, { choices: signChoices(FIRST, v.choices), steps: u32('steps', v.steps) }),
  twin: (shape, v) => isPastEnd(shape, v.choices, v.steps),
  // The referee's condition for the refusal (referee.ts).
  game: (shape, v) => stepOfChoices(shape, v.choices) >= v.steps,
};

const PAST_READ: Kind = {
  name: 'past-end (refusal, second search)',
  refusal: true,
  leaf: (shape) =>
    cached('past read', shape, () =>
      pastReadLeaf(shape, { readChoices: choiceKeys(FIRST, shape), choices: choiceKeys(SECOND, shape) }),
    ),
  witness: (shape, v) =>
    pastReadWitness(shape, {
      readChoices: signChoices(FIRST, v.readChoices),
      choices: signChoices(SECOND, v.choices),
    }),
  twin: (shape, v) => isPastRead(shape, v.readChoices, v.choices),
  game: (shape, v) => stepOfChoices(shape, v.choices) >= stepOfChoices(shape, v.readChoices),
};

const NOT_A_TAPE_STEP: Kind = {
  name: 'not-a-tape-step (refusal)',
  refusal: true,
  leaf: () => cached('tape', SMALL, () => notATapeStepLeaf(TAPES, { pc: pub('pc'), waddr: pub('waddr') })),
  witness: (_shape, v) => notATapeStepWitness({ pc: u32('pc', v.pc), waddr: u32('waddr', v.waddr) }),
  twin: (_shape, v) => isNotATapeStep(TAPES, v.pc, v.waddr),
  game: (_shape, v) => PROGRAM.instructions[v.pc]?.op !== 'tape' || v.waddr === NONE,
};

const KINDS: readonly Kind[] = [
  futureRead(1),
  futureRead(2),
  LAST_STEP,
  EARLY_HALT,
  READ_VALUE,
  LATER_WRITE,
  NOT_A_WRITE,
  PAST_END,
  PAST_READ,
  NOT_A_TAPE_STEP,
];
const kind = (name: string) => KINDS.find((k) => k.name.startsWith(name)) as Kind;

const parsed = new Map<GvmLeaf, Leaf>();
const scriptOf = (k: Kind, shape: SearchShape): Leaf => {
  const leaf = k.leaf(shape);
  let p = parsed.get(leaf);
  if (p === undefined) {
    p = parsedLeaf(leaf.script);
    parsed.set(leaf, p);
  }
  return p;
};

const validChoices = (shape: SearchShape, choices: readonly number[]) =>
  spelledStep(shape, choices) !== undefined;

/**
 * One case: the leaf spends exactly when its twin says so, and the twin agrees with the game's wherever
 * the game could have these values (every choice in range). Returns the verdict.
 */
function judged(k: Kind, shape: SearchShape, v: Reveal, what: string): boolean {
  const twin = k.twin(shape, v);
  if (validChoices(shape, v.choices) && validChoices(shape, v.readChoices)) {
    const game = k.game(shape, v);
    if (game !== twin) expect.fail(`${k.name}, ${what}: twin ${twin}, game ${game} (${show(v)})`);
  }
  const leaf = spends(scriptOf(k, shape), k.witness(shape, v));
  if (leaf !== twin) expect.fail(`${k.name}, ${what}: leaf ${leaf}, twin ${twin} (${show(v)})`);
  return twin;
}
const show = (v: Reveal) =>
  JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : (x as unknown)));

/** An honest operator's values: never spendable (refusals aside), their forgeries neither. */
function honestCase(k: Kind, shape: SearchShape, v: Reveal, next: () => number, what: string): void {
  if (k.refusal) return;
  expect(judged(k, shape, v, what), `${k.name}, ${what}`).toBe(false);
  const script = scriptOf(k, shape);
  const w = k.witness(shape, v);
  if (!refusesHonest(script, w)) expect.fail(`${k.name}, ${what}: honest run`);
  if (digitForgeries(w, next).some((f) => spends(script, f)))
    expect.fail(`${k.name}, ${what}: forgery spent`);
}

// ---------------------------------------------------------------------------------------------------
// Perturbations.

const u32Edges = [0, 1, NONE - 1, NONE, NONE + 1, 0x7fffffff, 0x80000000, 0xffffffff];
function otherU32(next: () => number, x: number): number {
  const k = next() % 4;
  if (k === 0) return (x ^ (2 ** (next() % 32))) >>> 0;
  if (k === 1) return next() >>> 0;
  if (k === 2) return Math.min(0xffffffff, Math.max(0, x + (next() % 5) - 2));
  return u32Edges[next() % u32Edges.length] as number;
}
function otherWord(next: () => number, x: bigint): bigint {
  const k = next() % 3;
  if (k === 0) return x ^ (1n << BigInt(next() % 256));
  if (k === 1) return BigInt(`0x${Buffer.from(randomBytes(next, 32)).toString('hex')}`);
  return [0n, 1n, WORD_MAX][next() % 3] as bigint;
}
function otherChoices(next: () => number, shape: SearchShape, choices: readonly number[]): number[] {
  const bits = roundBits(shape);
  const out = choices.slice();
  const r = next() % bits.length;
  const k = next() % 4;
  if (k === 0)
    out[r] = next() % 256; // any byte, mostly out of range
  else if (k === 1)
    out[r] = 2 ** (bits[r] as number); // just out of range
  else out[r] = next() % 2 ** (bits[r] as number);
  if (k === 3) {
    const i = stepOfChoices(shape, choicesInRange(shape, choices)) + (next() % 3) - 1;
    return choicesOf(shape, Math.min(2 ** shape.depth - 1, Math.max(0, i)));
  }
  return out;
}
/** One or two fields of `v` changed. */
function perturbed(next: () => number, shape: SearchShape, v: Reveal): Reveal {
  let out: Reveal = v;
  const times = 1 + (next() % 2);
  for (let t = 0; t < times; t++) {
    const f = next() % 11;
    out = {
      ...out,
      ...(f === 0 && { choices: otherChoices(next, shape, out.choices) }),
      ...(f === 1 && { readChoices: otherChoices(next, shape, out.readChoices) }),
      ...(f === 2 && { raddr: next() % 3 === 0 ? out.waddr : otherU32(next, out.raddr) }),
      ...(f === 3 && { rvalue: next() % 3 === 0 ? out.wvalue : otherWord(next, out.rvalue) }),
      ...(f === 4 && {
        rlast:
          next() % 3 === 0
            ? stepOfChoices(shape, choicesInRange(shape, out.choices))
            : otherU32(next, out.rlast),
      }),
      ...(f === 5 && { waddr: next() % 3 === 0 ? out.raddr : otherU32(next, out.waddr) }),
      ...(f === 6 && { wvalue: next() % 3 === 0 ? out.rvalue : otherWord(next, out.wvalue) }),
      ...(f === 7 && {
        steps:
          next() % 2 === 0
            ? stepOfChoices(shape, choicesInRange(shape, out.choices)) + 1
            : otherU32(next, out.steps),
      }),
      ...(f === 8 && { pc: pcOf(next, out.pc) }),
      ...(f === 9 && { r1value: next() % 3 === 0 ? out.root : otherWord(next, out.r1value) }),
      ...(f === 10 && { root: otherWord(next, out.root) }),
    };
  }
  return out;
}
const choicesInRange = (shape: SearchShape, choices: readonly number[]) =>
  choices.map((c, r) => Math.min(c, 2 ** (roundBits(shape)[r] as number) - 1));
function pcOf(next: () => number, pc: number): number {
  const k = next() % 4;
  if (k === 0) return HALTS[next() % HALTS.length] as number;
  if (k === 1) return TAPES[next() % TAPES.length] as number;
  if (k === 2) return next() % PROGRAM.instructions.length;
  return otherU32(next, pc);
}

/** Random values over a shape: a read, a step and its claimed length, a write, in range or not. */
function randomReveal(next: () => number, shape: SearchShape): Reveal {
  const top = 2 ** shape.depth;
  const i = next() % top;
  const j = next() % Math.max(1, i);
  const raddr = next() % 4 === 0 ? NONE : next() % 64;
  const rvalue = next() % 2 === 0 ? BigInt(next() % 4) : otherWord(next, 0n);
  const rlast = [NONE, j, j, i, j + 1, next() % top][next() % 6] as number;
  return {
    readChoices: choicesOf(shape, i),
    choices: choicesOf(shape, next() % 3 === 0 ? i : j),
    raddr,
    rvalue,
    rlast,
    waddr: next() % 2 === 0 ? raddr : next() % 64,
    wvalue: next() % 2 === 0 ? rvalue : otherWord(next, rvalue),
    steps: [i + 1, i + 2, i, top, next() % (top + 2)][next() % 5] as number,
    pc: pcOf(next, 0),
    r1value: rvalue,
    root: next() % 2 === 0 ? rvalue : otherWord(next, rvalue),
  };
}

// ---------------------------------------------------------------------------------------------------
// Real games.

/** A challenger that records what the game signs: both searches' choices, the reveals. */
type Played = {
  ctx: GameContext;
  outcome: GameOutcome;
  /** The first search's choices (they spell i) and the second's (j). */
  first: number[];
  second: number[];
  /** T′, as the assert signed it. */
  claimedSteps?: number;
  site?: RevealSite;
  reveal?: StepReveal;
  query?: Query;
  writeSite?: WriteRevealSite;
  write?: WriteReveal;
};
function play(
  ctx: GameContext,
  shape: SearchShape,
  operator: OperatorPlayer,
  challenger: ChallengerPlayer,
): Played {
  const first: number[] = [];
  const second: number[] = [];
  const p: Omit<Played, 'outcome'> = { ctx, first, second };
  const recorder: ChallengerPlayer = {
    ...challenger,
    onAssert(assert) {
      p.claimedSteps = assert.steps;
      return challenger.onAssert(assert);
    },
    choose(view, bits) {
      const c = challenger.choose(view, bits);
      if (c !== undefined) first.push(c);
      return c;
    },
    onReveal(site, reveal) {
      p.site = site;
      p.reveal = reveal;
      const r = challenger.onReveal(site, reveal);
      if (r !== undefined && 'request' in r) p.query = r.request;
      return r;
    },
    chooseRead(q, view, bits, readStep) {
      const c = challenger.chooseRead(q, view, bits, readStep);
      if (c !== undefined) second.push(c);
      return c;
    },
    onWriteReveal(site, reveal) {
      p.writeSite = site;
      p.write = reveal;
      return challenger.onWriteReveal(site, reveal);
    },
  };
  const outcome = playGame(ctx, shape, operator, recorder);
  return { ...p, outcome };
}

/** The reveal values a recorded game signed (the second search's choices as `choices` when there was one). */
function revealValues(g: Played, slot: 1 | 2): Reveal {
  const reveal = g.reveal as StepReveal;
  const read = slot === 1 ? reveal.record.r1 : reveal.record.r2;
  const rlast = slot === 1 ? reveal.r1last : reveal.r2last;
  const w = g.write?.w ?? { addr: NONE, value: 0n };
  return {
    choices: g.first,
    readChoices: g.first,
    raddr: read.addr,
    rvalue: read.value,
    rlast,
    waddr: w.addr,
    wvalue: w.value,
    steps: (g.site as RevealSite).claimedSteps,
    pc: reveal.record.pc,
    r1value: reveal.record.r1.value,
    root: g.ctx.claimedRoot,
  };
}
const writeValues = (g: Played): Reveal => ({
  ...revealValues(g, g.query as 1 | 2),
  readChoices: g.first,
  choices: g.second,
});

/** Values no leaf reads when a game never signed them. */
const BLANK: Reveal = {
  choices: [],
  readChoices: [],
  raddr: NONE,
  rvalue: 0n,
  rlast: NONE,
  waddr: NONE,
  wvalue: 0n,
  steps: 0,
  pc: 0,
  r1value: 0n,
  root: 0n,
};

const FIRST_SEARCH_KINDS = [futureRead(1), futureRead(2), LAST_STEP, EARLY_HALT, PAST_END];
const SECOND_SEARCH_KINDS = [READ_VALUE, LATER_WRITE, NOT_A_WRITE, PAST_READ];

/** Every leaf of the game's reveals judged on its values; returns the leaves that spend. */
function judgeGame(g: Played, shape: SearchShape, what: string): string[] {
  const spent: string[] = [];
  if (g.reveal === undefined) {
    // The operator refused the reveal: the first search's past-end leaf on the choices and T′.
    if (g.first.length === rounds(shape) && g.claimedSteps !== undefined) {
      const v = { ...BLANK, choices: g.first, readChoices: g.first, steps: g.claimedSteps };
      if (judged(PAST_END, shape, v, what)) spent.push(PAST_END.name);
    }
    return spent;
  }
  expect(stepOfChoices(shape, g.first)).toBe(g.site?.step);
  for (const slot of [1, 2] as const) {
    const v = revealValues(g, slot);
    for (const k of FIRST_SEARCH_KINDS) {
      if (k.name.startsWith('future') && !k.name.includes(`read ${slot}`)) continue;
      if (slot === 2 && !k.name.startsWith('future')) continue;
      if (judged(k, shape, v, what)) spent.push(k.name);
    }
  }
  if (g.query === 3) {
    const v = revealValues(g, 1);
    const w = { ...v, waddr: (g.reveal as StepReveal).record.w.addr };
    if (judged(NOT_A_TAPE_STEP, shape, w, what)) spent.push(NOT_A_TAPE_STEP.name);
  }
  if (g.query === 1 || g.query === 2) {
    if (g.second.length === rounds(shape)) {
      const v = writeValues(g);
      expect(stepOfChoices(shape, v.choices)).toBe(g.writeSite?.step ?? stepOfChoices(shape, v.choices));
      for (const k of SECOND_SEARCH_KINDS) {
        if (k !== PAST_READ && g.write === undefined) continue;
        if (judged(k, shape, v, what)) spent.push(k.name);
      }
    }
  }
  return spent;
}

const resignScript = (shape: SearchShape, p: ResignPoint, search: 1 | 2): Leaf => {
  const leaf = cached(`resign ${search} ${p.round}/${p.slot}/${p.side}`, shape, () =>
    resignLeaf(shape, p, {
      choices: choiceKeys(search === 1 ? FIRST : SECOND, shape),
      committed: pub('committed'),
      resigned: pub('resigned'),
    }),
  );
  let q = parsed.get(leaf);
  if (q === undefined) {
    q = parsedLeaf(leaf.script);
    parsed.set(leaf, q);
  }
  return q;
};
const resignAtReadScript = (shape: SearchShape): Leaf =>
  parsedLeaf(
    cached('resign at read', shape, () =>
      resignAtReadLeaf(shape, {
        readChoices: choiceKeys(FIRST, shape),
        choices: choiceKeys(SECOND, shape),
        readH: pub('committed'),
        hNext: pub('resigned'),
      }),
    ).script,
  );

/** The one point whose resign leaf of `side` the choices select. */
function selectedPoint(shape: SearchShape, choices: readonly number[], side: 'h' | 'hNext'): ResignPoint {
  const points = resignPoints(shape).filter(
    (p) => p.side === side && resignFixedChoices(shape, p).every((c, k) => choices[p.round - 1 + k] === c),
  );
  expect(points.length).toBe(1);
  return points[0] as ResignPoint;
}

/**
 * The resign leaves at the ends of both searches of a game: the one each end selects, with the value the
 * game re-signed and with another, against the game's twin (the second search's right end at j + 1 = i
 * is the extra leaf against the reveal's h_i).
 */
function judgeResigns(g: Played, shape: SearchShape, what: string): void {
  const next = rng(what.length + 1);
  const changed = (x: Uint8Array) => {
    const y = x.slice();
    y[next() % y.length] = ((y[next() % y.length] as number) + 1 + (next() % 255)) & 0xff;
    return equalBytes(x, y) ? Uint8Array.from(x, (b) => b ^ 1) : y;
  };
  const resignSpends = (
    search: 1 | 2,
    choices: readonly number[],
    committed: Uint8Array,
    resigned: Uint8Array,
    side: 'h' | 'hNext',
  ) => {
    const p = selectedPoint(shape, choices, side);
    const twin = isResignFault(shape, p, choices, committed, resigned);
    const keys = search === 1 ? FIRST : SECOND;
    const w = resignWitness(shape, p, {
      choices: signChoices(keys.slice(p.round - 1), choices.slice(p.round - 1)),
      committed: sign('committed', committed),
      resigned: sign('resigned', resigned),
    });
    expect(spends(resignScript(shape, p, search), w), `${what}: resign ${JSON.stringify(p)}`).toBe(twin);
    return twin;
  };
  const site = g.site;
  const reveal = g.reveal;
  if (site === undefined || reveal === undefined) return;
  for (const side of ['h', 'hNext'] as const) {
    const committed = side === 'h' ? site.committedH : site.committedHNext;
    const honest = side === 'h' ? reveal.h : reveal.hNext;
    for (const resigned of [honest, changed(honest)]) {
      const game = revealLeafSpends(g.ctx, site, { ...reveal, [side]: resigned }, { leaf: 'resign', side });
      expect(resignSpends(1, g.first, committed, resigned, side), `${what}: first search, ${side}`).toBe(
        game,
      );
    }
  }
  const ws = g.writeSite;
  const write = g.write;
  if (ws === undefined || write === undefined) return;
  for (const side of ['h', 'hNext'] as const) {
    const honest = side === 'h' ? write.h : write.hNext;
    for (const resigned of [honest, changed(honest)]) {
      const game = writeRevealLeafSpends(ws, { ...write, [side]: resigned }, { leaf: 'resign', side });
      if (side === 'hNext' && ws.step + 1 === site.step) {
        expect(ws.committedHNext).toEqual(reveal.h);
        const twin = isResignAtReadFault(shape, g.first, g.second, reveal.h, resigned);
        expect(twin, `${what}: at the read`).toBe(game);
        const w = resignAtReadWitness(shape, {
          readChoices: signChoices(FIRST, g.first),
          choices: signChoices(SECOND, g.second),
          readH: sign('committed', reveal.h),
          hNext: sign('resigned', resigned),
        });
        expect(spends(resignAtReadScript(shape), w)).toBe(twin);
      } else {
        const committed = side === 'h' ? ws.committedH : ws.committedHNext;
        expect(resignSpends(2, g.second, committed, resigned, side), `${what}: second search, ${side}`).toBe(
          game,
        );
      }
    }
  }
}

const GAME_SHAPE = REGTEST_SEARCH;
/** The completeness test's narrow shape: n = 8, K = 22. */
const EIGHT: SearchShape = { pointsPerRound: 8, depth: 22 };
const smallEpoch = (): Epoch => {
  const { scenario } = (FAULT_CASES['vote-counted-twice'] as (typeof FAULT_CASES)[string])();
  return honestEpoch(scenario.genesis, scenario.inputs);
};
const EPOCH = smallEpoch();
const STEPS = EPOCH.honest.steps;
const T = STEPS.length;
const HALT = STEPS[T - 1] as StepRecord;
const LAST_WRITE = lastWriteBefore(STEPS, T - 1, HALT.r1.addr) as number;

/** The honest trace, but its halt reads `claimed`, naming `r1last` as the last write. */
function rootLiar(shape: SearchShape, claimed: bigint, r1last: number): OperatorPlayer {
  const honest = operatorOf(shape, EPOCH);
  return {
    ...honest,
    reveal(i) {
      const r = honest.reveal(i);
      if (r === undefined || 'refuse' in r || i !== T - 1) return r;
      return { ...r, record: { ...HALT, r1: { addr: HALT.r1.addr, value: claimed } }, r1last };
    },
  };
}

type GameCase = { name: string; expect: string | RegExp; run: () => Played; shape?: SearchShape };
const ruleGame = (root: bigint, operator: OperatorPlayer, shape = GAME_SHAPE): Played => {
  const ctx = contextOf(EPOCH, root);
  return play(ctx, shape, operator, ruleChallenger(ctx, shape, EPOCH.view));
};
const WRONG = EPOCH.honest.result ^ 1n;
const GAMES: GameCase[] = [
  {
    name: 'a halt reading its own root',
    expect: 'last-step',
    run: () => ruleGame(WRONG, operatorOf(GAME_SHAPE, EPOCH)),
  },
  {
    name: 'a halt saying it read the claimed root (the real last write named)',
    expect: 'read-value',
    run: () => ruleGame(WRONG, rootLiar(GAME_SHAPE, WRONG, LAST_WRITE)),
  },
  {
    name: '…naming a write from the future',
    expect: 'future-read',
    run: () => ruleGame(WRONG, rootLiar(GAME_SHAPE, WRONG, T - 1)),
  },
  {
    name: '…naming an earlier step',
    expect: 'later-write',
    run: () => ruleGame(WRONG, rootLiar(GAME_SHAPE, WRONG, 0)),
  },
  {
    name: '…naming a later step that wrote elsewhere',
    expect: LAST_WRITE + 1 < T - 1 ? 'not-a-write' : 'future-read',
    run: () => ruleGame(WRONG, rootLiar(GAME_SHAPE, WRONG, LAST_WRITE + 1)),
  },
  {
    name: 'a run cut short',
    expect: 'last-step',
    run: () => ruleGame(WRONG, operatorOf(GAME_SHAPE, EPOCH, STEPS.slice(0, T - 17))),
  },
  {
    name: 'a run going on past the halt',
    expect: /^(pc-link|early-halt)$/,
    run: () => {
      const fake: StepRecord = { ...HALT, r1: { addr: HALT.r1.addr, value: WRONG } };
      return ruleGame(WRONG, operatorOf(GAME_SHAPE, EPOCH, [...STEPS, fake, fake]));
    },
  },
  {
    name: 'the same, mainnet shape',
    shape: MAINNET_SEARCH,
    expect: /^(pc-link|early-halt)$/,
    run: () => {
      const fake: StepRecord = { ...HALT, r1: { addr: HALT.r1.addr, value: WRONG } };
      return ruleGame(
        WRONG,
        operatorOf(MAINNET_SEARCH, EPOCH, [...STEPS, ...Array(40).fill(fake)]),
        MAINNET_SEARCH,
      );
    },
  },
  {
    name: 'a halt reading its own root (n = 8, K = 22: 8 rounds, the last of 1 bit)',
    shape: EIGHT,
    expect: 'last-step',
    run: () => ruleGame(WRONG, operatorOf(EIGHT, EPOCH), EIGHT),
  },
  {
    name: '…saying it read the claimed root (n = 8, K = 22)',
    shape: EIGHT,
    expect: 'read-value',
    run: () => ruleGame(WRONG, rootLiar(EIGHT, WRONG, LAST_WRITE), EIGHT),
  },
  {
    name: '…naming an earlier step (mainnet shape)',
    shape: MAINNET_SEARCH,
    expect: 'later-write',
    run: () => ruleGame(WRONG, rootLiar(MAINNET_SEARCH, WRONG, 0), MAINNET_SEARCH),
  },
  ...PROGRAM_FAULTS.map(
    (fault): GameCase => ({
      name: `catalogue fault ${fault}`,
      expect: /./,
      run: () => {
        const { scenario, step } = (FAULT_CASES[fault] as (typeof FAULT_CASES)[string])();
        const epoch = honestEpoch(scenario.genesis, scenario.inputs.slice(0, step + 1));
        const lie = faultyRun(epoch, fault);
        const ctx = contextOf(epoch, lie.result);
        return play(
          ctx,
          GAME_SHAPE,
          operatorOf(GAME_SHAPE, epoch, lie.steps, epoch.tape, fault),
          ruleChallenger(ctx, GAME_SHAPE, epoch.view),
        );
      },
    }),
  ),
];
const shapeOf = (g: GameCase) => g.shape ?? GAME_SHAPE;

describe('the step spelled by the choices', () => {
  it('is the grid step for every choice a game can make; out-of-range choices spell none', () => {
    for (const shape of [SMALL, NARROW, REGTEST_SEARCH, MAINNET_SEARCH]) {
      const top = 2 ** shape.depth;
      const next = rng(shape.depth);
      for (const i of [0, 1, top - 1, top - 2, ...Array.from({ length: 30 }, () => next() % top)]) {
        const choices = choicesOf(shape, i);
        expect(stepOfChoices(shape, choices)).toBe(i);
        expect(spelledStep(shape, choices)).toBe(i);
      }
      const bits = roundBits(shape);
      for (let r = 0; r < bits.length; r++) {
        for (const bad of [2 ** (bits[r] as number), 255]) {
          const choices = choicesOf(shape, 0);
          choices[r] = bad;
          expect(spelledStep(shape, choices)).toBeUndefined();
          // Refusals spend on them, disproves never (past-end: T′ = 2^K, no i reaches it).
          expect(isPastEnd(shape, choices, top)).toBe(true);
          expect(isFutureRead(shape, choices, 1, NONE - 1)).toBe(false);
        }
      }
    }
  });
});

describe('real games: every leaf against the game twin, on the values the game signed', () => {
  it.each(GAMES)(
    '$name',
    (g) => {
      const shape = shapeOf(g);
      const played = g.run();
      const outcome = played.outcome;
      const story = outcome.moves.map((m) => `${m.side} ${m.move} ${m.detail ?? ''}`).join('\n');
      expect(outcome.winner, story).toBe('challenger');
      expect(outcome.at, story).toMatch(g.expect);
      const spent = judgeGame(played, shape, g.name);
      judgeResigns(played, shape, g.name);
      const mine = KINDS.find((k) => k.name.split(' ')[0] === outcome.at);
      // The leaf that ended the game spends as a script on the game's values; no refusal does.
      if (mine !== undefined) expect(spent.map((s) => s.split(' ')[0])).toContain(outcome.at);
      expect(spent.filter((s) => s.includes('refusal'))).toEqual([]);
    },
    TIMEOUT,
  );

  it('refusals an honest operator is owed: past the claimed length, past the read, not a tape step', () => {
    const shape = GAME_SHAPE;
    const ctx = contextOf(EPOCH, EPOCH.honest.result);
    const rule = ruleChallenger(ctx, shape, EPOCH.view);
    const honest = operatorOf(shape, EPOCH);
    const top: ChallengerPlayer = { ...rule, choose: (_view, bits) => 2 ** bits - 1 };
    const past = play(ctx, shape, honest, top);
    expect(past.outcome.end).toBe('refused');
    expect(past.outcome.at).toBe('past-end');
    const v = { ...randomReveal(rng(5), shape), choices: past.first, steps: T };
    expect(judged(PAST_END, shape, v, 'past the end')).toBe(true);

    // A read of the halt step (r1 names the root's slot), then a second search aimed past it.
    const aim = T - 1;
    const readPast: ChallengerPlayer = {
      ...rule,
      choose: (view, bits) => Math.floor((aim - view.segment.left) / (view.segment.width / 2 ** bits)),
      onReveal: () => ({ request: 1 }),
      chooseRead: (_q, _view, bits) => 2 ** bits - 1,
    };
    const pastRead = play(ctx, shape, honest, readPast);
    expect(pastRead.outcome.at).toBe('past-end');
    expect(pastRead.outcome.writeStep).toBeGreaterThanOrEqual(aim);
    expect(judged(PAST_READ, shape, writeValues(pastRead), 'past the read')).toBe(true);

    // The tape path of step 0 (not a tape step).
    const noTape: ChallengerPlayer = { ...rule, choose: () => 0, onReveal: () => ({ request: 3 }) };
    const tape = play(ctx, shape, honest, noTape);
    expect(tape.outcome.at).toBe('not-a-tape-step');
    expect(judgeGame(tape, shape, 'tape of step 0')).toContain(NOT_A_TAPE_STEP.name);
    // …and of a real tape step: the refusal does not spend.
    const k = STEPS.findIndex((s) => PROGRAM.instructions[s.pc]?.op === 'tape' && s.w.addr !== NONE);
    expect(isNotATapeStep(TAPES, (STEPS[k] as StepRecord).pc, (STEPS[k] as StepRecord).w.addr)).toBe(false);
    expect(
      spends(
        scriptOf(NOT_A_TAPE_STEP, SMALL),
        NOT_A_TAPE_STEP.witness(SMALL, {
          ...v,
          pc: (STEPS[k] as StepRecord).pc,
          waddr: (STEPS[k] as StepRecord).w.addr,
        }),
      ),
    ).toBe(false);
  });
});

/** The honest operator's reveal at step i, and its reveal′ at step j < i for read `slot`. */
function honestValues(shape: SearchShape, i: number, j: number, slot: 1 | 2): Reveal {
  const r = STEPS[i] as StepRecord;
  const read = slot === 1 ? r.r1 : r.r2;
  const last = read.addr === NONE ? undefined : lastWriteBefore(STEPS, i, read.addr);
  const w = (STEPS[j] as StepRecord).w;
  return {
    choices: choicesOf(shape, i),
    readChoices: choicesOf(shape, i),
    raddr: read.addr,
    rvalue: read.value,
    rlast: last ?? NONE,
    waddr: w.addr,
    wvalue: w.value,
    steps: T,
    pc: r.pc,
    r1value: r.r1.value,
    root: EPOCH.honest.result,
  };
}

/**
 * A griefing challenger against an honest claim: it steers the first search to a random step (now and then
 * past T′), asks for a random proof, steers the second search to the read's real last write or anywhere,
 * then tries a leaf that cannot spend.
 */
function griefer(ctx: GameContext, shape: SearchShape, seed: number): ChallengerPlayer {
  const next = rng(seed);
  const rule = ruleChallenger(ctx, shape, EPOCH.view);
  const toward = (segment: Segment, bits: number, p: number) =>
    p >= segment.left && p < segment.left + segment.width
      ? Math.floor((p - segment.left) / (segment.width / 2 ** bits))
      : next() % 2 ** bits;
  const tapeSteps = STEPS.flatMap((st, k) => (PROGRAM.instructions[st.pc]?.op === 'tape' ? [k] : []));
  const kind = next() % 8;
  const aim =
    kind === 0
      ? T + (next() % 100)
      : kind < 3
        ? (tapeSteps[next() % tapeSteps.length] as number)
        : next() % T;
  let readAim = 0;
  return {
    ...rule,
    onAssert: () => undefined,
    choose: (view, bits) => toward(view.segment, bits, aim),
    onReveal(site, reveal) {
      const tape = PROGRAM.instructions[reveal.record.pc]?.op === 'tape';
      const q = (tape && next() % 2 === 0 ? 3 : 1 + (next() % 3)) as Query;
      const last = q === 1 ? reveal.r1last : reveal.r2last;
      readAim = last < site.step && next() % 2 === 0 ? last : next() % Math.max(1, site.step + 2);
      return { request: q };
    },
    chooseRead: (_q, view, bits) => toward(view.segment, bits, readAim),
    onWriteReveal: () => ({ leaf: 'resign', side: 'h' }),
    onTapeReveal: () => ({ leaf: 'tape-top' }),
  };
}

describe('an honest operator in played games: no disprove leaf spends on what it signs', () => {
  const GRIEFS = LONG ? 1_000 : 24;
  it(
    `${GRIEFS} griefing games (regtest shape, and n = 8, K = 22), every leaf at both searches' ends`,
    () => {
      const ctx = contextOf(EPOCH, EPOCH.honest.result);
      const ends = new Map<string, number>();
      let secondSearches = 0;
      for (let g = 0; g < GRIEFS; g++) {
        const shape = g % 3 === 2 ? EIGHT : GAME_SHAPE;
        const played = play(ctx, shape, operatorOf(shape, EPOCH), griefer(ctx, shape, 700 + g));
        const what = `griefing game ${g}`;
        expect(played.outcome.winner, what).toBe('operator');
        const spent = judgeGame(played, shape, what);
        judgeResigns(played, shape, what);
        expect(
          spent.filter((k) => !k.includes('refusal')),
          what,
        ).toEqual([]);
        if (played.write !== undefined) secondSearches++;
        const end = `${played.outcome.end} ${played.outcome.at.replace(/ \(.*/, '')}`;
        ends.set(end, (ends.get(end) ?? 0) + 1);
        // A refusal the referee granted spends as a script on the game's values.
        if (played.outcome.end === 'refused') expect(spent.length, what).toBeGreaterThan(0);
      }
      console.info(
        `${GRIEFS} griefing games: ${secondSearches} reached reveal′; ends: ${[...ends].map(([e, n]) => `${e} ${n}`).join(', ')}`,
      );
      expect(secondSearches).toBeGreaterThan(GRIEFS / 6);
      expect([...ends.keys()].filter((e) => e.startsWith('refused')).length).toBeGreaterThan(0);
      expect(ends.get('timeout after the tape reveal') ?? 0).toBeGreaterThan(0);
    },
    TIMEOUT,
  );
});

describe("an honest operator's values never spend; perturbed ones spend exactly as the twins", () => {
  it(
    `the honest trace's reveals and reveal′s, with forgeries: ${HONEST} steps`,
    () => {
      const next = rng(21);
      const shape = GAME_SHAPE;
      const picks = [0, T - 1, T - 2, LAST_WRITE, ...Array.from({ length: HONEST }, () => next() % T)];
      let reads = 0;
      for (const i of picks) {
        const slot = (1 + (next() % 2)) as 1 | 2;
        const first = honestValues(shape, i, 0, slot);
        for (const k of [futureRead(slot), LAST_STEP, EARLY_HALT])
          honestCase(k, shape, first, next, `step ${i}`);
        if (first.raddr === NONE || i === 0) continue;
        reads++;
        // The second search: at the real last write, and at any earlier step.
        for (const j of [first.rlast === NONE ? 0 : first.rlast, next() % i]) {
          const v = { ...honestValues(shape, i, j, slot), choices: choicesOf(shape, j) };
          for (const k of [READ_VALUE, LATER_WRITE, NOT_A_WRITE])
            honestCase(k, shape, v, next, `read at ${i}, j ${j}`);
          expect(judged(PAST_READ, shape, v, `j ${j} < i ${i}`)).toBe(false);
        }
      }
      expect(reads).toBeGreaterThan(picks.length / 4);
    },
    TIMEOUT,
  );

  it.each(KINDS.map((k) => [k.name, k] as const))(
    `%s: ${CASES} perturbations over a small shape`,
    (_n, k) => {
      const next = rng(k.name.length * 7 + 3);
      let spent = 0;
      for (let c = 0; c < CASES; c++) {
        const base = randomReveal(next, SMALL);
        const v = c % 3 === 0 ? base : perturbed(next, SMALL, base);
        if (judged(k, SMALL, v, `case ${c}`)) spent++;
      }
      expect(spent).toBeGreaterThan(0);
      expect(spent).toBeLessThan(CASES);
    },
    TIMEOUT,
  );

  it.each(KINDS.map((k) => [k.name, k] as const))(
    '%s: a few over the regtest and mainnet shapes',
    (_n, k) => {
      for (const shape of [REGTEST_SEARCH, MAINNET_SEARCH]) {
        const next = rng(shape.depth + k.name.length);
        for (let c = 0; c < 15; c++)
          judged(k, shape, perturbed(next, shape, randomReveal(next, shape)), `case ${c}`);
      }
    },
    TIMEOUT,
  );
});

describe('resign leaves', () => {
  const committed = (next: () => number) => randomBytes(next, 20);

  it('for every step of a small shape, exactly one point of each side is selected, at that end', () => {
    for (const shape of [SMALL, NARROW]) {
      const points = resignPoints(shape);
      const bits = roundBits(shape);
      // 2 × (interior points of every round) + h_0 + h_{2^K}.
      expect(points.length).toBe(2 * bits.reduce((s, b) => s + 2 ** b - 1, 0) + 2);
      const one = new Uint8Array(20);
      const other = new Uint8Array(20).fill(1);
      for (let i = 0; i < 2 ** shape.depth; i++) {
        const choices = choicesOf(shape, i);
        for (const side of ['h', 'hNext'] as const) {
          const selected = points.filter(
            (p) => p.side === side && isResignFault(shape, p, choices, one, other),
          );
          expect(selected.length, `step ${i}, ${side}`).toBe(1);
          // The point's position under these choices is i (left end) or i + 1 (right end).
          const p = selected[0] as ResignPoint;
          let segment = wholeTrace(shape);
          for (let r = 0; r < p.round - 1; r++)
            segment = narrow(segment, bits[r] as number, choices[r] as number);
          const b = bits[p.round - 1] as number;
          const position = segment.left + p.slot * (segment.width / 2 ** b);
          expect(position).toBe(side === 'h' ? i : i + 1);
          if (p.slot > 0 && p.slot < 2 ** b) expect(splitPoints(segment, b)).toContain(position);
        }
      }
    }
  });

  const keys = (shape: SearchShape) => ({
    choices: choiceKeys(FIRST, shape),
    committed: pub('committed'),
    resigned: pub('resigned'),
  });
  const witness = (
    shape: SearchShape,
    p: ResignPoint,
    choices: readonly number[],
    a: Uint8Array,
    b: Uint8Array,
  ) =>
    resignWitness(shape, p, {
      choices: signChoices(FIRST.slice(p.round - 1), choices.slice(p.round - 1)),
      committed: sign('committed', a),
      resigned: sign('resigned', b),
    });

  it('every leaf of a small shape, at every end: spends exactly when selected and the values differ', () => {
    const shape = SMALL;
    const next = rng(31);
    for (const p of resignPoints(shape)) {
      const script = parsedLeaf(resignLeaf(shape, p, keys(shape)).script);
      const fixed = resignFixedChoices(shape, p);
      // Every i the leaf might be judged at, sampled: its own, and others.
      const own = stepOfChoices(shape, [...Array(p.round - 1).fill(0), ...fixed]);
      for (const i of [own, (own + 1) % 64, next() % 64]) {
        const choices = choicesOf(shape, i);
        const a = committed(next);
        const b = next() % 3 === 0 ? a : committed(next);
        const twin = isResignFault(shape, p, choices, a, b);
        expect(spends(script, witness(shape, p, choices, a, b)), `${JSON.stringify(p)} at ${i}`).toBe(twin);
        if (equalBytes(a, b)) {
          expect(refusesHonest(script, witness(shape, p, choices, a, b))).toBe(true);
          for (const f of digitForgeries(witness(shape, p, choices, a, b), next))
            expect(spends(script, f)).toBe(false);
        }
      }
      // Out-of-range fixed choices never select it.
      const bad = choicesOf(shape, own);
      bad[p.round - 1] = 2 ** (roundBits(shape)[p.round - 1] as number) + (next() % 3);
      expect(isResignFault(shape, p, bad, new Uint8Array(20), new Uint8Array(20).fill(9))).toBe(false);
      expect(spends(script, witness(shape, p, bad, new Uint8Array(20), new Uint8Array(20).fill(9)))).toBe(
        false,
      );
    }
  });

  it('the second search’s extra leaf: j + 1 = i and reveal′’s h_{j+1} is not the reveal’s h_i', () => {
    const shape = SMALL;
    const leaf = resignAtReadLeaf(shape, {
      readChoices: choiceKeys(FIRST, shape),
      choices: choiceKeys(SECOND, shape),
      readH: pub('committed'),
      hNext: pub('resigned'),
    }).script;
    const next = rng(41);
    for (let c = 0; c < CASES; c++) {
      const i = 1 + (next() % 63);
      const j = c % 2 === 0 ? i - 1 : next() % 64;
      const readChoices = c % 7 === 0 ? otherChoices(next, shape, choicesOf(shape, i)) : choicesOf(shape, i);
      const choices = choicesOf(shape, j);
      const a = committed(next);
      const b = next() % 3 === 0 ? a : committed(next);
      const twin = isResignAtReadFault(shape, readChoices, choices, a, b);
      const iSpelled = spelledStep(shape, readChoices);
      if (iSpelled !== undefined) {
        // The game's: site.committedHNext is the reveal's h_i exactly when j + 1 = i.
        expect(twin).toBe(j + 1 === iSpelled && !equalBytes(a, b));
      }
      const w = resignAtReadWitness(shape, {
        readChoices: signChoices(FIRST, readChoices),
        choices: signChoices(SECOND, choices),
        readH: sign('committed', a),
        hNext: sign('resigned', b),
      });
      expect(spends(leaf, w), `case ${c}`).toBe(twin);
    }
  });
});

describe('sizes (mainnet shape: n = 32, K = 29)', () => {
  it('every leaf is a standard-size leaf with a bounded stack; sizes and stack peaks', () => {
    const shape = MAINNET_SEARCH;
    const rows: string[] = [];
    const report = (name: string, leaf: GvmLeaf, items: Uint8Array[]) => {
      const r = measure(leaf.script, items);
      expect([r.error, r.top], name).toEqual(['OK', true]);
      expect(r.max).toBeLessThanOrEqual(1_000);
      const weight = tapscriptWitnessWeight(items, leaf.script, 8);
      expect(weight).toBeLessThanOrEqual(400_000);
      rows.push(
        `${name}: ${leaf.script.length} B (verify ${leaf.verifyBytes}, judge ${leaf.judgeBytes}), max stack ${r.max}, witness ${weight} WU`,
      );
    };
    const i = 300_000_000;
    const base: Reveal = {
      choices: choicesOf(shape, i),
      readChoices: choicesOf(shape, i),
      raddr: 77,
      rvalue: 5n,
      rlast: i,
      waddr: 77,
      wvalue: 6n,
      steps: i + 1,
      pc: HALTS[0] as number,
      r1value: 1n,
      root: 2n,
    };
    const j = 123_456_789;
    const spending: Record<string, Reveal> = {
      'future-read': base,
      'last-step': base,
      'early-halt': { ...base, steps: i + 5 },
      'read-value': { ...base, choices: choicesOf(shape, j), rlast: j },
      'later-write': { ...base, choices: choicesOf(shape, j), rlast: j - 1 },
      'not-a-write': { ...base, choices: choicesOf(shape, j), rlast: j, waddr: 78 },
      'past-end (refusal, first': { ...base, steps: i },
      'past-end (refusal, second': { ...base, choices: choicesOf(shape, i + 1) },
      'not-a-tape-step': base,
    };
    for (const [name, v] of Object.entries(spending)) {
      const k = kind(name);
      report(k.name, k.leaf(shape), k.witness(shape, v));
    }
    const a = new Uint8Array(20);
    const b = new Uint8Array(20).fill(1);
    for (const p of [
      { round: 1, slot: 0, side: 'h' },
      { round: 6, slot: 7, side: 'hNext' },
    ] as const) {
      const leaf = resignLeaf(shape, p, {
        choices: choiceKeys(FIRST, shape),
        committed: pub('committed'),
        resigned: pub('resigned'),
      });
      const fixed = resignFixedChoices(shape, p);
      const choices = [...Array(p.round - 1).fill(3), ...fixed];
      report(
        `resign (round ${p.round}, slot ${p.slot}, ${p.side})`,
        leaf,
        resignWitness(shape, p, {
          choices: signChoices(FIRST.slice(p.round - 1), fixed),
          committed: sign('committed', a),
          resigned: sign('resigned', b),
        }),
      );
      expect(isResignFault(shape, p, choices, a, b)).toBe(true);
    }
    report(
      'resign at the read (j + 1 = i)',
      resignAtReadLeaf(shape, {
        readChoices: choiceKeys(FIRST, shape),
        choices: choiceKeys(SECOND, shape),
        readH: pub('committed'),
        hNext: pub('resigned'),
      }),
      resignAtReadWitness(shape, {
        readChoices: signChoices(FIRST, choicesOf(shape, i)),
        choices: signChoices(SECOND, choicesOf(shape, i - 1)),
        readH: sign('committed', a),
        hNext: sign('resigned', b),
      }),
    );
    console.info(
      `game leaves, mainnet shape (${HALTS.length} halt, ${TAPES.length} tape positions):\n${rows.join('\n')}`,
    );
    expect(rows.length).toBe(12);
  });

  it("a search has §24.4's 342 resign leaves on mainnet (2 × (5 × 31 + 15) + 2), 2 × (4 × 31) + 2 on regtest", () => {
    expect(resignPoints(MAINNET_SEARCH).length).toBe(342);
    expect(resignPoints(REGTEST_SEARCH).length).toBe(250);
  });

  it('refuses keys of the wrong size and points no search commits', () => {
    const shape = SMALL;
    expect(() =>
      futureReadLeaf(shape, { choices: choiceKeys(FIRST, shape), raddr: pub('rvalue'), rlast: pub('rlast') }),
    ).toThrow(RangeError);
    expect(() =>
      futureReadLeaf(shape, {
        choices: choiceKeys(FIRST, REGTEST_SEARCH),
        raddr: pub('raddr'),
        rlast: pub('rlast'),
      }),
    ).toThrow(RangeError);
    for (const p of [
      { round: 2, slot: 0, side: 'h' },
      { round: 2, slot: 8, side: 'hNext' },
      { round: 1, slot: 8, side: 'h' },
      { round: 1, slot: 0, side: 'hNext' },
      { round: 3, slot: 1, side: 'h' },
    ] as const) {
      expect(() => resignFixedChoices(shape, p)).toThrow(RangeError);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Length, unwritten read with ℓ, tape position: leaves whose twins leaves.ts already had.

const P = { position: secret(11, 4) };
const positionKey = () => wotsPublicKey(P.position);

const lengthScript = (shape: SearchShape): Leaf => {
  const leaf = cached('length', shape, () => lengthLeaf(shape, { steps: pub('steps') }));
  let p = parsed.get(leaf);
  if (p === undefined) {
    p = parsedLeaf(leaf.script);
    parsed.set(leaf, p);
  }
  return p;
};
const lengthWitnessOf = (steps: number) => lengthWitness({ steps: u32('steps', steps) });
const assertOf = (steps: number): AssertMove => ({ steps, h0: CHAIN0, hEnd: CHAIN0, points: [] });

/** The length leaf spends exactly as its twin, and the twin as leaves.ts's on the same T′. */
function judgedLength(shape: SearchShape, steps: number, what: string): boolean {
  const twin = isWrongLength(shape, steps);
  const game = assertLeafSpends(ctxOf(0n), shape, assertOf(steps), { leaf: 'length' });
  if (game !== twin) expect.fail(`length, ${what}: twin ${twin}, game ${game} (T′ ${steps})`);
  const leaf = spends(lengthScript(shape), lengthWitnessOf(steps));
  if (leaf !== twin) expect.fail(`length, ${what}: leaf ${leaf}, twin ${twin} (T′ ${steps})`);
  return twin;
}

let unwrittenParsed: Leaf | undefined;
const unwrittenScript = (): Leaf => {
  unwrittenParsed ??= parsedLeaf(
    unwrittenReadLastLeaf({ raddr: pub('raddr'), rvalue: pub('rvalue'), rlast: pub('rlast') }).script,
  );
  return unwrittenParsed;
};
const unwrittenWitnessOf = (raddr: number, rvalue: bigint, rlast: number) =>
  unwrittenReadLastWitness({
    raddr: u32('raddr', raddr),
    rvalue: word('rvalue', rvalue),
    rlast: u32('rlast', rlast),
  });

/** One read slot of a reveal: leaf = twin = leaves.ts's unwritten-read on the same reveal. */
function judgedUnwritten(
  ctx: GameContext,
  site: RevealSite,
  reveal: StepReveal,
  slot: 1 | 2,
  what: string,
): boolean {
  const read = slot === 1 ? reveal.record.r1 : reveal.record.r2;
  const rlast = slot === 1 ? reveal.r1last : reveal.r2last;
  const twin = isUnwrittenReadWithLast(read.addr, read.value, rlast);
  const game = revealLeafSpends(ctx, site, reveal, { leaf: 'unwritten-read', read: slot });
  const show = `raddr ${read.addr}, rvalue 0x${read.value.toString(16)}, rlast ${rlast}`;
  if (game !== twin) expect.fail(`unwritten read ${slot}, ${what}: twin ${twin}, game ${game} (${show})`);
  const leaf = spends(unwrittenScript(), unwrittenWitnessOf(read.addr, read.value, rlast));
  if (leaf !== twin) expect.fail(`unwritten read ${slot}, ${what}: leaf ${leaf}, twin ${twin} (${show})`);
  return twin;
}

let tapePositionParsed: Leaf | undefined;
const tapePositionScript = (): Leaf => {
  tapePositionParsed ??= parsedLeaf(
    tapePositionLeaf({ position: positionKey(), r1value: pub('r1value') }).script,
  );
  return tapePositionParsed;
};
const tapePositionWitnessOf = (position: number, r1value: bigint) =>
  tapePositionWitness({
    position: wotsSign(P.position, smallBytes(position)),
    r1value: word('r1value', r1value),
  });

/** leaf = twin = leaves.ts's tape-position, on a tape reveal and the record of the step it serves. */
function judgedTapePosition(ctx: GameContext, record: StepRecord, reveal: TapeReveal, what: string): boolean {
  const twin = isWrongTapePosition(reveal.position, record.r1.value);
  const game = tapeRevealLeafSpends(ctx, { record }, reveal, { leaf: 'tape-position' });
  const show = `position ${reveal.position}, r1value 0x${record.r1.value.toString(16)}`;
  if (game !== twin) expect.fail(`tape position, ${what}: twin ${twin}, game ${game} (${show})`);
  const leaf = spends(tapePositionScript(), tapePositionWitnessOf(reveal.position, record.r1.value));
  if (leaf !== twin) expect.fail(`tape position, ${what}: leaf ${leaf}, twin ${twin} (${show})`);
  return twin;
}
const tapeRecord = (r1value: bigint): StepRecord => ({
  pc: TAPES[0] as number,
  nextPc: 0,
  r1: { addr: 0, value: r1value },
  r2: { addr: NONE, value: 0n },
  w: { addr: 0, value: 0n },
});
const positionOnly = (position: number): TapeReveal => ({ position, nodes: [], siblings: [] });

describe('length (on the assert)', () => {
  it('an honest assert never spends, nor its forgeries; claims too short or too long spend', () => {
    const next = rng(51);
    for (const shape of [REGTEST_SEARCH, EIGHT, MAINNET_SEARCH]) {
      const assert = operatorOf(shape, EPOCH).assert() as AssertMove;
      expect(assert.steps).toBe(T);
      expect(judgedLength(shape, assert.steps, 'the honest assert')).toBe(false);
      const w = lengthWitnessOf(assert.steps);
      expect(refusesHonest(lengthScript(shape), w)).toBe(true);
      for (const f of digitForgeries(w, next)) expect(spends(lengthScript(shape), f)).toBe(false);
    }
    // The lying operators' asserts of the real games: a run cut short, one going on past its halt.
    for (const steps of [STEPS.slice(0, T - 17), [...STEPS, HALT, HALT]]) {
      const lie = operatorOf(GAME_SHAPE, EPOCH, steps).assert() as AssertMove;
      expect(judgedLength(GAME_SHAPE, lie.steps, `a claim of ${lie.steps} steps`)).toBe(false);
    }
    // The same trace asserted on shapes too small for it: a claim longer than 2^K spends.
    for (const shape of [SMALL, NARROW]) {
      expect(T).toBeGreaterThan(2 ** shape.depth);
      expect(judgedLength(shape, T, `T = ${T} over 2^${shape.depth}`)).toBe(true);
    }
  });

  it(`every edge and ${CASES} random T′ on every shape, sentinels included: leaf = twin = leaves.ts`, () => {
    const next = rng(53);
    for (const shape of [SMALL, NARROW, REGTEST_SEARCH, MAINNET_SEARCH]) {
      const top = 2 ** shape.depth;
      const edges = [0, 1, 2, top - 1, top, top + 1, top + 2, ...u32Edges];
      let spent = 0;
      const all = [...edges, ...Array.from({ length: CASES }, () => otherU32(next, next() % (top + 3)))];
      for (const steps of all) if (judgedLength(shape, steps, `shape ${shape.depth}`)) spent++;
      expect(spent).toBeGreaterThan(0);
      expect(spent).toBeLessThan(all.length);
      expect(isWrongLength(shape, 0)).toBe(true);
      expect(isWrongLength(shape, top)).toBe(false);
      expect(isWrongLength(shape, top + 1)).toBe(true);
      expect(isWrongLength(shape, NONE + 1)).toBe(true);
      expect(isWrongLength(shape, 0xffffffff)).toBe(true);
    }
  });

  it('refuses K > 29 (2^K would pass NONE and the sentinel)', () => {
    expect(() => lengthLeaf({ pointsPerRound: 32, depth: 30 }, { steps: pub('steps') })).toThrow(RangeError);
    // A key made for a word cannot verify a 4-byte T′.
    expect(() => lengthLeaf(SMALL, { steps: pub('rvalue') })).toThrow(RangeError);
  });
});

describe('unwritten read with ℓ (one leaf per read slot)', () => {
  const ctx = contextOf(EPOCH, EPOCH.honest.result);
  const honest = operatorOf(GAME_SHAPE, EPOCH);
  const siteOf = (i: number, r: StepReveal, steps = T): RevealSite => ({
    step: i,
    claimedSteps: steps,
    committedH: r.h,
    committedHNext: r.hNext,
  });

  it(`the honest reveals, both reads: twins false at every step; script and forgeries at ${HONEST} steps and every kind of read`, () => {
    const next = rng(61);
    // Reads the old leaf (no ℓ) would wrongly disprove, and reads of never-written memory.
    const written: [number, 1 | 2][] = [];
    const unwritten: [number, 1 | 2][] = [];
    for (let i = 0; i < T; i++) {
      const r = honest.reveal(i) as StepReveal;
      for (const slot of [1, 2] as const) {
        const read = slot === 1 ? r.record.r1 : r.record.r2;
        const rlast = slot === 1 ? r.r1last : r.r2last;
        expect(isUnwrittenReadWithLast(read.addr, read.value, rlast), `step ${i}`).toBe(false);
        expect(revealLeafSpends(ctx, siteOf(i, r), r, { leaf: 'unwritten-read', read: slot })).toBe(false);
        if (read.addr !== NONE && read.value !== 0n && rlast !== NONE) written.push([i, slot]);
        if (read.addr !== NONE && rlast === NONE) unwritten.push([i, slot]);
      }
    }
    expect(written.length).toBeGreaterThan(0);
    expect(unwritten.length).toBeGreaterThan(0);
    const picks: [number, 1 | 2][] = [
      ...written.slice(0, 5),
      ...unwritten.slice(0, 5),
      ...Array.from({ length: HONEST }, (): [number, 1 | 2] => [next() % T, (1 + (next() % 2)) as 1 | 2]),
    ];
    for (const [i, slot] of picks) {
      const r = honest.reveal(i) as StepReveal;
      expect(judgedUnwritten(ctx, siteOf(i, r), r, slot, `honest step ${i}`)).toBe(false);
      const read = slot === 1 ? r.record.r1 : r.record.r2;
      const w = unwrittenWitnessOf(read.addr, read.value, slot === 1 ? r.r1last : r.r2last);
      expect(refusesHonest(unwrittenScript(), w), `step ${i}`).toBe(true);
      for (const f of digitForgeries(w, next)) expect(spends(unwrittenScript(), f), `step ${i}`).toBe(false);
    }
  });

  it('a lying reveal: the halt reads the claimed root and names no write (leaf spends, as in the game)', () => {
    const played = ruleGame(WRONG, rootLiar(GAME_SHAPE, WRONG, NONE));
    expect(played.outcome.winner).toBe('challenger');
    const reveal = played.reveal as StepReveal;
    expect(reveal.r1last).toBe(NONE);
    expect(judgedUnwritten(played.ctx, played.site as RevealSite, reveal, 1, 'the root liar')).toBe(true);
    expect(judgedUnwritten(played.ctx, played.site as RevealSite, reveal, 2, 'the root liar')).toBe(false);
    // The same lie with ℓ above NONE reads as the sentinel, which is not NONE: the leaf does not spend.
    for (const rlast of [NONE + 1, 0xffffffff]) {
      const other = { ...reveal, r1last: rlast };
      expect(judgedUnwritten(played.ctx, played.site as RevealSite, other, 1, `ℓ = ${rlast}`)).toBe(false);
    }
  });

  it(`${CASES} perturbed honest reveals per slot: leaf = twin = leaves.ts`, () => {
    const next = rng(67);
    for (const slot of [1, 2] as const) {
      let spent = 0;
      for (let c = 0; c < CASES; c++) {
        const i = next() % T;
        const r = honest.reveal(i) as StepReveal;
        const read = slot === 1 ? r.record.r1 : r.record.r2;
        const rlast = slot === 1 ? r.r1last : r.r2last;
        const f = next() % 4;
        const raddr = f === 0 ? otherU32(next, read.addr) : read.addr;
        const value = f === 1 || next() % 3 === 0 ? otherWord(next, read.value) : read.value;
        const last = f >= 2 ? ([NONE, NONE + 1, otherU32(next, rlast)][next() % 3] as number) : rlast;
        const access = { addr: raddr, value };
        const record = slot === 1 ? { ...r.record, r1: access } : { ...r.record, r2: access };
        const reveal = slot === 1 ? { ...r, record, r1last: last } : { ...r, record, r2last: last };
        if (judgedUnwritten(ctx, siteOf(i, r), reveal, slot, `case ${c}`)) spent++;
      }
      expect(spent).toBeGreaterThan(0);
      expect(spent).toBeLessThan(CASES);
    }
  });
});

describe('tape position', () => {
  const ctx = contextOf(EPOCH, EPOCH.honest.result);
  const honest = operatorOf(GAME_SHAPE, EPOCH);
  const tapeSteps = STEPS.flatMap((s, k) =>
    PROGRAM.instructions[s.pc]?.op === 'tape' && s.w.addr !== NONE ? [k] : [],
  );

  it('the honest tape reveal of every tape step never spends, nor its forgeries; a shifted position spends', () => {
    const next = rng(71);
    expect(tapeSteps.length).toBeGreaterThan(0);
    const positions = new Set<number>();
    for (const k of tapeSteps) {
      const record = STEPS[k] as StepRecord;
      const reveal = honest.revealTape(k) as TapeReveal;
      expect(judgedTapePosition(ctx, record, reveal, `tape step ${k}`)).toBe(false);
      positions.add(reveal.position);
      const w = tapePositionWitnessOf(reveal.position, record.r1.value);
      expect(refusesHonest(tapePositionScript(), w)).toBe(true);
      for (const f of digitForgeries(w, next)) expect(spends(tapePositionScript(), f)).toBe(false);
      // A lying tape reveal: the path of another position.
      const shifted = [reveal.position + 1, (reveal.position ^ 0x80000000) >>> 0, NONE + 1, NONE + 2];
      for (const position of shifted.filter((p) => p !== reveal.position)) {
        expect(
          judgedTapePosition(ctx, record, { ...reveal, position }, `step ${k}, position ${position}`),
        ).toBe(true);
      }
    }
    // The inputs half of the tape lies above NONE: a sentinel would have merged its positions.
    const above = [...positions].filter((p) => p > NONE).length;
    console.info(`${positions.size} tape positions read by honest tape steps, ${above} above NONE`);
    expect(above).toBeGreaterThan(1);
  });

  it(`${CASES} perturbed positions and words, any u32 exact (no sentinel): leaf = twin = leaves.ts`, () => {
    const next = rng(73);
    let spent = 0;
    for (let c = 0; c < CASES; c++) {
      const position = c < u32Edges.length ? (u32Edges[c] as number) : otherU32(next, next() % 2 ** 20);
      const k = next() % 6;
      const r1value =
        k === 0
          ? BigInt(position)
          : k === 1
            ? BigInt(otherU32(next, position))
            : k === 2
              ? BigInt(position) | (1n << BigInt(32 + (next() % 224))) // high bytes set, low equal
              : k === 3
                ? otherWord(next, BigInt(position))
                : BigInt(position) ^ (1n << BigInt(next() % 32));
      if (judgedTapePosition(ctx, tapeRecord(r1value), positionOnly(position), `case ${c}`)) spent++;
    }
    // Two u32s above NONE that differ are told apart (the sentinel would have merged them).
    expect(judgedTapePosition(ctx, tapeRecord(BigInt(NONE + 1)), positionOnly(NONE + 2), 'above NONE')).toBe(
      true,
    );
    expect(judgedTapePosition(ctx, tapeRecord(0xffffffffn), positionOnly(0xffffffff), 'top u32')).toBe(false);
    expect(judgedTapePosition(ctx, tapeRecord(1n << 32n), positionOnly(0), 'bit 32')).toBe(true);
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThan(CASES);
  });
});

describe('sizes of the length, unwritten-read-with-ℓ and tape-position leaves (mainnet shape)', () => {
  it('standard-size leaves with a bounded stack; sizes and stack peaks', () => {
    const shape = MAINNET_SEARCH;
    const rows: string[] = [];
    const report = (name: string, leaf: GvmLeaf, items: Uint8Array[]) => {
      const r = measure(leaf.script, items);
      expect([r.error, r.top], name).toEqual(['OK', true]);
      expect(r.max).toBeLessThanOrEqual(1_000);
      const weight = tapscriptWitnessWeight(items, leaf.script, 8);
      expect(weight).toBeLessThanOrEqual(400_000);
      rows.push(
        `${name}: ${leaf.script.length} B (verify ${leaf.verifyBytes}, judge ${leaf.judgeBytes}), max stack ${r.max}, witness ${weight} WU`,
      );
    };
    report('length', lengthLeaf(shape, { steps: pub('steps') }), lengthWitnessOf(0));
    report(
      'unwritten read with ℓ',
      unwrittenReadLastLeaf({ raddr: pub('raddr'), rvalue: pub('rvalue'), rlast: pub('rlast') }),
      unwrittenWitnessOf(77, WORD_MAX, NONE),
    );
    report(
      'tape position',
      tapePositionLeaf({ position: positionKey(), r1value: pub('r1value') }),
      tapePositionWitnessOf(5, WORD_MAX),
    );
    console.info(`game leaves with twins, mainnet shape:\n${rows.join('\n')}`);
    expect(rows.length).toBe(3);
  });
});
