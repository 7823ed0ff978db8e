/**
 * Taproot script trees of any size. A tree is given as a shape (a leaf, or a pair of subtrees) or built
 * from a list of leaves, balanced or by weight (Huffman: likely leaves get short control blocks). Every
 * leaf keeps its merkle path, so control blocks for thousands of leaves cost one pass over the tree.
 */
import { TaprootError } from './errors.ts';
import { tapbranchHash, tapleafHash } from './primitives.ts';

/** BIP-342 tapscript. */
export const TAPSCRIPT_LEAF_VERSION = 0xc0;
/** BIP-341: a control block holds at most 128 path hashes. */
export const TAPROOT_MAX_DEPTH = 128;

export type TapLeaf = { script: Uint8Array; leafVersion?: number };
export type TapTreeShape = TapLeaf | readonly [TapTreeShape, TapTreeShape];

export type TapLeafInfo = {
  script: Uint8Array;
  leafVersion: number;
  leafHash: Uint8Array;
  /** Sibling hashes from the leaf up to the root: the control block's path. */
  path: Uint8Array[];
};

export type TapTree = {
  root: Uint8Array;
  /** Leaves in depth-first, left-to-right order of the shape. */
  leaves: TapLeafInfo[];
};

function isLeaf(shape: TapTreeShape): shape is TapLeaf {
  return !Array.isArray(shape);
}

export function checkLeafVersion(leafVersion: number): void {
  // The low bit carries the output key's parity; 0x50 would be read as an annex.
  if (
    !Number.isInteger(leafVersion) ||
    leafVersion < 0 ||
    leafVersion > 0xfe ||
    leafVersion & 1 ||
    leafVersion === 0x50
  ) {
    throw new TaprootError(`Taproot leaf version 0x${leafVersion.toString(16)} is not valid`, {
      metaMessages: ['A leaf version is even, at most 0xfe, and not 0x50 (tapscript is 0xc0).'],
    });
  }
}

/** Builds the tree of `shape`: leaf hashes, every leaf's path, and the merkle root. */
export function buildTapTree(shape: TapTreeShape): TapTree {
  const leaves: TapLeafInfo[] = [];
  // Iterative post-order walk: deep unbalanced trees must not overflow the JS stack.
  type Frame = { shape: TapTreeShape; stage: 0 | 1 | 2 };
  const stack: Frame[] = [{ shape, stage: 0 }];
  const results: { hash: Uint8Array; first: number; end: number }[] = [];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    if (isLeaf(frame.shape)) {
      const leafVersion = frame.shape.leafVersion ?? TAPSCRIPT_LEAF_VERSION;
      checkLeafVersion(leafVersion);
      const leafHash = tapleafHash(frame.shape.script, leafVersion);
      leaves.push({ script: frame.shape.script, leafVersion, leafHash, path: [] });
      results.push({ hash: leafHash, first: leaves.length - 1, end: leaves.length });
      stack.pop();
      continue;
    }
    if (frame.stage !== 2) {
      const child = frame.shape[frame.stage];
      frame.stage = frame.stage === 0 ? 1 : 2;
      if (stack.length > TAPROOT_MAX_DEPTH) {
        throw new TaprootError(`Taproot tree is deeper than ${TAPROOT_MAX_DEPTH} levels`);
      }
      stack.push({ shape: child, stage: 0 });
      continue;
    }
    const right = results.pop();
    const left = results.pop();
    if (!left || !right) throw new TaprootError('Taproot tree shape is malformed');
    for (let i = left.first; i < left.end; i++) (leaves[i] as TapLeafInfo).path.push(right.hash);
    for (let i = right.first; i < right.end; i++) (leaves[i] as TapLeafInfo).path.push(left.hash);
    results.push({ hash: tapbranchHash(left.hash, right.hash), first: left.first, end: right.end });
    stack.pop();
  }
  const root = results.pop();
  if (!root) throw new TaprootError('Taproot tree shape is malformed');
  return { root: root.hash, leaves };
}

/** A balanced shape: every leaf at depth floor or ceil of log2(n), in the given order. */
export function balancedShape(leaves: readonly TapLeaf[]): TapTreeShape {
  if (leaves.length === 0) throw new TaprootError('A taproot tree needs at least one leaf');
  const build = (from: number, to: number): TapTreeShape => {
    if (to - from === 1) return leaves[from] as TapLeaf;
    const mid = from + Math.ceil((to - from) / 2);
    return [build(from, mid), build(mid, to)];
  };
  return build(0, leaves.length);
}

export type WeightedLeaf = TapLeaf & { weight: number };

/**
 * A Huffman shape: leaves with more weight sit closer to the root, so the transactions expected to be
 * used pay for shorter control blocks. Ties break by input order, so the shape is deterministic.
 */
export function huffmanShape(leaves: readonly WeightedLeaf[]): TapTreeShape {
  if (leaves.length === 0) throw new TaprootError('A taproot tree needs at least one leaf');
  type Node = { weight: number; order: number; shape: TapTreeShape; depth: number };
  const nodes: Node[] = leaves.map((l, i) => {
    if (!(Number.isFinite(l.weight) && l.weight >= 0)) {
      throw new TaprootError(`Taproot leaf ${i} has weight ${l.weight}; weights are finite and non-negative`);
    }
    const leaf: TapLeaf =
      l.leafVersion === undefined ? { script: l.script } : { script: l.script, leafVersion: l.leafVersion };
    return { weight: l.weight, order: i, shape: leaf, depth: 0 };
  });
  // A binary heap keyed on (weight, order).
  const less = (a: Node, b: Node) => a.weight < b.weight || (a.weight === b.weight && a.order < b.order);
  const heap: Node[] = [];
  const push = (n: Node) => {
    heap.push(n);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i] as Node, heap[p] as Node)) break;
      [heap[i], heap[p]] = [heap[p] as Node, heap[i] as Node];
      i = p;
    }
  };
  const pop = (): Node => {
    const top = heap[0] as Node;
    const last = heap.pop() as Node;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l] as Node, heap[m] as Node)) m = l;
        if (r < heap.length && less(heap[r] as Node, heap[m] as Node)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m] as Node, heap[i] as Node];
        i = m;
      }
    }
    return top;
  };
  for (const n of nodes) push(n);
  let order = nodes.length;
  while (heap.length > 1) {
    const a = pop();
    const b = pop();
    const depth = Math.max(a.depth, b.depth) + 1;
    if (depth > TAPROOT_MAX_DEPTH) {
      throw new TaprootError(`Huffman taproot tree would be deeper than ${TAPROOT_MAX_DEPTH} levels`, {
        metaMessages: ['The weights are too skewed; flatten them or use a balanced tree.'],
      });
    }
    push({ weight: a.weight + b.weight, order: order++, shape: [a.shape, b.shape], depth });
  }
  return pop().shape;
}
