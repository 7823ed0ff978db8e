/**
 * Winternitz keys of the narrowing game (docs/protocol.md §24.3). A game commits hundreds of values per
 * challenger, and the same slot of the same round exists in every game of a claim, so the key's domain
 * names the game (the challenger it is played against, or none for the assert every game shares), the
 * search, the round and the slot besides §15's fields. A new tag keeps these keys apart from §15's even
 * where the encodings could meet. A challenger derives the keys of its own choices from its own seed.
 */
import { concatBytes } from '../../core/bytes.ts';
import { taggedHash } from '../../core/hashes.ts';
import { encodeWotsDomain, WOTS_MIN_SEED_BYTES, type WotsDomain, type WotsSecretKey } from './keys.ts';
import { WotsParameterError } from './parameters.ts';

export const WOTS_GAME_DERIVATION_TAG = 'Vigil/WOTS/secret/v2';

/** The searches of a game, and their byte in the domain. */
export const GAME_SEARCHES = { assert: 0, first: 1, second: 2, tape: 3 } as const;
export type GameSearch = keyof typeof GAME_SEARCHES;

/** The assert's keys are shared by every game of the claim: their game field is all zero. */
export const SHARED_GAME = new Uint8Array(32);

export type WotsGameDomain = WotsDomain & {
  /** The challenger's 32-byte x-only key, or `SHARED_GAME` for the assert. */
  readonly game: Uint8Array;
  readonly search: GameSearch;
  /** 1 … R for the rounds; R + 1 for the reveal that ends a search. */
  readonly round: number;
  /** Which value of the move (a point, a record field). */
  readonly slot: number;
};

function checkRange(what: string, n: number, max: number): void {
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new WotsParameterError(`Winternitz game domain ${what} ${n} is not an integer in 0 … ${max}`);
  }
}

/** §15's encoding, then the game's position: every field fixed-size, so the encoding is prefix-free. */
export function encodeWotsGameDomain(domain: WotsGameDomain): Uint8Array {
  if (!(domain.game instanceof Uint8Array) || domain.game.length !== 32) {
    throw new WotsParameterError(
      'Winternitz game domain game must be a 32-byte x-only key (or 32 zero bytes)',
    );
  }
  if (!Object.hasOwn(GAME_SEARCHES, domain.search)) {
    throw new WotsParameterError(
      `Winternitz game domain search must be one of ${Object.keys(GAME_SEARCHES).join(', ')}`,
    );
  }
  checkRange('round', domain.round, 0xff);
  checkRange('slot', domain.slot, 0xffff);
  return concatBytes(
    encodeWotsDomain(domain),
    domain.game,
    Uint8Array.of(GAME_SEARCHES[domain.search], domain.round, domain.slot >> 8, domain.slot & 0xff),
  );
}

/** Derives the one-time secret key of one committed value of a game from the signer's seed. */
export function deriveGameWotsSecretKey(seed: Uint8Array, domain: WotsGameDomain): WotsSecretKey {
  if (seed.length < WOTS_MIN_SEED_BYTES) {
    throw new WotsParameterError(`Winternitz seed is too short (${seed.length} bytes)`, {
      metaMessages: [`A seed needs at least ${WOTS_MIN_SEED_BYTES} bytes of entropy.`],
    });
  }
  const secret = taggedHash(
    WOTS_GAME_DERIVATION_TAG,
    Uint8Array.of(seed.length),
    seed,
    encodeWotsGameDomain(domain),
  );
  return { messageBytes: domain.messageBytes, secret };
}
