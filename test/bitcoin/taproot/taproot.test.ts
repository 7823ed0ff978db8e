import { describe, expect, it } from 'vitest';
import { TaprootError } from '../../../src/bitcoin/taproot/errors.ts';
import {
  controlBlock,
  findLeaf,
  taprootAddress,
  taprootOutput,
  UNSPENDABLE_INTERNAL_KEY,
  verifyControlBlock,
} from '../../../src/bitcoin/taproot/output.ts';
import {
  balancedShape,
  buildTapTree,
  huffmanShape,
  type TapLeaf,
  type TapTreeShape,
} from '../../../src/bitcoin/taproot/tree.ts';
import { bytesToHex, hexToBytes, utf8 } from '../../../src/core/bytes.ts';
import bip341 from '../../fixtures/bip341_wallet_vectors.json' with { type: 'json' };

type VectorLeaf = { id: number; script: string; leafVersion: number };
type VectorTree = VectorLeaf | VectorTree[];

function shapeOf(tree: VectorTree): TapTreeShape {
  if (Array.isArray(tree)) return [shapeOf(tree[0] as VectorTree), shapeOf(tree[1] as VectorTree)];
  return { script: hexToBytes(tree.script), leafVersion: tree.leafVersion };
}

describe('taproot outputs: BIP-341 scriptPubKey vectors', () => {
  it.each(bip341.scriptPubKey.map((c, i) => [i, c] as const))('case %i', (_i, c) => {
    const internalKey = hexToBytes(c.given.internalPubkey);
    const scriptTree = c.given.scriptTree as VectorTree | null;
    const tree = scriptTree ? buildTapTree(shapeOf(scriptTree)) : undefined;
    const out = taprootOutput(internalKey, tree);
    const inter = c.intermediary as {
      leafHashes?: string[];
      merkleRoot: string | null;
      tweak: string;
      tweakedPubkey: string;
    };
    const expected = c.expected as {
      scriptPubKey: string;
      bip350Address: string;
      scriptPathControlBlocks?: string[];
    };
    expect(out.merkleRoot ? bytesToHex(out.merkleRoot) : null).toBe(inter.merkleRoot);
    expect(bytesToHex(out.tweak)).toBe(inter.tweak);
    expect(bytesToHex(out.outputKey)).toBe(inter.tweakedPubkey);
    expect(bytesToHex(out.scriptPubKey)).toBe(expected.scriptPubKey);
    expect(taprootAddress(out.outputKey, 'mainnet')).toBe(expected.bip350Address);
    // The vectors list leaves by id; ids follow the depth-first order of the tree, as ours do.
    expect(out.leaves.map((l) => bytesToHex(l.leafHash))).toEqual(inter.leafHashes ?? []);
    const blocks = out.leaves.map((_, k) => controlBlock(out, k));
    expect(blocks.map(bytesToHex)).toEqual(expected.scriptPathControlBlocks ?? []);
    out.leaves.forEach((leaf, k) => {
      expect(verifyControlBlock(out.outputKey, leaf.script, blocks[k]!)).toBe(true);
      expect(findLeaf(out, leaf.script, leaf.leafVersion)).toBe(k);
    });
  });

  it('encodes regtest and test-network addresses with their prefixes', () => {
    const out = taprootOutput(UNSPENDABLE_INTERNAL_KEY);
    expect(taprootAddress(out.outputKey, 'regtest')).toMatch(/^bcrt1p/);
    expect(taprootAddress(out.outputKey, 'signet')).toMatch(/^tb1p/);
    expect(taprootAddress(out.outputKey, 'testnet4')).toMatch(/^tb1p/);
  });
});

const leavesOf = (n: number): TapLeaf[] =>
  Array.from({ length: n }, (_, i) => ({ script: utf8(`leaf ${i}`) }));

describe('taproot trees of thousands of leaves', () => {
  it('every control block of a balanced 2500-leaf tree verifies, at depth ceil(log2 n)', () => {
    const leaves = leavesOf(2500);
    const out = taprootOutput(UNSPENDABLE_INTERNAL_KEY, buildTapTree(balancedShape(leaves)));
    expect(out.leaves).toHaveLength(2500);
    const depths = new Set(out.leaves.map((l) => l.path.length));
    expect([...depths].sort()).toEqual([11, 12]);
    out.leaves.forEach((leaf, k) => {
      expect(bytesToHex(leaf.script)).toBe(bytesToHex(leaves[k]!.script));
      expect(verifyControlBlock(out.outputKey, leaf.script, controlBlock(out, k))).toBe(true);
    });
    // A control block proves its own leaf only.
    expect(verifyControlBlock(out.outputKey, leaves[1]!.script, controlBlock(out, 0))).toBe(false);
  });

  it('a Huffman tree puts heavy leaves high and every control block verifies', () => {
    const leaves = leavesOf(1000).map((l, i) => ({ ...l, weight: 1 / (i + 1) }));
    const out = taprootOutput(UNSPENDABLE_INTERNAL_KEY, buildTapTree(huffmanShape(leaves)));
    const depthOf = (i: number) => out.leaves[findLeaf(out, leaves[i]!.script)]!.path.length;
    expect(depthOf(0)).toBeLessThan(depthOf(999));
    expect(depthOf(0)).toBeLessThanOrEqual(4);
    for (let k = 0; k < out.leaves.length; k++) {
      expect(verifyControlBlock(out.outputKey, out.leaves[k]!.script, controlBlock(out, k))).toBe(true);
    }
    // Deterministic: the same input gives the same root.
    expect(bytesToHex(buildTapTree(huffmanShape(leaves)).root)).toBe(bytesToHex(out.merkleRoot!));
  });

  it('refuses trees deeper than 128 levels', () => {
    let deep: TapTreeShape = { script: utf8('bottom') };
    for (let i = 0; i < 129; i++) deep = [deep, { script: utf8(`side ${i}`) }];
    expect(() => buildTapTree(deep)).toThrow(TaprootError);
    let ok: TapTreeShape = { script: utf8('bottom') };
    for (let i = 0; i < 128; i++) ok = [ok, { script: utf8(`side ${i}`) }];
    const tree = buildTapTree(ok);
    expect(Math.max(...tree.leaves.map((l) => l.path.length))).toBe(128);
    const exponential = leavesOf(140).map((l, i) => ({ ...l, weight: 2 ** i }));
    expect(() => huffmanShape(exponential)).toThrow(/deeper than 128/);
  });
});

describe('taproot control blocks: forgeries fail', () => {
  const out = taprootOutput(
    hexToBytes('187791b6f712a8ea41c8ecdd0ee77fab3e85263b37e1ec18a3651926b3a6cf27'),
    buildTapTree(balancedShape(leavesOf(7))),
  );
  const script = out.leaves[3]!.script;
  const good = controlBlock(out, 3);
  const flip = (at: number, mask: number) => {
    const b = Uint8Array.from(good);
    b[at] = (b[at] as number) ^ mask;
    return b;
  };
  const table: [string, Uint8Array, Uint8Array][] = [
    ['the genuine block', good, script],
    ['parity flipped', flip(0, 1), script],
    ['leaf version changed', flip(0, 2), script],
    ['internal key changed', flip(5, 1), script],
    ['a path hash changed', flip(40, 1), script],
    ['a path hash dropped', good.subarray(0, good.length - 32), script],
    ['a stray byte appended', Uint8Array.of(...good, 0), script],
    ['another script', good, utf8('leaf 4')],
    ['empty', new Uint8Array(), script],
  ];
  it.each(table)('%s', (name, block, s) => {
    expect(verifyControlBlock(out.outputKey, s, block)).toBe(name === 'the genuine block');
  });

  it('refuses invalid leaf versions and internal keys', () => {
    expect(() => buildTapTree({ script: utf8('x'), leafVersion: 0xc1 })).toThrow(TaprootError);
    expect(() => buildTapTree({ script: utf8('x'), leafVersion: 0x50 })).toThrow(TaprootError);
    expect(() => taprootOutput(new Uint8Array(32))).toThrow(TaprootError);
    expect(() => controlBlock(out, 7)).toThrow(TaprootError);
    expect(() => balancedShape([])).toThrow(TaprootError);
  });
});
