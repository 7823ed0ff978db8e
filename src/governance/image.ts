/**
 * The state image (docs/protocol.md §8): each leaf of the state is one record of 16 uint256 words, so
 * that GVM-1 (§22) reads a field as one word and the state root is a tree of words it can hash one
 * BLAKE3 block at a time. The leaf bytes of §8 stay the canonical encoding (proof files carry them);
 * this module lays them out as words.
 *
 * Word 0 is the key word: the leaf's tag and key fields, left-aligned. The three name-keyed leaves
 * (param, module, pending param) have a 33-byte key, so their key word is the 32-byte name and their tag
 * sits in word 15 (a name starts with an ASCII byte ≥ 0x2d, a tag is ≤ 0x0c, so the two kinds of key word
 * never meet). Words 1 … are the value fields in §8's order, one field per word, right-aligned
 * (big-endian integers); the remaining words are zero.
 */

export const RECORD_WORDS = 16;
export const WORD_BYTES = 32;
export const RECORD_BYTES = RECORD_WORDS * WORD_BYTES;

/** Byte widths of each leaf's key fields (after the tag) and value fields, by tag (§8's table). */
const LAYOUTS: Readonly<Record<number, { key: readonly number[]; values: readonly number[] }>> = {
  1: { key: [], values: [8, 8, 4, 4, 8, 4, 32, 32, 32] },
  2: { key: [32], values: [32] },
  3: { key: [32], values: [8, 32] },
  4: { key: [20], values: [2, 32, 32, 4] },
  5: { key: [20], values: [20, 32] },
  6: { key: [4], values: [20, 32] },
  7: { key: [20], values: [32] },
  8: { key: [8], values: [20, 8, 8, 8, 2, 2, 8, 32, 1, 8, 8, 32, 32, 32, 32] },
  9: { key: [8, 20], values: [1, 1, 32] },
  10: { key: [1, 20, 8], values: [20, 32] },
  11: { key: [32], values: [32, 8] },
  12: { key: [8, 1], values: [1, 32, 32, 32] },
};

/** Tags whose key is a 32-byte name: key word = the name, tag in the last word. */
const NAME_KEYED = new Set([0x02, 0x03, 0x0b]);

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

export class LeafLayoutError extends RangeError {
  override name = 'LeafLayoutError';
}

/** The leaf's 16 words (512 bytes, word i at bytes 32i … 32i + 31) into `out` at `offset`. */
export function leafWordsInto(leaf: Uint8Array, out: Uint8Array, offset = 0): void {
  const tag = leaf[0] as number;
  const layout = LAYOUTS[tag];
  if (layout === undefined) throw new LeafLayoutError(`No leaf has tag 0x${tag.toString(16)}`);
  const keyBytes = sum(layout.key);
  const expected = 1 + keyBytes + sum(layout.values);
  if (leaf.length !== expected) {
    throw new LeafLayoutError(
      `A leaf with tag 0x${tag.toString(16)} is ${expected} bytes, not ${leaf.length}`,
    );
  }
  out.fill(0, offset, offset + RECORD_BYTES);
  if (NAME_KEYED.has(tag)) {
    out.set(leaf.subarray(1, 33), offset);
    out[offset + RECORD_BYTES - 1] = tag;
  } else {
    out.set(leaf.subarray(0, 1 + keyBytes), offset);
  }
  let at = 1 + keyBytes;
  layout.values.forEach((width, i) => {
    const wordEnd = offset + (i + 2) * WORD_BYTES;
    out.set(leaf.subarray(at, at + width), wordEnd - width);
    at += width;
  });
}

/** The leaf's record as 16 words. */
export function leafWords(leaf: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_BYTES);
  leafWordsInto(leaf, out);
  return out;
}

/** The record's words as integers (for GVM-1's tape and tests). */
export function recordWordValues(record: Uint8Array): bigint[] {
  const words: bigint[] = [];
  for (let i = 0; i < RECORD_WORDS; i++) {
    let x = 0n;
    for (let j = 0; j < WORD_BYTES; j++) x = (x << 8n) | BigInt(record[i * WORD_BYTES + j] as number);
    words.push(x);
  }
  return words;
}

/** Every leaf tag of §8. */
export const LEAF_TAGS: readonly number[] = Object.keys(LAYOUTS).map(Number);

/** The byte length of a leaf with `tag` (tag byte included). */
export function leafByteLength(tag: number): number {
  const layout = LAYOUTS[tag];
  if (layout === undefined) throw new LeafLayoutError(`No leaf has tag 0x${tag.toString(16)}`);
  return 1 + sum(layout.key) + sum(layout.values);
}
