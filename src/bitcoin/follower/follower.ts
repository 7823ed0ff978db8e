/**
 * The Bitcoin chain follower: walks the backend's chain block by block from a cursor persisted in Redis
 * (height + hash), detects reorgs by parent hash and walks back to the fork point, and emits events in
 * order for watched transactions and outpoints: seen, confirmed at depth, reorged out, output spent.
 *
 * Each block's events are handed to `onEvent` before the cursor moves past it (one MULTI with the
 * watch state), so a crash re-delivers at most the events of one block and a restart emits nothing twice
 * that was acknowledged.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { VigilError } from '../../core/errors.ts';
import { hashToHex } from '../backends/codec.ts';
import type { BitcoinBackend, BlockWithTxs } from '../backends/types.ts';

export type FollowerEvent =
  | { type: 'block_connected'; height: number; hash: string; prevHash: string }
  | { type: 'block_disconnected'; height: number; hash: string }
  | { type: 'tx_seen'; txid: string; where: 'mempool' | 'block'; height?: number; blockHash?: string }
  | { type: 'tx_confirmed'; txid: string; height: number; blockHash: string; depth: number }
  | { type: 'tx_reorged_out'; txid: string; height: number; blockHash: string }
  | {
      type: 'output_spent';
      txid: string;
      vout: number;
      spenderTxid: string;
      vin: number;
      height: number;
      blockHash: string;
    }
  | {
      type: 'spend_reorged_out';
      txid: string;
      vout: number;
      spenderTxid: string;
      height: number;
      blockHash: string;
    };

export type ChainFollowerOptions = {
  backend: BitcoinBackend;
  redis: Redis;
  /** Key prefix, e.g. "vigil:btc" (a hash tag such as "{vigil}:btc" for Redis Cluster). */
  prefix: string;
  /** Depth at which tx_confirmed fires (1 = in a block). */
  confirmations: number;
  /** Where to start on first run (default: the current tip). */
  startHeight?: number;
  /** How far back block hashes are kept to find a fork point; deeper reorgs are an error. */
  maxReorgDepth?: number;
  onEvent: (event: FollowerEvent) => Promise<void> | void;
  logger?: Logger;
};

export class DeepReorgError extends VigilError {
  override name = 'DeepReorgError';
}

type TxState = { height?: number; blockHash?: string; seen?: boolean; confirmed?: boolean };
type OutState = { spenderTxid?: string; vin?: number; height?: number; blockHash?: string };

export class ChainFollower {
  private readonly o: Required<Omit<ChainFollowerOptions, 'startHeight' | 'logger'>> &
    Pick<ChainFollowerOptions, 'startHeight' | 'logger'>;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(options: ChainFollowerOptions) {
    this.o = { maxReorgDepth: 100, ...options };
  }

  private key(...parts: string[]): string {
    return [this.o.prefix, ...parts].join(':');
  }

  async watchTx(txid: string): Promise<void> {
    await this.o.redis.hsetnx(this.key('watch', 'tx'), txid, '{}');
  }

  async watchOutpoint(txid: string, vout: number): Promise<void> {
    await this.o.redis.hsetnx(this.key('watch', 'out'), `${txid}:${vout}`, '{}');
  }

  async cursor(): Promise<{ height: number; hash: string } | undefined> {
    const raw = await this.o.redis.get(this.key('cursor'));
    return raw === null ? undefined : (JSON.parse(raw) as { height: number; hash: string });
  }

  /** One pass: handle a reorg if there is one, then connect every block up to the tip. */
  async poll(): Promise<void> {
    const tip = await this.o.backend.getTipHeight();
    let cursor = await this.cursor();
    if (cursor === undefined) {
      const start = this.o.startHeight ?? tip;
      const hash = await this.o.backend.getBlockHash(Math.max(start - 1, 0));
      if (hash === undefined) return;
      cursor = { height: Math.max(start - 1, 0), hash };
      await this.o.redis
        .multi()
        .set(this.key('cursor'), JSON.stringify(cursor))
        .hset(this.key('hashes'), String(cursor.height), cursor.hash)
        .exec();
    }
    cursor = await this.handleReorg(cursor);
    await this.checkMempool();
    for (let h = cursor.height + 1; h <= tip; h++) {
      const block = await this.o.backend.getBlock(h);
      if (block === undefined) break;
      if (block.prevHash !== cursor.hash) {
        cursor = await this.handleReorg(cursor);
        h = cursor.height;
        continue;
      }
      await this.connect(block);
      cursor = { height: block.height, hash: block.hash };
    }
  }

  start(intervalMs: number): void {
    const loop = async () => {
      if (this.running) return;
      this.running = true;
      try {
        await this.poll();
      } catch (err) {
        this.o.logger?.warn({ err }, 'bitcoin follower poll failed');
      } finally {
        this.running = false;
      }
    };
    this.timer = setInterval(loop, intervalMs);
    void loop();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async handleReorg(cursor: {
    height: number;
    hash: string;
  }): Promise<{ height: number; hash: string }> {
    let h = cursor.height;
    let ours = cursor.hash;
    const disconnect: { height: number; hash: string }[] = [];
    for (;;) {
      const theirs = await this.o.backend.getBlockHash(h);
      if (theirs === ours) break;
      disconnect.push({ height: h, hash: ours });
      h--;
      if (disconnect.length > this.o.maxReorgDepth || h < 0) {
        throw new DeepReorgError(
          `Reorg deeper than ${this.o.maxReorgDepth} blocks below height ${cursor.height}`,
        );
      }
      const stored = await this.o.redis.hget(this.key('hashes'), String(h));
      if (stored === null)
        throw new DeepReorgError(`No stored block hash at height ${h} to find the fork point`);
      ours = stored;
    }
    for (const d of disconnect) await this.disconnect(d, { height: h, hash: ours });
    return { height: h, hash: ours };
  }

  private async disconnect(
    block: { height: number; hash: string },
    fork: { height: number; hash: string },
  ): Promise<void> {
    const events: FollowerEvent[] = [{ type: 'block_disconnected', height: block.height, hash: block.hash }];
    const txs = await this.loadTxStates();
    const outs = await this.loadOutStates();
    const multi = this.o.redis.multi();
    for (const [txid, s] of txs) {
      if (s.blockHash !== block.hash) continue;
      events.push({ type: 'tx_reorged_out', txid, height: block.height, blockHash: block.hash });
      multi.hset(this.key('watch', 'tx'), txid, '{}');
    }
    for (const [op, s] of outs) {
      if (s.blockHash !== block.hash || s.spenderTxid === undefined) continue;
      const [txid, vout] = op.split(':') as [string, string];
      events.push({
        type: 'spend_reorged_out',
        txid,
        vout: Number(vout),
        spenderTxid: s.spenderTxid,
        height: block.height,
        blockHash: block.hash,
      });
      multi.hset(this.key('watch', 'out'), op, '{}');
    }
    for (const e of events) await this.o.onEvent(e);
    multi.hdel(this.key('hashes'), String(block.height));
    multi.set(
      this.key('cursor'),
      JSON.stringify({
        height: block.height - 1,
        hash:
          block.height - 1 === fork.height
            ? fork.hash
            : ((await this.o.redis.hget(this.key('hashes'), String(block.height - 1))) ?? fork.hash),
      }),
    );
    await multi.exec();
  }

  private async connect(block: BlockWithTxs): Promise<void> {
    const events: FollowerEvent[] = [
      { type: 'block_connected', height: block.height, hash: block.hash, prevHash: block.prevHash },
    ];
    const txs = await this.loadTxStates();
    const outs = await this.loadOutStates();
    const multi = this.o.redis.multi();
    for (const btx of block.txs) {
      const s = txs.get(btx.txid);
      if (s !== undefined && s.blockHash === undefined) {
        if (!s.seen)
          events.push({
            type: 'tx_seen',
            txid: btx.txid,
            where: 'block',
            height: block.height,
            blockHash: block.hash,
          });
        s.seen = true;
        s.height = block.height;
        s.blockHash = block.hash;
        s.confirmed = false;
      }
      btx.tx.inputs.forEach((input, vin) => {
        const op = `${hashToHex(input.prevTxid)}:${input.vout}`;
        const o = outs.get(op);
        if (o === undefined || o.blockHash !== undefined) return;
        const [txid, vout] = op.split(':') as [string, string];
        events.push({
          type: 'output_spent',
          txid,
          vout: Number(vout),
          spenderTxid: btx.txid,
          vin,
          height: block.height,
          blockHash: block.hash,
        });
        multi.hset(
          this.key('watch', 'out'),
          op,
          JSON.stringify({ spenderTxid: btx.txid, vin, height: block.height, blockHash: block.hash }),
        );
      });
    }
    for (const [txid, s] of txs) {
      if (s.height === undefined || s.blockHash === undefined || s.confirmed) continue;
      const depth = block.height - s.height + 1;
      if (depth >= this.o.confirmations) {
        events.push({ type: 'tx_confirmed', txid, height: s.height, blockHash: s.blockHash, depth });
        s.confirmed = true;
      }
    }
    for (const [txid, s] of txs) multi.hset(this.key('watch', 'tx'), txid, JSON.stringify(s));
    for (const e of events) await this.o.onEvent(e);
    multi.hset(this.key('hashes'), String(block.height), block.hash);
    multi.set(this.key('cursor'), JSON.stringify({ height: block.height, hash: block.hash }));
    const old = block.height - this.o.maxReorgDepth - 1;
    if (old >= 0) multi.hdel(this.key('hashes'), String(old));
    await multi.exec();
  }

  /** Watched transactions not yet in a block: tx_seen once when the backend's mempool has them. */
  private async checkMempool(): Promise<void> {
    const txs = await this.loadTxStates();
    for (const [txid, s] of txs) {
      if (s.seen || s.blockHash !== undefined) continue;
      const status = await this.o.backend.getTxStatus(txid);
      if (status === undefined || status.confirmed || !status.inMempool) continue;
      await this.o.onEvent({ type: 'tx_seen', txid, where: 'mempool' });
      await this.o.redis.hset(this.key('watch', 'tx'), txid, JSON.stringify({ ...s, seen: true }));
    }
  }

  private async loadTxStates(): Promise<Map<string, TxState>> {
    const all = await this.o.redis.hgetall(this.key('watch', 'tx'));
    return new Map(Object.entries(all).map(([k, v]) => [k, JSON.parse(v) as TxState]));
  }

  private async loadOutStates(): Promise<Map<string, OutState>> {
    const all = await this.o.redis.hgetall(this.key('watch', 'out'));
    return new Map(Object.entries(all).map(([k, v]) => [k, JSON.parse(v) as OutState]));
  }
}
