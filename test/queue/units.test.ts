import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { FAULTS, generateWorkload, reexecute } from '../../src/governance/index.ts';
import { DisputeQueue, QueuePrefixError } from '../../src/queue/dispute-queue.ts';
import { challengeJobId, JobIdError, jobId, judgeJobId } from '../../src/queue/job-ids.ts';
import { Lease } from '../../src/queue/lease.ts';
import { reexecuteInThread } from '../../src/queue/reexecute-thread.ts';
import { SpendingRefusedError, spendDecision } from '../../src/queue/spend-policy.ts';
import { CONNECTION, cleanup, REDIS_URL } from './scenario.ts';

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

describe('re-execution in a worker thread', () => {
  it('gives the same roots as on the main thread, for the reference and for a fault', async () => {
    const w = generateWorkload({ seed: 17, inputs: 300 });
    for (const executor of [undefined, FAULTS[0]?.name]) {
      const local = reexecute(w.inputs, {
        genesis: w.genesis,
        executor: FAULTS.find((f) => f.name === executor),
      });
      const remote = await reexecuteInThread({ inputs: w.inputs, genesis: w.genesis, executor, trace: true });
      expect(bytesToHex(remote.root)).toBe(bytesToHex(local.root));
      expect(remote.epochs.map((e) => bytesToHex(e.root))).toEqual(
        local.epochs.map((e) => bytesToHex(e.root)),
      );
      expect(remote.stepRoots).toHaveLength(w.inputs.length);
    }
  });
});
