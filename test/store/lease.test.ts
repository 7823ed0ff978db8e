import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Lease } from '../../src/store/lease.ts';
import { deleteKeysByPrefix } from '../../src/store/redis.ts';

const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
const prefix = `{vigil-test-${randomUUID()}}`;
afterAll(async () => {
  await deleteKeysByPrefix(redis, prefix);
  await redis.quit();
});

describe('chain lease', () => {
  it('one holder at a time; renew and release only by the owner; expiry hands it over', async () => {
    const key = `${prefix}:lease:bitcoin`;
    const a = new Lease(redis, key, 300);
    const b = new Lease(redis, key, 300);
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(await b.renew()).toBe(false);
    expect(await b.release()).toBe(false);
    expect(await a.acquire()).toBe(true); // re-acquire = renew
    expect(await a.holder()).toBe(a.owner);
    await new Promise((r) => setTimeout(r, 400));
    expect(await b.acquire()).toBe(true);
    expect(await a.renew()).toBe(false); // the old holder cannot extend its successor's lease
    expect(await b.release()).toBe(true);
    expect(await a.holder()).toBeNull();
  });
});
