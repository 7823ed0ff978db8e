/**
 * simnet's mempool: entries with their fee and size, the outpoints they spend, and parent/child links
 * between unconfirmed transactions (what RBF and CPFP reason about). Pure data; the rules live in
 * `rules.ts` and `acceptance.ts`.
 */
import type { Tx } from '../tx/types.ts';

export type MempoolEntry = {
  txid: string;
  wtxid: string;
  tx: Tx;
  raw: Uint8Array;
  fee: bigint;
  vsize: number;
  weight: number;
  /** Order of acceptance, for stable tie-breaking and for re-acceptance after a reorg. */
  sequence: number;
  /** Seconds, for getmempoolentry. */
  time: number;
  /** The chain height when it entered. */
  height: number;
  parents: Set<string>;
  children: Set<string>;
};

export const outpointKey = (txid: string, vout: number): string => `${txid}:${vout}`;

export class Mempool {
  readonly entries = new Map<string, MempoolEntry>();
  /** outpoint → txid of the mempool transaction spending it. */
  readonly spenders = new Map<string, string>();
  private nextSequence = 0;

  get size(): number {
    return this.entries.size;
  }

  get(txid: string): MempoolEntry | undefined {
    return this.entries.get(txid);
  }

  add(
    entry: Omit<MempoolEntry, 'sequence' | 'parents' | 'children'>,
    prevouts: { txid: string; vout: number }[],
  ): MempoolEntry {
    const full: MempoolEntry = {
      ...entry,
      sequence: this.nextSequence++,
      parents: new Set(),
      children: new Set(),
    };
    for (const p of prevouts) {
      this.spenders.set(outpointKey(p.txid, p.vout), entry.txid);
      const parent = this.entries.get(p.txid);
      if (parent) {
        full.parents.add(parent.txid);
        parent.children.add(entry.txid);
      }
    }
    this.entries.set(entry.txid, full);
    return full;
  }

  /** Removes `txid` and every descendant; returns what was removed. */
  removeWithDescendants(txid: string): MempoolEntry[] {
    const removed: MempoolEntry[] = [];
    for (const id of this.descendants(txid, true)) {
      const e = this.entries.get(id);
      if (e) {
        this.removeOne(e);
        removed.push(e);
      }
    }
    return removed;
  }

  /** Removes one entry whose descendants stay (it was mined: they now spend a confirmed output). */
  removeMined(txid: string): void {
    const e = this.entries.get(txid);
    if (e) this.removeOne(e);
  }

  private removeOne(e: MempoolEntry): void {
    this.entries.delete(e.txid);
    for (const input of e.tx.inputs) {
      const key = outpointKey(hexOf(input.prevTxid), input.vout);
      if (this.spenders.get(key) === e.txid) this.spenders.delete(key);
    }
    for (const p of e.parents) this.entries.get(p)?.children.delete(e.txid);
    for (const c of e.children) this.entries.get(c)?.parents.delete(e.txid);
  }

  ancestors(txid: string, includeSelf = false): Set<string> {
    return this.walk(txid, includeSelf, (e) => e.parents);
  }

  descendants(txid: string, includeSelf = false): Set<string> {
    return this.walk(txid, includeSelf, (e) => e.children);
  }

  private walk(txid: string, includeSelf: boolean, next: (e: MempoolEntry) => Set<string>): Set<string> {
    const seen = new Set<string>();
    const stack = [txid];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      const e = this.entries.get(id);
      if (!e) continue;
      for (const n of next(e)) {
        if (!seen.has(n)) {
          seen.add(n);
          stack.push(n);
        }
      }
    }
    if (includeSelf && this.entries.has(txid)) seen.add(txid);
    return seen;
  }

  /** Entries in acceptance order (parents always before children). */
  ordered(): MempoolEntry[] {
    return [...this.entries.values()].sort((a, b) => a.sequence - b.sequence);
  }

  clear(): void {
    this.entries.clear();
    this.spenders.clear();
  }
}

/** Display-order hex of an internal-order hash, without importing the codec into this pure module. */
export function hexOf(internal: Uint8Array): string {
  let s = '';
  for (let i = internal.length - 1; i >= 0; i--) s += (internal[i] as number).toString(16).padStart(2, '0');
  return s;
}
