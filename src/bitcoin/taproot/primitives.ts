/**
 * The BIP-341 hash primitives the tree code builds on, from the script engine
 * (src/bitcoin/script/taproot.ts): one source of truth for what the interpreter checks.
 */
import {
  tapleafHash as engineTapleafHash,
  verifyTaprootCommitment as engineVerifyCommitment,
} from '../script/taproot.ts';

export {
  buildControlBlock,
  isValidControlBlockSize,
  TAPROOT_LEAF_TAPSCRIPT,
  tapbranchHash,
  taptweakHash,
} from '../script/taproot.ts';

export function tapleafHash(script: Uint8Array, leafVersion: number): Uint8Array {
  return engineTapleafHash(leafVersion, script);
}

/** Core's VerifyTaprootCommitment for `script` under the 32-byte output key. */
export function verifyTaprootCommitment(
  controlBlock: Uint8Array,
  outputKey: Uint8Array,
  script: Uint8Array,
): boolean {
  const leafVersion = (controlBlock[0] as number) & 0xfe;
  return engineVerifyCommitment(controlBlock, outputKey, tapleafHash(script, leafVersion));
}
