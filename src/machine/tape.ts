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
import { hashNode, ZERO_HASHES } from '../governance/merkle.ts';
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
type Level = { readonly bytes: Uint8Array; readonly count: number };

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
 * The tape as the machine and a dispute see it: its words, its roots, and the Merkle path of any
 * position. Builds both halves' trees once (about twice the words given in nodes).
 */
export class Tape {
  readonly image: readonly bigint[];
  readonly inputs: readonly bigint[];
  readonly imageRoot: Uint8Array;
  readonly inputRoot: Uint8Array;
  readonly root: Uint8Array;
  readonly #levels: readonly [Level[], Level[]];

  constructor(contents: TapeContents) {
    checkHalf(contents.image, 'image');
    checkHalf(contents.inputs, 'inputs');
    this.image = contents.image.slice();
    this.inputs = contents.inputs.slice();
    const image = buildLevels(this.image, TAPE_HALF_DEPTH);
    const inputs = buildLevels(this.inputs, TAPE_HALF_DEPTH);
    this.#levels = [image, inputs];
    this.imageRoot = nodeAt(image[TAPE_HALF_DEPTH] as Level, TAPE_HALF_DEPTH, 0);
    this.inputRoot = nodeAt(inputs[TAPE_HALF_DEPTH] as Level, TAPE_HALF_DEPTH, 0);
    this.root = tapeRoot(this.imageRoot, this.inputRoot);
  }

  /** The word at `pos` (zero past the given words). */
  word(pos: number): bigint {
    checkPosition(pos);
    return pos < ADDRESS_LIMIT ? (this.image[pos] ?? 0n) : (this.inputs[pos - ADDRESS_LIMIT] ?? 0n);
  }

  /** The 29 siblings of `pos` within its half, bottom-up, then the other half's root (30 in all). */
  path(pos: number): Uint8Array[] {
    checkPosition(pos);
    const half = pos < ADDRESS_LIMIT ? 0 : 1;
    const levels = this.#levels[half];
    let index = pos - half * ADDRESS_LIMIT;
    const out: Uint8Array[] = [];
    for (let k = 0; k < TAPE_HALF_DEPTH; k++) {
      out.push(nodeAt(levels[k] as Level, k, index ^ 1));
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
