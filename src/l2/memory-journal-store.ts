/**
 * The ingester's cursor and journal in memory: for runs that keep nothing (`vigil verify --no-cache`)
 * and as the working copy of the file store. Same semantics as the Redis store (cursor-store.ts),
 * including the bounded window of checkpoint hashes used to find a fork point.
 */
import type { Hash } from 'viem';
import type { BlockRef, JournalBlock, JournalStore } from './cursor-store.ts';

export type JournalSnapshot<T> = {
  cursor: BlockRef | undefined;
  hooked: bigint;
  blocks: JournalBlock<T>[];
  /** Checkpoints, ascending by number, at most one per number. */
  hashes: BlockRef[];
};

export class MemoryJournalStore<T> implements JournalStore<T> {
  protected cursorRef: BlockRef | undefined;
  protected hookedAt = -1n;
  protected blocks: JournalBlock<T>[] = [];
  /** number → hash of every checkpoint kept (a block number has one hash on one chain). */
  protected hashes = new Map<bigint, Hash>();

  constructor(
    /** How many checkpoint hashes to keep for fork-point search (as the Redis store). */
    protected readonly hashWindow = 4096,
  ) {}

  async cursor(): Promise<BlockRef | undefined> {
    return this.cursorRef;
  }

  async hooked(): Promise<bigint> {
    return this.hookedAt;
  }

  async setHooked(number: bigint): Promise<void> {
    this.hookedAt = number;
  }

  async commit(
    blocks: readonly JournalBlock<T>[],
    checkpoints: readonly BlockRef[],
    cursor: BlockRef,
  ): Promise<void> {
    this.apply(blocks, checkpoints, cursor);
  }

  /** The in-memory half of `commit`: callers that persist first, then apply, share it. */
  protected apply(
    blocks: readonly JournalBlock<T>[],
    checkpoints: readonly BlockRef[],
    cursor: BlockRef,
  ): void {
    // Checked whole before anything changes: a refused batch leaves the store as it was.
    let last = this.blocks.at(-1)?.number ?? -1n;
    for (const b of blocks) {
      if (b.number <= last) throw new Error(`journal block ${b.number} is not above ${last}`);
      last = b.number;
    }
    for (const b of blocks) {
      this.blocks.push(b);
      this.hashes.set(b.number, b.hash);
    }
    for (const c of checkpoints) this.hashes.set(c.number, c.hash);
    this.hashes.set(cursor.number, cursor.hash);
    this.cursorRef = cursor;
    this.trimHashes();
  }

  async rewind(forkPoint: BlockRef): Promise<void> {
    this.applyRewind(forkPoint);
  }

  protected applyRewind(forkPoint: BlockRef): void {
    this.blocks = this.blocks.filter((b) => b.number <= forkPoint.number);
    for (const n of [...this.hashes.keys()]) if (n > forkPoint.number) this.hashes.delete(n);
    this.hashes.set(forkPoint.number, forkPoint.hash);
    this.cursorRef = forkPoint;
    if (this.hookedAt > forkPoint.number) this.hookedAt = forkPoint.number;
  }

  async checkpoints(atOrBelow: bigint, limit = 64): Promise<BlockRef[]> {
    return [...this.hashes]
      .filter(([n]) => n <= atOrBelow)
      .sort((a, b) => (a[0] > b[0] ? -1 : a[0] < b[0] ? 1 : 0))
      .slice(0, limit)
      .map(([number, hash]) => ({ number, hash }));
  }

  async journal(): Promise<JournalBlock<T>[]> {
    return [...this.blocks];
  }

  snapshot(): JournalSnapshot<T> {
    const hashes = [...this.hashes]
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([number, hash]) => ({ number, hash }));
    return { cursor: this.cursorRef, hooked: this.hookedAt, blocks: [...this.blocks], hashes };
  }

  protected restore(s: JournalSnapshot<T>): void {
    this.cursorRef = s.cursor;
    this.hookedAt = s.hooked;
    this.blocks = [...s.blocks];
    this.hashes = new Map(s.hashes.map((h) => [h.number, h.hash]));
  }

  private trimHashes(): void {
    if (this.hashes.size <= this.hashWindow) return;
    const keep = [...this.hashes.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(-this.hashWindow);
    const kept = new Set(keep);
    for (const n of [...this.hashes.keys()]) if (!kept.has(n)) this.hashes.delete(n);
  }
}
