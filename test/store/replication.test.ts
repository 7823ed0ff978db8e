/** Waiting until a write is on a replica (src/store/replication.ts); on a real cluster in redis-cluster.test.ts. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysByPrefix } from '../../src/store/redis.ts';
import { onlineReplicas, waitForReplica } from '../../src/store/replication.ts';

const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
const prefix = `{vigil-test-${randomUUID()}}`;
afterAll(async () => {
  await deleteKeysByPrefix(redis, prefix);
  await redis.quit();
});

describe('waitForReplica on a Redis without replicas', () => {
  it('returns at once: nothing to wait for', async () => {
    const started = Date.now();
    await redis.set(`${prefix}:replicated`, '1');
    expect(await waitForReplica(redis, `${prefix}:replicated`, 10_000)).toEqual({ replicas: 0, acked: 0 });
    // A WAIT for one replica on a lone Redis would block for the whole timeout.
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('onlineReplicas', () => {
  it('counts only replicas past their initial sync', () => {
    const info = [
      '# Replication',
      'role:master',
      'connected_slaves:3',
      'slave0:ip=127.0.0.1,port=7001,state=online,offset=1203,lag=0',
      'slave1:ip=127.0.0.1,port=7002,state=wait_bgsave,offset=0,lag=0',
      'slave2:ip=127.0.0.1,port=7003,state=send_bulk,offset=0,lag=1',
      'master_repl_offset:1203',
    ].join('\r\n');
    expect(onlineReplicas(info)).toBe(1);
    expect(onlineReplicas('# Replication\r\nrole:master\r\nconnected_slaves:0\r\n')).toBe(0);
  });
});
