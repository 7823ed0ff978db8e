/**
 * Redis restarted mid-dispute, one quick case in the default suite (the others are in
 * redis-restart.long.test.ts): a private redis-server with an append-only file is SIGKILLed while the
 * watch daemon tracks its challenge, and started again; the daemon rides out the outage and the
 * dispute ends as an uninterrupted one would.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  disruptRun,
  endState,
  expectedEndState,
  type PrivateRedis,
  type Run,
  startPrivateRedis,
  startRun,
} from './crash-harness.ts';

const open: (Run | PrivateRedis)[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) {
    if ('close' in o) await o.close();
    else await o.stop();
  }
});

describe('Redis restarted mid-dispute', () => {
  it('redis-server SIGKILLed while the challenge is tracked: one confirmed challenge, one slash, a complete history', async () => {
    const redis = await startPrivateRedis();
    open.push(redis);
    const run = await startRun({ redisUrl: redis.url });
    open.push(run);
    const out = await disruptRun(
      run,
      [{ phase: 'challenged', delayMs: 50, downMs: 1500, act: 'redis-kill' }],
      { seed: 31, timeoutMs: 150_000, redis },
    );
    const end = await endState(run);
    const why = `${out.timeline.join(' ')}\n${run.logTail.slice(-60).join('\n')}`;
    expect(end, why).toEqual(expectedEndState(end));
    expect(out.done.map((d) => d.act)).toEqual(['redis-kill']);
    expect(out.stopCodes, why).toEqual([0]);
    expect(run.unexpectedExits, why).toEqual([]);
  }, 200_000);
});
