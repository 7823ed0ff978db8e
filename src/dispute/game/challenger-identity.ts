/**
 * Vigil as a registered challenger of claims (docs/protocol.md §24.1): one x-only key, registered once on
 * the L2's challenger registry, that signs its moves and holds its bond coins; and one Winternitz seed
 * from which each game's keys are derived, so its bundle for a claim and its signatures in that claim's
 * game come from the same place and nothing per claim has to be stored. Both are derived from one secret
 * the daemon already holds (the wallet key, `WalletKey.derivedSecret`).
 *
 * Pure: no I/O. The secrets never leave this value except into signatures.
 */
import * as ecc from 'tiny-secp256k1';
import { taprootOutput } from '../../bitcoin/taproot/output.ts';
import { bytesToHex } from '../../core/bytes.ts';
import { VigilError } from '../../core/errors.ts';
import type { SearchShape } from './grid.ts';
import type { GameClaim } from './key-plan.ts';
import {
  deriveSignerKeys,
  type GameKeyScope,
  type GameValueSigner,
  gameValueSigner,
  type SignerKeys,
} from './signer-keys.ts';

/** The tags the two secrets are derived under: a new version is a new identity. */
export const CHALLENGER_KEY_TAG = 'Vigil/challenger/key/v1';
export const CHALLENGER_SEED_TAG = 'Vigil/challenger/wots-seed/v1';

export class ChallengerIdentityError extends VigilError {
  override name = 'ChallengerIdentityError';
}

export type ChallengerIdentity = {
  /** The x-only key registered on the L2: it signs w's moves, and its key-path P2TR output holds bond coins. */
  readonly key: Uint8Array;
  /** Its secret (untweaked). */
  readonly secret: Uint8Array;
  /** The seed of every game's Winternitz keys. */
  readonly seed: Uint8Array;
  /** Only the public key: an identity logged or serialized by mistake shows no secret. */
  toJSON(): { key: string };
  toString(): string;
};

/** The identity whose secrets `derive` gives for the two tags. */
export function challengerIdentity(derive: (tag: string) => Uint8Array): ChallengerIdentity {
  const secret = derive(CHALLENGER_KEY_TAG);
  const point = ecc.isPrivate(secret) ? ecc.pointFromScalar(secret, true) : null;
  if (point === null) throw new ChallengerIdentityError('The challenger secret is not a valid key');
  const seed = derive(CHALLENGER_SEED_TAG);
  if (seed.length !== 32) throw new ChallengerIdentityError('The challenger seed is not 32 bytes');
  const key = Uint8Array.from(point.subarray(1));
  const shown = { key: bytesToHex(key) };
  return {
    key,
    secret,
    seed,
    toJSON: () => shown,
    toString: () => `challenger ${shown.key}`,
  };
}

/** The script of a bond coin of this identity: a key-path-only P2TR output of its key. */
export const bondCoinScript = (id: Pick<ChallengerIdentity, 'key'>): Uint8Array =>
  taprootOutput(id.key).scriptPubKey;

/** The scope of this identity's game in `claim` (its keys are bound to the claim and to the key). */
export const challengerScope = (
  id: ChallengerIdentity,
  shape: SearchShape,
  claim: GameClaim,
): GameKeyScope => ({
  shape,
  claim,
  challenger: id.key,
});

/** The Winternitz public keys this identity posts in its bundle for the claim. */
export const bundleKeysOf = (id: ChallengerIdentity, scope: GameKeyScope): SignerKeys =>
  deriveSignerKeys(id.seed, scope, 'challenger');

/** Signs this identity's planned values in the claim's game. */
export const challengerSignerOf = (id: ChallengerIdentity, scope: GameKeyScope): GameValueSigner =>
  gameValueSigner(id.seed, scope, 'challenger');
