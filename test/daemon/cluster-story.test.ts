/**
 * The devnet story on a Redis Cluster (issue #21), from the outside: a real 3-primary/3-replica cluster
 * (test/support/redis-cluster.ts), `vigil devnet serve` with a faulty operator, and THREE `vigil watch`
 * processes on the same `redis+cluster://` URL and key prefix. One lease holder follows the chains; the
 * dispute jobs run in whichever process BullMQ hands them to. What must come out is what one process on
 * one Redis gives (./cluster-devnet.ts `expectEndsAsOnOneRedis`): every fraudulent epoch challenged once
 * (one challenge built, one sent across the three processes, the one on the simnet's chain the
 * record's), the operator slashed, and each record a complete history from `detected` to `resolved`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisputeStore } from '../../src/dispute/records/store.ts';
import { connectRedisAny } from '../../src/store/connect.ts';
import { closeRedis, type RedisClient } from '../../src/store/redis.ts';
import { until } from '../cli/child-process.ts';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.ts';
import {
  allResolved,
  type ClusterDevnet,
  expectEndsAsOnOneRedis,
  startClusterDevnet,
} from './cluster-devnet.ts';

let cluster: RedisCluster;
let net: ClusterDevnet | undefined;
let redis: RedisClient | undefined;

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);

afterAll(async () => {
  if (redis) await closeRedis(redis);
  await net?.stop();
  await cluster?.stop();
}, 60_000);

describe('three vigil watch processes on a Redis Cluster, a faulty operator', () => {
  it('challenge each fraudulent epoch once, and the operator ends slashed as on one Redis', async () => {
    net = await startClusterDevnet({
      redisUrl: cluster.url,
      watchers: 3,
      fault: 'commission-not-taken',
      // Six-block windows of 9 s: wide enough for three watchers on a loaded 2-core machine.
      bitcoinBlockMs: 1500,
    });
    const n = net;
    // Two fraudulent epochs are enough; then the operator is honest again, so the story has an end.
    await until('two fraudulent epochs', async () => (n.wrongEpochs().length >= 2 ? true : undefined));
    await n.fault('none');
    redis = await connectRedisAny(cluster.url, { role: 'command', name: 'vigil:test' });
    const store = new DisputeStore(redis, n.prefix);
    const records = await allResolved(n, store, 150_000);
    expect(records.length).toBeGreaterThanOrEqual(2);
    await expectEndsAsOnOneRedis(n, store, records);
    net = undefined;
    expect(await n.stop()).toEqual([0, 0, 0, 0]);
  }, 240_000);
});
