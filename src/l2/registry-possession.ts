/**
 * The challenger registry's proof of possession (ChallengerRegistry.sol `possessionMessage`; protocol
 * §24.11 item 36): to register or name an x-only key from an account, the key's holder signs (BIP-340) a
 * message naming the chain, the registry and that account. Someone who copies Vigil's registration from
 * the mempool cannot register Vigil's key from its own account: the signature names Vigil's.
 */
import type { Address, Hex } from 'viem';
import { SIGHASH_DEFAULT } from '../bitcoin/tx/sighash.ts';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../core/bytes.ts';
import { sha256 } from '../core/hashes.ts';
import { schnorrSign } from '../dispute/graph/sign.ts';

const POSSESSION_TAG = utf8('Vigil/challenger-registry/possession/v1');

/** The 32 bytes the key's holder signs: sha256(tag ‖ chain id (32 bytes) ‖ registry ‖ account ‖ key). */
export function possessionMessage(
  chainId: bigint,
  registry: Address,
  account: Address,
  key: Uint8Array,
): Uint8Array {
  if (key.length !== 32) throw new Error(`A challenger key is 32 bytes, not ${key.length}`);
  const chain = hexToBytes(chainId.toString(16).padStart(64, '0'));
  return sha256(
    concatBytes(POSSESSION_TAG, chain, hexToBytes(registry.slice(2)), hexToBytes(account.slice(2)), key),
  );
}

/** The proof as `register` and `nameChallenger` take it: the signature's R.x and s. */
export function possessionProof(
  secret: Uint8Array,
  chainId: bigint,
  registry: Address,
  account: Address,
  key: Uint8Array,
): { r: Hex; s: Hex } {
  const sig = schnorrSign(possessionMessage(chainId, registry, account, key), secret, SIGHASH_DEFAULT);
  return { r: `0x${bytesToHex(sig.subarray(0, 32))}`, s: `0x${bytesToHex(sig.subarray(32, 64))}` };
}
