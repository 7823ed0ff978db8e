/**
 * One signer's Winternitz keys for one game, derived from its seed by the key plan (key-plan.ts): the
 * public keys a graph is built from, and the secret key of any planned value for signing a move. Pure:
 * no I/O. The operator derives its own keys and the assert's; each challenger derives its choices and
 * echoes from its own seed, and posts the public keys in its bundle (§24.1).
 */
import { VigilError } from '../../core/errors.ts';
import { deriveGameWotsSecretKey } from '../winternitz/game-keys.ts';
import { type WotsPublicKey, type WotsSecretKey, wotsPublicKey } from '../winternitz/keys.ts';
import { type WotsSignature, wotsSign } from '../winternitz/sign.ts';
import type { SearchShape } from './grid.ts';
import { type GameClaim, type GameKeyEntry, gameKeyDomain, gameKeyPlan } from './key-plan.ts';

export type GameSigner = GameKeyEntry['signer'];

export class GameKeyError extends VigilError {
  override name = 'GameKeyError';
}

/** A signer's public keys of one game, by the planned label (`steps`, `answer2.point7`, `echo.choice1`, …). */
export type SignerKeys = ReadonlyMap<string, WotsPublicKey>;

/** The game a signer's keys belong to: the claim, the challenger it is played against, the shape. */
export type GameKeyScope = {
  readonly shape: SearchShape;
  readonly claim: GameClaim;
  readonly challenger: Uint8Array;
};

function planned(scope: GameKeyScope, signer: GameSigner): GameKeyEntry[] {
  return gameKeyPlan(scope.shape).filter((e) => e.signer === signer);
}

/** The secret key of one planned value, derived from the signer's seed. */
export function gameSecretKey(
  seed: Uint8Array,
  scope: GameKeyScope,
  signer: GameSigner,
  label: string,
): WotsSecretKey {
  const entry = planned(scope, signer).find((e) => e.label === label);
  if (entry === undefined) throw new GameKeyError(`The ${signer} signs no planned value named ${label}`);
  return deriveGameWotsSecretKey(seed, gameKeyDomain(entry, scope.claim, scope.challenger));
}

/** Every public key a signer holds in one game, by label. */
export function deriveSignerKeys(seed: Uint8Array, scope: GameKeyScope, signer: GameSigner): SignerKeys {
  const keys = new Map<string, WotsPublicKey>();
  for (const entry of planned(scope, signer)) {
    const secret = deriveGameWotsSecretKey(seed, gameKeyDomain(entry, scope.claim, scope.challenger));
    keys.set(entry.label, wotsPublicKey(secret));
  }
  return keys;
}

/** A signer that signs planned values by label from its seed (the keys are derived on use). */
export type GameValueSigner = (label: string, value: Uint8Array) => WotsSignature;

export function gameValueSigner(seed: Uint8Array, scope: GameKeyScope, signer: GameSigner): GameValueSigner {
  const entries = new Map(planned(scope, signer).map((e) => [e.label, e]));
  return (label, value) => {
    const entry = entries.get(label);
    if (entry === undefined) throw new GameKeyError(`The ${signer} signs no planned value named ${label}`);
    if (value.length !== entry.bytes) {
      throw new GameKeyError(`${label} is a ${entry.bytes}-byte value; got ${value.length} bytes`);
    }
    return wotsSign(
      deriveGameWotsSecretKey(seed, gameKeyDomain(entry, scope.claim, scope.challenger)),
      value,
    );
  };
}

/** The key of a label, or a clear error naming what the graph needed. */
export function keyOf(keys: SignerKeys, label: string, bytes: number, signer: GameSigner): WotsPublicKey {
  const k = keys.get(label);
  if (k === undefined) throw new GameKeyError(`The ${signer}'s keys lack ${label}`);
  if (k.messageBytes !== bytes) {
    throw new GameKeyError(`The ${signer}'s key for ${label} signs ${k.messageBytes} bytes, not ${bytes}`);
  }
  return k;
}
