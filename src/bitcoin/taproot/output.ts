/**
 * Taproot outputs (BIP-341): the tweak of the internal key by the tree's merkle root, the output key and
 * its parity, the P2TR scriptPubKey and address, control blocks, and their verification.
 */
import { address as btcAddress } from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { bytesToHex, concatBytes, equalBytes, hexToBytes } from '../../core/bytes.ts';
import type { BitcoinNetwork } from '../network.ts';
import { TaprootError } from './errors.ts';
import {
  buildControlBlock,
  isValidControlBlockSize,
  taptweakHash,
  verifyTaprootCommitment,
} from './primitives.ts';
import { TAPROOT_MAX_DEPTH, type TapLeafInfo, type TapTree } from './tree.ts';

/**
 * BIP-341's provably unspendable internal key (lift_x of sha256 of G's uncompressed encoding): outputs
 * that must only be spent through a script use it, so no key-path spend exists.
 */
export const UNSPENDABLE_INTERNAL_KEY = hexToBytes(
  '50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0',
);

const HRP: Record<BitcoinNetwork, string> = {
  mainnet: 'bc',
  testnet: 'tb',
  testnet4: 'tb',
  signet: 'tb',
  regtest: 'bcrt',
};

export type TaprootOutput = {
  internalKey: Uint8Array;
  /** Absent for a key-path-only output. */
  merkleRoot: Uint8Array | undefined;
  tweak: Uint8Array;
  outputKey: Uint8Array;
  parity: 0 | 1;
  /** OP_1 <32-byte output key>. */
  scriptPubKey: Uint8Array;
  /** The tree's leaves, empty for a key-path-only output. */
  leaves: TapLeafInfo[];
};

function checkXOnly(key: Uint8Array, what: string): void {
  if (key.length !== 32 || !ecc.isXOnlyPoint(key)) {
    throw new TaprootError(`${what} is not a valid x-only public key`, {
      metaMessages: [`Got ${bytesToHex(key)}.`],
    });
  }
}

/** BIP-341: t = hash_TapTweak(P || merkle_root), or hash_TapTweak(P) without a tree. */
export function taprootTweak(internalKey: Uint8Array, merkleRoot?: Uint8Array): Uint8Array {
  return taptweakHash(internalKey, merkleRoot);
}

export function tweakKey(
  internalKey: Uint8Array,
  merkleRoot?: Uint8Array,
): { outputKey: Uint8Array; parity: 0 | 1; tweak: Uint8Array } {
  checkXOnly(internalKey, 'Taproot internal key');
  const tweak = taprootTweak(internalKey, merkleRoot);
  const tweaked = ecc.xOnlyPointAddTweak(internalKey, tweak);
  // Happens only if the tweak is ≥ the curve order or hits -P: negligible, but never silently wrong.
  if (!tweaked) throw new TaprootError('Taproot tweak does not give a valid output key');
  return { outputKey: Uint8Array.from(tweaked.xOnlyPubkey), parity: tweaked.parity, tweak };
}

export function p2trScriptPubKey(outputKey: Uint8Array): Uint8Array {
  if (outputKey.length !== 32)
    throw new TaprootError(`Taproot output key is ${outputKey.length} bytes, not 32`);
  return concatBytes(Uint8Array.of(0x51, 0x20), outputKey);
}

/** The output committing to `internalKey` and, when given, the script tree. */
export function taprootOutput(internalKey: Uint8Array, tree?: TapTree): TaprootOutput {
  const { outputKey, parity, tweak } = tweakKey(internalKey, tree?.root);
  return {
    internalKey,
    merkleRoot: tree?.root,
    tweak,
    outputKey,
    parity,
    scriptPubKey: p2trScriptPubKey(outputKey),
    leaves: tree?.leaves ?? [],
  };
}

/** The bech32m address of a P2TR output key (encoding is bitcoinjs-lib's, at the edge). */
export function taprootAddress(outputKey: Uint8Array, network: BitcoinNetwork): string {
  if (outputKey.length !== 32)
    throw new TaprootError(`Taproot output key is ${outputKey.length} bytes, not 32`);
  return btcAddress.toBech32(outputKey, 1, HRP[network]);
}

/** The control block spending leaf `leafIndex` of `output`: (version | parity) || internal key || path. */
export function controlBlock(output: TaprootOutput, leafIndex: number): Uint8Array {
  const leaf = output.leaves[leafIndex];
  if (!leaf)
    throw new TaprootError(`Taproot output has no leaf ${leafIndex} (it has ${output.leaves.length})`);
  return buildControlBlock(leaf.leafVersion, output.parity, output.internalKey, leaf.path);
}

/** The index of the leaf holding exactly `script` (first match), or -1. */
export function findLeaf(output: TaprootOutput, script: Uint8Array, leafVersion = 0xc0): number {
  return output.leaves.findIndex((l) => l.leafVersion === leafVersion && equalBytes(l.script, script));
}

export type ParsedControlBlock = {
  leafVersion: number;
  parity: 0 | 1;
  internalKey: Uint8Array;
  path: Uint8Array[];
};

export function parseControlBlock(block: Uint8Array): ParsedControlBlock {
  if (!isValidControlBlockSize(block.length)) {
    throw new TaprootError(`Taproot control block of ${block.length} bytes has no valid size`, {
      metaMessages: [`A control block is 33 + 32·m bytes with m ≤ ${TAPROOT_MAX_DEPTH}.`],
    });
  }
  const path: Uint8Array[] = [];
  for (let at = 33; at < block.length; at += 32) path.push(block.subarray(at, at + 32));
  const first = block[0] as number;
  return {
    leafVersion: first & 0xfe,
    parity: (first & 1) as 0 | 1,
    internalKey: block.subarray(1, 33),
    path,
  };
}

/**
 * BIP-341's script-path commitment check: does `block` prove that `script` is a leaf of the tree that
 * `outputKey` commits to? Vigil runs it on every control block it builds or imports.
 */
export function verifyControlBlock(outputKey: Uint8Array, script: Uint8Array, block: Uint8Array): boolean {
  if (!isValidControlBlockSize(block.length) || outputKey.length !== 32) return false;
  const leafVersion = (block[0] as number) & 0xfe;
  // 0x50 cannot start a control block: the witness would read it as an annex.
  if (leafVersion === 0x50) return false;
  return verifyTaprootCommitment(block, outputKey, script);
}
