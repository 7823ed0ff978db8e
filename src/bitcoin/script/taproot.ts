/**
 * BIP-341 commitments: leaf and branch hashes, the Merkle root a control block proves, and the
 * output-key tweak check. Pure functions; the interpreter and the dispute graph both use them.
 */
import * as ecc from 'tiny-secp256k1';
import { compareBytes, concatBytes } from '../../core/bytes.ts';
import { taggedHash } from '../../core/hashes.ts';
import { encodeCompactSize } from '../compact-size.ts';

export const TAPROOT_LEAF_MASK = 0xfe;
export const TAPROOT_LEAF_TAPSCRIPT = 0xc0;
export const TAPROOT_CONTROL_BASE_SIZE = 33;
export const TAPROOT_CONTROL_NODE_SIZE = 32;
export const TAPROOT_CONTROL_MAX_NODE_COUNT = 128;
export const TAPROOT_CONTROL_MAX_SIZE =
  TAPROOT_CONTROL_BASE_SIZE + TAPROOT_CONTROL_NODE_SIZE * TAPROOT_CONTROL_MAX_NODE_COUNT;
export const ANNEX_TAG = 0x50;

/** tagged_hash("TapLeaf", leafVersion || compact_size(len) || script). */
export function tapleafHash(leafVersion: number, script: Uint8Array): Uint8Array {
  return taggedHash('TapLeaf', Uint8Array.of(leafVersion & 0xff), encodeCompactSize(script.length), script);
}

/** tagged_hash("TapBranch", min(a, b) || max(a, b)). */
export function tapbranchHash(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareBytes(a, b) <= 0 ? taggedHash('TapBranch', a, b) : taggedHash('TapBranch', b, a);
}

/** tagged_hash("TapTweak", internalKey || merkleRoot); merkleRoot empty for key-path-only outputs. */
export function taptweakHash(
  internalKey: Uint8Array,
  merkleRoot: Uint8Array = new Uint8Array(0),
): Uint8Array {
  return taggedHash('TapTweak', internalKey, merkleRoot);
}

/** True if the control block has a size BIP-341 allows: 33 + 32·m bytes, m ≤ 128. */
export function isValidControlBlockSize(size: number): boolean {
  return (
    size >= TAPROOT_CONTROL_BASE_SIZE &&
    size <= TAPROOT_CONTROL_MAX_SIZE &&
    (size - TAPROOT_CONTROL_BASE_SIZE) % TAPROOT_CONTROL_NODE_SIZE === 0
  );
}

/** Core's ComputeTaprootMerkleRoot: folds the control block's path into the leaf hash. */
export function computeTaprootMerkleRoot(controlBlock: Uint8Array, leafHash: Uint8Array): Uint8Array {
  const pathLen = Math.floor((controlBlock.length - TAPROOT_CONTROL_BASE_SIZE) / TAPROOT_CONTROL_NODE_SIZE);
  let k = leafHash;
  for (let i = 0; i < pathLen; i++) {
    const start = TAPROOT_CONTROL_BASE_SIZE + TAPROOT_CONTROL_NODE_SIZE * i;
    k = tapbranchHash(k, controlBlock.subarray(start, start + TAPROOT_CONTROL_NODE_SIZE));
  }
  return k;
}

/** The tweaked output key Q = P + t·G and its parity, or undefined if P is not a valid x-only key. */
export function tweakXOnlyKey(
  internalKey: Uint8Array,
  merkleRoot: Uint8Array = new Uint8Array(0),
): { outputKey: Uint8Array; parity: 0 | 1 } | undefined {
  if (internalKey.length !== 32 || !ecc.isXOnlyPoint(internalKey)) return undefined;
  const tweak = taptweakHash(internalKey, merkleRoot);
  if (!isValidTweak(tweak)) return undefined;
  const r = ecc.xOnlyPointAddTweak(internalKey, tweak);
  if (r === null) return undefined;
  return { outputKey: r.xOnlyPubkey, parity: r.parity };
}

/** Core's XOnlyPubKey::CheckTapTweak: does `outputKey` (with `parity`) commit to internalKey+merkleRoot? */
export function checkTapTweak(
  outputKey: Uint8Array,
  internalKey: Uint8Array,
  merkleRoot: Uint8Array,
  parity: number,
): boolean {
  if (internalKey.length !== 32 || outputKey.length !== 32) return false;
  const tweak = taptweakHash(internalKey, merkleRoot);
  if (!isValidTweak(tweak)) return false;
  // tiny-secp256k1 parses both points itself and throws on one off the curve; checking them first with
  // isXOnlyPoint would double the curve work of every script-path spend.
  try {
    return ecc.xOnlyPointAddTweakCheck(internalKey, tweak, outputKey, (parity & 1) as 0 | 1);
  } catch {
    return false;
  }
}

const CURVE_ORDER = Uint8Array.from(
  Buffer.from('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', 'hex'),
);

/** A tweak is usable when it is below the curve order (libsecp256k1 rejects overflow). */
function isValidTweak(tweak: Uint8Array): boolean {
  return compareBytes(tweak, CURVE_ORDER) < 0;
}

/** Core's VerifyTaprootCommitment: control block + leaf hash against the 32-byte witness program. */
export function verifyTaprootCommitment(
  controlBlock: Uint8Array,
  program: Uint8Array,
  leafHash: Uint8Array,
): boolean {
  const internalKey = controlBlock.subarray(1, TAPROOT_CONTROL_BASE_SIZE);
  const root = computeTaprootMerkleRoot(controlBlock, leafHash);
  return checkTapTweak(program, internalKey, root, (controlBlock[0] as number) & 1);
}

/** Builds a control block: (leafVersion | parity) || internalKey || path. */
export function buildControlBlock(
  leafVersion: number,
  parity: number,
  internalKey: Uint8Array,
  path: readonly Uint8Array[],
): Uint8Array {
  return concatBytes(Uint8Array.of((leafVersion & TAPROOT_LEAF_MASK) | (parity & 1)), internalKey, ...path);
}
