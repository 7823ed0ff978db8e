/**
 * What a game record holds (docs/protocol.md §24.9): Vigil's part, as challenger w, in one claim's game.
 * One record per (claim, w). The chain is the game's truth (every move is read off it at each run); the
 * record keeps what the chain cannot: every transaction Vigil wrote ahead, by the graph's id for it (the
 * first writer of an id wins, so a move's Winternitz values are signed once whatever runs twice), the
 * progress last seen (for metrics, alerts and `vigil disputes show`), and how the game ended.
 */
import type { DisputeOutcome } from './state-machine.ts';
import type { GameTxRole, Txid } from './types.ts';

/**
 * The life of a game record: the false claim seen (detected), Vigil's challenge sent (challenged) and
 * deep (confirmed), the assert deep and the moves under way (playing) or the assert-timeout sent
 * (timed-out), and the end (resolved). A game that ended with w's bond still in C_w (another challenger's
 * assert-timeout took S, or the operator swept Q_w before w's first move) waits in `refunding`, its
 * outcome already set, until w's refund is at depth. Back edges follow a reorg: a confirmed challenge or
 * an assert that left the chain, or the end that sent the game to `refunding`.
 */
export const gameStates = [
  'detected',
  'challenged',
  'confirmed',
  'playing',
  'timed-out',
  'refunding',
  'resolved',
] as const;
export type GameState = (typeof gameStates)[number];

export const GAME_TRANSITIONS: Readonly<Record<GameState, readonly GameState[]>> = {
  detected: ['challenged', 'resolved'],
  challenged: ['confirmed', 'resolved'],
  confirmed: ['challenged', 'playing', 'timed-out', 'refunding', 'resolved'],
  playing: ['confirmed', 'refunding', 'resolved'],
  'timed-out': ['confirmed', 'refunding', 'resolved'],
  refunding: ['confirmed', 'resolved'],
  resolved: [],
};

/** Which claim and which of its games the record is about; fixed when it opens. */
export type GameClaimFacts = {
  readonly epoch: bigint;
  readonly kickoffTxid: Txid;
  readonly kickoffHeight: number;
  /** Vigil's index among the claim's challengers. */
  readonly w: number;
  /** The claim document's hash as the L2 committed it (hex): where the job finds the imported graph. */
  readonly document: string;
};

export type { GameTxRole } from './types.ts';

/** A transaction written ahead under its graph id: the only bytes ever broadcast for that id. */
export type GameSentTx = {
  readonly role: GameTxRole;
  readonly txid: Txid;
  readonly raw: Uint8Array;
  readonly fee: bigint;
  /** The tip when it was written. */
  readonly height: number;
};

/**
 * The first version of an operator's move Vigil saw (in the mempool or a block): kept beside the record
 * so that another version of the same transaction, signing other values, can be proved an equivocation
 * (§24.7). Once the other version replaced it, nowhere else holds it.
 */
export type GameSeenMove = {
  readonly wtxid: string;
  /** The transaction as seen, witness included. */
  readonly raw: Uint8Array;
};

/** Whose move the game waits for, and until when (the height from which the other side may take the timeout). */
export type GameProgressFacts = {
  /** Moves at depth, the assert included. */
  readonly moves: number;
  /** The last move at depth and its height. */
  readonly last?: { readonly id: string; readonly height: number };
  /** `vigil`: Vigil owes the next move; `operator`: the operator does; `none`: the game is over on chain. */
  readonly owes: 'vigil' | 'operator' | 'none';
  /** The move owed. */
  readonly at?: string;
  /** The first height at which the silent side's opponent may take the timeout. */
  readonly dueBy?: number;
};

/** What ended the game on chain, at depth. */
export type GameEndFacts = {
  readonly txid: Txid;
  /** The graph's transaction (`slash:…`, `timeout:…`, `forfeit`, `assertTimeout:w…`) or the leaf a sweep used. */
  readonly by: string;
  /** The output it spent (`reserve`, a move id, or `C_w`). */
  readonly site: string;
  readonly height: number;
};

export type GameRecord = GameClaimFacts & {
  readonly id: string;
  readonly state: GameState;
  readonly outcome: DisputeOutcome | undefined;
  /** Every transaction written ahead, by graph id. */
  readonly sent: ReadonlyMap<string, GameSentTx>;
  readonly progress: GameProgressFacts | undefined;
  readonly end: GameEndFacts | undefined;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly schema: number;
};

/** A change to a record's facts: what is set is written, the rest left alone. */
export type GamePatch = {
  readonly sent?: ReadonlyMap<string, GameSentTx>;
  readonly progress?: GameProgressFacts;
  readonly end?: GameEndFacts;
};

/** Every kind of game event, with what it carries. */
export type GameEventBody =
  | { type: 'detected'; detail: { epoch: bigint; kickoffTxid: Txid; w: number } }
  | { type: 'transition'; detail?: { reason: string; txid?: Txid; height?: number } }
  | { type: 'tx-written'; detail: { id: string; role: GameTxRole; txid: Txid; fee: bigint; vsize: number } }
  | { type: 'broadcast' | 'rebroadcast'; detail: { txid: Txid } }
  | { type: 'dry-run-built'; detail: { id: string; txid: Txid; fee: bigint; vsize: number } }
  | { type: 'move-seen'; detail: { id: string; by: 'vigil' | 'operator'; height: number } }
  | { type: 'version-kept'; detail: { id: string; wtxid: string } }
  | {
      type: 'equivocation';
      detail: { id: string; label: string; onChain: string; other: string; punishable: boolean };
    }
  | { type: 'turn'; detail: { owes: 'vigil' | 'operator' | 'none'; at?: string; dueBy?: number } }
  | { type: 'conceded'; detail: { at: string; reason: string } }
  | {
      type: 'send-conflict';
      detail: { tx: GameTxRole; txid: Txid; kind?: 'conflict' | 'fee-too-low'; reason: string };
    }
  | {
      type: 'send-refused';
      detail: { tx: string; txid: Txid; kind: 'refused' | 'fee-cap' | 'check'; reason: string };
    }
  | { type: 'fee-capped'; detail: { txid: string; tx?: string; feeRate?: bigint; reason: string } };

export type GameEventType = GameEventBody['type'];
export type GameNoteBody = Exclude<GameEventBody, { type: 'detected' | 'transition' }>;

export type GameEvent = GameEventBody & {
  readonly seq: number;
  readonly at: number;
  readonly from?: GameState;
  readonly to?: GameState;
  readonly key: string;
};
