import { describe, expect, it } from 'vitest';
import {
  controlBlock,
  taprootOutput,
  UNSPENDABLE_INTERNAL_KEY,
  verifyControlBlock,
} from '../../../src/bitcoin/taproot/output.ts';
import { balancedShape, buildTapTree, huffmanShape } from '../../../src/bitcoin/taproot/tree.ts';
import { utf8 } from '../../../src/core/bytes.ts';

describe('taproot trees at scale (long)', () => {
  it('every control block of a balanced 20,000-leaf tree and a 10,000-leaf Huffman tree verifies', () => {
    const leaves = Array.from({ length: 20_000 }, (_, i) => ({
      script: utf8(`leaf ${i}`),
      weight: 1 + (i % 97),
    }));
    for (const shape of [balancedShape(leaves), huffmanShape(leaves.slice(0, 10_000))]) {
      const out = taprootOutput(UNSPENDABLE_INTERNAL_KEY, buildTapTree(shape));
      let verified = 0;
      out.leaves.forEach((leaf, k) => {
        if (verifyControlBlock(out.outputKey, leaf.script, controlBlock(out, k))) verified++;
      });
      expect(verified).toBe(out.leaves.length);
    }
  });
});
