/**
 * What every dispute job runs with: the store, the backend, the wallet, the fee policy and the
 * queue's hooks. Its own module so that the jobs share it without importing each other.
 *
 * Every job starts from the durable record and the chain as they are now, never from what the job's
 * data says happened: a job run twice (a crash after the broadcast, a stalled lock, two processes)
 * reconciles instead of repeating. The one transaction a dispute sends at a time is written ahead into
 * its record before it is broadcast, so a re-run rebroadcasts the same bytes and never a conflicting
 * spend.
 */
import type { Logger } from 'pino';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import type { BitcoinNetwork } from '../bitcoin/network.ts';
import type { Graph } from '../dispute/graph/build.ts';
import type { PresignedSignatures } from '../dispute/graph/sign.ts';
import type { ChallengeSigner } from '../dispute/plan/challenge-tx.ts';
import type { WatcherMode } from '../dispute/plan/spend-policy.ts';
import type { DisputeRecord, DisputeStore } from '../dispute/records/store.ts';
import type { WatcherMetrics } from '../queue/metrics.ts';
import type { FeePolicy } from '../sender/send.ts';
import type { RedisClient } from '../store/redis.ts';

export type DisputeGraph = { graph: Graph; sigs: PresignedSignatures };

export type DisputeJobContext = {
  store: DisputeStore;
  backend: BitcoinBackend;
  mode: WatcherMode;
  network: BitcoinNetwork;
  allowMainnetSpending: boolean;
  /** The verified graph of a dispute (re-imported from the record's document, cached by the caller). */
  graphOf(record: DisputeRecord): Promise<DisputeGraph>;
  /**
   * The watcher wallet: its address (to list coins), key-path signer, and the balance a challenge must
   * leave for fee bumps (`reserve`, default 0; bumps may spend it). Absent in mode watch.
   */
  wallet: (ChallengeSigner & { address: string; reserve?: bigint }) | undefined;
  fees: FeePolicy;
  /** Depth at which Vigil's challenge counts as confirmed. */
  confirmations: number;
  /** Key prefix (for the wallet lock). */
  prefix: string;
  redis: RedisClient;
  metrics: WatcherMetrics | undefined;
  logger: Logger | undefined;
  /** Starts tracking a dispute (a repeating job per dispute). */
  track(disputeId: string): Promise<void>;
  /** Stops tracking it (resolved). */
  untrack(disputeId: string): Promise<void>;
};
