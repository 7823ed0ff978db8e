/**
 * The tape GVM-1's `tape` instruction reads (docs/protocol.md §22): two halves, the state image
 * (positions 0 .. 2^29 − 1) and the inputs (positions 2^29 .. 2^30 − 1, input word = position − 2^29).
 * Each half is a binary Merkle tree of fixed depth 29 whose leaves are the 32-byte big-endian words
 * themselves (no leaf hashing: a word is already 32 bytes) and whose nodes are `blake3Node(left ‖ right)`,
 * one BLAKE3 compression, so a disprove leaf checks one level with one hash gadget. Words past the given
 * arrays are zero, and a subtree holding only zeros hashes to the precomputed z_k (z_0 = 32 zero bytes,
 * z_{k+1} = H(z_k ‖ z_k)), which is what makes the cost proportional to the words given, not to 2^29
 * (one compression per pair of nodes that holds a given word).
 * The tape root is `H(imageRoot ‖ inputRoot)`. `imageRoot` of a state's image is its state root (§8).
 *
 * At level j (0 from the leaves) a node is the LEFT child when bit j of its position is 0; bit 29 picks
 * the half (image left, inputs right). Pure: no I/O.
 */
import { blake3Block64Into } from '../core/blake3.ts';
import { RECORD_BYTES } from '../governance/image.ts';
import { hashNode, RECORD_DEPTH, ZERO_HASHES } from '../governance/merkle.ts';
import { ADDRESS_LIMIT, TAPE_HALF_DEPTH, TAPE_LIMIT, WORD_BYTES, WORD_MAX, wordBytes } from './isa.ts';

/**
 * z_0 … z_29 and the node hash are the state image tree's (src/governance/merkle.ts, docs/protocol.md
 * §8): the tape's image half is that tree, so both halves use its definitions rather than a copy.
 */
export { ZERO_HASHES };
/** One Merkle node: BLAKE3 of the 64-byte block `left ‖ right`. */
export const nodeHash = hashNode;

function checkWord(w: bigint, where: string): void {
  if (typeof w !== 'bigint' || w < 0n || w > WORD_MAX) {
    throw new RangeError(`${where} is not a uint256 word (0 ≤ w < 2^256): ${String(w)}`);
  }
}

function checkHalf(words: readonly bigint[], what: string): void {
  if (words.length > ADDRESS_LIMIT) {
    throw new RangeError(`The ${what} holds at most 2^29 words, got ${words.length}`);
  }
  for (let i = 0; i < words.length; i++) checkWord(words[i] as bigint, `${what} word ${i}`);
}

/** Writes `w` as 32 big-endian bytes at `offset` (four 64-bit limbs: far cheaper than 32 byte shifts). */
export function wordInto(view: DataView, offset: number, w: bigint): void {
  view.setBigUint64(offset, w >> 192n);
  view.setBigUint64(offset + 8, BigInt.asUintN(64, w >> 128n));
  view.setBigUint64(offset + 16, BigInt.asUintN(64, w >> 64n));
  view.setBigUint64(offset + 24, BigInt.asUintN(64, w));
}

/**
 * One level of a tree, flat: `count` nodes of 32 bytes. Nodes at index ≥ count are all-zero subtrees
 * (z_k), since they cover only positions past the words given.
 */
export type Level = { readonly bytes: Uint8Array; readonly count: number };

function leafLevel(words: readonly bigint[]): Level {
  const bytes = new Uint8Array(words.length * WORD_BYTES);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? 0n;
    if (w !== 0n) wordInto(view, i * WORD_BYTES, w);
  }
  return { bytes, count: words.length };
}

const pairBlock = new Uint8Array(64);

/** The level above `level` (height k → k + 1): one compression per pair, an odd last node paired with z_k. */
function nextLevel(level: Level, k: number): Level {
  const count = Math.ceil(level.count / 2);
  const bytes = new Uint8Array(count * WORD_BYTES);
  const full = Math.floor(level.count / 2);
  for (let i = 0; i < full; i++) blake3Block64Into(level.bytes, 64 * i, bytes, WORD_BYTES * i);
  if (full < count) {
    pairBlock.set(level.bytes.subarray(64 * full, 64 * full + WORD_BYTES), 0);
    pairBlock.set(zeroHash(k), WORD_BYTES);
    blake3Block64Into(pairBlock, 0, bytes, WORD_BYTES * full);
  }
  return { bytes, count };
}

/** Node `index` of a level (z_k past its end). */
function nodeAt(level: Level, k: number, index: number): Uint8Array {
  return index < level.count ? level.bytes.slice(WORD_BYTES * index, WORD_BYTES * (index + 1)) : zeroHash(k);
}

/** All levels of one half, leaves (level 0) to root (level `depth`). */
function buildLevels(words: readonly bigint[], depth: number): Level[] {
  const levels: Level[] = [leafLevel(words)];
  for (let k = 0; k < depth; k++) levels.push(nextLevel(levels[k] as Level, k));
  return levels;
}

function zeroHash(k: number): Uint8Array {
  const z = ZERO_HASHES[k];
  if (z === undefined) throw new RangeError(`No zero hash for height ${k}`);
  return z;
}

/**
 * The root of a depth-`depth` tree (29 unless a test asks for a small one) over `words`, zero beyond
 * them: about `words.length` compressions plus `depth`, never 2^depth.
 */
export function imageRoot(words: readonly bigint[], depth: number = TAPE_HALF_DEPTH): Uint8Array {
  if (!Number.isInteger(depth) || depth < 0 || depth > TAPE_HALF_DEPTH) {
    throw new RangeError(`Tree depth must be 0 .. ${TAPE_HALF_DEPTH}, got ${depth}`);
  }
  if (words.length > 2 ** depth) {
    throw new RangeError(`A depth-${depth} tree holds at most ${2 ** depth} words, got ${words.length}`);
  }
  checkHalf(words, 'image');
  // Only the current level is kept: the root needs no siblings.
  let level = leafLevel(words);
  for (let k = 0; k < depth; k++) level = nextLevel(level, k);
  return nodeAt(level, depth, 0);
}

export function tapeRoot(imageRootBytes: Uint8Array, inputRootBytes: Uint8Array): Uint8Array {
  return nodeHash(imageRootBytes, inputRootBytes);
}

export type TapeContents = { readonly image: readonly bigint[]; readonly inputs: readonly bigint[] };

function checkPosition(pos: number): void {
  if (!Number.isInteger(pos) || pos < 0 || pos >= TAPE_LIMIT) {
    throw new RangeError(`Not a tape position (0 ≤ pos < 2^30): ${pos}`);
  }
}

/**
 * One half's levels, leaves to root (TAPE_HALF_DEPTH + 1 of them). Level 0 holds the words themselves. A
 * level left out (`undefined`, only below level 4) is rebuilt from the words wherever a path needs one of
 * its nodes: a state image's tree keeps its nodes from the record roots up, and the 16 words of a record
 * hash to their root in 15 compressions, so nothing below that level is kept for millions of words.
 */
type Half = { readonly levels: readonly (Level | undefined)[]; readonly view: DataView };

/** How many levels may be left out below the kept ones (a record's 16 words: levels 1 to 3). */
const MAX_LEFT_OUT = 3;

/** A half's levels as plain data, to hand a tape to another thread (`Tape.parts`, `Tape.fromParts`). */
export type TapeHalfParts = { readonly levels: readonly (Level | null)[] };
export type TapeParts = { readonly image: TapeHalfParts; readonly inputs: TapeHalfParts };

function halfOf(levels: readonly (Level | undefined)[]): Half {
  const words = levels[0] as Level;
  return { levels, view: new DataView(words.bytes.buffer, words.bytes.byteOffset, words.bytes.byteLength) };
}

/** The word at index `i` of a level-0 view: four 64-bit limbs, big-endian. */
function readWord(view: DataView, i: number): bigint {
  const o = i * WORD_BYTES;
  return (
    (view.getBigUint64(o) << 192n) |
    (view.getBigUint64(o + 8) << 128n) |
    (view.getBigUint64(o + 16) << 64n) |
    view.getBigUint64(o + 24)
  );
}

/** Node `index` at height `k` of a half, rebuilt from its 2^k words when that level was left out. */
function halfNode(half: Half, k: number, index: number): Uint8Array {
  const level = half.levels[k];
  if (level !== undefined) return nodeAt(level, k, index);
  const words = half.levels[0] as Level;
  const first = index * 2 ** k;
  if (first >= words.count) return zeroHash(k).slice();
  const span = new Uint8Array(2 ** k * WORD_BYTES);
  const upTo = Math.min(words.count, first + 2 ** k);
  span.set(words.bytes.subarray(first * WORD_BYTES, upTo * WORD_BYTES));
  // Level by level in place, as a record's root is: pair i hashes into node i, read before it is written.
  for (let nodes = 2 ** (k - 1); nodes >= 1; nodes >>= 1) {
    for (let i = 0; i < nodes; i++) blake3Block64Into(span, 64 * i, span, WORD_BYTES * i);
  }
  return span.slice(0, WORD_BYTES);
}

/** The levels of `parts`, checked to be a half's shape (the bytes are taken, not copied). */
function halfOfParts(parts: TapeHalfParts, what: string): Half {
  const levels = parts.levels;
  if (levels.length !== TAPE_HALF_DEPTH + 1) {
    throw new RangeError(`The ${what} half has ${levels.length} levels, not ${TAPE_HALF_DEPTH + 1}`);
  }
  const out: (Level | undefined)[] = [];
  for (let k = 0; k <= TAPE_HALF_DEPTH; k++) {
    const level = levels[k] ?? undefined;
    if (level === undefined) {
      if (k === 0 || k > MAX_LEFT_OUT) throw new RangeError(`The ${what} half lacks level ${k}`);
      out.push(undefined);
      continue;
    }
    const { bytes, count } = level;
    if (
      !(bytes instanceof Uint8Array) ||
      !Number.isInteger(count) ||
      count < 0 ||
      bytes.length < count * WORD_BYTES
    ) {
      throw new RangeError(`The ${what} half's level ${k} holds fewer bytes than its ${count} nodes`);
    }
    if (k === 0 && count > ADDRESS_LIMIT)
      throw new RangeError(`The ${what} holds at most 2^29 words, got ${count}`);
    out.push({ bytes, count });
  }
  // Each kept level has as many nodes as the words under it make at its height.
  const words = (out[0] as Level).count;
  for (let k = 1; k <= TAPE_HALF_DEPTH; k++) {
    const level = out[k];
    if (level !== undefined && level.count !== Math.ceil(words / 2 ** k)) {
      throw new RangeError(
        `The ${what} half's level ${k} has ${level.count} nodes; its ${words} words make ${Math.ceil(words / 2 ** k)}`,
      );
    }
  }
  return halfOf(out);
}

/** Node-for-node what `parts` hands over (the levels themselves: their buffers can be transferred). */
function partsOf(half: Half): TapeHalfParts {
  return { levels: half.levels.map((l) => l ?? null) };
}

/** Marks the constructor's second form: a tape made from its halves, not from words. */
const HALVES = Symbol('tape halves');
type Halves = { readonly [HALVES]: readonly [Half, Half] };

/**
 * The tape as the machine and a dispute see it: its words, its roots, and the Merkle path of any
 * position. Builds both halves' trees once (about twice the words given in nodes); `fromStateImage`
 * takes a state's tree as it is, and `fromParts` a tape built on another thread, with no hashing.
 */
export class Tape {
  readonly imageRoot: Uint8Array;
  readonly inputRoot: Uint8Array;
  readonly root: Uint8Array;
  readonly #halves: readonly [Half, Half];

  constructor(contents: TapeContents | Halves) {
    if (HALVES in contents) {
      this.#halves = contents[HALVES];
    } else {
      checkHalf(contents.image, 'image');
      checkHalf(contents.inputs, 'inputs');
      this.#halves = [
        halfOf(buildLevels(contents.image, TAPE_HALF_DEPTH)),
        halfOf(buildLevels(contents.inputs, TAPE_HALF_DEPTH)),
      ];
    }
    const [image, inputs] = this.#halves;
    this.imageRoot = halfNode(image, TAPE_HALF_DEPTH, 0);
    this.inputRoot = halfNode(inputs, TAPE_HALF_DEPTH, 0);
    this.root = tapeRoot(this.imageRoot, this.inputRoot);
  }

  /**
   * The tape of a state image (`words`, 16 per record: `GovernanceState.leaves.image()`) whose tree of
   * record roots is `recordLevels` (`MerkleTree.levelsFromRecords`, the record roots first), and `inputs`.
   * The record roots and everything above them are the state tree's own nodes: nothing is hashed again
   * (a mainnet state of eight million words took 4.3 s to rehash), and the levels inside a record are
   * rebuilt per path. The caller vouches that the levels are that tree's; `imageRoot` is its root.
   */
  static fromStateImage(words: Uint8Array, recordLevels: readonly Level[], inputs: readonly bigint[]): Tape {
    if (words.length % RECORD_BYTES !== 0) {
      throw new RangeError(`A state image is whole records of ${RECORD_BYTES} bytes, got ${words.length}`);
    }
    const records = words.length / RECORD_BYTES;
    if ((recordLevels[0]?.count ?? 0) !== records) {
      throw new RangeError(`The state tree has ${recordLevels[0]?.count ?? 0} records, its image ${records}`);
    }
    checkHalf(inputs, 'inputs');
    const levels: (Level | undefined)[] = [{ bytes: words, count: words.length / WORD_BYTES }];
    for (let k = 1; k < RECORD_DEPTH; k++) levels.push(undefined);
    levels.push(recordLevels[0] ?? { bytes: new Uint8Array(0), count: 0 });
    for (let k = RECORD_DEPTH + 1; k <= TAPE_HALF_DEPTH; k++) {
      const kept = recordLevels[k - RECORD_DEPTH];
      levels.push(kept ?? nextLevel(levels[k - 1] as Level, k - 1));
    }
    const image = halfOfParts({ levels: levels.map((l) => l ?? null) }, 'image');
    return new Tape({ [HALVES]: [image, halfOf(buildLevels(inputs, TAPE_HALF_DEPTH))] });
  }

  /** A tape from `parts` (another thread's `Tape.parts()`), its levels taken as they are. */
  static fromParts(parts: TapeParts): Tape {
    return new Tape({ [HALVES]: [halfOfParts(parts.image, 'image'), halfOfParts(parts.inputs, 'inputs')] });
  }

  /**
   * The levels themselves, not copies, to post to another thread (list `transferables` as the transfer
   * list: the tape is unusable here once they are transferred).
   */
  parts(): TapeParts {
    return { image: partsOf(this.#halves[0]), inputs: partsOf(this.#halves[1]) };
  }

  /** Every level's buffer, for a postMessage transfer list. */
  transferables(): ArrayBuffer[] {
    const buffers = new Set<ArrayBuffer>();
    for (const half of this.#halves) {
      for (const l of half.levels) if (l !== undefined) buffers.add(l.bytes.buffer as ArrayBuffer);
    }
    return [...buffers];
  }

  /** How many words each half was given (the rest are zero). */
  get wordCounts(): { readonly image: number; readonly inputs: number } {
    return { image: this.#count(0), inputs: this.#count(1) };
  }

  #count(half: 0 | 1): number {
    return (this.#halves[half].levels[0] as Level).count;
  }

  /** The words each half was given, as numbers (a copy: tests and small tapes). */
  contents(): TapeContents {
    const words = (half: 0 | 1) => {
      const h = this.#halves[half];
      return Array.from({ length: this.#count(half) }, (_, i) => readWord(h.view, i));
    };
    return { image: words(0), inputs: words(1) };
  }

  /** The word at `pos` (zero past the given words). */
  word(pos: number): bigint {
    checkPosition(pos);
    const half = pos < ADDRESS_LIMIT ? 0 : 1;
    const index = pos - half * ADDRESS_LIMIT;
    return index < this.#count(half) ? readWord(this.#halves[half].view, index) : 0n;
  }

  /** The 29 siblings of `pos` within its half, bottom-up, then the other half's root (30 in all). */
  path(pos: number): Uint8Array[] {
    checkPosition(pos);
    const half = pos < ADDRESS_LIMIT ? 0 : 1;
    const h = this.#halves[half];
    let index = pos - half * ADDRESS_LIMIT;
    const out: Uint8Array[] = [];
    for (let k = 0; k < TAPE_HALF_DEPTH; k++) {
      out.push(halfNode(h, k, index ^ 1));
      index >>>= 1;
    }
    out.push(half === 0 ? this.inputRoot : this.imageRoot);
    return out;
  }
}

/** True when `word` sits at `pos` under the tape root `root`, by the 30 siblings of `Tape.path`. */
export function verifyTapePath(
  root: Uint8Array,
  pos: number,
  word: bigint,
  siblings: readonly Uint8Array[],
): boolean {
  checkPosition(pos);
  checkWord(word, 'The tape word');
  if (siblings.length !== TAPE_HALF_DEPTH + 1) return false;
  let node = wordBytes(word);
  for (let j = 0; j <= TAPE_HALF_DEPTH; j++) {
    const sibling = siblings[j] as Uint8Array;
    if (sibling.length !== WORD_BYTES) return false;
    // Bit j of the position: 0 = this node is the left child. Bit 29 picks the half.
    node = Math.floor(pos / 2 ** j) % 2 === 0 ? nodeHash(node, sibling) : nodeHash(sibling, node);
  }
  return equalBytes(node, root);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
