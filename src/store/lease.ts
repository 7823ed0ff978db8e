/**
 * A Redis lease: one process at a time follows a chain (polls its tip, enqueues work), while any number
 * of processes share the jobs. The holder renews before the TTL runs out; a holder that dies loses the
 * lease after at most one TTL, and another process takes over. Renew and release check the owner token
 * in Lua, so a process whose lease expired can never extend or drop its successor's.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis.ts';
import { redisScript, runScript } from './scripts.ts';

const RENEW = redisScript('vigilLeaseRenew', new URL('./lease-renew.lua', import.meta.url), 1);
const RELEASE = redisScript('vigilLeaseRelease', new URL('./lease-release.lua', import.meta.url), 1);

export class Lease {
  readonly key: string;
  readonly owner: string;
  private readonly redis: RedisClient;
  private readonly ttlMs: number;

  constructor(redis: RedisClient, key: string, ttlMs: number, owner: string = randomUUID()) {
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

  /**
   * As `acquire`, saying how: `taken` when the key was free (the first time, or after it expired, when
   * another process may have held it meanwhile), `kept` when this owner still held it, `busy` otherwise.
   */
  async take(): Promise<'taken' | 'kept' | 'busy'> {
    const r = await this.redis.set(this.key, this.owner, 'PX', this.ttlMs, 'NX');
    if (r === 'OK') return 'taken';
    return (await this.renew()) ? 'kept' : 'busy';
  }

  async renew(): Promise<boolean> {
    return (await runScript(this.redis, RENEW, [this.key], [this.owner, String(this.ttlMs)])) === 1;
  }

  async release(): Promise<boolean> {
    return (await runScript(this.redis, RELEASE, [this.key], [this.owner])) === 1;
  }

  async holder(): Promise<string | null> {
    return this.redis.get(this.key);
  }

  /**
   * Runs `body` holding the lease, or returns 'busy' when another owner holds it. While `body` runs the
   * lease is renewed every third of its TTL, so a slow body keeps it and a dead holder frees it within
   * one TTL. A release that fails (Redis unreachable, a cluster failover under way) is retried in the
   * background until it succeeds, the key is no longer ours, or one TTL has passed: a lock whose
   * release was lost to a failover would otherwise keep every other process out for a whole TTL.
   */
  async runExclusive<T>(body: () => Promise<T>): Promise<T | 'busy'> {
    if (!(await this.acquire())) return 'busy';
    const renewal = setInterval(
      () => void this.renew().catch(() => {}),
      Math.max(1, Math.floor(this.ttlMs / 3)),
    );
    renewal.unref();
    try {
      return await body();
    } finally {
      clearInterval(renewal);
      await this.releaseSoon();
    }
  }

  /** Releases now, or keeps trying (every `retryMs`, for one TTL) in the background when Redis fails. */
  private async releaseSoon(retryMs = 250): Promise<void> {
    try {
      await this.release();
      return;
    } catch {
      // Retried below; the key also expires by itself after its TTL.
    }
    const until = Date.now() + this.ttlMs;
    const retry = setInterval(() => {
      if (Date.now() > until) {
        clearInterval(retry);
        return;
      }
      this.release().then(
        () => clearInterval(retry),
        () => {},
      );
    }, retryMs);
    retry.unref();
  }
}
