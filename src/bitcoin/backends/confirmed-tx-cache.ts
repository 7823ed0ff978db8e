/**
 * The bytes of confirmed transactions, by txid, with the block they were confirmed in. A game job reads
 * the same kick-off, challenge, assert and moves at every run, each up to a few hundred kB, so a backend
 * answers a confirmed transaction it already holds by checking only that its block is still in the active
 * chain: a block's hash commits to every byte of its transactions, witnesses included (BIP-141's witness
 * commitment), and a txid is confirmed in at most one block of the active chain. A transaction whose block
 * left the chain is dropped and fetched again; unconfirmed transactions are never kept (a replacement may
 * change their witness). Bounded by bytes, least recently used out.
 */

/** What a backend keeps of a confirmed transaction. */
export type ConfirmedTxEntry = { readonly raw: Uint8Array; readonly blockHash: string };

/** A default that holds every transaction of a few games on the regtest shape (its assert is ~140 kB). */
export const DEFAULT_CONFIRMED_TX_CACHE_BYTES = 8 * 1024 * 1024;

export class ConfirmedTxCache {
  readonly #entries = new Map<string, ConfirmedTxEntry>();
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(maxBytes: number = DEFAULT_CONFIRMED_TX_CACHE_BYTES) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0)
      throw new RangeError(
        `The confirmed-transaction cache's size must be a whole number of bytes, not ${maxBytes}`,
      );
    this.#maxBytes = maxBytes;
  }

  /** The entry for `txid`, made the most recently used; undefined when not held. */
  get(txid: string): ConfirmedTxEntry | undefined {
    const hit = this.#entries.get(txid);
    if (hit === undefined) return undefined;
    this.#entries.delete(txid);
    this.#entries.set(txid, hit);
    return hit;
  }

  /** Keeps a copy of `raw`, confirmed in `blockHash`; a transaction larger than the whole budget is not kept. */
  put(txid: string, raw: Uint8Array, blockHash: string): void {
    this.drop(txid);
    if (raw.length > this.#maxBytes) return;
    this.#entries.set(txid, { raw: raw.slice(), blockHash });
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
}
