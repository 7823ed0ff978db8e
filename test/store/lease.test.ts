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

describe('runExclusive', () => {
  it('take says whether the lease was free (taken), still ours (kept) or held by another (busy)', async () => {
    const key = `${prefix}:lease:take`;
    const a = new Lease(redis, key, 300);
    const b = new Lease(redis, key, 300);
    expect(await a.take()).toBe('taken');
    expect(await a.take()).toBe('kept');
    expect(await b.take()).toBe('busy');
    // a lapses, b holds it a while, a takes it back: taken, not kept (b may have acted meanwhile).
    await new Promise((r) => setTimeout(r, 400));
    expect(await b.take()).toBe('taken');
    expect(await b.release()).toBe(true);
    expect(await a.take()).toBe('taken');
    expect(await a.release()).toBe(true);
  });

  it('keeps the lease while a section outlasts its TTL, and frees it at the end', async () => {
    const key = `${prefix}:lease:section`;
    const a = new Lease(redis, key, 300);
    const b = new Lease(redis, key, 300);
    const result = await a.runExclusive(async () => {
      // Three TTLs: without renewal b would take the lease half-way through.
      for (let i = 0; i < 9; i++) {
        await new Promise((r) => setTimeout(r, 100));
        expect(await b.acquire()).toBe(false);
      }
      return 'done';
    });
    expect(result).toBe('done');
    expect(await a.holder()).toBeNull();
    expect(await b.runExclusive(async () => 'b ran')).toBe('b ran');
  });

  it('says busy while another owner holds it, and frees the lease when the section throws', async () => {
    const key = `${prefix}:lease:busy`;
    const a = new Lease(redis, key, 5_000);
    const b = new Lease(redis, key, 5_000);
    expect(await a.acquire()).toBe(true);
    let ran = false;
    expect(
      await b.runExclusive(async () => {
        ran = true;
      }),
    ).toBe('busy');
    expect(ran).toBe(false);
    expect(await a.release()).toBe(true);
    await expect(
      b.runExclusive(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await b.holder()).toBeNull();
  });

  it('a release lost to an outage is retried until Redis answers again', async () => {
    const key = `${prefix}:lease:outage`;
    // No offline queue: a command sent while it reconnects fails at once, as on a dead cluster node.
    const flaky = new Redis('redis://127.0.0.1:6379', {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    await flaky.connect();
    try {
      const a = new Lease(flaky, key, 10_000);
      const b = new Lease(redis, key, 10_000);
      await a.runExclusive(async () => {
        // The connection drops while the section runs: its release fails at first.
        flaky.disconnect(true);
      });
      expect(await b.acquire()).toBe(false);
      // ioredis reconnects by itself; the retried release frees the lease long before its 10 s TTL.
      let freed = false;
      for (let i = 0; i < 40 && !freed; i++) {
        await new Promise((r) => setTimeout(r, 100));
        freed = (await redis.get(key)) === null;
      }
      expect(freed).toBe(true);
      expect(await b.acquire()).toBe(true);
    } finally {
      flaky.disconnect();
    }
  });
});
