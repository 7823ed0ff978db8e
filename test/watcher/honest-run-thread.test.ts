/**
 * The honest run on a thread of its own (src/watcher/honest-run-thread.ts), as the daemon makes it for
 * every game: the thread's first run is the one made in place, the view over it answers every question
 * as the in-place view does, the main thread keeps turning while it runs, and a run that fails on the
 * thread fails the caller with the thread's own reason.
 */
import { describe, expect, it } from 'vitest';
import { checkpointedView, runHonest, viewOfHonestRun } from '../../src/dispute/game/honest-view.ts';
import { createGenesisState } from '../../src/governance/index.ts';
import { generateOneEpochWorkload } from '../../src/governance/workload.ts';
import { NONE } from '../../src/machine/isa.ts';
import { buildGovernanceProgram } from '../../src/machine/programs/governance.ts';
import { encodeInputsTape } from '../../src/machine/programs/inputs-tape.ts';
import { imageWords } from '../../src/machine/programs/state-image.ts';
import { Tape } from '../../src/machine/tape.ts';
import {
  createHonestRunPool,
  HonestRunError,
  runHonestOnThread,
} from '../../src/watcher/honest-run-thread.ts';
import { rng } from '../dispute/game/griefer.ts';

const { program } = buildGovernanceProgram();

function epochTape(inputs: number): Tape {
  const w = generateOneEpochWorkload(inputs);
  return new Tape({ image: imageWords(createGenesisState(w.genesis)), inputs: encodeInputsTape(w.inputs) });
}

describe('the honest run on its own thread', () => {
  const tape = epochTape(60);
  const options = { maxSteps: 2 ** 26, snapshots: 4 };

  it('makes the first run made in place, and its view answers as the in-place view', async () => {
    const here = runHonest(program, tape, options);
    const there = await runHonestOnThread(program, tape, options);
    expect(there).toEqual(here);
    expect(there.base.length).toBeGreaterThan(1);
    const view = viewOfHonestRun(program, tape, there, { recent: 2 });
    const local = checkpointedView(program, tape, options);
    const T = local.stepCount;
    expect(view.stepCount).toBe(T);
    expect(view.result).toBe(local.result);
    const next = rng(11);
    for (let q = 0; q < 40; q++) {
      const p = Math.floor(next() * (T + 10));
      expect(view.chainAt(p)).toEqual(local.chainAt(p));
      if (p < T) {
        const step = view.stepAt(p);
        expect(step).toEqual(local.stepAt(p));
        if (step.r1.addr !== NONE)
          expect(view.memoryBefore(p, step.r1.addr)).toEqual(local.memoryBefore(p, step.r1.addr));
      }
    }
  }, 120_000);

  it('leaves the main thread free while it runs (in place, no timer fires until it is done)', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await new Promise((r) => setTimeout(r, 5));
      ticks = 0;
      runHonest(program, tape, options);
      expect(ticks).toBe(0);
      await runHonestOnThread(program, tape, options);
      expect(ticks).toBeGreaterThan(0);
    } finally {
      clearInterval(timer);
    }
  }, 120_000);

  it("fails with the thread's reason: a step limit, a tape the view was not made on", async () => {
    await expect(runHonestOnThread(program, tape, { maxSteps: 1000 })).rejects.toThrow(HonestRunError);
    await expect(runHonestOnThread(program, tape, { maxSteps: 1000 })).rejects.toThrow(
      /StepLimitError: .*\(the honest run's thread\)/,
    );
    const run = await runHonestOnThread(program, tape, options);
    expect(() => viewOfHonestRun(program, epochTape(3), run)).toThrow(/another tape/);
  }, 120_000);

  it('a pool runs at most its concurrency at once, in order, and close stops what runs and refuses the rest', async () => {
    const pool = createHonestRunPool({ concurrency: 1 });
    const here = runHonest(program, tape, options);
    const a = pool.run(program, tape, options);
    const b = pool.run(program, tape, options);
    expect(pool.counts()).toEqual({ running: 1, waiting: 1 });
    expect(await a).toEqual(here);
    expect(await b).toEqual(here);
    expect(pool.counts()).toEqual({ running: 0, waiting: 0 });
    // Closed while one runs and one waits: both fail, and so does any later run.
    const c = pool.run(program, tape, options).catch((e: Error) => e);
    const d = pool.run(program, tape, options).catch((e: Error) => e);
    await pool.close();
    expect(await c).toBeInstanceOf(HonestRunError);
    expect(String(await c)).toMatch(/was stopped/);
    expect(String(await d)).toMatch(/pool is closed/);
    await expect(pool.run(program, tape, options)).rejects.toThrow(/pool is closed/);
    expect(pool.counts()).toEqual({ running: 0, waiting: 0 });
    expect(() => createHonestRunPool({ concurrency: 0 })).toThrow(/at least one/);
  }, 120_000);
});
