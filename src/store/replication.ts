/**
 * Waiting until a write is on a replica (Redis `WAIT`). Redis replicates asynchronously: a primary that
 * dies right after acknowledging a write may take it along, and its promoted replica never saw it. For
 * most of what Vigil keeps that is harmless (jobs run again, state is re-derived from the chains), but
 * not for a write-ahead record: the bytes of a transaction must be on a replica before they are
 * broadcast, or a failover forgets that the transaction on the chain is Vigil's own (issue #21's
 * failover run saw exactly that).
 *
 * `WAIT` covers the writes made on the connection it is sent on, so on a Cluster it goes to the
 * connection of the primary that serves the key's slot, the one that carried the write.
 */
import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './redis.ts';

export type ReplicaAck = {
  /** Replicas online (synced) on the primary when asked (0: nothing to wait for, as on a lone Redis). */
  replicas: number;
  /** Replicas that acknowledged every write made so far on the connection (at most 1 is asked for). */
  acked: number;
};

/** The connection to the primary serving `key`'s slot; the client itself outside a Cluster. */
async function connectionFor(redis: RedisClient, key: string): Promise<Redis | undefined> {
  if (!(redis instanceof Cluster)) return redis;
  const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', key));
  const owner = redis.slots[slot]?.[0];
  if (owner === undefined) return undefined;
  return redis.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
}

/**
 * Replicas in state `online` (`slaveN:…,state=online,…` in INFO replication). A replica still in its
 * initial sync (`wait_bgsave`, `send_bulk`; a node back after a failover, for the five seconds of a
 * diskless sync's delay and more) cannot acknowledge anything yet: waiting for it would only time out.
 */
export function onlineReplicas(info: string): number {
  return info.split(/\r?\n/).filter((line) => /^slave\d+:.*\bstate=online\b/.test(line)).length;
}

/**
 * Waits up to `timeoutMs` for one replica to hold every write made so far on the connection that
 * serves `key`. Without a replica it returns at once (`replicas: 0`); the caller decides what a
 * missing acknowledgement means.
 */
export async function waitForReplica(
  redis: RedisClient,
  key: string,
  timeoutMs: number,
): Promise<ReplicaAck> {
  const conn = await connectionFor(redis, key);
  if (conn === undefined) return { replicas: 0, acked: 0 };
  const replicas = onlineReplicas(await conn.info('replication'));
  if (replicas === 0) return { replicas, acked: 0 };
  const acked = Number(await conn.call('WAIT', 1, timeoutMs));
  return { replicas, acked: Math.min(acked, 1) };
}
