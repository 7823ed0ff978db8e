/**
 * The Winternitz key plan of one game (docs/protocol.md §24.3 "Keys", §24.7): which one-time key signs
 * each value a move commits, as a game domain (`WotsGameDomain`: the claim's fields, then the game, the
 * search, the round and the slot). Pure: no I/O.
 *
 * Every value of every move (`gameMoveShapes`) and every echo gets its own domain, and no two of one
 * signer's domains are equal, so no key signs twice: a second signature under a key is then always an
 * equivocation (§24.7), never an honest reuse. The assert's keys are shared by the claim's games (their
 * game field is all zero); every other key names the challenger it is played against. A challenger
 * derives its own keys (choices, echoes) from its own seed with the same plan.
 *
 *   search   round     slots
 *   assert   0         T′ 0, h_0 1, h_{2^K} 2, round 1's points 3 …
 *   first    r         answer_r's points 1 …; choice_r 0 (challenger); choice_1's echo of T′ 100
 *   first    R + 1     the reveal's values 0 … 11; its echoes of the choices 20 + k;
 *                      the requests' echoes of pc and waddr 30, 31 (challenger; one key each, as only one
 *                      request can confirm)
 *   second   r, R + 1  as the first search (answer′, choice′, reveal′)
 *   tape     R + 1     the tape reveal's position 0, nodes 1 … 30, siblings 31 … 59
 */
import type { BitcoinNetwork } from '../../bitcoin/network.ts';
import { type GameSearch, SHARED_GAME, type WotsGameDomain } from '../winternitz/game-keys.ts';
import { roundBits, type SearchShape } from './grid.ts';
import { gameMoveShapes, type MoveShape } from './move-inputs.ts';

export type GameKeyEntry = {
  /** The move that signs it first (the requests share their echo keys). */
  readonly move: string;
  /** The value's label in its move; an echo's is `echo.` and the echoed value's label. */
  readonly label: string;
  readonly bytes: number;
  readonly signer: 'operator' | 'challenger';
  readonly search: GameSearch;
  readonly round: number;
  readonly slot: number;
};

/** The claim a game's keys are bound to (§15's domain fields). */
export type GameClaim = {
  readonly network: BitcoinNetwork;
  readonly operator: Uint8Array;
  readonly epoch: bigint;
  readonly instance: number;
};

/** Slot of choice 1's echo of T′, clear of any round's points (at most 1,023 at n = 1,024). */
const STEPS_ECHO_SLOT = 100;
const CHOICE_ECHO_SLOT = 20;
const REQUEST_ECHO_SLOT = 30;

type Place = Pick<GameKeyEntry, 'search' | 'round' | 'slot'>;

/** Where each value, then each echo, of a move sits; `tapeFrom`: the tape reveal's slots used before. */
function placeMove(move: MoveShape, rounds: number, tapeFrom: number): Place[] {
  const reveal = rounds + 1;
  const number = (prefix: string) => Number(move.name.slice(prefix.length));
  const second = move.name.includes('′');
  const search: GameSearch = second ? 'second' : 'first';
  const at = (s: GameSearch, round: number, slot: (k: number) => number) =>
    move.values.map((_, k) => ({ search: s, round, slot: slot(k) }));
  const echoes = (s: GameSearch, round: number, first: number) =>
    move.echoes.map((_, k) => ({ search: s, round, slot: first + k }));
  if (move.name === 'assert') return at('assert', 0, (k) => k);
  if (move.name.startsWith('answer')) return at(search, number(second ? 'answer′' : 'answer'), (k) => k + 1);
  if (move.name.startsWith('choice')) {
    const round = number(second ? 'choice′' : 'choice');
    return [...at(search, round, () => 0), ...echoes(search, round, STEPS_ECHO_SLOT)];
  }
  if (move.name === 'reveal' || move.name === 'reveal′') {
    return [...at(search, reveal, (k) => k), ...echoes(search, reveal, CHOICE_ECHO_SLOT)];
  }
  if (move.name.startsWith('request')) return echoes('first', reveal, REQUEST_ECHO_SLOT);
  // The tape reveal is one move sent as two transactions: its slots run on across both.
  if (move.name.startsWith('tapeReveal')) return at('tape', reveal, (k) => tapeFrom + k);
  throw new RangeError(`no key plan for the move ${move.name}`);
}

/** Every key of one game at a search shape, once per signer and label, in play order. */
export function gameKeyPlan(shape: SearchShape): GameKeyEntry[] {
  const rounds = roundBits(shape).length;
  const entries: GameKeyEntry[] = [];
  const seen = new Set<string>();
  let tapeFrom = 0;
  for (const move of gameMoveShapes(shape)) {
    const places = placeMove(move, rounds, tapeFrom);
    if (move.name.startsWith('tapeReveal')) tapeFrom += move.values.length;
    const named = [
      ...move.values.map((v) => ({ label: v.label, bytes: v.bytes })),
      ...move.echoes.map((e) => ({ label: `echo.${e.label}`, bytes: e.bytes })),
    ];
    named.forEach((v, k) => {
      const id = `${move.mover}:${v.label}`;
      if (seen.has(id)) return;
      seen.add(id);
      const place = places[k] as Place;
      entries.push({ move: move.name, label: v.label, bytes: v.bytes, signer: move.mover, ...place });
    });
  }
  return entries;
}

/**
 * The domain of one planned key in the game against `challenger` (its 32-byte x-only key). Its signer
 * derives the secret from its own seed (`deriveGameWotsSecretKey`).
 */
export function gameKeyDomain(entry: GameKeyEntry, claim: GameClaim, challenger: Uint8Array): WotsGameDomain {
  return {
    network: claim.network,
    operator: claim.operator,
    epoch: claim.epoch,
    instance: claim.instance,
    // §15's index is 0 for every game key: the game's fields below place each value.
    valueIndex: 0,
    messageBytes: entry.bytes,
    game: entry.search === 'assert' ? SHARED_GAME : challenger,
    search: entry.search,
    round: entry.round,
    slot: entry.slot,
  };
}
