/**
 * The narrowing game's leaves that hash a challenger's unsigned preimage (pc link at i ≥ 1, and its
 * step-0 twin), the wrong-predecessor leaf, and the h_0 leaf, run in Vigil's interpreter under tapscript
 * rules with real Winternitz keys. The values come from a real epoch (a governance fault case's
 * scenario, run by the honest program): against honest commitments no leaf spends, with the honest
 * preimage, perturbed ones (one byte changed: a spend would need a BLAKE3 second preimage) or forged
 * signatures; against faulty ones each spends exactly when its twin here and the game's twin in
 * src/dispute/game/leaves.ts say so; a malformed preimage (wrong item count, a digit out of range, an
 * item too long to be a number) never spends. BLAKE3 leaves are large scripts, so the counts are
 * small here; preimage-leaves.long.test.ts runs more (VIGIL_LONG=1).
 */
import { describe, expect, it } from 'vitest';
import { CHOICE_BYTES } from '../../../circuits/gvm/game-leaves.ts';
import {
  entryPcLeaf,
  entryPcWitness,
  type H0Signatures,
  h0Leaf,
  h0Witness,
  haltPositionsOf,
  isBrokenPcLink,
  isWrongEntryPc,
  isWrongH0,
  isWrongPredecessor,
  PREIMAGE_ITEMS,
  pcLinkLeaf,
  pcLinkValues,
  pcLinkWitness,
  preimageBlock,
  preimageItems,
  preimageOfBlock,
  wrongPredecessorLeaf,
  wrongPredecessorWitness,
} from '../../../circuits/gvm/preimage-leaves.ts';
import { tapscriptWitnessWeight } from '../../../circuits/wots-values.ts';
import { encodeScriptNum } from '../../../src/bitcoin/script/num.ts';
import { concatBytes, equalBytes, hexToBytes } from '../../../src/core/bytes.ts';
import {
  choiceFor,
  narrow,
  REGTEST_SEARCH,
  roundBits,
  type SearchShape,
  stepOfChoices,
  wholeTrace,
} from '../../../src/dispute/game/grid.ts';
import {
  type AssertAttempt,
  assertLeafSpends,
  expectedH0,
  type RevealAttempt,
  type RevealSite,
  revealLeafSpends,
  type WriteRevealAttempt,
  type WriteRevealSite,
  writeRevealLeafSpends,
} from '../../../src/dispute/game/leaves.ts';
import type {
  AssertMove,
  GameContext,
  Preimage,
  StepReveal,
  WriteReveal,
} from '../../../src/dispute/game/moves.ts';
import type { ChallengerPlayer, OperatorPlayer } from '../../../src/dispute/game/players.ts';
import { playGame } from '../../../src/dispute/game/referee.ts';
import { ruleChallenger } from '../../../src/dispute/game/rule.ts';
import {
  deriveGameWotsSecretKey,
  type GameSearch,
  SHARED_GAME,
} from '../../../src/dispute/winternitz/game-keys.ts';
import { type WotsSecretKey, wotsPublicKey } from '../../../src/dispute/winternitz/keys.ts';
import { chainNext } from '../../../src/machine/chain.ts';
import { NONE, type StepRecord } from '../../../src/machine/isa.ts';
import { programHash } from '../../../src/machine/program.ts';
import { lastWriteBefore } from '../../../src/machine/reads.ts';
import { tapeRoot } from '../../../src/machine/tape.ts';
import { contextOf, honestEpoch, operatorOf } from '../../dispute/game/setup.ts';
import { FAULT_CASES } from '../../governance/fault-cases.ts';
import {
  digitForgeries,
  gvmCases,
  honestRunFault,
  LONG,
  measure,
  parsedLeaf,
  publicKeysOf,
  randomBytes,
  rng,
  signFields,
  spends,
  valueSecret,
  wotsSign,
} from './helpers.ts';

/** Honest steps tried per leaf (long: VIGIL_GVM_CASES, else 10,000, capped by the trace). */
const CASES = gvmCases(40);
const TIMEOUT = LONG ? 4 * 3_600_000 : 120_000;

const SHAPE: SearchShape = REGTEST_SEARCH;
const ROUNDS = roundBits(SHAPE).length;

const EPOCH = (() => {
  const { scenario } = (FAULT_CASES['vote-counted-twice'] as (typeof FAULT_CASES)[string])();
  return honestEpoch(scenario.genesis, scenario.inputs);
})();
const CTX: GameContext = contextOf(EPOCH, EPOCH.honest.result);
const STEPS = EPOCH.honest.steps;
const CHAIN = EPOCH.honest.chain;
const T = STEPS.length;
/** Steps tried per leaf: every step i ≥ 1 (pc link) or j < T − 1 (wrong predecessor) when CASES allows. */
const TRIED = Math.min(CASES, T - 1);
const HALTS = haltPositionsOf(CTX.program);
const PROGRAM_HASH = programHash(CTX.program);

const step = (i: number): StepRecord => STEPS[i] as StepRecord;
const chain = (i: number): Uint8Array => CHAIN[Math.min(i, T)] as Uint8Array;

/** The choices that spell step i on the grid (most significant first). */
function choicesOf(shape: SearchShape, i: number): number[] {
  let segment = wholeTrace(shape);
  return roundBits(shape).map((bits) => {
    const c = choiceFor(segment, bits, i);
    segment = narrow(segment, bits, c);
    return c;
  });
}

/** `count` steps spread over [from, to], both ends included. */
function spread(from: number, to: number, count: number): number[] {
  if (count <= 1) return [from];
  return [
    ...new Set(Array.from({ length: count }, (_, k) => from + Math.round(((to - from) * k) / (count - 1)))),
  ];
}

/** The block with one byte changed (to any other value). */
function withByteChanged(next: () => number, block: Uint8Array): Uint8Array {
  const out = block.slice();
  const at = next() % out.length;
  out[at] = ((out[at] as number) + 1 + (next() % 255)) & 0xff;
  return out;
}

/** The honest preimage of h_i (i ≥ 1): h_{i−1} and step i − 1's chained fields. */
const honestPreimage = (i: number): Uint8Array =>
  preimageBlock({ h: chain(i - 1), record: step(Math.min(i, T) - 1) });

// ---------------------------------------------------------------------------------------------------
// Keys.

/**
 * Keys as a game derives them (src/dispute/winternitz/game-keys.ts): the challenger's choices from its
 * own seed, the operator's reveal (first search), reveal′ (second search) and assert values from its
 * seed, each at its round and slot; the kick-off's two roots are graph values (§15's derivation).
 */
const CHALLENGER = hexToBytes('77'.repeat(32));
function gameSecret(
  seedByte: string,
  search: GameSearch,
  round: number,
  slot: number,
  messageBytes: number,
): WotsSecretKey {
  return deriveGameWotsSecretKey(hexToBytes(seedByte.repeat(32)), {
    network: 'regtest',
    operator: hexToBytes('66'.repeat(32)),
    epoch: 14n,
    instance: 0,
    valueIndex: 0,
    messageBytes,
    game: search === 'assert' ? SHARED_GAME : CHALLENGER,
    search,
    round,
    slot,
  });
}

const CHOICE_SECRETS: WotsSecretKey[] = Array.from({ length: ROUNDS }, (_, r) =>
  gameSecret('c7', 'first', r + 1, 0, CHOICE_BYTES),
);
const choiceKeys = CHOICE_SECRETS.map(wotsPublicKey);
const signChoices = (choices: readonly number[]) =>
  choices.map((c, r) => wotsSign(CHOICE_SECRETS[r] as WotsSecretKey, Uint8Array.of(c)));

/** The reveal's pc and re-signed h_i (first search), reveal′'s re-signed h_j and h_{j+1} (second). */
const REVEAL_SECRETS = {
  pc: gameSecret('d5', 'first', ROUNDS + 1, 0, 4),
  h: gameSecret('d5', 'first', ROUNDS + 1, 7, 20),
};
const REVEAL_KEYS = { pc: wotsPublicKey(REVEAL_SECRETS.pc), h: wotsPublicKey(REVEAL_SECRETS.h) };
const REVEAL2_SECRETS = {
  h: gameSecret('d5', 'second', ROUNDS + 1, 0, 20),
  hNext: gameSecret('d5', 'second', ROUNDS + 1, 1, 20),
};
const REVEAL2_KEYS = { h: wotsPublicKey(REVEAL2_SECRETS.h), hNext: wotsPublicKey(REVEAL2_SECRETS.hNext) };

const ASSERT_FIELDS = ['h0', 'inputsRoot', 'imageRoot'] as const;
const ASSERT_SECRETS: Record<(typeof ASSERT_FIELDS)[number], WotsSecretKey> = {
  h0: gameSecret('e3', 'assert', 0, 1, 20),
  inputsRoot: valueSecret('e3', 0, 2, 32),
  imageRoot: valueSecret('e3', 0, 1, 32),
};
const ASSERT_KEYS = publicKeysOf(ASSERT_FIELDS, ASSERT_SECRETS);

const PC_LINK = pcLinkLeaf(SHAPE, HALTS, { choices: choiceKeys, h: REVEAL_KEYS.h, pc: REVEAL_KEYS.pc });
const PC_LINK_LEAF = parsedLeaf(PC_LINK.script);
const ENTRY = entryPcLeaf(SHAPE, { choices: choiceKeys, pc: REVEAL_KEYS.pc });
const WRONG_PRED = wrongPredecessorLeaf(REVEAL2_KEYS);
const WRONG_PRED_LEAF = parsedLeaf(WRONG_PRED.script);
const H0 = h0Leaf(PROGRAM_HASH, ASSERT_KEYS);
const H0_LEAF = parsedLeaf(H0.script);

// ---------------------------------------------------------------------------------------------------
// pc link.

/** The signatures of a reveal's h_i and pc, and of the choices that spell step i (or of `choices`). */
function pcLinkSigs(i: number, h: Uint8Array, pc: number, choices = choicesOf(SHAPE, i)) {
  const v = pcLinkValues(choices, h, pc);
  const sigs = signFields(['h', 'pc'] as const, REVEAL_SECRETS, (f) => v[f]);
  return { choices, sigs: { choices: signChoices(choices), h: sigs.h, pc: sigs.pc } };
}

/** The game's twin on a reveal at step i committing (h, pc), with `block` attached. */
function gamePcLink(i: number, claimedSteps: number, h: Uint8Array, pc: number, block?: Uint8Array): boolean {
  const site: RevealSite = { step: i, claimedSteps, committedH: h, committedHNext: chain(i + 1) };
  const reveal: StepReveal = {
    record: { ...step(Math.min(i, T - 1)), pc },
    r1last: NONE,
    r2last: NONE,
    h,
    hNext: chain(i + 1),
  };
  const preimage: Preimage | undefined = block === undefined ? undefined : preimageOfBlock(block);
  return revealLeafSpends(CTX, site, reveal, { leaf: 'pc-link', preimage });
}

/** Runs the pc-link leaf at step i ≥ 1 on (h, pc, block) and checks it against both twins. */
function checkPcLink(i: number, claimedSteps: number, h: Uint8Array, pc: number, block: Uint8Array): boolean {
  const { choices, sigs } = pcLinkSigs(i, h, pc);
  expect(stepOfChoices(SHAPE, choices)).toBe(i);
  const twin = isBrokenPcLink(SHAPE, HALTS, choices, h, pc, block);
  expect(gamePcLink(i, claimedSteps, h, pc, block), `game twin at step ${i}`).toBe(twin);
  const ok = spends(PC_LINK_LEAF, pcLinkWitness(sigs, block));
  if (ok !== twin) expect.fail(`pc link at step ${i}: leaf ${ok} but twin ${twin}`);
  return ok;
}

/** A spending pc-link witness: an operator whose reveal's pc is not the previous step's next pc. */
function spendingPcLink(i: number): Uint8Array[] {
  const pc = step(i - 1).nextPc + 1;
  expect(checkPcLink(i, T, chain(i), pc, honestPreimage(i))).toBe(true);
  return pcLinkWitness(pcLinkSigs(i, chain(i), pc).sigs, honestPreimage(i));
}

/** The witness with its preimage items (the bottom 128) replaced by `items`. */
const withPreimage = (witness: readonly Uint8Array[], items: readonly Uint8Array[]): Uint8Array[] => [
  ...items,
  ...witness.slice(PREIMAGE_ITEMS),
];

/**
 * Malformed versions of a witness's preimage. Each must fail the script, not merely leave false: a
 * missing item underflows, an out-of-range digit or an item too long to be a number stops the run, and
 * an extra item is left beside the result, which tapscript's one-item rule refuses.
 */
function malformedPreimages(
  witness: readonly Uint8Array[],
  next: () => number,
): { what: string; witness: Uint8Array[]; left?: number }[] {
  const items = witness.slice(0, PREIMAGE_ITEMS);
  const at = next() % PREIMAGE_ITEMS;
  const replaced = (item: Uint8Array) =>
    withPreimage(
      witness,
      items.map((x, k) => (k === at ? item : x)),
    );
  return [
    { what: '127 items', witness: withPreimage(witness, items.slice(1)) },
    { what: '129 items', witness: withPreimage(witness, [new Uint8Array(0), ...items]), left: 2 },
    { what: 'a digit 16', witness: replaced(encodeScriptNum(16)) },
    { what: 'a digit -1', witness: replaced(encodeScriptNum(-1)) },
    { what: 'a digit 255', witness: replaced(encodeScriptNum(255)) },
    { what: 'a 5-byte item', witness: replaced(Uint8Array.of(1, 0, 0, 0, 0)) },
  ];
}

function expectMalformedFail(leaf: Uint8Array, witness: readonly Uint8Array[], next: () => number): void {
  expect(spends(leaf, [...witness])).toBe(true);
  for (const bad of malformedPreimages(witness, next)) {
    const r = measure(leaf, bad.witness);
    if (bad.left === undefined) expect(r.error, bad.what).not.toBe('OK');
    else expect([r.error, r.left], bad.what).toEqual(['OK', bad.left]);
    expect(spends(leaf, bad.witness), bad.what).toBe(false);
  }
}

const gameTwinsAgreeAtStep0 = (pc: number, block?: Uint8Array) =>
  gamePcLink(0, T, chain(0), pc, block) === isWrongEntryPc(SHAPE, choicesOf(SHAPE, 0), pc);

describe('pc link (a preimage of the re-signed h_i whose next pc is not pc, or whose pc halts)', () => {
  it('the witness carries the preimage as 128 digits below the signatures, and the leaf is standard', () => {
    const block = honestPreimage(5);
    expect(equalBytes(preimageBlock(preimageOfBlock(block)), block)).toBe(true);
    expect(equalBytes(chainNext(chain(4), step(4)), chain(5))).toBe(true);
    const items = preimageItems(block);
    expect(items.length).toBe(PREIMAGE_ITEMS);
    expect(items.every((x) => x.length <= 1 && (x[0] ?? 0) < 16)).toBe(true);
    report('pc link', PC_LINK, spendingPcLink(5));
  });

  it(
    `an honest reveal at step i ≥ 1 is never disproved: ${TRIED} of the run's ${T} steps, honest and perturbed preimages, forged signatures`,
    () => {
      const next = rng(21);
      let runs = 0;
      for (const i of spread(1, T - 1, TRIED)) {
        const h = chain(i);
        const pc = step(i).pc;
        const block = honestPreimage(i);
        const { sigs } = pcLinkSigs(i, h, pc);
        const fault = honestRunFault(PC_LINK_LEAF, pcLinkWitness(sigs, block));
        if (fault !== undefined) expect.fail(`step ${i}: honest run ${fault}`);
        expect(isBrokenPcLink(SHAPE, HALTS, choicesOf(SHAPE, i), h, pc, block)).toBe(false);
        for (let k = 0; k < 2; k++)
          expect(checkPcLink(i, T, h, pc, withByteChanged(next, block))).toBe(false);
        const signed = pcLinkWitness(sigs, block).slice(PREIMAGE_ITEMS);
        for (const forged of digitForgeries(signed, next)) {
          if (spends(PC_LINK_LEAF, [...preimageItems(block), ...forged]))
            expect.fail(`step ${i}: a forgery spent`);
        }
        runs += 5;
      }
      expect(runs).toBe(5 * TRIED);
    },
    TIMEOUT,
  );

  it('step 0: h_0’s public preimage (tape root ‖ program hash) does not spend, because the choices spell 0', () => {
    const block = concatBytes(tapeRoot(CTX.imageRoot, CTX.inputsRoot), PROGRAM_HASH);
    expect(equalBytes(chainNext(preimageOfBlock(block).h, preimageOfBlock(block).record), chain(0))).toBe(
      true,
    );
    expect(preimageOfBlock(block).record.nextPc).not.toBe(0);
    // The hash and the pc condition hold; only "i ≥ 1" refuses it.
    const notZero = Array.from({ length: ROUNDS }, (_, r) => (r === ROUNDS - 1 ? 1 : 0));
    expect(isBrokenPcLink(SHAPE, HALTS, notZero, chain(0), 0, block)).toBe(true);
    expect(isBrokenPcLink(SHAPE, HALTS, choicesOf(SHAPE, 0), chain(0), 0, block)).toBe(false);
    const { sigs } = pcLinkSigs(0, chain(0), 0);
    expect(honestRunFault(PC_LINK_LEAF, pcLinkWitness(sigs, block))).toBeUndefined();
    expect(gameTwinsAgreeAtStep0(0, block)).toBe(true);
  });

  it(
    'a reveal whose pc is not the previous step’s next pc, or that follows the halt, is disproved exactly when the twins say',
    () => {
      const next = rng(22);
      // pc off the honest next pc; a forged preimage does not help a wrong pc either.
      for (const i of spread(1, T - 1, 2)) {
        const block = honestPreimage(i);
        expect(checkPcLink(i, T, chain(i), step(i - 1).nextPc ^ 1, block)).toBe(true);
        expect(checkPcLink(i, T, chain(i), step(i - 1).nextPc ^ 1, withByteChanged(next, block))).toBe(false);
      }
      // A claim that runs past the honest halt: at step T the padded chain repeats h_T, whose preimage
      // is the halt step (its next pc is whatever the operator re-reveals as pc: only the halt counts).
      const halt = step(T - 1);
      expect(HALTS).toContain(halt.pc);
      expect(checkPcLink(T, T + 5, chain(T), halt.nextPc, honestPreimage(T))).toBe(true);
      // The same preimage with its pc moved off the halt, hashed anew to be the committed value.
      expect(HALTS).not.toContain(halt.pc - 1);
      const moved = preimageBlock({ h: chain(T - 1), record: { ...halt, pc: halt.pc - 1 } });
      const hMoved = chainNext(preimageOfBlock(moved).h, preimageOfBlock(moved).record);
      expect(checkPcLink(T, T + 5, hMoved, halt.nextPc, moved)).toBe(false);
    },
    TIMEOUT,
  );

  it('malformed preimages fail the script (in a witness that spends with the well-formed one)', () => {
    const next = rng(23);
    expectMalformedFail(PC_LINK.script, spendingPcLink(T - 1), next);
  });

  it('choices outside their round never spend, even where the link and the pc condition hold', () => {
    const i = T - 1;
    const pc = step(i - 1).nextPc ^ 1;
    const block = honestPreimage(i);
    const valid = choicesOf(SHAPE, i);
    const bits = roundBits(SHAPE);
    for (const r of [0, ROUNDS - 1]) {
      for (const c of [2 ** (bits[r] as number), 255]) {
        const choices = valid.map((v, k) => (k === r ? c : v));
        expect(isBrokenPcLink(SHAPE, HALTS, choices, chain(i), pc, block)).toBe(false);
        const { sigs } = pcLinkSigs(i, chain(i), pc, choices);
        expect(spends(PC_LINK_LEAF, pcLinkWitness(sigs, block))).toBe(false);
        // Step 0 but for one choice out of range: not step 0.
        const almostZero = choices.map((v, k) => (k === r ? v : 0));
        expect(isWrongEntryPc(SHAPE, almostZero, 5)).toBe(false);
        const entry = pcLinkSigs(0, chain(0), 5, almostZero).sigs;
        expect(spends(ENTRY.script, entryPcWitness(entry))).toBe(false);
      }
    }
    expect(checkPcLink(i, T, chain(i), pc, block)).toBe(true);
  });

  it('refuses keys of the wrong size', () => {
    expect(() =>
      pcLinkLeaf(SHAPE, HALTS, { choices: choiceKeys, h: REVEAL_KEYS.pc, pc: REVEAL_KEYS.pc }),
    ).toThrow(RangeError);
    expect(() =>
      pcLinkLeaf(SHAPE, HALTS, { choices: [REVEAL_KEYS.pc], h: REVEAL_KEYS.h, pc: REVEAL_KEYS.pc }),
    ).toThrow(RangeError);
  });
});

describe('pc link at step 0 (all choices zero and pc not the entry point)', () => {
  const run = (i: number, pc: number) => {
    const { choices, sigs } = pcLinkSigs(i, chain(i), pc);
    const twin = isWrongEntryPc(SHAPE, choices, pc);
    if (i === 0) expect(gameTwinsAgreeAtStep0(pc)).toBe(true);
    const w = entryPcWitness(sigs);
    return { twin, ok: spends(ENTRY.script, w), w };
  };

  it('spends exactly when the twin says, and never on forged signatures', () => {
    const next = rng(24);
    const honest = run(0, step(0).pc);
    expect(step(0).pc).toBe(0);
    expect([honest.twin, honest.ok]).toEqual([false, false]);
    expect(honestRunFault(ENTRY.script, honest.w)).toBeUndefined();
    for (const forged of digitForgeries(honest.w, next)) expect(spends(ENTRY.script, forged)).toBe(false);
    for (const pc of [1, 7, 0x100, NONE]) expect(run(0, pc)).toMatchObject({ twin: true, ok: true });
    for (const i of [1, 2 ** 16, T - 1]) expect(run(i, 5)).toMatchObject({ twin: false, ok: false });
    report('entry pc', ENTRY, run(0, 3).w);
  });
});

// ---------------------------------------------------------------------------------------------------
// Wrong predecessor.

const signPair = (h: Uint8Array, hNext: Uint8Array) => ({
  h: wotsSign(REVEAL2_SECRETS.h, h),
  hNext: wotsSign(REVEAL2_SECRETS.hNext, hNext),
});

/** Runs the wrong-predecessor leaf on reveal′ (h_j, h_{j+1}) with `block`, against both twins. */
function checkWrongPredecessor(j: number, h: Uint8Array, hNext: Uint8Array, block: Uint8Array): boolean {
  const twin = isWrongPredecessor(h, hNext, block);
  const site: WriteRevealSite = {
    step: j,
    readStep: j + 1,
    address: 0,
    value: 0n,
    lastWrite: NONE,
    committedH: h,
    committedHNext: hNext,
  };
  const s = step(j);
  const reveal = { h, hNext, pc: s.pc, nextPc: s.nextPc, w: s.w };
  const game = writeRevealLeafSpends(site, reveal, {
    leaf: 'wrong-predecessor',
    preimage: preimageOfBlock(block),
  });
  expect(game, `game twin at step ${j}`).toBe(twin);
  const ok = spends(WRONG_PRED_LEAF, wrongPredecessorWitness(signPair(h, hNext), block));
  if (ok !== twin) expect.fail(`wrong predecessor at step ${j}: leaf ${ok} but twin ${twin}`);
  return ok;
}

describe('wrong predecessor (a preimage of the re-signed h_{j+1} whose x is not h_j)', () => {
  it('is a standard leaf', () => {
    const j = 3;
    const w = wrongPredecessorWitness(signPair(randomBytes(rng(1), 20), chain(j + 1)), honestPreimage(j + 1));
    report('wrong predecessor', WRONG_PRED, w);
  });

  it(
    `an honest reveal′ is never disproved: ${TRIED} of the run's ${T} steps, honest and perturbed preimages, forged signatures`,
    () => {
      const next = rng(31);
      let runs = 0;
      for (const j of spread(0, T - 2, TRIED)) {
        const block = honestPreimage(j + 1);
        const w = wrongPredecessorWitness(signPair(chain(j), chain(j + 1)), block);
        const fault = honestRunFault(WRONG_PRED_LEAF, w);
        if (fault !== undefined) expect.fail(`step ${j}: honest run ${fault}`);
        expect(isWrongPredecessor(chain(j), chain(j + 1), block)).toBe(false);
        for (let k = 0; k < 2; k++) {
          expect(checkWrongPredecessor(j, chain(j), chain(j + 1), withByteChanged(next, block))).toBe(false);
        }
        for (const forged of digitForgeries(w.slice(PREIMAGE_ITEMS), next)) {
          if (spends(WRONG_PRED_LEAF, [...preimageItems(block), ...forged]))
            expect.fail(`step ${j}: a forgery spent`);
        }
        runs += 5;
      }
      expect(runs).toBe(5 * TRIED);
    },
    TIMEOUT,
  );

  it(
    'a dishonest h_j followed by an honest h_{j+1} is disproved with the honest preimage, exactly when the twins say',
    () => {
      const next = rng(32);
      for (const j of spread(0, T - 2, 2)) {
        const block = honestPreimage(j + 1);
        const lie = withByteChanged(next, chain(j));
        expect(checkWrongPredecessor(j, lie, chain(j + 1), block)).toBe(true);
        // A preimage that does not hash to h_{j+1} does not help.
        expect(checkWrongPredecessor(j, lie, chain(j + 1), withByteChanged(next, block))).toBe(false);
        // A dishonest h_{j+1} with its own preimage whose x is h_j: that is the chain-link leaf's case.
        const other = withByteChanged(next, block.subarray(20)).slice();
        const forked = concatBytes(chain(j), other);
        const hForked = chainNext(chain(j), preimageOfBlock(forked).record);
        expect(checkWrongPredecessor(j, chain(j), hForked, forked)).toBe(false);
      }
    },
    TIMEOUT,
  );

  it('malformed preimages fail the script (in a witness that spends with the well-formed one)', () => {
    const next = rng(33);
    const j = T - 2;
    const witness = wrongPredecessorWitness(
      signPair(randomBytes(next, 20), chain(j + 1)),
      honestPreimage(j + 1),
    );
    expectMalformedFail(WRONG_PRED.script, witness, next);
  });
});

// ---------------------------------------------------------------------------------------------------
// h_0.

const signAssert = (h0: Uint8Array, imageRoot: Uint8Array, inputsRoot: Uint8Array): H0Signatures =>
  signFields(ASSERT_FIELDS, ASSERT_SECRETS, (f) => ({ h0, imageRoot, inputsRoot })[f]);

/** Runs the h_0 leaf on committed (h_0, roots), against both twins. */
function checkH0(h0: Uint8Array, imageRoot: Uint8Array, inputsRoot: Uint8Array): boolean {
  const twin = isWrongH0(h0, imageRoot, inputsRoot, PROGRAM_HASH);
  const ctx: GameContext = { ...CTX, imageRoot, inputsRoot };
  const assert = { steps: T, h0, hEnd: chain(T), points: [] };
  expect(assertLeafSpends(ctx, SHAPE, assert, { leaf: 'h0' })).toBe(twin);
  const ok = spends(H0_LEAF, h0Witness(signAssert(h0, imageRoot, inputsRoot)));
  if (ok !== twin) expect.fail(`h0: leaf ${ok} but twin ${twin}`);
  return ok;
}

describe('h_0 (the assert’s first chain value against the kick-off’s roots and the fixed program hash)', () => {
  it(
    'the honest h_0 is never disproved (honest and forged witnesses); a wrong h_0 or a root it was not made from is',
    () => {
      const next = rng(41);
      const { imageRoot, inputsRoot } = CTX;
      expect(equalBytes(expectedH0(CTX), chain(0))).toBe(true);
      const honest = h0Witness(signAssert(chain(0), imageRoot, inputsRoot));
      expect(honestRunFault(H0_LEAF, honest)).toBeUndefined();
      expect(checkH0(chain(0), imageRoot, inputsRoot)).toBe(false);
      for (const forged of digitForgeries(honest, next)) expect(spends(H0_LEAF, forged)).toBe(false);
      expect(checkH0(withByteChanged(next, chain(0)), imageRoot, inputsRoot)).toBe(true);
      // The operator's h_0 made from other roots than the ones it committed in the kick-off.
      expect(checkH0(chain(0), imageRoot, withByteChanged(next, inputsRoot))).toBe(true);
      expect(checkH0(chain(0), inputsRoot, imageRoot)).toBe(true);
      // Other roots, with the h_0 they make: not disprovable.
      const other = randomBytes(next, 32);
      expect(checkH0(expectedH0({ ...CTX, imageRoot: other }), other, inputsRoot)).toBe(false);
      report('h0', H0, h0Witness(signAssert(withByteChanged(next, chain(0)), imageRoot, inputsRoot)));
    },
    TIMEOUT,
  );

  it('the program hash is fixed in the script: another program’s leaf disproves this h_0', () => {
    const other = h0Leaf(randomBytes(rng(42), 32), ASSERT_KEYS);
    expect(spends(other.script, h0Witness(signAssert(chain(0), CTX.imageRoot, CTX.inputsRoot)))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------
// Games: the referee's disproves, spent in script.

type Disprove =
  | { readonly kind: 'assert'; readonly assert: AssertMove; readonly attempt: AssertAttempt }
  | {
      readonly kind: 'reveal';
      readonly site: RevealSite;
      readonly reveal: StepReveal;
      readonly attempt: RevealAttempt;
    }
  | {
      readonly kind: 'write';
      readonly site: WriteRevealSite;
      readonly reveal: WriteReveal;
      readonly attempt: WriteRevealAttempt;
    };

/** Vigil's rule, recording every disprove it makes. */
function recording(ctx: GameContext, seen: Disprove[]): ChallengerPlayer {
  const rule = ruleChallenger(ctx, SHAPE, EPOCH.view);
  return {
    ...rule,
    onAssert(assert) {
      const attempt = rule.onAssert(assert);
      if (attempt !== undefined) seen.push({ kind: 'assert', assert, attempt });
      return attempt;
    },
    onReveal(site, reveal) {
      const response = rule.onReveal(site, reveal);
      if (response !== undefined && 'disprove' in response) {
        seen.push({ kind: 'reveal', site, reveal, attempt: response.disprove });
      }
      return response;
    },
    onWriteReveal(site, reveal) {
      const attempt = rule.onWriteReveal(site, reveal);
      if (attempt !== undefined) seen.push({ kind: 'write', site, reveal, attempt });
      return attempt;
    },
  };
}

/** Plays one game the rule must win; returns its end and what the rule disproved with. */
function play(ctx: GameContext, operator: OperatorPlayer): { at: string; last: Disprove | undefined } {
  const seen: Disprove[] = [];
  const outcome = playGame(ctx, SHAPE, operator, recording(ctx, seen));
  expect(outcome.winner).toBe('challenger');
  const last = seen[seen.length - 1];
  return outcome.end === 'disproved' && last?.attempt.leaf === outcome.at
    ? { at: outcome.at, last }
    : { at: outcome.at, last: undefined };
}

/** When the rule won with the pc link or h_0, that leaf spends in script (with the rule's preimage). */
function spendWon(ctx: GameContext, won: { at: string; last: Disprove | undefined }): string {
  const { last } = won;
  if (last?.kind === 'assert' && last.attempt.leaf === 'h0') {
    const w = h0Witness(signAssert(last.assert.h0, ctx.imageRoot, ctx.inputsRoot));
    expect(spends(H0_LEAF, w)).toBe(true);
  } else if (last?.kind === 'reveal' && last.attempt.leaf === 'pc-link') {
    const { site, reveal, attempt } = last;
    const { sigs } = pcLinkSigs(site.step, reveal.h, reveal.record.pc);
    if (site.step === 0) expect(spends(ENTRY.script, entryPcWitness(sigs))).toBe(true);
    else {
      const block = preimageBlock(attempt.preimage as Preimage);
      expect(spends(PC_LINK_LEAF, pcLinkWitness(sigs, block))).toBe(true);
    }
  } else return won.at;
  return `${won.at} spent`;
}

describe("games Vigil's rule wins with these leaves: the leaf it names spends in script", () => {
  const wrongRoot = EPOCH.honest.result ^ 2n;
  const honest = operatorOf(SHAPE, EPOCH);

  it('a wrong h_0 at the assert', () => {
    const ctx = contextOf(EPOCH, wrongRoot);
    const assert = () => ({ ...(honest.assert() as AssertMove), h0: new Uint8Array(20) });
    expect(spendWon(ctx, play(ctx, { ...honest, assert }))).toBe('h0 spent');
  });

  it(
    'a run that goes on past the honest halt: the pc link after the halt (or the early-halt leaf)',
    () => {
      const halt = step(T - 1);
      const fake: StepRecord = { ...halt, r1: { addr: halt.r1.addr, value: wrongRoot } };
      const ctx = contextOf(EPOCH, wrongRoot);
      const ends = [1, 2, 40].map((extra) =>
        spendWon(
          ctx,
          play(ctx, operatorOf(SHAPE, EPOCH, [...STEPS, ...Array.from({ length: extra }, () => fake)])),
        ),
      );
      expect(ends.every((e) => e === 'pc-link spent' || e === 'early-halt')).toBe(true);
      expect(ends).toContain('pc-link spent');
    },
    TIMEOUT,
  );

  it(
    'a halt that says it read a false root, with random points in the second search: the wrong-predecessor leaf spends where they rejoin',
    () => {
      const halt = step(T - 1);
      const claimed = EPOCH.honest.result ^ 1n;
      const lastWrite = lastWriteBefore(STEPS, T - 1, halt.r1.addr) as number;
      const ends: string[] = [];
      let rejoined = 0;
      for (let seed = 1; seed <= 4; seed++) {
        const next = rng(seed);
        const answered = new Map<number, Uint8Array>();
        const liar: OperatorPlayer = {
          ...honest,
          reveal(i) {
            const r = honest.reveal(i);
            if (r === undefined || 'refuse' in r || i !== T - 1) return r;
            return {
              ...r,
              record: { ...halt, r1: { addr: halt.r1.addr, value: claimed } },
              r1last: lastWrite,
            };
          },
          answerRead(_q, _view, points) {
            return points.map((p, k) => {
              const v = seed % 2 === 0 && k % 2 === 0 ? chain(p) : randomBytes(next, 20);
              answered.set(p, v);
              return v;
            });
          },
          // reveal′ re-signs the points it committed, so no resign leaf applies.
          revealWrite(q, j) {
            const r = honest.revealWrite(q, j);
            if (r === undefined || 'refuse' in r) return r;
            return { ...r, h: answered.get(j) ?? r.h, hNext: answered.get(j + 1) ?? r.hNext };
          },
        };
        // The rule takes the chain link first (reveal′'s own record cannot link a dishonest h_j to the
        // honest h_{j+1}); the wrong-predecessor leaf spends there too, with the honest preimage.
        const { at, last } = play(contextOf(EPOCH, claimed), liar);
        ends.push(at);
        if (last?.kind !== 'write') continue;
        const { site, reveal } = last;
        if (checkWrongPredecessor(site.step, reveal.h, reveal.hNext, honestPreimage(site.step + 1)))
          rejoined++;
      }
      expect(ends.every((e) => e === 'chain-link' || e === 'resign')).toBe(true);
      expect(rejoined).toBe(ends.filter((e) => e === 'chain-link').length);
      expect(rejoined).toBeGreaterThan(0);
    },
    TIMEOUT,
  );
});

// ---------------------------------------------------------------------------------------------------

/** A leaf's size, a spending witness's size and weight, and its stack peak; within standard limits. */
function report(
  name: string,
  leaf: { script: Uint8Array; verifyBytes: number; judgeBytes: number },
  w: Uint8Array[],
) {
  const r = measure(leaf.script, w);
  expect([r.error, r.top]).toEqual(['OK', true]);
  const witnessBytes = w.reduce((n, x) => n + x.length, 0);
  const weight = tapscriptWitnessWeight(w, leaf.script, 8);
  expect(r.max).toBeLessThanOrEqual(1_000);
  expect(weight).toBeLessThanOrEqual(400_000);
  console.info(
    `${name} leaf: ${leaf.script.length} B (verify ${leaf.verifyBytes}, judge ${leaf.judgeBytes}), witness ${w.length} items ${witnessBytes} B, input weight ${weight} WU, max stack ${r.max}`,
  );
}
