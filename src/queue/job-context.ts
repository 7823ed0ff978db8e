/**
 * What every dispute job runs with: the store, the backend, the wallet, the fee settings and the
 * queue's hooks. Its own module so that the jobs, the sender and the disprove path share it without
 * importing each other.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BitcoinNetwork } from '../bitcoin/backends/address.ts';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import type { Graph } from '../dispute/graph/build.ts';
import type { PresignedSignatures } from '../dispute/graph/sign.ts';
import type { DisputeRecord, DisputeStore } from '../dispute/records/store.ts';
import type { ChallengeSigner } from './challenge-tx.ts';
import type { WatcherMetrics } from './metrics.ts';
import type { WatcherMode } from './spend-policy.ts';

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
  fees: {
    targetBlocks: number;
    /** The hard cap: no challenge or replacement pays more per vB. */
    maxFeeRateSatVb: number;
    fallbackSatVb: number;
    /** Replace the challenge after it waited this many blocks below the estimate (default 2). */
    bumpAfterBlocks?: number;
    /** Each replacement raises the rate by at least this much (sat/vB, default 1). */
    bumpStepSatVb?: number;
    /** The relay's incremental fee rate (sat/vB, default 1, Core's default). */
    incrementalSatVb?: number;
    /** The absolute cap: no transaction Vigil sends pays more than this (sats, default 0.05 BTC). */
    maxFeeSat?: bigint;
    /** The relay floor: nothing is sent below it, whatever the estimate (sat/vB, default 1). */
    minRelaySatVb?: number;
  };
  /** Depth at which Vigil's challenge counts as confirmed. */
  confirmations: number;
  /** Key prefix (for the wallet lock). */
  prefix: string;
  redis: Redis;
  metrics: WatcherMetrics | undefined;
  logger: Logger | undefined;
  /** Starts tracking a dispute (a repeating job per dispute). */
  track(disputeId: string): Promise<void>;
  /** Stops tracking it (resolved). */
  untrack(disputeId: string): Promise<void>;
};
