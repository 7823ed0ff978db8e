import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blake3Node } from '../../circuits/blake3-reference.ts';
import { bytesToHex, concatBytes } from '../../src/core/bytes.ts';
import { LEAF_TAGS, leafByteLength, leafWords } from '../../src/governance/image.ts';
import { computeStateRoot, leafIds, proveLeaf, reexecute } from '../../src/governance/index.ts';
import { hashLeaf, IMAGE_DEPTH, MerkleTree, verifyProof } from '../../src/governance/merkle.ts';
import { CheckpointKind, encodeCheckpointLeaf } from '../../src/governance/state.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { addr, Scenario } from './scenario.ts';

const node = (l: Uint8Array, r: Uint8Array): Uint8Array => blake3Node(concatBytes(l, r));

/**
 * docs/protocol.md §8, written as plainly as possible with the reference BLAKE3: every record's 16 words
 * in a row, padded with zero words to a power of two, hashed pairwise, then the top folded with zero
 * subtrees up to depth 29. The fast tree must match it.
 */
function naiveRoot(leaves: Uint8Array[]): Uint8Array {
  const words: Uint8Array[] = [];
  for (const l of leaves) {
    const rec = leafWords(l);
    for (let i = 0; i < 16; i++) words.push(rec.slice(32 * i, 32 * i + 32));
  }
  let zero: Uint8Array = new Uint8Array(32);
  let level = words.length === 0 ? [zero] : words;
  let height = 0;
  while (level.length > 1 || height < 4) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(node(level[i] as Uint8Array, level[i + 1] ?? zero));
    level = next;
    zero = node(zero, zero);
    height++;
  }
  let top = level[0] as Uint8Array;
  for (; height < IMAGE_DEPTH; height++) {
    top = node(top, zero);
    zero = node(zero, zero);
  }
  return top;
}

/** A random leaf with a valid layout (§8): a tag, then bytes of the tag's length. */
const leafArb = fc
  .tuple(fc.constantFrom(...LEAF_TAGS), fc.uint8Array({ minLength: 300, maxLength: 300 }))
  .map(([tag, body]) => {
    const l = body.slice(0, leafByteLength(tag));
    l[0] = tag;
    return l;
  });
const hex = bytesToHex;

function build(leaves: Uint8Array[]): MerkleTree {
  const t = new MerkleTree();
  for (const l of leaves) t.append(hashLeaf(l));
  return t;
}

const sampleLeaf = (i: number, n: number): Uint8Array => {
  const tag = LEAF_TAGS[i % LEAF_TAGS.length] as number;
  const l = new Uint8Array(leafByteLength(tag)).fill((i * 31 + n) & 0xff);
  l[0] = tag;
  return l;
};

describe('state image tree', () => {
  it('matches the plain construction for every size 0..40, built incrementally and in bulk', () => {
    for (let n = 0; n <= 40; n++) {
      const leaves = Array.from({ length: n }, (_, i) => sampleLeaf(i, n));
      const expected = hex(naiveRoot(leaves));
      expect(hex(build(leaves).root())).toBe(expected);
      expect(hex(MerkleTree.fromLeaves(leaves, n).root())).toBe(expected);
    }
  });

  it('an incremental update equals a rebuild (property)', () => {
    fc.assert(
      fc.property(
        fc.array(leafArb, { minLength: 1, maxLength: 40 }),
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
      { numRuns: 100 },
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

  it('proofs verify for every leaf and fail for any altered leaf, sibling, index or path length (property)', () => {
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
            expect(proof.siblings).toHaveLength(25);
            expect(verifyProof(root, leaf, proof)).toBe(true);
            // altered leaf (the tag byte too: an unknown tag is refused, not thrown)
            const bad = Uint8Array.from(leaf);
            bad[pick % bad.length] = (bad[pick % bad.length] as number) ^ (1 << (bit % 8));
            expect(verifyProof(root, bad, proof)).toBe(false);
            // altered path
            const s = pick % proof.siblings.length;
            const siblings = proof.siblings.map((x) => Uint8Array.from(x));
            const altered = siblings[s] as Uint8Array;
            altered[bit % 32] = (altered[bit % 32] as number) ^ 1;
            expect(verifyProof(root, leaf, { ...proof, siblings })).toBe(false);
            expect(verifyProof(root, leaf, { ...proof, siblings: proof.siblings.slice(1) })).toBe(false);
            if (leaves.length > 1) {
              const other = (i + 1 + (pick % (leaves.length - 1))) % leaves.length;
              if (hex(leaves[other] as Uint8Array) !== hex(leaf)) {
                expect(verifyProof(root, leaf, { ...proof, index: other })).toBe(false);
              }
            }
            // an index past the image is refused
            expect(verifyProof(root, leaf, { ...proof, index: 2 ** 25 })).toBe(false);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('lays every leaf out as 16 words: key word first, one value field per word, name-keyed tags last', () => {
    // A validator (0x04): address key, then commission u16, self stake, delegated, delegator count.
    const v = new Uint8Array(leafByteLength(0x04));
    v[0] = 0x04;
    v.fill(0xaa, 1, 21);
    v[21] = 0x01;
    v[22] = 0x02;
    v[22 + 32] = 0x07;
    const w = leafWords(v);
    expect(hex(w.subarray(0, 32))).toBe(`04${'aa'.repeat(20)}${'00'.repeat(11)}`);
    expect(hex(w.subarray(32, 64))).toBe(`${'00'.repeat(30)}0102`);
    expect(w[64 + 31]).toBe(0x07);
    expect(w.subarray(160).every((b) => b === 0)).toBe(true);
    // A param (0x02): the 32-byte name is the key word, the tag sits in word 15.
    const p = new Uint8Array(leafByteLength(0x02));
    p[0] = 0x02;
    p.set(new TextEncoder().encode('quorumBps'), 1);
    p[64] = 0x05;
    const pw = leafWords(p);
    expect(new TextDecoder().decode(pw.subarray(0, 9))).toBe('quorumBps');
    expect(pw[63]).toBe(0x05);
    expect(pw[511]).toBe(0x02);
    expect(() => leafWords(Uint8Array.of(0x04, 1, 2))).toThrow(/tag 0x4 is 91 bytes, not 3/);
    expect(() => leafWords(Uint8Array.of(0x0d))).toThrow(/No leaf has tag 0xd/);
    // An action (0x0c): key word = tag ‖ proposal id u64 ‖ index u8; kind, name, value, codeHash.
    const act = new Uint8Array(leafByteLength(0x0c));
    act[0] = 0x0c;
    act[8] = 0x05; // id 5
    act[9] = 0x02; // index 2
    act[10] = 0x01; // upgradeModule
    act.set(new TextEncoder().encode('bridge'), 11);
    act[11 + 32 + 31] = 0x03; // version 3
    act[11 + 64] = 0xcc;
    const aw = leafWords(act);
    expect(hex(aw.subarray(0, 32))).toBe(`0c${'00'.repeat(7)}0502${'00'.repeat(22)}`);
    expect(aw[63]).toBe(0x01);
    expect(new TextDecoder().decode(aw.subarray(64, 70))).toBe('bridge');
    expect(aw[127]).toBe(0x03);
    expect(aw[128]).toBe(0xcc);
    expect(aw.subarray(160).every((b) => b === 0)).toBe(true);
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

describe('checkpoint leaves', () => {
  it('a checkpoint rewritten in its block keeps one leaf with the last value, and the root stays the plain tree', () => {
    const v = addr('a1');
    const s = new Scenario().at(5);
    expect(s.apply({ kind: 'registerValidator', sender: v, commissionBps: 0 }).accepted).toBe(true);
    expect(s.apply({ kind: 'stake', sender: v, amount: 1_000n }).accepted).toBe(true);
    const sizeAfterFirst = s.state.leaves.size;
    const first = s.state.leaves.leaf(leafIds.checkpoint(CheckpointKind.Self, v, 5n));
    expect(s.apply({ kind: 'stake', sender: v, amount: 500n }).accepted).toBe(true);
    expect(s.state.leaves.size).toBe(sizeAfterFirst);
    const root = computeStateRoot(s.state);
    const leaf = s.state.leaves.leaf(leafIds.checkpoint(CheckpointKind.Self, v, 5n));
    expect(leaf?.index).toBe(first?.index);
    expect(hex(leaf?.bytes ?? new Uint8Array())).toBe(
      hex(encodeCheckpointLeaf(CheckpointKind.Self, v, 5n, null, 1_500n)),
    );
    s.at(6).apply({ kind: 'stake', sender: v, amount: 1n });
    const records: Uint8Array[] = [];
    for (const id of s.state.leaves.ids()) {
      const l = s.state.leaves.leaf(id);
      if (l) records[l.index] = l.bytes;
    }
    expect(records.length).toBe(s.state.leaves.size);
    expect(hex(computeStateRoot(s.state))).toBe(hex(naiveRoot(records)));
    expect(hex(root)).not.toBe(hex(computeStateRoot(s.state)));
  });

  it('reads no leaf for a checkpoint id of another block, kind, account or shape', () => {
    const v = addr('a1');
    const s = new Scenario().at(5);
    s.apply({ kind: 'registerValidator', sender: v, commissionBps: 0 });
    s.apply({ kind: 'stake', sender: v, amount: 1_000n });
    computeStateRoot(s.state);
    const id = leafIds.checkpoint(CheckpointKind.Self, v, 5n);
    expect(s.state.leaves.leaf(id)).toBeDefined();
    for (const other of [
      leafIds.checkpoint(CheckpointKind.Self, v, 4n),
      leafIds.checkpoint(CheckpointKind.Delegation, v, 5n),
      leafIds.checkpoint(CheckpointKind.Self, addr('a2'), 5n),
      `0a04${id.slice(4)}`,
      id.slice(0, -1),
      id.toUpperCase(),
    ]) {
      expect(s.state.leaves.leaf(other)).toBeUndefined();
    }
  });
});

describe('the state image', () => {
  it('is every record in index order, and its plain tree is the state root', () => {
    const w = generateWorkload({ seed: 5, inputs: 200 });
    const { state, root } = reexecute(w.inputs, { genesis: w.genesis });
    const image = state.leaves.image();
    expect(image.length).toBe(512 * state.leaves.size);
    const records: Uint8Array[] = [];
    for (const id of state.leaves.ids()) {
      const leaf = state.leaves.leaf(id);
      if (leaf) records[leaf.index] = leaf.bytes;
    }
    expect(records.length).toBe(state.leaves.size);
    for (let k = 0; k < records.length; k++) {
      expect(hex(image.subarray(512 * k, 512 * (k + 1)))).toBe(hex(leafWords(records[k] as Uint8Array)));
    }
    expect(hex(naiveRoot(records))).toBe(hex(root));
  });
});
