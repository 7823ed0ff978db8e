/**
 * The BIP-341 hash primitives the tree code builds on. They belong to the script engine
 * (src/bitcoin/script/taproot.ts); this module is the one place that imports them, so that the tree code
 * names one source. Until the engine's module lands they are written here from BIP-341 directly.
 */
import { compareBytes } from '../../core/bytes.ts';
import { taggedHash } from '../../core/hashes.ts';
import { encodeCompactSize } from '../compact-size.ts';

/** BIP-341: hash_TapLeaf(leaf_version || compact_size(len(script)) || script). */
export function tapleafHash(script: Uint8Array, leafVersion: number): Uint8Array {
  return taggedHash('TapLeaf', Uint8Array.of(leafVersion), encodeCompactSize(script.length), script);
}

/** BIP-341: hash_TapBranch of the two children in lexicographic order. */
export function tapbranchHash(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareBytes(a, b) <= 0 ? taggedHash('TapBranch', a, b) : taggedHash('TapBranch', b, a);
}
