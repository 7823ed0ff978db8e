/**
 * What every game job runs with (docs/protocol.md §24.9): the game store, the backend, the fee policy and
 * the mode, and a port that hands the job what Vigil holds of the claim: the imported claim graph with its
 * presignatures, Vigil's own run of the epoch as its rule reads it, and Vigil's keys as challenger w.
 *
 * Every job starts from the record and the chain as they are now: the turn is derived afresh from the
 * moves at depth (game-turn.ts), and every transaction is written ahead under its graph id before it is
 * broadcast, so a job run twice sends the bytes written first and never signs a Winternitz value twice.
 */
import type { Logger } from 'pino';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import type { BitcoinNetwork } from '../bitcoin/network.ts';
import { VigilError } from '../core/errors.ts';
import type { ClaimGraph } from '../dispute/game/claim-graph.ts';
import type { GamePresignatures } from '../dispute/game/game-spend.ts';
import type { HonestView } from '../dispute/game/honest-view.ts';
import type { GameValueSigner } from '../dispute/game/signer-keys.ts';
import type { WatcherMode } from '../dispute/plan/spend-policy.ts';
import type { GameStore } from '../dispute/records/game-store.ts';
import type { GameRecord } from '../dispute/records/game-types.ts';
import type { WatcherMetrics } from '../queue/metrics.ts';
import type { FeePolicy } from '../sender/send.ts';

/**
 * The claim's material cannot be put together yet (after a restart, before the L2 and its registry are
 * read that far): the run waits and the next one asks again. Not a failure.
 */
export class GameMaterialNotReadyError extends VigilError {
  override name = 'GameMaterialNotReadyError';
}

/** What Vigil holds of one claim, as challenger w. */
export type GameMaterial = {
  /** The claim graph as imported (every transaction rebuilt, every presignature checked). */
  readonly claim: ClaimGraph;
  readonly sigs: { readonly claim: GamePresignatures; readonly games: readonly GamePresignatures[] };
  /**
   * Vigil's own run of the epoch: what its rule compares the operator's points with. Cut at the graph's
   * 2^K steps when it runs longer (`cut`).
   */
  readonly honest: HonestView;
  /** The epoch's post-state root by Vigil's model (the honest run halts on it, when it halts within 2^K). */
  readonly root: bigint;
  /** w's keys: the Schnorr key of its bond coin and its moves, and its Winternitz signer. Never logged. */
  readonly keys: { readonly secret: Uint8Array; readonly sign: GameValueSigner };
};

export type GameJobContext = {
  store: GameStore;
  backend: BitcoinBackend;
  mode: WatcherMode;
  network: BitcoinNetwork;
  allowMainnetSpending: boolean;
  fees: FeePolicy;
  /** Depth at which a transaction counts: a move read, a challenge confirmed, an end. */
  confirmations: number;
  metrics: WatcherMetrics | undefined;
  logger: Logger | undefined;
  /** The claim and Vigil's part in it, for a record (re-imported and cached by the caller). */
  materialOf(record: GameRecord): Promise<GameMaterial>;
  /** Stops the game's repeating job (resolved). */
  untrack(id: string): Promise<void>;
  /**
   * Holds a coin at the bond address for the game's fees (`<display txid>:<vout>`), so the bundle poster
   * never names it (claim-ledger.ts `redisBondReservations`); absent where no poster runs.
   */
  holdCoin?(coin: string, epoch: bigint): Promise<void>;
};
