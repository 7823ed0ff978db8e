/**
 * Fetches logs over [from, to] in bounded sub-ranges. The span starts at the configured maximum, halves
 * whenever the RPC answers "range too large" / "query returned more than …", and creeps back up after a
 * run of successes, so a provider's cap is learnt once rather than hit on every call.
 */
import type { Address, Log } from 'viem';
import { type L2Rpc, RangeTooLargeError } from './rpc.ts';

export class AdaptiveLogFetcher {
  private span: bigint;
  private successes = 0;

  constructor(
    private readonly rpc: L2Rpc,
    private readonly addresses: readonly Address[],
    readonly maxSpan: bigint,
  ) {
    if (maxSpan < 1n) throw new RangeError('maxSpan must be ≥ 1');
    this.span = maxSpan;
  }

  /** The span currently used for one eth_getLogs call. */
  get currentSpan(): bigint {
    return this.span;
  }

  async fetch(from: bigint, to: bigint): Promise<Log[]> {
    const out: Log[] = [];
    let start = from;
    while (start <= to) {
      const end = start + this.span - 1n < to ? start + this.span - 1n : to;
      try {
        const logs = await this.rpc.logs(this.addresses, start, end);
        out.push(...logs);
        start = end + 1n;
        if (++this.successes >= 8 && this.span < this.maxSpan) {
          this.span = this.span * 2n > this.maxSpan ? this.maxSpan : this.span * 2n;
          this.successes = 0;
        }
      } catch (err) {
        if (!(err instanceof RangeTooLargeError) || end === start) throw err;
        this.successes = 0;
        const width = end - start + 1n;
        this.span = width / 2n > 0n ? width / 2n : 1n;
      }
    }
    return out;
  }
}
