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
import { taggedHash } from '../../core/hashes.ts';
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

/**
 * Where a claim was opened: the L2 registry that lists it (its 20-byte address) and the claim output on
 * Bitcoin (txid in internal byte order). A claim output can be spent by one kick-off only, so keys bound
 * to it sign in one game at most, whatever registry or L2 chain lists the same epoch again.
 */
export type ClaimSite = {
  readonly registry: Uint8Array;
  readonly claim: { readonly txid: Uint8Array; readonly vout: number };
};

/**
 * The scope of this identity's game in one claim: the key plan's scope and the claim's site. A site of
 * `undefined` is the first derivation (keys bound to the claim's epoch and operator only), kept so that a
 * game whose bundle was posted before keys were bound to the site is played under the keys it posted.
 */
export type ChallengerScope = GameKeyScope & { readonly site: ClaimSite | undefined };

/** The tag of each claim's Winternitz seed, derived from the identity's seed and the claim's site. */
export const CHALLENGER_CLAIM_SEED_TAG = 'Vigil/challenger/claim-seed/v1';

/**
 * The scope of this identity's game in `claim` opened at `site`: its keys are bound to the claim (network,
 * operator, epoch, instance), to the key, and through the seed to the registry and the claim output
 * (protocol §24.11 item 34).
 */
export function challengerScope(
  id: ChallengerIdentity,
  shape: SearchShape,
  claim: GameClaim,
  site: ClaimSite | undefined,
): ChallengerScope {
  if (site === undefined) return { shape, claim, challenger: id.key, site };
  if (site.registry.length !== 20) throw new ChallengerIdentityError('A registry address is 20 bytes');
  if (site.claim.txid.length !== 32) throw new ChallengerIdentityError('A claim txid is 32 bytes');
  if (!Number.isInteger(site.claim.vout) || site.claim.vout < 0 || site.claim.vout > 0xffffffff)
    throw new ChallengerIdentityError(`Not an output index: ${site.claim.vout}`);
  return { shape, claim, challenger: id.key, site };
}

function claimSeed(id: ChallengerIdentity, site: ClaimSite | undefined): Uint8Array {
  if (site === undefined) return id.seed;
  const vout = new Uint8Array(4);
  new DataView(vout.buffer).setUint32(0, site.claim.vout, true);
  return taggedHash(CHALLENGER_CLAIM_SEED_TAG, id.seed, site.registry, site.claim.txid, vout);
}

/** The Winternitz public keys this identity posts in its bundle for the claim. */
export const bundleKeysOf = (id: ChallengerIdentity, scope: ChallengerScope): SignerKeys =>
  deriveSignerKeys(claimSeed(id, scope.site), scope, 'challenger');

/** Signs this identity's planned values in the claim's game. */
export const challengerSignerOf = (id: ChallengerIdentity, scope: ChallengerScope): GameValueSigner =>
  gameValueSigner(claimSeed(id, scope.site), scope, 'challenger');
