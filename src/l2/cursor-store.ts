/**
 * Durable ingestion state in Redis, under a caller-chosen prefix:
 *   <prefix>:cursor   hash {number, hash} — the last block whose inputs are journaled; {hooked} — the last
 *                     block whose after-block work (the epoch-end cross-check) completed
 *   <prefix>:journal  sorted set, score = block number, member = JSON {number, hash, entries}
 *                     (only blocks that produced something: the derived state is a pure function of it)
 *   <prefix>:hashes   sorted set, score = block number, member = "<number>:<hash>" — checkpoints used to
 *                     find the fork point after a reorg (range ends and blocks with entries), trimmed
 *   <prefix>:base     hash {block, hash, entries, data} — once the journal is pruned: the derived state
 *                     through the first `entries` entries of `block` (gzip, base64); the journal keeps
 *                     `block` and the blocks above it
 * A range is committed with one MULTI/EXEC, so a crash leaves either all of it or none of it; the base
 * moves with one script that also drops the blocks it covers.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Hash } from 'viem';
import type { RedisClient } from '../store/redis.ts';
import { redisScript, runScript } from '../store/scripts.ts';
import { decodeJournal, encodeJournal } from './journal-codec.ts';

const COMPACT = redisScript('vigilJournalCompact', new URL('./journal-compact.lua', import.meta.url), 2);

export type BlockRef = { number: bigint; hash: Hash };

export type JournalBlock<T> = { number: bigint; hash: Hash; entries: T[] };

/**
 * Where a pruned journal starts: the derivation's state after the first `entries` entries of block
 * `block` (the derivation's own encoding, `data`). The journal holds `block` and every block above it.
 */
export type JournalBase = { block: bigint; hash: Hash; entries: number; data: Uint8Array };

/**
 * Where the ingester keeps its cursor and journal: Redis for the daemon (CursorStore), a directory for
 * `vigil verify` (FileJournalStore), memory for one-off runs. `commit` and `rewind` are each all or
 * nothing.
 */
export type JournalStore<T> = {
  cursor(): Promise<BlockRef | undefined>;
  /** The last block whose after-block hooks completed (-1 if none). */
  hooked(): Promise<bigint>;
  setHooked(number: bigint): Promise<void>;
  /** Appends the blocks of one range and moves the cursor. */
  commit(
    blocks: readonly JournalBlock<T>[],
    checkpoints: readonly BlockRef[],
    cursor: BlockRef,
  ): Promise<void>;
  /** Drops everything above `forkPoint` and moves the cursor back to it. */
  rewind(forkPoint: BlockRef): Promise<void>;
  /** Known checkpoints at or below `atOrBelow`, newest first. */
  checkpoints(atOrBelow: bigint, limit?: number): Promise<BlockRef[]>;
  journal(): Promise<JournalBlock<T>[]>;
  /** The base a pruned journal starts from, if it was ever pruned (stores that can prune). */
  base?(): Promise<JournalBase | undefined>;
  /**
   * Stores `base` and drops the journal blocks below its block, all or nothing; false (nothing changed)
   * when the stored base is already at or above it.
   */
  compact?(base: JournalBase): Promise<boolean>;
};

export class CursorStore<T> implements JournalStore<T> {
  private readonly cursorKey: string;
  private readonly journalKey: string;
  private readonly hashesKey: string;
  private readonly baseKey: string;

  constructor(
    private readonly redis: RedisClient,
    readonly prefix: string,
    /** How many checkpoint hashes to keep for fork-point search. */
    private readonly hashWindow = 4096,
  ) {
    this.cursorKey = `${prefix}:cursor`;
    this.journalKey = `${prefix}:journal`;
    this.hashesKey = `${prefix}:hashes`;
    this.baseKey = `${prefix}:base`;
  }

  async cursor(): Promise<BlockRef | undefined> {
    const h = await this.redis.hgetall(this.cursorKey);
    if (!h.number || !h.hash) return undefined;
    return { number: BigInt(h.number), hash: h.hash as Hash };
  }

  /** The last block whose after-block hooks completed (-1 if none). */
  async hooked(): Promise<bigint> {
    const v = await this.redis.hget(this.cursorKey, 'hooked');
    return v === null ? -1n : BigInt(v);
  }

  async setHooked(number: bigint): Promise<void> {
    await this.redis.hset(this.cursorKey, 'hooked', number.toString());
  }

  /** Appends the blocks of one range and moves the cursor, atomically. */
  async commit(
    blocks: readonly JournalBlock<T>[],
    checkpoints: readonly BlockRef[],
    cursor: BlockRef,
  ): Promise<void> {
    const m = this.redis.multi();
    for (const b of blocks) {
      m.zadd(this.journalKey, b.number.toString(), encodeJournal(b));
      m.zadd(this.hashesKey, b.number.toString(), `${b.number}:${b.hash}`);
    }
    for (const c of checkpoints) m.zadd(this.hashesKey, c.number.toString(), `${c.number}:${c.hash}`);
    m.zadd(this.hashesKey, cursor.number.toString(), `${cursor.number}:${cursor.hash}`);
    m.hset(this.cursorKey, 'number', cursor.number.toString(), 'hash', cursor.hash);
    m.zremrangebyrank(this.hashesKey, 0, -(this.hashWindow + 1));
    await m.exec();
  }

  /**
   * Drops everything above `forkPoint` and moves the cursor back to it, atomically. A fork point below the
   * base's block drops the base too: the journal below it is gone, so only a rewind to before the start
   * block (re-ingesting everything) leaves a consistent journal, and the ingester asks for no other.
   */
  async rewind(forkPoint: BlockRef): Promise<void> {
    const above = `(${forkPoint.number}`;
    const baseBlock = await this.redis.hget(this.baseKey, 'block');
    const m = this.redis.multi();
    if (baseBlock !== null && BigInt(baseBlock) > forkPoint.number) m.del(this.baseKey);
    await m
      .zremrangebyscore(this.journalKey, above, '+inf')
      .zremrangebyscore(this.hashesKey, above, '+inf')
      .zadd(this.hashesKey, forkPoint.number.toString(), `${forkPoint.number}:${forkPoint.hash}`)
      .hset(this.cursorKey, 'number', forkPoint.number.toString(), 'hash', forkPoint.hash)
      .exec();
    // Hooks of blocks above the fork point ran on orphaned state: they must run again on the new chain.
    if ((await this.hooked()) > forkPoint.number) await this.setHooked(forkPoint.number);
  }

  /** Known checkpoints at or below `atOrBelow`, newest first. */
  async checkpoints(atOrBelow: bigint, limit = 64): Promise<BlockRef[]> {
    const members = await this.redis.zrevrangebyscore(
      this.hashesKey,
      atOrBelow.toString(),
      '-inf',
      'LIMIT',
      '0',
      String(limit),
    );
    return members.map((m) => {
      const [n, h] = m.split(':');
      return { number: BigInt(n as string), hash: h as Hash };
    });
  }

  async journal(): Promise<JournalBlock<T>[]> {
    const members = await this.redis.zrange(this.journalKey, '0', '-1');
    return members.map((m) => decodeJournal<JournalBlock<T>>(m));
  }

  async base(): Promise<JournalBase | undefined> {
    const [block, hash, entries, data] = await this.redis.hmget(
      this.baseKey,
      'block',
      'hash',
      'entries',
      'data',
    );
    if (!block || !hash || !entries || !data) return undefined;
    return {
      block: BigInt(block),
      hash: hash as Hash,
      entries: Number(entries),
      data: new Uint8Array(gunzipSync(Buffer.from(data, 'base64'))),
    };
  }

  async compact(base: JournalBase): Promise<boolean> {
    const moved = await runScript(
      this.redis,
      COMPACT,
      [this.baseKey, this.journalKey],
      [base.block.toString(), base.hash, String(base.entries), gzipSync(base.data).toString('base64')],
    );
    return moved === 1;
  }

  async clear(): Promise<void> {
    await this.redis.del(this.cursorKey, this.journalKey, this.hashesKey, this.baseKey);
  }
}
