/** The chain follower over a real Redis and simnet, through both backends. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreRpcBackend } from '../../../src/bitcoin/backends/core-rpc.ts';
import { EsploraBackend } from '../../../src/bitcoin/backends/esplora.ts';
import type { BitcoinBackend } from '../../../src/bitcoin/backends/types.ts';
import { ChainFollower, DeepReorgError, type FollowerEvent } from '../../../src/bitcoin/follower/follower.ts';
import { type Simnet, startSimnet } from '../../../src/bitcoin/simnet/start.ts';
import { type Coin, mineCoins, out, P2WPKH, P2WSH_TRUE, spend } from '../simnet/fixture.ts';

const kinds: { name: string; make: (sim: Simnet) => BitcoinBackend }[] = [
  { name: 'core-rpc', make: (sim) => new CoreRpcBackend({ url: sim.rpcUrl, auth: sim.rpcAuth }) },
  { name: 'esplora', make: (sim) => new EsploraBackend({ baseUrl: sim.esploraUrl }) },
];

/** Events without heights' noise: type and the ids that matter. */
const short = (e: FollowerEvent): string => {
  switch (e.type) {
    case 'block_connected':
    case 'block_disconnected':
      return `${e.type} ${e.height} ${e.hash.slice(0, 8)}`;
    case 'tx_seen':
      return `${e.type} ${e.txid.slice(0, 8)} ${e.where}`;
    case 'tx_confirmed':
      return `${e.type} ${e.txid.slice(0, 8)} depth ${e.depth}`;
    case 'tx_reorged_out':
      return `${e.type} ${e.txid.slice(0, 8)}`;
    case 'output_spent':
    case 'spend_reorged_out':
      return `${e.type} ${e.txid.slice(0, 8)}:${e.vout} by ${e.spenderTxid.slice(0, 8)}`;
  }
};

describe.each(kinds)('chain follower over $name', ({ make }) => {
  let sim: Simnet;
  let redis: Redis;
  const prefix = `vigil-test-${randomUUID()}`;

  beforeAll(async () => {
    sim = await startSimnet();
    redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await sim.stop();
  });

  it('emits seen, spent, confirmed, then the reorg in order, and nothing twice after a restart', async () => {
    const coins = mineCoins(sim.chain, 101);
    const c0 = coins[0] as Coin;
    const events: FollowerEvent[] = [];
    const make1 = () =>
      new ChainFollower({
        backend: make(sim),
        redis,
        prefix,
        confirmations: 2,
        startHeight: sim.chain.height + 1,
        onEvent: (e) => {
          events.push(e);
        },
      });
    const follower = make1();
    await follower.poll();
    expect(events).toEqual([]);

    const t1 = spend({ coins: [c0], outputs: [out(c0.value - 1000n, P2WSH_TRUE)] });
    sim.chain.accept(t1.raw);
    await follower.watchTx(t1.txid);
    await follower.watchOutpoint(c0.txid, 0);
    await follower.poll();
    const b1 = sim.chain.mine(P2WPKH);
    await follower.poll();
    const b2 = sim.chain.mine(P2WPKH);
    await follower.poll();
    expect(events.map(short)).toEqual([
      `tx_seen ${t1.txid.slice(0, 8)} mempool`,
      `block_connected ${b1.height} ${b1.hash.slice(0, 8)}`,
      `output_spent ${c0.txid.slice(0, 8)}:0 by ${t1.txid.slice(0, 8)}`,
      `block_connected ${b2.height} ${b2.hash.slice(0, 8)}`,
      `tx_confirmed ${t1.txid.slice(0, 8)} depth 2`,
    ]);

    // Reorg: b1 invalidated, a rival spend of c0 mined on a longer branch.
    events.length = 0;
    sim.chain.invalidateBlock(b1.hash);
    expect(sim.chain.mempool.get(t1.txid)).toBeDefined();
    const rival = spend({ coins: [c0], outputs: [out(c0.value - 900n)] });
    const n1 = sim.chain.mine(P2WPKH, [rival.tx]);
    expect(sim.chain.mempool.get(t1.txid)).toBeUndefined();
    const n2 = sim.chain.mine(P2WPKH);
    const n3 = sim.chain.mine(P2WPKH);
    await follower.poll();
    expect(events.map(short)).toEqual([
      `block_disconnected ${b2.height} ${b2.hash.slice(0, 8)}`,
      `block_disconnected ${b1.height} ${b1.hash.slice(0, 8)}`,
      `tx_reorged_out ${t1.txid.slice(0, 8)}`,
      `spend_reorged_out ${c0.txid.slice(0, 8)}:0 by ${t1.txid.slice(0, 8)}`,
      `block_connected ${n1.height} ${n1.hash.slice(0, 8)}`,
      `output_spent ${c0.txid.slice(0, 8)}:0 by ${rival.txid.slice(0, 8)}`,
      `block_connected ${n2.height} ${n2.hash.slice(0, 8)}`,
      `block_connected ${n3.height} ${n3.hash.slice(0, 8)}`,
    ]);
    expect(await follower.cursor()).toEqual({ height: n3.height, hash: n3.hash });

    // A restarted follower resumes from the cursor: nothing is emitted twice.
    events.length = 0;
    const restarted = make1();
    await restarted.poll();
    expect(events).toEqual([]);
    const n4 = sim.chain.mine(P2WPKH);
    await restarted.poll();
    expect(events.map(short)).toEqual([`block_connected ${n4.height} ${n4.hash.slice(0, 8)}`]);
  });
});

describe('chain follower limits', () => {
  it('refuses a reorg deeper than maxReorgDepth instead of resyncing silently', async () => {
    const sim = await startSimnet();
    const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    const prefix = `vigil-test-${randomUUID()}`;
    try {
      mineCoins(sim.chain, 5);
      const events: FollowerEvent[] = [];
      const follower = new ChainFollower({
        backend: new CoreRpcBackend({ url: sim.rpcUrl, auth: sim.rpcAuth }),
        redis,
        prefix,
        confirmations: 1,
        startHeight: 1,
        maxReorgDepth: 2,
        onEvent: (e) => {
          events.push(e);
        },
      });
      await follower.poll();
      expect(events.filter((e) => e.type === 'block_connected')).toHaveLength(5);
      sim.chain.invalidateBlock(sim.chain.blockAt(3)?.hash as string);
      for (let i = 0; i < 4; i++) sim.chain.mine(P2WPKH);
      await expect(follower.poll()).rejects.toBeInstanceOf(DeepReorgError);
      // The cursor did not move: the operator decides.
      expect((await follower.cursor())?.height).toBe(5);
    } finally {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      await sim.stop();
    }
  });
});
