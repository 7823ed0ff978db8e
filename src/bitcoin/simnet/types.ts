/**
 * The types simnet's chain, its acceptance, mining and reorg modules and the script check share, in a
 * module of their own so none of them imports another for a type.
 */
import { VigilError } from '../../core/errors.ts';
import type { FeeRate } from '../codec/fee-rate.ts';
import type { Prevout, Tx } from '../tx/types.ts';
import type { SpentCoin } from './rules.ts';

export type ScriptVerdict = { ok: true } | { ok: false; input: number; error: string };
/** Runs every input's scripts; `error` is Core's ScriptErrorString text. */
export type ScriptVerifier = (tx: Tx, prevouts: Prevout[], flags: number) => ScriptVerdict;

export type SimChainOptions = {
  /** Default: the project's interpreter through the transaction engine. */
  verifyScripts?: ScriptVerifier;
  /** Core's relay policy (default on, as -acceptnonstdtxn=0): the transaction engine's policy layer. Off: consensus rules only. */
  standardness?: boolean;
  minRelayFeeRate?: FeeRate;
  incrementalRelayFeeRate?: FeeRate;
  /** Replace without BIP-125 signalling (Core 28's default; off by default, as Core 26). */
  fullRbf?: boolean;
  /** Seconds; block times are max(MTP + 1, clock()). */
  clock?: () => number;
  /** Core's -blockmaxweight (default 4,000,000; 4,000 of it are kept for the coinbase, as Core does). */
  blockMaxWeight?: number;
};

export type ChainBlock = {
  hash: string;
  height: number;
  prevHash: string;
  time: number;
  header: Uint8Array;
  raw: Uint8Array;
  txs: { txid: string; tx: Tx; raw: Uint8Array }[];
  /** Coins the block spent, in order, to restore on disconnect (only while connected). */
  undo: { key: string; coin: SpentCoin; tx: number }[];
};

export type AcceptResult = {
  txid: string;
  wtxid: string;
  fee: bigint;
  vsize: number;
  replaced: string[];
};

export type AcceptOptions = {
  /** testmempoolaccept: validate but leave the mempool untouched. */
  dryRun?: boolean;
  maxFeeRate?: FeeRate;
  /** Re-adding transactions of disconnected blocks: no fee floor, as Core's bypass_limits. */
  bypassLimits?: boolean;
};

export type Spend = { txid: string; vin: number; blockHash: string | undefined };

export class SimChainError extends VigilError {
  override name = 'SimChainError';
}
