/**
 * A Redis lease: one process at a time follows a chain (polls its tip, enqueues work), while any number
 * of processes share the jobs. The holder renews before the TTL runs out; a holder that dies loses the
 * lease after at most one TTL, and another process takes over. Renew and release check the owner token
 * in Lua, so a process whose lease expired can never extend or drop its successor's.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export class Lease {
  readonly key: string;
  readonly owner: string;
  private readonly redis: Redis;
  private readonly ttlMs: number;

  constructor(redis: Redis, key: string, ttlMs: number, owner: string = randomUUID()) {
    this.redis = redis;
    this.key = key;
    this.ttlMs = ttlMs;
    this.owner = owner;
  }

  /** Takes the lease if free, or keeps it if already ours. True when this process holds it after the call. */
  async acquire(): Promise<boolean> {
    const r = await this.redis.set(this.key, this.owner, 'PX', this.ttlMs, 'NX');
    if (r === 'OK') return true;
    return this.renew();
  }

  async renew(): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, this.key, this.owner, String(this.ttlMs))) === 1;
  }

  async release(): Promise<boolean> {
    return (await this.redis.eval(RELEASE, 1, this.key, this.owner)) === 1;
  }

  async holder(): Promise<string | null> {
    return this.redis.get(this.key);
  }
}
