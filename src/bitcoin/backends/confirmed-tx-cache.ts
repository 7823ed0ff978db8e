/**
 * The bytes of confirmed transactions, by txid, with the block they were confirmed in. A game job reads
 * the same kick-off, challenge, assert and moves at every run, each up to a few hundred kB, so a backend
 * answers a confirmed transaction it already holds by checking only that its block is still in the active
 * chain. That is sound because the bytes kept are the block's own: a backend keeps a transaction only
 * when it read it confirmed a second time in the same block, and then takes its bytes from that block,
 * whose merkle root and BIP-141 witness commitment it checks (`verifiedBlock`). A txid alone does not
 * cover the witness, so the bytes a backend answers for a txid are its word only; kept on that word, one
 * wrong answer (a lie, a glitch, a stale server behind a load balancer) would be answered for good. A
 * transaction read once pays nothing more; one read again pays one block, once. A txid is confirmed in at
 * most one block of the active chain, so while that block is active the bytes cannot differ; a
 * transaction whose block left the chain is dropped and read again, and unconfirmed transactions are
 * never kept (a replacement may change their witness).
 *
 * Bounded by bytes, least recently used out; and an entry not read for `idleMs` is let go: a game's
 * transactions are read every few seconds while it is played, and a daemon that runs for months must not
 * hold the last megabytes of disputes long finished (a soak would see a cache that fills slowly as growth).
 */

import { decodeTx } from '../codec/codec.ts';
import type { BlockWithTxs, TxStatus, TxWithStatus } from './types.ts';

/** What a backend keeps of a confirmed transaction. */
export type ConfirmedTxEntry = { readonly raw: Uint8Array; readonly blockHash: string };

type Held = { readonly raw: Uint8Array; readonly blockHash: string; usedAt: number };
type Seen = { readonly blockHash: string; usedAt: number };

/** Txids read confirmed once, remembered to keep them at their second read. */
const SEEN_KEPT = 4_096;

/** Holds every transaction of a few games on the regtest shape (its assert is about 140 kB). */
export const DEFAULT_CONFIRMED_TX_CACHE_BYTES = 8 * 1024 * 1024;
/** Far above a game job's period (`watcher.pollIntervalMs`, 5 s on the devnet). */
export const DEFAULT_CONFIRMED_TX_IDLE_MS = 5 * 60_000;

export type ConfirmedTxCacheOptions = {
  maxBytes?: number;
  idleMs?: number;
  /** Milliseconds; tests pass their own clock. */
  now?: () => number;
};

export class ConfirmedTxCache {
  // In use order: the first entry is the least recently used, so both bounds let go from the front.
  readonly #entries = new Map<string, Held>();
  readonly #seen = new Map<string, Seen>();
  readonly #maxBytes: number;
  readonly #idleMs: number;
  readonly #now: () => number;
  #bytes = 0;

  constructor(options: ConfirmedTxCacheOptions = {}) {
    const maxBytes = options.maxBytes ?? DEFAULT_CONFIRMED_TX_CACHE_BYTES;
    const idleMs = options.idleMs ?? DEFAULT_CONFIRMED_TX_IDLE_MS;
    for (const [what, v] of [
      ['size in bytes', maxBytes],
      ['idle time in ms', idleMs],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 0)
        throw new RangeError(
          `The confirmed-transaction cache's ${what} must be a whole number ≥ 0, not ${v}`,
        );
    }
    this.#maxBytes = maxBytes;
    this.#idleMs = idleMs;
    this.#now = options.now ?? Date.now;
  }

  /** The entry for `txid`, made the most recently used; undefined when not held. */
  get(txid: string): ConfirmedTxEntry | undefined {
    const now = this.#now();
    this.#letGoIdle(now);
    const hit = this.#entries.get(txid);
    if (hit === undefined) return undefined;
    this.#entries.delete(txid);
    hit.usedAt = now;
    this.#entries.set(txid, hit);
    return { raw: hit.raw, blockHash: hit.blockHash };
  }

  /**
   * Notes that `txid` was read confirmed in `blockHash`; true when it was read so before, in the same block:
   * the backend then takes its bytes from that block and `put`s them.
   */
  readAgain(txid: string, blockHash: string): boolean {
    const now = this.#now();
    this.#letGoIdle(now);
    const before = this.#seen.get(txid);
    this.#seen.delete(txid);
    if (before?.blockHash === blockHash) return true;
    this.#seen.set(txid, { blockHash, usedAt: now });
    if (this.#seen.size > SEEN_KEPT) this.#seen.delete(this.#seen.keys().next().value as string);
    return false;
  }

  /**
   * Keeps a copy of `raw`, confirmed in `blockHash`: bytes taken from that block, checked against its
   * header. A transaction larger than the whole budget is not kept.
   */
  put(txid: string, raw: Uint8Array, blockHash: string): void {
    const now = this.#now();
    this.#letGoIdle(now);
    this.drop(txid);
    if (raw.length > this.#maxBytes) return;
    this.#entries.set(txid, { raw: raw.slice(), blockHash, usedAt: now });
    this.#bytes += raw.length;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.raw.length;
    }
  }

  drop(txid: string): void {
    const had = this.#entries.get(txid);
    if (had === undefined) return;
    this.#entries.delete(txid);
    this.#bytes -= had.raw.length;
  }

  /** Bytes held, for tests and the bench. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Txids read confirmed once and remembered, for tests. */
  get seen(): number {
    return this.#seen.size;
  }

  #letGoIdle(now: number): void {
    for (const [txid, entry] of this.#entries) {
      if (now - entry.usedAt <= this.#idleMs) break;
      this.#entries.delete(txid);
      this.#bytes -= entry.raw.length;
    }
    for (const [txid, seen] of this.#seen) {
      if (now - seen.usedAt <= this.#idleMs) break;
      this.#seen.delete(txid);
    }
  }
}

/** A kept transaction as a backend answers it, once its block was found still active. */
export function heldTx(txid: string, held: ConfirmedTxEntry, status: TxStatus): TxWithStatus {
  return { txid, raw: held.raw.slice(), tx: decodeTx(held.raw), status };
}

/**
 * What a backend answers for a transaction it just read: at the second confirmed read in the same block,
 * the block's own version of it, kept; otherwise `found` as read. A block that does not hold the txid (the
 * backend contradicts itself) keeps nothing.
 */
export async function keptFromBlock(
  cache: ConfirmedTxCache,
  getBlock: (hash: string) => Promise<BlockWithTxs | undefined>,
  found: TxWithStatus,
): Promise<TxWithStatus> {
  const { txid, status } = found;
  if (!status.confirmed || !cache.readAgain(txid, status.blockHash)) return found;
  const inBlock = (await getBlock(status.blockHash))?.txs.find((t) => t.txid === txid);
  if (inBlock === undefined) return found;
  cache.put(txid, inBlock.raw, status.blockHash);
  return { txid, raw: inBlock.raw, tx: inBlock.tx, status };
}
