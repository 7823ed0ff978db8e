/** The devnet's detection latency: from "kick-off at depth" to "Vigil's challenge in the mempool". */

import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import type { DisputeRecord } from '../dispute/records/store.ts';

/** Times from "kick-off at depth" (the block that confirmed it was mined) to "challenge in the mempool". */
export class LatencyClock {
  private readonly atDepth = new Map<string, number>();
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly bitcoin: DevnetBitcoin,
    private readonly store: { list(): Promise<DisputeRecord[]> },
    private readonly kickoffs: () => string[],
  ) {}

  async blockMined(tip: number, minedAt: number): Promise<void> {
    for (const txid of this.kickoffs()) {
      if (this.atDepth.has(txid)) continue;
      const s = await this.bitcoin.backend.getTxStatus(txid);
      if (s?.confirmed && s.blockHeight === tip) this.atDepth.set(txid, minedAt);
    }
  }

  async sample(): Promise<void> {
    for (const r of await this.store.list()) {
      const txid = r.challenge.txid;
      if (txid === undefined || this.seen.has(r.kickoffTxid)) continue;
      const s = await this.bitcoin.backend.getTxStatus(txid);
      if (s) this.seen.set(r.kickoffTxid, Date.now());
    }
  }

  latencyOf(kickoffTxid: string): number | undefined {
    const a = this.atDepth.get(kickoffTxid);
    const b = this.seen.get(kickoffTxid);
    return a !== undefined && b !== undefined ? b - a : undefined;
  }

  values(): number[] {
    return [...this.seen.keys()].flatMap((k) => {
      const l = this.latencyOf(k);
      return l === undefined ? [] : [l];
    });
  }
}
