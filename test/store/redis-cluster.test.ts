/**
 * Vigil's Redis parts on a real Redis Cluster (issue #21): three primaries, three replicas, started
 * by test/support/redis-cluster.ts. The connection comes from the `redis+cluster://` URL; the lease,
 * a dispute record and a BullMQ queue under Vigil's hash-tagged prefix run on it; then the primary
 * serving the prefix's slot is killed and, once its replica is promoted, the lease and the record are
 * still there.
 */
import { randomUUID } from 'node:crypto';
import { type Job, Queue, Worker } from 'bullmq';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disputeId } from '../../src/dispute/records/state-machine.ts';
import { asTxid, DisputeStore, type OpenedFacts } from '../../src/dispute/records/store.ts';
import { queueConnectionFromUrl } from '../../src/queue/connection.ts';
import { DISPUTE_QUEUE, DisputeQueue } from '../../src/queue/dispute-queue.ts';
import { connectRedisAny } from '../../src/store/connect.ts';
import { Lease } from '../../src/store/lease.ts';
import {
  closeRedis,
  RedisEvictionPolicyError,
  RedisUnavailableError,
  requireNoEviction,
} from '../../src/store/redis.ts';
import {
  closeRedisCluster,
  connectRedisCluster,
  isClusterUrl,
  parseClusterUrl,
  RedisClusterUrlError,
} from '../../src/store/redis-cluster.ts';
import { freePort, until } from '../cli/child-process.ts';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.ts';

const prefix = `{vigil-cluster-${randomUUID().slice(0, 8)}}`;
const txid = asTxid('ab'.repeat(32));
const opened: OpenedFacts = { graph: '{}', verdict: '{}', challengeBy: 105, assertTimeoutFrom: 112 };

describe('redis+cluster:// URLs', () => {
  it('reads the seed nodes, credentials and TLS; refuses a path', () => {
    expect(isClusterUrl('redis+cluster://a:7000,b:7001')).toBe(true);
    expect(isClusterUrl('redis://a:7000')).toBe(false);
    expect(parseClusterUrl('rediss+cluster://u:p%40ss@a:7000,[::1]:7001,c/')).toEqual({
      nodes: [
        { host: 'a', port: 7000 },
        { host: '::1', port: 7001 },
        { host: 'c', port: 6379 },
      ],
      username: 'u',
      password: 'p@ss',
      tls: true,
    });
    expect(() => parseClusterUrl('redis+cluster://a:7000/1')).toThrow(RedisClusterUrlError);
    expect(() => parseClusterUrl('redis+cluster://a:99999')).toThrow(/bad node "a:99999"/);
    expect(() => parseClusterUrl('redis+cluster://:secret@a:7000,,b')).toThrow(
      'redis+cluster://:redacted@a:7000,,b has a bad node ""',
    );
  });
});

describe('Vigil on a 3-primary, 3-replica Redis Cluster', () => {
  let cluster: RedisCluster;
  let redis: Cluster;
  let worker: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    redis = await connectRedisCluster(cluster.url, { role: 'command' });
    worker = await connectRedisCluster(cluster.url, { role: 'worker' });
  }, 60_000);

  afterAll(async () => {
    if (redis) await closeRedisCluster(redis);
    if (worker) await closeRedisCluster(worker);
    await cluster?.stop();
  });

  it('refuses a cluster URL where nothing answers, in one line', async () => {
    const url = `redis+cluster://127.0.0.1:${await freePort()},127.0.0.1:${await freePort()}`;
    await expect(connectRedisCluster(url, { role: 'command', probeTimeoutMs: 500 })).rejects.toThrow(
      RedisUnavailableError,
    );
  });

  it('connects through the URL and routes keys of all slots', async () => {
    expect(redis.status).toBe('ready');
    // Keys chosen to land on different primaries: the client follows the slot map.
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) await redis.set(`${prefix}-${k}`, k);
    const slots = new Set<number>();
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) {
      expect(await redis.get(`${prefix}-${k}`)).toBe(k);
      slots.add(await redis.cluster('KEYSLOT', `${prefix}-${k}`));
    }
    // The hash tag keeps even these distinct keys on one slot.
    expect(slots.size).toBe(1);
  });

  it('connectRedisAny picks the cluster client for a cluster URL, the single one otherwise', async () => {
    const any = await connectRedisAny(cluster.url, { role: 'command' });
    const single = await connectRedisAny(process.env.VIGIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', {
      role: 'command',
    });
    try {
      expect(any.isCluster).toBe(true);
      expect(single.isCluster).toBe(false);
      expect(await any.ping()).toBe('PONG');
    } finally {
      await closeRedis(any);
      await closeRedis(single);
    }
  });

  it('requires noeviction on every primary', async () => {
    await expect(requireNoEviction(redis, cluster.url)).resolves.toBeUndefined();
    const last = redis.nodes('master').at(-1);
    if (!last) throw new Error('no primary');
    await last.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      await expect(requireNoEviction(redis, cluster.url)).rejects.toThrow(RedisEvictionPolicyError);
    } finally {
      await last.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });

  it("the dispute queue makes its own cluster connections from the URL's options, and closes them", async () => {
    const connection = queueConnectionFromUrl(cluster.url);
    expect(connection.cluster?.nodes).toHaveLength(6);
    const queue = new DisputeQueue({ connection, prefix });
    const id = disputeId(9n, txid);
    await queue.open({
      disputeId: id,
      epoch: '9',
      kickoffTxid: txid,
      kickoffHeight: 100,
      graph: '{}',
      verdict: '{}',
      seenAt: 0,
      challengeWindow: 6,
      assertWindow: 6,
    });
    const job = await queue.queue.getJob(`open-${id}`);
    expect(job?.data.epoch).toBe('9');
    // Gone before the BullMQ test below, whose worker shares the queue name and prefix.
    await queue.queue.obliterate({ force: true });
    const client = await queue.queue.getBackend().client;
    expect((client as { isCluster?: boolean }).isCluster).toBe(true);
    await queue.close();
    expect(client.status).toBe('end');
  });

  it('acquires, renews and releases the lease', async () => {
    const a = new Lease(redis, `${prefix}:lease:test`, 60_000, 'a');
    const b = new Lease(redis, `${prefix}:lease:test`, 60_000, 'b');
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(await a.renew()).toBe(true);
    expect(await b.renew()).toBe(false);
    expect(await b.release()).toBe(false);
    expect(await a.release()).toBe(true);
    expect(await a.holder()).toBeNull();
    expect(await b.acquire()).toBe(true);
    expect(await b.release()).toBe(true);
  });

  it('writes a dispute record and reads it back', async () => {
    const store = new DisputeStore(redis, prefix);
    const id = disputeId(7n, txid);
    expect((await store.open({ id, epoch: 7n, kickoffTxid: txid, kickoffHeight: 100, opened })).status).toBe(
      'applied',
    );
    expect((await store.open({ id, epoch: 7n, kickoffTxid: txid, kickoffHeight: 100, opened })).status).toBe(
      'duplicate',
    );
    await store.transition(id, 'challenged', { key: 'c1', patch: { challenge: { txid } } });
    const rec = await store.require(id);
    expect(rec.state).toBe('challenged');
    expect(rec.epoch).toBe(7n);
    expect(rec.challenge.txid).toBe(txid);
    expect((await store.events(id)).map((e) => e.to)).toEqual(['detected', 'challenged']);
    expect((await store.list()).map((r) => r.id)).toEqual([id]);
  });

  it("waits until a dispute's writes are on the replica of the primary serving its slot", async () => {
    const store = new DisputeStore(redis, prefix);
    const id = disputeId(7n, txid);
    await store.note(
      id,
      { type: 'challenge-built', detail: { txid, fee: 500n, vsize: 150 } },
      { key: 'wait-1' },
    );
    // WAIT went to that primary's connection (the one that carried the write), which has one replica.
    expect(await store.replicated(id, 5000)).toEqual({ replicas: 1, acked: 1 });
  });

  it('adds and processes a BullMQ job under the hash-tagged prefix', async () => {
    const queue = new Queue(DISPUTE_QUEUE, { connection: redis, prefix });
    // The worker gets the worker-role connection (BullMQ duplicates it for its blocking reads).
    const w = new Worker(DISPUTE_QUEUE, async (job: Job) => `done ${String(job.data.n)}`, {
      connection: worker,
      prefix,
    });
    try {
      const completed = new Promise<[string | undefined, unknown]>((resolve) =>
        w.once('completed', (job, result) => resolve([job.id, result])),
      );
      await queue.add('open', { n: 42 }, { jobId: 'open-42' });
      expect(await completed).toEqual(['open-42', 'done 42']);
      const job = await queue.getJob('open-42');
      expect(await job?.getState()).toBe('completed');
      expect(job?.returnvalue).toBe('done 42');
    } finally {
      await w.close();
      await queue.close();
    }
  });

  it('keeps every key of the prefix in one slot', async () => {
    const want = await redis.cluster('KEYSLOT', prefix);
    const keys: string[] = [];
    for (const node of redis.nodes('master')) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
    }
    // The record, its events and index, the queue's keys (BullMQ's `{...}:disputes:*`).
    expect(keys.some((k) => k.startsWith(`${prefix}:dispute:`))).toBe(true);
    expect(keys.some((k) => k.startsWith(`${prefix}:${DISPUTE_QUEUE}:`))).toBe(true);
    const slots = new Set<number>();
    for (const k of keys) slots.add(await redis.cluster('KEYSLOT', k));
    expect([...slots]).toEqual([want]);
  });

  it('keeps the lease and the record when the primary serving them dies and its replica takes over', async () => {
    const lease = new Lease(redis, `${prefix}:lease:bitcoin`, 60_000, 'holder');
    expect(await lease.acquire()).toBe(true);
    const store = new DisputeStore(redis, prefix);
    const id = disputeId(8n, txid);
    await store.open({ id, epoch: 8n, kickoffTxid: txid, kickoffHeight: 100, opened });
    await store.transition(id, 'challenged', { key: 'c1', patch: { challenge: { txid } } });
    const primary = await cluster.primaryFor(prefix);
    // Replication is asynchronous: wait until a replica holds both, so the failover is not the test of it.
    const replicas = await cluster.replicasOf(primary);
    const onReplica = async (port: number): Promise<true | undefined> => {
      const c = cluster.nodeClient(port);
      try {
        await c.call('READONLY');
        const holder = await c.get(`${prefix}:lease:bitcoin`);
        const state = await c.hget(`${prefix}:dispute:${id}`, 'state');
        return holder === 'holder' && state === 'challenged' ? true : undefined;
      } finally {
        c.disconnect();
      }
    };
    await until(
      'a replica has the lease and the record',
      async () => {
        for (const r of replicas) if (await onReplica(r.port)) return true;
        return undefined;
      },
      20_000,
    );

    const promoted = await cluster.killPrimary(primary);
    expect(replicas.map((r) => r.port)).toContain(promoted.port);
    expect((await cluster.primaryFor(prefix)).port).toBe(promoted.port);

    // The client learns the new slot map on its own; the first command may still meet the dead node.
    const holder = await until(
      'the lease read after failover',
      async () => (await lease.holder()) ?? undefined,
      30_000,
    );
    expect(holder).toBe('holder');
    expect(await lease.renew()).toBe(true);
    const rec = await store.require(id);
    expect(rec.state).toBe('challenged');
    expect(rec.challenge.txid).toBe(txid);
    expect(await lease.release()).toBe(true);
  }, 60_000);
});
