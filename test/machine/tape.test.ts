/**
 * The tape's Merkle trees: imageRoot against a naive full-tree computation at small depths and a direct
 * sparse reference at depth 29, the tape root, paths of random positions in both halves (and their
 * failure when the word, a sibling or the position changes), and the range errors.
 */
import { describe, expect, it } from 'vitest';
import { blake3Node } from '../../circuits/blake3-reference.ts';
import { leafWords, recordWordValues } from '../../src/governance/image.ts';
import { computeStateRoot, createGenesisState, reexecute } from '../../src/governance/index.ts';
import { MerkleTree } from '../../src/governance/merkle.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import {
  ADDRESS_LIMIT,
  TAPE_HALF_DEPTH,
  TAPE_LIMIT,
  WORD_MAX,
  WORD_MODULUS,
  wordBytes,
  wordOf,
} from '../../src/machine/isa.ts';
import { encodeInputsTape } from '../../src/machine/programs/inputs-tape.ts';
import { imageRoot, nodeHash, Tape, tapeRoot, verifyTapePath, ZERO_HASHES } from '../../src/machine/tape.ts';
import { gen } from './gen.ts';

const H = (l: Uint8Array, r: Uint8Array) => {
  const m = new Uint8Array(64);
  m.set(l);
  m.set(r, 32);
  return blake3Node(m);
};

/** Every leaf of a depth-d tree hashed level by level: 2^d − 1 hashes, only for small d. */
function naiveRoot(words: readonly bigint[], depth: number): Uint8Array {
  let level = Array.from({ length: 2 ** depth }, (_, i) => wordBytes(words[i] ?? 0n));
  while (level.length > 1)
    level = Array.from({ length: level.length / 2 }, (_, i) =>
      H(level[2 * i] as Uint8Array, level[2 * i + 1] as Uint8Array),
    );
  return level[0] as Uint8Array;
}

/** Depth-29 root of one non-zero word at `pos` (everything else zero), straight from the definition. */
function singleWordRoot(pos: number, word: bigint): Uint8Array {
  let node = wordBytes(word);
  for (let k = 0; k < TAPE_HALF_DEPTH; k++) {
    const z = ZERO_HASHES[k] as Uint8Array;
    node = Math.floor(pos / 2 ** k) % 2 === 0 ? H(node, z) : H(z, node);
  }
  return node;
}

describe('tape Merkle trees', () => {
  it('zero hashes: z_0 is 32 zero bytes and z_{k+1} = H(z_k ‖ z_k)', () => {
    expect(ZERO_HASHES).toHaveLength(TAPE_HALF_DEPTH + 1);
    expect(ZERO_HASHES[0]).toEqual(new Uint8Array(32));
    for (let k = 0; k < TAPE_HALF_DEPTH; k++)
      expect(ZERO_HASHES[k + 1]).toEqual(H(ZERO_HASHES[k] as Uint8Array, ZERO_HASHES[k] as Uint8Array));
    expect(nodeHash(ZERO_HASHES[3] as Uint8Array, ZERO_HASHES[4] as Uint8Array)).toEqual(
      H(ZERO_HASHES[3] as Uint8Array, ZERO_HASHES[4] as Uint8Array),
    );
  });

  it('imageRoot equals the naive full tree at depths 0..6 (dense, sparse, with zeros, empty)', () => {
    const g = gen(1401);
    for (let depth = 0; depth <= 6; depth++) {
      for (let t = 0; t < 8; t++) {
        const n = g.int(2 ** depth + 1);
        const words = Array.from({ length: n }, () => (g.chance(0.4) ? 0n : g.word()));
        expect(imageRoot(words, depth)).toEqual(naiveRoot(words, depth));
      }
      expect(imageRoot([], depth)).toEqual(ZERO_HASHES[depth]);
    }
  });

  it('imageRoot at depth 29 equals the definition for one word, two words and all-zero arrays', () => {
    expect(imageRoot([])).toEqual(ZERO_HASHES[29]);
    expect(imageRoot([0n, 0n, 0n])).toEqual(ZERO_HASHES[29]);
    expect(imageRoot([5n])).toEqual(singleWordRoot(0, 5n));
    const words: bigint[] = [];
    words[6] = WORD_MAX;
    expect(imageRoot(Array.from(words, (w) => w ?? 0n))).toEqual(singleWordRoot(6, WORD_MAX));
    // Two words: the path of the second climbs through the first's subtree at the level they meet.
    const a = 3n;
    const b = 9n;
    const left = H(wordBytes(a), wordBytes(b)); // positions 0, 1
    let node = left;
    for (let k = 1; k < TAPE_HALF_DEPTH; k++) node = H(node, ZERO_HASHES[k] as Uint8Array);
    expect(imageRoot([a, b])).toEqual(node);
  });

  it('imageRoot of a state image equals the governance state root (records of 16 words)', () => {
    const g = gen(1408);
    for (const count of [1, 3, 17]) {
      // Reward leaves (tag 0x07): account 20 bytes, accrued u256.
      const leaves = Array.from({ length: count }, () =>
        Uint8Array.from({ length: 53 }, (_, i) => (i === 0 ? 0x07 : g.int(256))),
      );
      const words = leaves.flatMap((leaf) => recordWordValues(leafWords(leaf)));
      expect(imageRoot(words)).toEqual(MerkleTree.fromLeaves(leaves, count).root());
    }
  });

  it('tapeRoot = H(imageRoot ‖ inputRoot) and Tape agrees', () => {
    const tape = new Tape({ image: [1n, 2n, 3n], inputs: [4n] });
    expect(tape.imageRoot).toEqual(imageRoot([1n, 2n, 3n]));
    expect(tape.inputRoot).toEqual(imageRoot([4n]));
    expect(tape.root).toEqual(H(tape.imageRoot, tape.inputRoot));
    expect(tapeRoot(tape.imageRoot, tape.inputRoot)).toEqual(tape.root);
    expect(new Tape({ image: [4n], inputs: [1n, 2n, 3n] }).root).not.toEqual(tape.root);
  });

  it('paths of random positions in both halves verify, and fail when the word, a sibling or the position changes', () => {
    const g = gen(1402);
    for (let t = 0; t < 6; t++) {
      const image = Array.from({ length: g.int(40) }, () => (g.chance(0.3) ? 0n : g.word()));
      const inputs = Array.from({ length: g.int(40) }, () => (g.chance(0.3) ? 0n : g.word()));
      const tape = new Tape({ image, inputs });
      for (let p = 0; p < 8; p++) {
        const half = g.int(2);
        const within = g.chance(0.8) ? g.int(48) : g.int(ADDRESS_LIMIT);
        const pos = half * ADDRESS_LIMIT + within;
        const word = tape.word(pos);
        expect(word).toBe(half === 0 ? (image[within] ?? 0n) : (inputs[within] ?? 0n));
        const path = tape.path(pos);
        expect(path).toHaveLength(30);
        expect(path[29]).toEqual(half === 0 ? tape.inputRoot : tape.imageRoot);
        expect(verifyTapePath(tape.root, pos, word, path)).toBe(true);
        expect(verifyTapePath(tape.root, pos, (word + 1n) % WORD_MODULUS, path)).toBe(false);
        const j = g.int(30);
        const bad = path.slice();
        const sib = (bad[j] as Uint8Array).slice();
        const byte = g.int(32);
        sib[byte] = (sib[byte] as number) ^ (1 << g.int(8));
        bad[j] = sib;
        expect(verifyTapePath(tape.root, pos, word, bad)).toBe(false);
        // The same word at the position with one bit flipped is not under the same siblings,
        // unless the two leaves happen to hold equal words and the sibling at that level is the leaf itself.
        const other = pos ^ (1 << g.int(30));
        if (tape.word(other) !== word) expect(verifyTapePath(tape.root, other, word, path)).toBe(false);
        expect(verifyTapePath(tape.root, pos, word, path.slice(0, 29))).toBe(false);
      }
    }
  });

  it('rejects positions ≥ 2^30 and words outside uint256 with RangeErrors', () => {
    const tape = new Tape({ image: [1n], inputs: [] });
    expect(() => tape.word(TAPE_LIMIT)).toThrow(RangeError);
    expect(() => tape.word(-1)).toThrow(RangeError);
    expect(() => tape.word(1.5)).toThrow(RangeError);
    expect(() => tape.path(TAPE_LIMIT)).toThrow(RangeError);
    expect(() => verifyTapePath(tape.root, TAPE_LIMIT, 0n, tape.path(0))).toThrow(RangeError);
    expect(() => verifyTapePath(tape.root, 0, WORD_MODULUS, tape.path(0))).toThrow(RangeError);
    expect(() => new Tape({ image: [WORD_MODULUS], inputs: [] })).toThrow(/image word 0/);
    expect(() => new Tape({ image: [], inputs: [0n, -1n] })).toThrow(/inputs word 1/);
    expect(() => imageRoot([1n << 256n])).toThrow(RangeError);
    expect(() => imageRoot([1n, 2n, 3n], 1)).toThrow(RangeError);
    expect(tape.word(TAPE_LIMIT - 1)).toBe(0n);
  });
});

/** Every word and path of `got` that a dispute could ask for agrees with `want`'s. */
function expectSameTape(got: Tape, want: Tape, positions: readonly number[]): void {
  expect(got.root).toEqual(want.root);
  expect(got.imageRoot).toEqual(want.imageRoot);
  expect(got.inputRoot).toEqual(want.inputRoot);
  expect(got.wordCounts).toEqual(want.wordCounts);
  for (const pos of positions) {
    expect(got.word(pos)).toBe(want.word(pos));
    expect(got.path(pos)).toEqual(want.path(pos));
  }
}

/** Positions in both halves: the first words, a record's edges, the last word given, past it, far out. */
function probes(tape: Tape, g: ReturnType<typeof gen>): number[] {
  const { image, inputs } = tape.wordCounts;
  const at = (half: number, within: number) => half * ADDRESS_LIMIT + within;
  const out = [0, 1, 15, 16, 17, image - 1, image, image + 15, ADDRESS_LIMIT - 1];
  out.push(at(1, 0), at(1, inputs - 1), at(1, inputs), TAPE_LIMIT - 1);
  for (let i = 0; i < 40; i++) out.push(at(g.int(2), g.int(Math.max(image, inputs) + 40)));
  return out.filter((p) => p >= 0);
}

describe('tapes made without hashing again', () => {
  const state = (inputs: number) => {
    const w = generateWorkload({ seed: 77, inputs, validators: 6, delegators: 10 });
    const s = createGenesisState(w.genesis);
    reexecute(w.inputs, { state: s });
    return { state: s, inputs: encodeInputsTape(w.inputs.slice(-5)) };
  };
  const wordsOf = (bytes: Uint8Array) =>
    Array.from({ length: bytes.length / 32 }, (_, i) => wordOf(bytes.subarray(32 * i, 32 * i + 32)));

  it("fromStateImage takes the state's tree as it is: the same roots, words and paths as hashing the image", () => {
    const g = gen(2071);
    for (const n of [0, 1, 60, 400]) {
      const { state: s, inputs } = state(n);
      const bytes = s.leaves.image();
      const want = new Tape({ image: wordsOf(bytes), inputs });
      const got = Tape.fromStateImage(bytes, s.leaves.tree.levelsFromRecords(), inputs);
      expect(got.imageRoot).toEqual(computeStateRoot(s));
      expectSameTape(got, want, probes(want, g));
    }
  });

  it('fromStateImage of an empty tree is the empty image', () => {
    const empty = new MerkleTree();
    const got = Tape.fromStateImage(new Uint8Array(0), empty.levelsFromRecords(), [7n]);
    expectSameTape(got, new Tape({ image: [], inputs: [7n] }), [0, 1, ADDRESS_LIMIT, ADDRESS_LIMIT + 1]);
  });

  it('fromStateImage refuses an image of part of a record or of another count of records', () => {
    const { state: s } = state(20);
    const bytes = s.leaves.image();
    const levels = s.leaves.tree.levelsFromRecords();
    expect(() => Tape.fromStateImage(bytes.subarray(0, bytes.length - 32), levels, [])).toThrow(
      /whole records of 512 bytes/,
    );
    expect(() => Tape.fromStateImage(bytes.subarray(0, bytes.length - 512), levels, [])).toThrow(
      /state tree has \d+ records, its image \d+/,
    );
  });

  it('parts moved to another realm by transfer make the same tape there, and leave this one without them', () => {
    const g = gen(2072);
    for (const made of [
      () => new Tape({ image: [1n, 0n, 3n], inputs: [4n, 5n] }),
      () => {
        const { state: s, inputs } = state(120);
        return Tape.fromStateImage(s.leaves.image(), s.leaves.tree.levelsFromRecords(), inputs);
      },
    ]) {
      const want = made();
      const sent = made();
      const moved = structuredClone(sent.parts(), { transfer: sent.transferables() });
      expectSameTape(Tape.fromParts(moved), want, probes(want, g));
      expect(() => sent.word(0)).toThrow(TypeError);
    }
  });

  it('fromParts refuses parts not shaped like a half', () => {
    const parts = new Tape({ image: [1n, 2n, 3n], inputs: [4n] }).parts();
    const image = parts.image.levels;
    const withLevel = (k: number, level: (typeof image)[number]) => ({
      ...parts,
      image: { levels: image.map((l, i) => (i === k ? level : l)) },
    });
    expect(() => Tape.fromParts({ ...parts, image: { levels: image.slice(1) } })).toThrow(
      /29 levels, not 30/,
    );
    expect(() => Tape.fromParts(withLevel(0, null))).toThrow(/lacks level 0/);
    expect(() => Tape.fromParts(withLevel(5, null))).toThrow(/lacks level 5/);
    expect(Tape.fromParts(withLevel(2, null)).root).toEqual(
      new Tape({ image: [1n, 2n, 3n], inputs: [4n] }).root,
    );
    const short = { bytes: new Uint8Array(32), count: 2 };
    expect(() => Tape.fromParts(withLevel(1, short))).toThrow(/level 1 holds fewer bytes than its 2 nodes/);
    const wrong = { bytes: new Uint8Array(96), count: 3 };
    expect(() => Tape.fromParts(withLevel(1, wrong))).toThrow(/level 1 has 3 nodes; its 3 words make 2/);
  });
});
