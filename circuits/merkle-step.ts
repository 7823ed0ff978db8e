/**
 * The disprove leaf of ONE Merkle hash step, the unit a Merkle-path memory check is built from: the
 * operator has Winternitz-committed three 32-byte values, a left child, a right child and their parent,
 * and the leaf can be spent exactly when `BLAKE3(left ‖ right) ≠ parent`.
 *
 * Script: covenant (each key `OP_CHECKSIGVERIFY`, as every graph leaf; none in the tests), then the
 * three signatures verified with the real `appendWotsVerify` — left (top of the witness) first, its 64
 * digits parked on the altstack, then right, parked, then parent, whose digits stay — then the digits of
 * right and left come back above the parent's, which is the layout of `blake3Gadget('notEqual')`
 * (expected digest, then the message `left ‖ right` as `right`'s digits then `left`'s). The gadget
 * leaves one item, 1 exactly when the hash differs from the parent: the leaf's only stack item, so
 * tapscript's clean-stack rule holds and the spend succeeds exactly on a wrong parent.
 *
 * Witness (bottom first): the parent's Winternitz items, the right child's, the left child's, then the
 * covenant signatures (the first key's on top), as `encodeWotsWitness` writes them.
 */
import { ScriptBuilder } from '../src/bitcoin/script/builder.ts';
import { concatBytes, equalBytes } from '../src/core/bytes.ts';
import type { WotsPublicKey } from '../src/dispute/winternitz/keys.ts';
import type { WotsSignature } from '../src/dispute/winternitz/sign.ts';
import { blake3Gadget } from './blake3.ts';
import { blake3Node } from './blake3-reference.ts';
import { appendThreeValueVerify, tapscriptWitnessWeight, threeValueWitness } from './wots-values.ts';

/** The three committed values of a step: children and parent, 32 bytes each. */
export type MerkleStepKeys = { left: WotsPublicKey; right: WotsPublicKey; parent: WotsPublicKey };
export type MerkleStepSignatures = { left: WotsSignature; right: WotsSignature; parent: WotsSignature };

export const MERKLE_NODE_BYTES = 32;

export type MerkleStepLeaf = {
  script: Uint8Array;
  /** Bytes of the covenant and the three Winternitz verifications (with the altstack moves). */
  verifyBytes: number;
  /** Bytes of the BLAKE3 'notEqual' circuit. */
  circuitBytes: number;
};

let notEqual: Uint8Array | undefined;
function notEqualScript(): Uint8Array {
  notEqual ??= blake3Gadget('notEqual').script;
  return notEqual;
}

/** The leaf script, with its two parts measured. `covenant`: x-only keys checked first (may be empty). */
export function merkleStepLeaf(keys: MerkleStepKeys, covenant: readonly Uint8Array[] = []): MerkleStepLeaf {
  const b = new ScriptBuilder();
  appendThreeValueVerify(
    b,
    { bottom: keys.parent, middle: keys.right, top: keys.left },
    covenant,
    undefined,
    'a Merkle node',
  );
  const verify = b.build();
  const circuit = notEqualScript();
  return { script: concatBytes(verify, circuit), verifyBytes: verify.length, circuitBytes: circuit.length };
}

/** The witness items below the script and control block, bottom first. */
export function merkleStepWitness(
  sigs: MerkleStepSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return threeValueWitness({ bottom: sigs.parent, middle: sigs.right, top: sigs.left }, covenantSigs);
}

/** The same judgement in TypeScript: the step is wrong exactly when BLAKE3(left ‖ right) ≠ parent. */
export function isFaulty(left: Uint8Array, right: Uint8Array, parent: Uint8Array): boolean {
  for (const v of [left, right, parent]) {
    if (v.length !== MERKLE_NODE_BYTES) throw new RangeError(`a Merkle node is ${MERKLE_NODE_BYTES} bytes`);
  }
  return !equalBytes(blake3Node(concatBytes(left, right)), parent);
}

export { tapscriptWitnessWeight };
