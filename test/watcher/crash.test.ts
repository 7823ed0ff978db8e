/**
 * One representative crash run in the default suite (the seeded many-run version is
 * crash.long.test.ts): the watch daemon, a child process, is SIGKILLed while it tracks its
 * broadcast challenge and restarted; the dispute still ends with one challenge, one slash and its
 * whole history. (Kills while a challenge job runs cost BullMQ's stalled-job recovery, up to ~90 s:
 * those seeds are in the long suite.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { crashRun, endState, expectedEndState, killPlan, type Run, startRun } from './crash-harness.ts';

const runs: Run[] = [];
afterEach(async () => {
  for (const r of runs.splice(0)) await r.close();
});

describe('the watch daemon killed mid-dispute', () => {
  it('seed 103: SIGKILLed and restarted, one confirmed challenge, one slash, a complete history', async () => {
    const run = await startRun();
    runs.push(run);
    const out = await crashRun(run, 103, 150_000);
    const end = await endState(run);
    const why = `${out.timeline.join(' ')}\n${run.logTail.slice(-60).join('\n')}`;
    expect(end, why).toEqual(expectedEndState(end));
    // The planned kill (while the challenge is tracked) happened before the dispute resolved.
    expect(killPlan(103).map((k) => k.phase)).toEqual(['challenged']);
    expect(
      out.done.map((d) => d.act),
      why,
    ).toEqual(['kill']);
    expect(out.stopCodes, why).toEqual([0]);
    expect(run.unexpectedExits, why).toEqual([]);
  }, 200_000);
});
