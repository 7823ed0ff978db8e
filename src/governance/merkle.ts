/**
 * The state-root Merkle tree (docs/protocol.md §8): SHA-256 with domain-separated leaf (0x00), node (0x01)
 * and root (0x02) hashing; a level's last node without a sibling is carried up; the root binds the leaf
 * count. Each level lives in one flat Uint8Array (32 bytes per node), so a full build is a tight loop and
 * an update after a few leaf changes rehashes only their paths.
 */
import { hash } from 'node:crypto';
import { equalBytes } from '../core/bytes.ts';

const HASH_LEN = 32;
const LEAF_TAG = 0x00;
const NODE_TAG = 0x01;
const ROOT_TAG = 0x02;

function sha256Buffer(data: Uint8Array): Uint8Array {
  return hash('sha256', data, 'buffer') as unknown as Uint8Array;
}

const leafScratch = { buf: new Uint8Array(1024) };

/** SHA-256(0x00 ‖ leaf bytes), through a reused buffer (leaves are hashed by the million). */
function hashLeafRaw(leaf: Uint8Array): Uint8Array {
  if (leaf.length + 1 > leafScratch.buf.length) leafScratch.buf = new Uint8Array(2 * (leaf.length + 1));
  const buf = leafScratch.buf;
  buf[0] = LEAF_TAG;
  buf.set(leaf, 1);
  return sha256Buffer(buf.subarray(0, leaf.length + 1));
}

/** SHA-256(0x00 ‖ leaf bytes). */
export function hashLeaf(leaf: Uint8Array): Uint8Array {
  return new Uint8Array(hashLeafRaw(leaf));
}

export function hashNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + 2 * HASH_LEN);
  buf[0] = NODE_TAG;
  buf.set(left, 1);
  buf.set(right, 1 + HASH_LEN);
  return new Uint8Array(sha256Buffer(buf));
}

/** SHA-256(0x02 ‖ u64 leafCount ‖ top); the top of an empty tree is 32 zero bytes. */
export function hashRoot(leafCount: number, top: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + 8 + HASH_LEN);
  buf[0] = ROOT_TAG;
  new DataView(buf.buffer).setBigUint64(1, BigInt(leafCount));
  buf.set(top, 9);
  return new Uint8Array(sha256Buffer(buf));
}

export type MerkleProof = {
  index: number;
  leafCount: number;
  /** Sibling hashes from the leaf level upwards; levels where the node is carried contribute none. */
  siblings: Uint8Array[];
};

/**
 * Nodes are stored in pairs, each pair preceded by the node tag: `0x01 ‖ left ‖ right` (65 bytes), so a
 * parent is the SHA-256 of a slice of its level's buffer, with no copy.
 */
const PAIR = 1 + 2 * HASH_LEN;
const nodeOffset = (i: number): number => (i >> 1) * PAIR + 1 + (i & 1) * HASH_LEN;

function newLevel(capacityNodes: number, from?: Uint8Array): Uint8Array {
  const buf = new Uint8Array(((capacityNodes + 1) >> 1) * PAIR);
  let start = 0;
  if (from) {
    buf.set(from);
    start = from.length;
  }
  for (let o = start; o < buf.length; o += PAIR) buf[o] = NODE_TAG;
  return buf;
}

export class MerkleTree {
  /** levels[0] holds leaf hashes; capacity grows by doubling, `sizes[k]` nodes are in use. */
  private levels: Uint8Array[] = [newLevel(16)];
  private sizes: number[] = [0];
  private dirty: number[] = [];
  private cachedRoot: Uint8Array | undefined;

  get leafCount(): number {
    return this.sizes[0] ?? 0;
  }

  /** Builds a tree from leaf hashes (32 bytes each, concatenated) in one pass. */
  static fromLeafHashes(leafHashes: Uint8Array): MerkleTree {
    const n = leafHashes.length / HASH_LEN;
    const level = newLevel(Math.max(n, 2));
    for (let i = 0; i < n; i++)
      level.set(leafHashes.subarray(i * HASH_LEN, (i + 1) * HASH_LEN), nodeOffset(i));
    return MerkleTree.fromLevel(level, n);
  }

  /** Builds a tree from leaf byte strings, hashing each straight into the leaf level. */
  static fromLeaves(leaves: Iterable<Uint8Array>, count: number): MerkleTree {
    const level = newLevel(Math.max(count, 2));
    let i = 0;
    for (const leaf of leaves) {
      if (i >= count) throw new RangeError('more leaves than announced');
      level.set(hashLeafRaw(leaf), nodeOffset(i));
      i++;
    }
    if (i !== count) throw new RangeError(`announced ${count} leaves, got ${i}`);
    return MerkleTree.fromLevel(level, count);
  }

  private static fromLevel(level: Uint8Array, n: number): MerkleTree {
    const tree = new MerkleTree();
    tree.levels = [level];
    tree.sizes = [n];
    tree.rebuildAbove();
    return tree;
  }

  leafHash(index: number): Uint8Array {
    this.checkIndex(index);
    const off = nodeOffset(index);
    return (this.levels[0] as Uint8Array).slice(off, off + HASH_LEN);
  }

  /** Appends a leaf hash; returns its index. */
  append(leafHash: Uint8Array): number {
    const index = this.appendEmpty();
    (this.levels[0] as Uint8Array).set(leafHash, nodeOffset(index));
    return index;
  }

  /** Appends a leaf whose hash is set later (before the next root); returns its index. */
  appendEmpty(): number {
    const index = this.leafCount;
    this.ensureCapacity(0, index + 1);
    this.sizes[0] = index + 1;
    this.dirty.push(index);
    this.cachedRoot = undefined;
    return index;
  }

  /** Hashes `leaf` (its bytes) into position `index`. */
  setLeafBytes(index: number, leaf: Uint8Array): void {
    this.set(index, hashLeafRaw(leaf));
  }

  /** Replaces the hash of an existing leaf. */
  set(index: number, leafHash: Uint8Array): void {
    this.checkIndex(index);
    const l0 = this.levels[0] as Uint8Array;
    const off = nodeOffset(index);
    // An unchanged hash changes nothing; a leaf from appendEmpty is already in `dirty`.
    if (equalBytes(l0.subarray(off, off + HASH_LEN), leafHash)) return;
    l0.set(leafHash, off);
    this.dirty.push(index);
    this.cachedRoot = undefined;
  }

  /** The root; rehashes only the paths of leaves changed or appended since the last call. */
  root(): Uint8Array {
    if (this.cachedRoot) return this.cachedRoot;
    if (this.dirty.length > 0) this.updateDirty();
    const n = this.leafCount;
    this.cachedRoot = hashRoot(n, n === 0 ? new Uint8Array(HASH_LEN) : this.topHash());
    return this.cachedRoot;
  }

  proof(index: number): MerkleProof {
    this.root();
    this.checkIndex(index);
    const siblings: Uint8Array[] = [];
    let i = index;
    for (let k = 0; (this.sizes[k] as number) > 1; k++) {
      const sib = i ^ 1;
      if (sib < (this.sizes[k] as number)) {
        const off = nodeOffset(sib);
        siblings.push((this.levels[k] as Uint8Array).slice(off, off + HASH_LEN));
      }
      i >>= 1;
    }
    return { index, leafCount: this.leafCount, siblings };
  }

  private topHash(): Uint8Array {
    const top = this.levels[this.sizes.length - 1] as Uint8Array;
    return top.slice(1, 1 + HASH_LEN);
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.leafCount) {
      throw new RangeError(`leaf index ${index} out of range (leaf count ${this.leafCount})`);
    }
  }

  private ensureCapacity(level: number, nodes: number): void {
    const cur = this.levels[level];
    const needed = ((nodes + 1) >> 1) * PAIR;
    if (cur && cur.length >= needed) return;
    let cap = Math.max(16, cur ? (cur.length / PAIR) * 2 : 16);
    while (cap < nodes) cap *= 2;
    this.levels[level] = newLevel(cap, cur);
  }

  /** Parent `p` of level `k` (of `size` nodes) into level `k + 1`: the hash of its pair, or a carried node. */
  private computeParent(src: Uint8Array, dst: Uint8Array, p: number, size: number): void {
    const left = 2 * p;
    if (left + 1 < size) dst.set(sha256Buffer(src.subarray(p * PAIR, (p + 1) * PAIR)), nodeOffset(p));
    else {
      const off = nodeOffset(left);
      dst.set(src.subarray(off, off + HASH_LEN), nodeOffset(p));
    }
  }

  /** Recomputes every level above the leaves (the bulk build). */
  private rebuildAbove(): void {
    let k = 0;
    while ((this.sizes[k] as number) > 1) {
      const size = this.sizes[k] as number;
      const parentSize = (size + 1) >> 1;
      const src = this.levels[k] as Uint8Array;
      const dst = newLevel(Math.max(parentSize, 2));
      for (let p = 0; p < parentSize; p++) this.computeParent(src, dst, p, size);
      this.levels[k + 1] = dst;
      this.sizes[k + 1] = parentSize;
      k++;
    }
    this.levels.length = k + 1;
    this.sizes.length = k + 1;
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
      this.ensureCapacity(k + 1, parentSize);
      this.sizes[k + 1] = parentSize;
      const src = this.levels[k] as Uint8Array;
      const dst = this.levels[k + 1] as Uint8Array;
      const parents: number[] = [];
      let last = -1;
      for (let j = 0; j < indices.length; j++) {
        const p = (indices[j] as number) >> 1;
        if (p === last) continue;
        last = p;
        parents.push(p);
        this.computeParent(src, dst, p, size);
      }
      indices = parents;
      k++;
    }
    this.levels.length = k + 1;
    this.sizes.length = k + 1;
  }
}

/** Verifies that `leaf` (its bytes, not its hash) sits at `proof.index` of the tree whose root is `root`. */
export function verifyProof(root: Uint8Array, leaf: Uint8Array, proof: MerkleProof): boolean {
  const { index, leafCount, siblings } = proof;
  if (!Number.isInteger(index) || !Number.isInteger(leafCount) || index < 0 || index >= leafCount) {
    return false;
  }
  let node = hashLeaf(leaf);
  let i = index;
  let size = leafCount;
  let s = 0;
  while (size > 1) {
    const sib = i ^ 1;
    if (sib < size) {
      const sibling = siblings[s++];
      if (!sibling || sibling.length !== HASH_LEN) return false;
      node = (i & 1) === 0 ? hashNode(node, sibling) : hashNode(sibling, node);
    }
    i >>= 1;
    size = (size + 1) >> 1;
  }
  if (s !== siblings.length) return false;
  return equalBytes(hashRoot(leafCount, node), root);
}
