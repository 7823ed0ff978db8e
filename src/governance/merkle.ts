/**
 * The state root (docs/protocol.md §8): a fixed-depth BLAKE3 Merkle tree over the state image, the
 * words of every leaf's record (`image.ts`), padded with zero words to 2^29. Its nodes are
 * BLAKE3(left ‖ right), one 64-byte block, so that a Bitcoin script checks one level of it with one
 * compression (GVM-1's tape, §22). Depth 4 inside a record (16 words), depth 25 above it (one node per
 * record); empty subtrees hash to the precomputed zero hashes, so the root costs what the records cost,
 * not 2^29. Each level of record-level nodes lives in one flat Uint8Array, and an update after a few
 * leaf changes rehashes only their paths.
 */
import { blake3Block64Into, blake3Pair } from '../core/blake3.ts';
import { equalBytes } from '../core/bytes.ts';
import { LeafLayoutError, leafWordsInto, RECORD_BYTES } from './image.ts';

const HASH_LEN = 32;
/** Levels inside one record (16 words). */
export const RECORD_DEPTH = 4;
/** Levels above the records. */
export const RECORDS_DEPTH = 25;
/** The image tree's depth: 2^29 words, GVM-1's address space. */
export const IMAGE_DEPTH = RECORD_DEPTH + RECORDS_DEPTH;
export const MAX_RECORDS = 2 ** RECORDS_DEPTH;

/** ZERO_HASHES[k]: the root of a subtree of height k whose words are all zero. */
export const ZERO_HASHES: readonly Uint8Array[] = (() => {
  const z: Uint8Array[] = [new Uint8Array(HASH_LEN)];
  for (let k = 0; k < IMAGE_DEPTH; k++) z.push(blake3Pair(z[k] as Uint8Array, z[k] as Uint8Array));
  return z;
})();

/** An interior node: BLAKE3(left ‖ right). */
export function hashNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  return blake3Pair(left, right);
}

const scratch = new Uint8Array(RECORD_BYTES);

/** The root of one record's 16 words (512 bytes), into `out` at `offset`. */
function recordRootInto(words: Uint8Array, out: Uint8Array, offset: number): void {
  scratch.set(words.subarray(0, RECORD_BYTES));
  // Level by level in place: pair i (bytes 64i…) hashes into node i (bytes 32i…), which lies at or
  // before it and is written only after the pair was read.
  for (let nodes = 8; nodes >= 1; nodes >>= 1) {
    for (let i = 0; i < nodes; i++) blake3Block64Into(scratch, 64 * i, scratch, 32 * i);
  }
  out.set(scratch.subarray(0, HASH_LEN), offset);
}

const wordsScratch = new Uint8Array(RECORD_BYTES);
/** A leaf's record root before `setLeafBytes` rewrites it (every flush sets leaves by the thousand). */
const beforeScratch = new Uint8Array(HASH_LEN);

/** The record root of a leaf (its bytes, §8): what the tree holds for it. */
export function hashLeaf(leaf: Uint8Array): Uint8Array {
  const out = new Uint8Array(HASH_LEN);
  leafWordsInto(leaf, wordsScratch);
  recordRootInto(wordsScratch, out, 0);
  return out;
}

export type MerkleProof = {
  /** The record's index (below 2^25). */
  index: number;
  /** The 25 sibling hashes from the record level upwards (zero hashes where the tree is empty). */
  siblings: Uint8Array[];
};

function grow(buf: Uint8Array, nodes: number): Uint8Array {
  if (buf.length >= nodes * HASH_LEN) return buf;
  let cap = Math.max(16, buf.length / HASH_LEN);
  while (cap < nodes) cap *= 2;
  const next = new Uint8Array(cap * HASH_LEN);
  next.set(buf);
  return next;
}

export class MerkleTree {
  /** levels[0] holds record roots; `sizes[k]` nodes of level k are in use. */
  private levels: Uint8Array[] = [new Uint8Array(16 * HASH_LEN)];
  private sizes: number[] = [0];
  private dirty: number[] = [];
  private cachedRoot: Uint8Array | undefined;

  get leafCount(): number {
    return this.sizes[0] ?? 0;
  }

  /**
   * An independent copy: the same nodes, no rehashing. With `spare` (a tree the caller is done with, which
   * must not be used again), the copy is `spare`, its level buffers overwritten where they have the same
   * size. Diagnosis copies one state once per catalogue fault; reusing the buffers took 22 copies a round
   * of a 1,000-epoch devnet state from 69 to 60 MiB of allocator heap (the rest is the copies' records).
   */
  clone(spare?: MerkleTree): MerkleTree {
    const t = spare ?? new MerkleTree();
    const old = t.levels;
    t.levels = this.levels.map((l, k) => {
      const buf = old[k];
      if (spare === undefined || buf === undefined || buf.length !== l.length || buf === l) return l.slice();
      buf.set(l);
      return buf;
    });
    t.sizes = [...this.sizes];
    t.dirty = [...this.dirty];
    t.cachedRoot = this.cachedRoot;
    return t;
  }

  /**
   * Copies of the tree's levels from the record roots up to its top node (`count` nodes each; a node past
   * a level's count roots an empty subtree), for a tape of the image (machine/tape.ts) to take as they are
   * instead of hashing the image again.
   */
  levelsFromRecords(): { bytes: Uint8Array; count: number }[] {
    this.root();
    return this.levels.map((l, k) => {
      const count = this.sizes[k] ?? 0;
      return { bytes: l.slice(0, count * HASH_LEN), count };
    });
  }

  /** Builds a tree from record roots (32 bytes each, concatenated). */
  static fromLeafHashes(leafHashes: Uint8Array): MerkleTree {
    const tree = new MerkleTree();
    for (let i = 0; i < leafHashes.length / HASH_LEN; i++) {
      tree.append(leafHashes.subarray(i * HASH_LEN, (i + 1) * HASH_LEN));
    }
    return tree;
  }

  /** Builds a tree from leaf byte strings (§8). */
  static fromLeaves(leaves: Iterable<Uint8Array>, count: number): MerkleTree {
    const tree = new MerkleTree();
    for (const leaf of leaves) {
      if (tree.leafCount >= count) throw new RangeError('more leaves than announced');
      tree.setLeafBytes(tree.appendEmpty(), leaf);
    }
    if (tree.leafCount !== count) throw new RangeError(`announced ${count} leaves, got ${tree.leafCount}`);
    return tree;
  }

  leafHash(index: number): Uint8Array {
    this.checkIndex(index);
    return (this.levels[0] as Uint8Array).slice(index * HASH_LEN, (index + 1) * HASH_LEN);
  }

  /** Appends a record root; returns its index. */
  append(leafHash: Uint8Array): number {
    const index = this.appendEmpty();
    (this.levels[0] as Uint8Array).set(leafHash, index * HASH_LEN);
    return index;
  }

  /** Appends a record whose root is set later (before the next root); returns its index. */
  appendEmpty(): number {
    const index = this.leafCount;
    if (index >= MAX_RECORDS) throw new RangeError(`The state image holds at most ${MAX_RECORDS} records`);
    this.levels[0] = grow(this.levels[0] as Uint8Array, index + 1);
    this.sizes[0] = index + 1;
    this.dirty.push(index);
    this.cachedRoot = undefined;
    return index;
  }

  /** Lays `leaf` (its bytes) out as words and puts its record root at `index`. */
  setLeafBytes(index: number, leaf: Uint8Array): void {
    this.checkIndex(index);
    leafWordsInto(leaf, wordsScratch);
    const l0 = this.levels[0] as Uint8Array;
    beforeScratch.set(l0.subarray(index * HASH_LEN, (index + 1) * HASH_LEN));
    recordRootInto(wordsScratch, l0, index * HASH_LEN);
    if (!equalBytes(beforeScratch, l0.subarray(index * HASH_LEN, (index + 1) * HASH_LEN))) this.touch(index);
  }

  /** Replaces the root of an existing record. */
  set(index: number, leafHash: Uint8Array): void {
    this.checkIndex(index);
    const l0 = this.levels[0] as Uint8Array;
    if (equalBytes(l0.subarray(index * HASH_LEN, (index + 1) * HASH_LEN), leafHash)) return;
    l0.set(leafHash, index * HASH_LEN);
    this.touch(index);
  }

  private touch(index: number): void {
    this.dirty.push(index);
    this.cachedRoot = undefined;
  }

  /** The root; rehashes only the paths of records changed or appended since the last call. */
  root(): Uint8Array {
    if (this.cachedRoot) return this.cachedRoot;
    if (this.dirty.length > 0) this.updateDirty();
    const n = this.leafCount;
    if (n === 0) {
      this.cachedRoot = ZERO_HASHES[IMAGE_DEPTH] as Uint8Array;
      return this.cachedRoot;
    }
    // Up from the top level through empty right subtrees, in the pair buffer: one array for the result.
    const top = this.sizes.length - 1;
    const pair = this.pair;
    pair.set((this.levels[top] as Uint8Array).subarray(0, HASH_LEN), 0);
    for (let k = top; k < RECORDS_DEPTH; k++) {
      pair.set(ZERO_HASHES[RECORD_DEPTH + k] as Uint8Array, HASH_LEN);
      blake3Block64Into(pair, 0, pair, 0);
    }
    this.cachedRoot = pair.slice(0, HASH_LEN);
    return this.cachedRoot;
  }

  proof(index: number): MerkleProof {
    this.root();
    this.checkIndex(index);
    const siblings: Uint8Array[] = [];
    let i = index;
    for (let k = 0; k < RECORDS_DEPTH; k++) {
      const sib = i ^ 1;
      const size = this.sizes[k];
      if (size !== undefined && size > 1 && sib < size) {
        siblings.push((this.levels[k] as Uint8Array).slice(sib * HASH_LEN, (sib + 1) * HASH_LEN));
      } else {
        siblings.push((ZERO_HASHES[RECORD_DEPTH + k] as Uint8Array).slice());
      }
      i >>= 1;
    }
    return { index, siblings };
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.leafCount) {
      throw new RangeError(`leaf index ${index} out of range (leaf count ${this.leafCount})`);
    }
  }

  private pair = new Uint8Array(64);

  /** Parent `p` of level `k` (of `size` nodes) into level `k + 1`; a missing right child is a zero subtree. */
  private computeParent(k: number, p: number, size: number): void {
    const src = this.levels[k] as Uint8Array;
    const left = 2 * p;
    this.pair.set(src.subarray(left * HASH_LEN, (left + 1) * HASH_LEN), 0);
    if (left + 1 < size) this.pair.set(src.subarray((left + 1) * HASH_LEN, (left + 2) * HASH_LEN), HASH_LEN);
    else this.pair.set(ZERO_HASHES[RECORD_DEPTH + k] as Uint8Array, HASH_LEN);
    blake3Block64Into(this.pair, 0, this.levels[k + 1] as Uint8Array, p * HASH_LEN);
  }

  private updateDirty(): void {
    // Sorted, duplicates allowed: equal indices share a parent and the scan below skips repeats.
    let indices: ArrayLike<number> =
      this.dirty.length === 1 ? this.dirty : Int32Array.from(this.dirty).sort();
    this.dirty = [];
    let k = 0;
    while ((this.sizes[k] as number) > 1) {
      const size = this.sizes[k] as number;
      const parentSize = (size + 1) >> 1;
      this.levels[k + 1] = grow(this.levels[k + 1] ?? new Uint8Array(0), parentSize);
      this.sizes[k + 1] = parentSize;
      const parents: number[] = [];
      let last = -1;
      for (let j = 0; j < indices.length; j++) {
        const p = (indices[j] as number) >> 1;
        if (p === last) continue;
        last = p;
        parents.push(p);
        this.computeParent(k, p, size);
      }
      indices = parents;
      k++;
    }
    this.levels.length = k + 1;
    this.sizes.length = k + 1;
  }
}

/** Verifies that `leaf` (its bytes, not its hash) is record `proof.index` of the image whose root is `root`. */
export function verifyProof(root: Uint8Array, leaf: Uint8Array, proof: MerkleProof): boolean {
  const { index, siblings } = proof;
  if (!Number.isInteger(index) || index < 0 || index >= MAX_RECORDS) return false;
  if (siblings.length !== RECORDS_DEPTH) return false;
  let node: Uint8Array;
  try {
    node = hashLeaf(leaf);
  } catch (err) {
    if (err instanceof LeafLayoutError) return false;
    throw err;
  }
  let i = index;
  for (const sibling of siblings) {
    if (sibling.length !== HASH_LEN) return false;
    node = (i & 1) === 0 ? hashNode(node, sibling) : hashNode(sibling, node);
    i >>= 1;
  }
  return equalBytes(node, root);
}
