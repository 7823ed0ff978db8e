/**
 * The tape's Merkle-path leaves of GVM-1, run in Vigil's interpreter under tapscript rules with real
 * Winternitz keys: a level computed the way the tape tree is built (the running node left when bit j
 * of the position is 0), and a root chosen by bit 29, can never be disproved (honest witness,
 * forgeries); with any committed value perturbed (a position bit flipped, ≥ 2^30, a node changed) a
 * leaf is spendable exactly when its twin says so. The levels and tops come from real traces (the
 * governance program's tape reads on seeded workloads, each level of their Merkle paths in turn,
 * test/machine/trace-samples.ts) and, as before, from random positions and nodes. Wrong cases are
 * counted by the twin: perturbations are drawn until exactly the count were wrong (`untilWrong`); one
 * that leaves the claim correct (another bit of the position; at the top, the root of the half the
 * position does not name) is judged but not counted. Counts: small here; VIGIL_LONG=1
 * (tape-leaf.long.test.ts) runs 10,000 traced cases each way per leaf kind (VIGIL_GVM_CASES overrides)
 * and 10,000 random ones each way (VIGIL_GVM_RANDOM).
 */
import { describe, expect, it } from 'vitest';
import { blake3Node } from '../../../circuits/blake3-reference.ts';
import {
  isFaultyTapeLevel,
  isFaultyTapeTop,
  type TapeLevelKeys,
  type TapeLevelSignatures,
  type TapeTopKeys,
  type TapeTopSignatures,
  tapeLevelLeaf,
  tapeLevelWitness,
  tapeTopLeaf,
  tapeTopWitness,
} from '../../../circuits/gvm/tape-leaf.ts';
import { concatBytes } from '../../../src/core/bytes.ts';
import { smallBytes, TAPE_LIMIT, wordBytes } from '../../../src/machine/isa.ts';
import { Tape } from '../../../src/machine/tape.ts';
import type { TraceTapeRead } from '../../machine/trace-samples.ts';
import {
  digitForgeries,
  expectStandardSpend,
  gvmCases,
  gvmRandomCases,
  gvmTraces,
  LONG,
  publicKeysOf,
  randomBytes,
  refusesHonest,
  rng,
  signFields,
  spends,
  untilWrong,
  valueSecret,
  withBitFlipped,
} from './helpers.ts';

/**
 * Cases from real traces' tape reads (long: 10,000 a kind, VIGIL_GVM_CASES) and random ones (long:
 * 10,000, VIGIL_GVM_RANDOM).
 */
const CASES = gvmCases(24);
const RANDOM = gvmRandomCases(24);
const TIMEOUT = LONG ? 4 * 3_600_000 : 600_000;
/** The governance program's tape reads (position, word, path), spread over its traces. */
const READS = gvmTraces(CASES).tapeReads;

const secret = (valueIndex: number, messageBytes: number) => valueSecret('7b', 5, valueIndex, messageBytes);

/** Secrets of the four committed values: position (4 B) and three 32-byte nodes. */
const S = { position: secret(0, 4), a: secret(1, 32), b: secret(2, 32), c: secret(3, 32) };
/** Each leaf kind's committed values, the position first, onto the same four secrets in order. */
const LEVEL_FIELDS = ['position', 'node', 'sibling', 'parent'] as const;
const TOP_FIELDS = ['position', 'root', 'imageRoot', 'inputsRoot'] as const;
const LEVEL_SECRETS = { position: S.position, node: S.a, sibling: S.b, parent: S.c };
const TOP_SECRETS = { position: S.position, root: S.a, imageRoot: S.b, inputsRoot: S.c };
const LEVEL_KEYS: TapeLevelKeys = publicKeysOf(LEVEL_FIELDS, LEVEL_SECRETS);
const TOP_KEYS: TapeTopKeys = publicKeysOf(TOP_FIELDS, TOP_SECRETS);

/** Levels covering every nibble boundary of the position's digits, both ends included. */
const LEVELS = [0, 1, 2, 3, 4, 7, 8, 13, 16, 21, 24, 27, 28];
const levelLeaves = new Map<number, Uint8Array>();
const levelLeaf = (j: number): Uint8Array => {
  let l = levelLeaves.get(j);
  if (l === undefined) {
    l = tapeLevelLeaf(j, LEVEL_KEYS).script;
    levelLeaves.set(j, l);
  }
  return l;
};
const TOP_LEAF = tapeTopLeaf(TOP_KEYS).script;

type Level = { position: number; node: Uint8Array; sibling: Uint8Array; parent: Uint8Array };
const signLevel = (v: Level): TapeLevelSignatures =>
  signFields(LEVEL_FIELDS, LEVEL_SECRETS, (f) => (f === 'position' ? smallBytes(v.position) : v[f]));
type Top = { position: number; root: Uint8Array; imageRoot: Uint8Array; inputsRoot: Uint8Array };
const signTop = (v: Top): TapeTopSignatures =>
  signFields(TOP_FIELDS, TOP_SECRETS, (f) => (f === 'position' ? smallBytes(v.position) : v[f]));

const randomPosition = (next: () => number) => next() % TAPE_LIMIT;
const bit = (p: number, j: number) => Math.floor(p / 2 ** j) % 2 === 1;

function honestLevel(next: () => number, j: number): Level {
  const position = randomPosition(next);
  const node = randomBytes(next, 32);
  const sibling = next() % 20 === 0 ? node.slice() : randomBytes(next, 32);
  const parent = blake3Node(bit(position, j) ? concatBytes(sibling, node) : concatBytes(node, sibling));
  return { position, node, sibling, parent };
}

function honestTop(next: () => number): Top {
  const position = randomPosition(next);
  const imageRoot = randomBytes(next, 32);
  const inputsRoot = next() % 20 === 0 ? imageRoot.slice() : randomBytes(next, 32);
  return { position, imageRoot, inputsRoot, root: (bit(position, 29) ? inputsRoot : imageRoot).slice() };
}

/** A position perturbed: one bit flipped (any of 32), ≥ 2^30, or the largest u32. */
function badPosition(next: () => number, p: number, j: number): number {
  const kind = next() % 4;
  if (kind === 0) return (p ^ (2 ** j)) >>> 0;
  if (kind === 1) return (p ^ (2 ** (next() % 32))) >>> 0;
  if (kind === 2) return TAPE_LIMIT + (next() % (2 ** 32 - TAPE_LIMIT));
  return 0xffffffff;
}

type LevelCase = { j: number; v: Level };

function randomLevel(next: () => number, c: number): LevelCase {
  const j = LEVELS[c % LEVELS.length] as number;
  return { j, v: honestLevel(next, j) };
}

/** Level j of traced read c's path (every level in turn): the node there, its sibling, their parent. */
function tracedLevel(c: number): LevelCase {
  const r = READS[c % READS.length] as TraceTapeRead;
  const j = c % 29;
  let node = wordBytes(r.word);
  for (let k = 0; k < j; k++) {
    const sib = r.path[k] as Uint8Array;
    node = bit(r.position, k) ? blake3Node(concatBytes(sib, node)) : blake3Node(concatBytes(node, sib));
  }
  const sibling = r.path[j] as Uint8Array;
  const parent = bit(r.position, j)
    ? blake3Node(concatBytes(sibling, node))
    : blake3Node(concatBytes(node, sibling));
  return { j, v: { position: r.position, node, sibling, parent } };
}

/** The top of traced read c's path: its half's root (29 levels up) beside the tape's two roots. */
function tracedTop(c: number): Top {
  const r = READS[c % READS.length] as TraceTapeRead;
  const root = bit(r.position, 29) ? r.inputsRoot : r.imageRoot;
  return { position: r.position, root: root.slice(), imageRoot: r.imageRoot, inputsRoot: r.inputsRoot };
}

/** Honest witness run to the end (false left), then four forgeries from its signatures, per level. */
function checkLevelCorrect(next: () => number, cases: number, source: (c: number) => LevelCase): void {
  let runs = 0;
  for (let c = 0; c < cases; c++) {
    const { j, v } = source(c);
    expect(isFaultyTapeLevel(j, v.position, v.node, v.sibling, v.parent)).toBe(false);
    const sigs = signLevel(v);
    if (!refusesHonest(levelLeaf(j), tapeLevelWitness(sigs))) expect.fail(`case ${c}: honest run`);
    const witnesses = [
      ...digitForgeries(tapeLevelWitness(sigs), next),
      tapeLevelWitness({ ...sigs, node: sigs.sibling, sibling: sigs.node }),
      tapeLevelWitness({ ...sigs, node: sigs.parent, parent: sigs.node }),
    ];
    for (const w of witnesses) {
      runs++;
      if (spends(levelLeaf(j), w)) expect.fail(`case ${c} (level ${j}): a correct level was disproved`);
    }
  }
  expect(runs).toBe(cases * 4);
}

/**
 * One committed value perturbed per draw, by `kindOf`, until `cases` draws were wrong (another bit of
 * the position than the level's own leaves a level correct: judged all the same, not counted): the leaf
 * spends exactly when its twin says.
 */
function checkLevelWrong(
  next: () => number,
  cases: number,
  source: (c: number) => LevelCase,
  kindOf: (c: number) => number,
): void {
  untilWrong(cases, (c) => {
    const { j, v } = source(c);
    const kind = kindOf(c);
    const bad: Level =
      kind === 0
        ? { ...v, position: badPosition(next, v.position, j) }
        : kind === 1
          ? { ...v, node: withBitFlipped(next, v.node) }
          : kind === 2
            ? { ...v, sibling: randomBytes(next, 32) }
            : { ...v, parent: next() % 2 === 0 ? withBitFlipped(next, v.parent) : new Uint8Array(32) };
    const faulty = isFaultyTapeLevel(j, bad.position, bad.node, bad.sibling, bad.parent);
    const ok = spends(levelLeaf(j), tapeLevelWitness(signLevel(bad)));
    if (ok !== faulty) expect.fail(`case ${c} (level ${j}, kind ${kind}): leaf ${ok} but twin ${faulty}`);
    return faulty;
  });
}

/** Honest witness run to the end (false left), then four forgeries from its signatures, per top. */
function checkTopCorrect(next: () => number, cases: number, source: (c: number) => Top): void {
  let runs = 0;
  for (let c = 0; c < cases; c++) {
    const t = source(c);
    expect(isFaultyTapeTop(t.position, t.root, t.imageRoot, t.inputsRoot)).toBe(false);
    const sigs = signTop(t);
    if (!refusesHonest(TOP_LEAF, tapeTopWitness(sigs))) expect.fail(`case ${c}: honest run`);
    const witnesses = [
      ...digitForgeries(tapeTopWitness(sigs), next),
      tapeTopWitness({ ...sigs, imageRoot: sigs.inputsRoot, inputsRoot: sigs.imageRoot }),
      tapeTopWitness({ ...sigs, root: sigs.imageRoot, imageRoot: sigs.root }),
    ];
    for (const w of witnesses) {
      runs++;
      if (spends(TOP_LEAF, w)) expect.fail(`case ${c}: a correct top was disproved`);
    }
  }
  expect(runs).toBe(cases * 4);
}

/**
 * One committed value perturbed per draw, each in turn, until `cases` draws were wrong (the root of the
 * half the position does not name, or a position bit 29 flipped between equal roots, leaves a top
 * correct: judged all the same, not counted): the leaf spends exactly when its twin says.
 */
function checkTopWrong(next: () => number, cases: number, source: (c: number) => Top): void {
  untilWrong(cases, (c) => {
    const t = source(c);
    const kind = c % 4;
    const bad: Top =
      kind === 0
        ? { ...t, position: badPosition(next, t.position, 29) }
        : kind === 1
          ? { ...t, root: withBitFlipped(next, t.root) }
          : kind === 2
            ? { ...t, imageRoot: randomBytes(next, 32) }
            : { ...t, inputsRoot: withBitFlipped(next, t.inputsRoot) };
    const faulty = isFaultyTapeTop(bad.position, bad.root, bad.imageRoot, bad.inputsRoot);
    const ok = spends(TOP_LEAF, tapeTopWitness(signTop(bad)));
    if (ok !== faulty) expect.fail(`case ${c} (kind ${kind}): leaf ${ok} but twin ${faulty}`);
    return faulty;
  });
}

describe('GVM-1 tape Merkle-path leaves (one level per leaf, and the top joining the two roots)', () => {
  it('both kinds are standard-size leaves with a bounded stack', () => {
    const next = rng(3);
    for (const j of [0, 28]) {
      const v = honestLevel(next, j);
      const items = tapeLevelWitness(signLevel({ ...v, parent: withBitFlipped(next, v.parent) }));
      expectStandardSpend(levelLeaf(j), items);
    }
    const t = honestTop(next);
    const items = tapeTopWitness(signTop({ ...t, root: withBitFlipped(next, t.root) }));
    expectStandardSpend(TOP_LEAF, items);
  });

  it(
    `real traces: a level of a tape read's path cannot be disproved: ${CASES} cases, honest witness and forgeries`,
    () => {
      expect(READS.length).toBeGreaterThan(0);
      checkLevelCorrect(rng(102), CASES, (c) => tracedLevel(c));
    },
    TIMEOUT,
  );

  it(
    `real traces: a level with a committed value perturbed is disproved exactly when its twin says so: ${CASES} wrong cases`,
    () => {
      checkLevelWrong(
        rng(203),
        CASES,
        (c) => tracedLevel(c),
        (c) => c % 4,
      );
    },
    TIMEOUT,
  );

  it(
    `a random correct level cannot be disproved: ${RANDOM} cases, honest witness and forgeries`,
    () => {
      const next = rng(101);
      checkLevelCorrect(next, RANDOM, (c) => randomLevel(next, c));
    },
    TIMEOUT,
  );

  it(
    `a random level with a committed value perturbed is disproved exactly when its twin says so: ${RANDOM} wrong cases`,
    () => {
      const next = rng(202);
      checkLevelWrong(
        next,
        RANDOM,
        (c) => randomLevel(next, c),
        (c) => Math.floor(c / LEVELS.length) % 4,
      );
    },
    TIMEOUT,
  );

  it('every level reads its own bit of the position, and a position ≥ 2^30 is disproved at any level', () => {
    const next = rng(303);
    for (const j of [0, 3, 4, 28]) {
      const v = honestLevel(next, j);
      // Another bit flipped: still a correct level. Bit j flipped: wrong (node ≠ sibling).
      const other = (v.position ^ (2 ** ((j + 5) % 29))) >>> 0;
      expect(spends(levelLeaf(j), tapeLevelWitness(signLevel({ ...v, position: other })))).toBe(false);
      const own = (v.position ^ (2 ** j)) >>> 0;
      expect(isFaultyTapeLevel(j, own, v.node, v.sibling, v.parent)).toBe(true);
      expect(spends(levelLeaf(j), tapeLevelWitness(signLevel({ ...v, position: own })))).toBe(true);
      for (const p of [TAPE_LIMIT, TAPE_LIMIT + v.position, 0xffffffff]) {
        expect(spends(levelLeaf(j), tapeLevelWitness(signLevel({ ...v, position: p })))).toBe(true);
      }
    }
  }, 120_000);

  it(
    `real traces: the top of a tape read's path cannot be disproved: ${CASES} cases, honest witness and forgeries`,
    () => {
      checkTopCorrect(rng(405), CASES, (c) => tracedTop(c));
    },
    TIMEOUT,
  );

  it(
    `real traces: a top with a committed value perturbed is disproved exactly when its twin says so: ${CASES} wrong cases`,
    () => {
      checkTopWrong(rng(506), CASES, (c) => tracedTop(c));
    },
    TIMEOUT,
  );

  it(
    `a random correct top cannot be disproved: ${RANDOM} cases, honest witness and forgeries`,
    () => {
      const next = rng(404);
      checkTopCorrect(next, RANDOM, () => honestTop(next));
    },
    TIMEOUT,
  );

  it(
    `a random top with a committed value perturbed is disproved exactly when its twin says so: ${RANDOM} wrong cases`,
    () => {
      const next = rng(505);
      checkTopWrong(next, RANDOM, () => honestTop(next));
    },
    TIMEOUT,
  );

  it("agrees with the machine's tape (src/machine/tape.ts): every level of a real path, and its top, are correct", () => {
    const next = rng(606);
    const words = (n: number) => Array.from({ length: n }, () => BigInt(next()) * 0x1_0000_0001n);
    const tape = new Tape({ image: words(9), inputs: words(5) });
    for (const position of [3, 8, TAPE_LIMIT / 2 + 4, TAPE_LIMIT / 2 + 100]) {
      const siblings = tape.path(position);
      let node = wordBytes(tape.word(position));
      for (let j = 0; j < 29; j++) {
        const sibling = siblings[j] as Uint8Array;
        const parent = bit(position, j)
          ? blake3Node(concatBytes(sibling, node))
          : blake3Node(concatBytes(node, sibling));
        expect(isFaultyTapeLevel(j, position, node, sibling, parent)).toBe(false);
        if (j === 0 || j === 28 || j === position % 29) {
          expect(spends(levelLeaf(j), tapeLevelWitness(signLevel({ position, node, sibling, parent })))).toBe(
            false,
          );
        }
        node = parent;
      }
      const top = { position, root: node, imageRoot: tape.imageRoot, inputsRoot: tape.inputRoot };
      expect(isFaultyTapeTop(position, node, tape.imageRoot, tape.inputRoot)).toBe(false);
      expect(spends(TOP_LEAF, tapeTopWitness(signTop(top)))).toBe(false);
      // The other half's root is the path's last sibling: node_29 and it join to the tape root.
      const last = siblings[29] as Uint8Array;
      expect(
        bit(position, 29) ? blake3Node(concatBytes(last, node)) : blake3Node(concatBytes(node, last)),
      ).toEqual(tape.root);
    }
  }, 120_000);

  it('refuses levels outside 0..28', () => {
    expect(() => tapeLevelLeaf(29, LEVEL_KEYS)).toThrow(RangeError);
    expect(() => tapeLevelLeaf(-1, LEVEL_KEYS)).toThrow(RangeError);
  });
});
