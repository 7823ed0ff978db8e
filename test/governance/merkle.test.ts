import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes } from '../../src/core/bytes.ts';
import { proveLeaf, reexecute } from '../../src/governance/index.ts';
import { hashLeaf, MerkleTree, verifyProof } from '../../src/governance/merkle.ts';
import { generateWorkload } from '../../src/governance/workload.ts';

const sha = (...parts: Uint8Array[]) =>
  new Uint8Array(
    createHash('sha256')
      .update(concatBytes(...parts))
      .digest(),
  );
const u64 = (n: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
};

/** docs/protocol.md §8, written as plainly as possible: the reference the fast tree must match. */
function naiveRoot(leaves: Uint8Array[]): Uint8Array {
  let level: Uint8Array[] = leaves.map((l) => sha(Uint8Array.of(0), l));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const right = level[i + 1];
      next.push(right ? sha(Uint8Array.of(1), level[i] as Uint8Array, right) : (level[i] as Uint8Array));
    }
    level = next;
  }
  return sha(Uint8Array.of(2), u64(leaves.length), level[0] ?? new Uint8Array(32));
}

const leafArb = fc.uint8Array({ minLength: 1, maxLength: 80 });
const hex = bytesToHex;

function build(leaves: Uint8Array[]): MerkleTree {
  const t = new MerkleTree();
  for (const l of leaves) t.append(hashLeaf(l));
  return t;
}

describe('Merkle tree', () => {
  it('matches the plain construction for every size 0..70, built incrementally and in bulk', () => {
    for (let n = 0; n <= 70; n++) {
      const leaves = Array.from({ length: n }, (_, i) => Uint8Array.of(i, n));
      const expected = hex(naiveRoot(leaves));
      expect(hex(build(leaves).root())).toBe(expected);
      expect(hex(MerkleTree.fromLeaves(leaves, n).root())).toBe(expected);
    }
  });

  it('an incremental update equals a rebuild (property)', () => {
    fc.assert(
      fc.property(
        fc.array(leafArb, { minLength: 1, maxLength: 60 }),
        fc.array(fc.tuple(fc.nat(), leafArb), { maxLength: 10 }),
        (leaves, updates) => {
          const tree = build(leaves);
          tree.root();
          const current = [...leaves];
          for (const [i, l] of updates) {
            const at = i % current.length;
            current[at] = l;
            tree.setLeafBytes(at, l);
          }
          expect(hex(tree.root())).toBe(hex(naiveRoot(current)));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the root changes iff some leaf changes (property)', () => {
    fc.assert(
      fc.property(
        fc.array(leafArb, { minLength: 1, maxLength: 40 }),
        fc.nat(),
        leafArb,
        (leaves, i, replacement) => {
          const tree = build(leaves);
          const before = hex(tree.root());
          const at = i % leaves.length;
          tree.setLeafBytes(at, leaves[at] as Uint8Array);
          expect(hex(tree.root())).toBe(before);
          tree.setLeafBytes(at, replacement);
          const same = hex(replacement) === hex(leaves[at] as Uint8Array);
          expect(hex(tree.root()) === before).toBe(same);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('proofs verify for every leaf and fail for any altered leaf, sibling, index or count (property)', () => {
    fc.assert(
      fc.property(
        fc.array(leafArb, { minLength: 1, maxLength: 33 }),
        fc.nat(),
        fc.nat(),
        (leaves, pick, bit) => {
          const tree = build(leaves);
          const root = tree.root();
          for (let i = 0; i < leaves.length; i++) {
            const leaf = leaves[i] as Uint8Array;
            const proof = tree.proof(i);
            expect(verifyProof(root, leaf, proof)).toBe(true);
            // altered leaf
            const bad = Uint8Array.from(leaf);
            bad[pick % bad.length] = (bad[pick % bad.length] as number) ^ (1 << (bit % 8));
            expect(verifyProof(root, bad, proof)).toBe(false);
            // altered path
            if (proof.siblings.length > 0) {
              const s = pick % proof.siblings.length;
              const siblings = proof.siblings.map((x) => Uint8Array.from(x));
              const altered = siblings[s] as Uint8Array;
              altered[bit % 32] = (altered[bit % 32] as number) ^ 1;
              expect(verifyProof(root, leaf, { ...proof, siblings })).toBe(false);
              expect(verifyProof(root, leaf, { ...proof, siblings: proof.siblings.slice(1) })).toBe(false);
            }
            if (leaves.length > 1) {
              const other = (i + 1 + (pick % (leaves.length - 1))) % leaves.length;
              if (hex(leaves[other] as Uint8Array) !== hex(leaf)) {
                expect(verifyProof(root, leaf, { ...proof, index: other })).toBe(false);
              }
            }
            expect(verifyProof(root, leaf, { ...proof, leafCount: leaves.length + 1 })).toBe(false);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('binds the leaf count: a carried node is not the root of a smaller tree', () => {
    const leaves = [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)];
    const three = build(leaves);
    const two = build(leaves.slice(0, 2));
    expect(hex(three.root())).not.toBe(hex(two.root()));
  });
});

describe('state leaves', () => {
  it('every leaf of a re-executed workload proves against the state root; an altered leaf does not', () => {
    const w = generateWorkload({ seed: 7, inputs: 400 });
    const { state, root } = reexecute(w.inputs, { genesis: w.genesis });
    const ids = [...state.leaves.ids()];
    expect(ids.length).toBeGreaterThan(100);
    for (const id of ids) {
      const p = proveLeaf(state, id);
      expect(p).toBeDefined();
      if (!p) continue;
      expect(hex(p.root)).toBe(hex(root));
      expect(verifyProof(p.root, p.leaf, p.proof)).toBe(true);
      const bad = Uint8Array.from(p.leaf);
      bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1;
      expect(verifyProof(p.root, bad, p.proof)).toBe(false);
    }
  });
});
