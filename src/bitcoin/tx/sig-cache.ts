/**
 * A signature verification cache, as Core's CachingTransactionSignatureChecker keeps one: the result
 * of verifying (message, key, signature) never changes, so re-validating the same spend under other
 * flags (mempool then block, or the vector tests' flag sweeps) costs no curve operation.
 */
import { bytesToHex } from '../../core/bytes.ts';

export class SignatureCache {
  private readonly entries = new Map<string, boolean>();
  hits = 0;
  misses = 0;
  constructor(private readonly maxEntries = 100_000) {}

  private static key(kind: string, msg: Uint8Array, key: Uint8Array, sig: Uint8Array): string {
    return `${kind}${bytesToHex(msg)}${bytesToHex(key)}:${bytesToHex(sig)}`;
  }

  verify(
    kind: 'ecdsa' | 'schnorr',
    msg: Uint8Array,
    key: Uint8Array,
    sig: Uint8Array,
    verify: () => boolean,
  ): boolean {
    const k = SignatureCache.key(kind, msg, key, sig);
    const known = this.entries.get(k);
    if (known !== undefined) {
      this.hits++;
      return known;
    }
    this.misses++;
    const ok = verify();
    if (this.entries.size >= this.maxEntries) {
      // Drop the oldest entry (Map keeps insertion order).
      const first = this.entries.keys().next();
      if (!first.done) this.entries.delete(first.value);
    }
    this.entries.set(k, ok);
    return ok;
  }

  get size(): number {
    return this.entries.size;
  }
}
