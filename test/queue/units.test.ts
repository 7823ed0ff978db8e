import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { DisputeQueue, QueuePrefixError } from '../../src/queue/dispute-queue.ts';
import { challengeJobId, JobIdError, jobId, judgeJobId } from '../../src/queue/job-ids.ts';
import { SpendingRefusedError, spendDecision } from '../../src/queue/spend-policy.ts';
import { Lease } from '../../src/store/lease.ts';
import { CONNECTION, cleanup, REDIS_URL } from '../../testkit/queue/scenario.ts';

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
const prefix = `{vigil-test-${randomUUID()}}`;
afterAll(async () => {
  await cleanup(redis, prefix);
  await redis.quit();
});

describe('job ids', () => {
  it('are deterministic and BullMQ-safe', () => {
    expect(judgeJobId(5n, 'ab'.repeat(32))).toBe('judge-e5-kabababababababab');
    expect(challengeJobId('e5-k00')).toBe('challenge-e5-k00');
    expect(() => jobId('a:b')).toThrow(JobIdError);
    expect(() => jobId(12, 34)).not.toThrow(); // '12-34' is not all digits
    expect(() => jobId(1234)).toThrow(JobIdError);
  });
  it('a queue without a {hash tag} prefix is refused', () => {
    expect(() => new DisputeQueue({ connection: CONNECTION, prefix: 'vigil' })).toThrow(QueuePrefixError);
  });
});

describe('spending decision', () => {
  it.each([
    { mode: 'watch', network: 'mainnet', allow: false, out: 'withhold' },
    { mode: 'dry-run', network: 'mainnet', allow: false, out: 'build-only' },
    { mode: 'challenge', network: 'regtest', allow: false, out: 'broadcast' },
    { mode: 'challenge', network: 'mainnet', allow: true, out: 'broadcast' },
    { mode: 'challenge', network: 'mainnet', allow: false, out: 'refused' },
  ] as const)('$mode on $network (switch $allow) → $out', ({ mode, network, allow, out }) => {
    const run = () => spendDecision(mode, network, allow);
    if (out === 'refused') expect(run).toThrow(SpendingRefusedError);
    else expect(run()).toBe(out);
  });
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
