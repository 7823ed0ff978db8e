import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { DisputeQueue, QueuePrefixError } from '../../src/queue/dispute-queue.ts';
import { challengeJobId, JobIdError, jobId, judgeJobId } from '../../src/queue/job-ids.ts';
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
