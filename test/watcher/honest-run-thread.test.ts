/**
 * The honest run on a thread of its own (src/watcher/honest-run-thread.ts), as the daemon makes it for
 * every game: the thread's first run is the one made in place, the view over it answers every question
 * as the in-place view does, the main thread keeps turning while it runs, and a run that fails on the
 * thread fails the caller with the thread's own reason. The epoch's tape, rebuilt there from its recipe
 * (a genesis or a journal base, and the history since), is the tape made in place.
 */

import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checkpointedView, runHonest, viewOfHonestRun } from '../../src/dispute/game/honest-view.ts';
import { computeStateRoot, createGenesisState, reexecute } from '../../src/governance/index.ts';
import { encodeStateSnapshot } from '../../src/governance/state-snapshot.ts';
import { generateOneEpochWorkload, generateWorkload } from '../../src/governance/workload.ts';
import { type TapeRecipe, TapeRecipeError, tapeOfRecipe } from '../../src/l2/tape-recipe.ts';
import { Assembler, imm } from '../../src/machine/assembler.ts';
import { ADDRESS_LIMIT, NONE } from '../../src/machine/isa.ts';
import { buildGovernanceProgram } from '../../src/machine/programs/governance.ts';
import { encodeInputsTape } from '../../src/machine/programs/inputs-tape.ts';
import { epochTape, imageWords } from '../../src/machine/programs/state-image.ts';
import { Tape } from '../../src/machine/tape.ts';
import {
  createHonestRunPool,
  HonestRunError,
  PRIOR_CHUNK,
  runHonestOnThread,
} from '../../src/watcher/honest-run-thread.ts';
import { rng } from '../dispute/game/griefer.ts';

const { program } = buildGovernanceProgram();

function oneEpochTape(inputs: number): Tape {
  const w = generateOneEpochWorkload(inputs);
  return new Tape({ image: imageWords(createGenesisState(w.genesis)), inputs: encodeInputsTape(w.inputs) });
}

describe('the honest run on its own thread', () => {
  const tape = oneEpochTape(60);
  const options = { maxSteps: 2 ** 26, snapshots: 4 };

  it('makes the first run made in place, and its view answers as the in-place view', async () => {
    const here = runHonest(program, tape, options);
    const there = (await runHonestOnThread(program, { tape }, options)).run;
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
      (await runHonestOnThread(program, { tape }, options)).run;
      expect(ticks).toBeGreaterThan(0);
    } finally {
      clearInterval(timer);
    }
  }, 120_000);

  it("fails with the thread's reason: a step limit, a tape the view was not made on", async () => {
    await expect(runHonestOnThread(program, { tape }, { maxSteps: 1000 })).rejects.toThrow(HonestRunError);
    await expect(runHonestOnThread(program, { tape }, { maxSteps: 1000 })).rejects.toThrow(
      /StepLimitError: .*\(the honest run's thread\)/,
    );
    const run = (await runHonestOnThread(program, { tape }, options)).run;
    expect(() => viewOfHonestRun(program, oneEpochTape(3), run)).toThrow(/another tape/);
  }, 120_000);

  it('a pool runs at most its concurrency at once, in order, and close stops what runs and refuses the rest', async () => {
    const pool = createHonestRunPool({ concurrency: 1 });
    const here = runHonest(program, tape, options);
    const a = pool.run(program, { tape }, options);
    const b = pool.run(program, { tape }, options);
    expect(pool.counts()).toEqual({ running: 1, waiting: 1 });
    expect((await a).run).toEqual(here);
    expect((await b).run).toEqual(here);
    expect(pool.counts()).toEqual({ running: 0, waiting: 0 });
    // Closed while one runs and one waits: both fail, and so does any later run.
    const c = pool.run(program, { tape }, options).catch((e: Error) => e);
    const d = pool.run(program, { tape }, options).catch((e: Error) => e);
    await pool.close();
    expect(await c).toBeInstanceOf(HonestRunError);
    expect(String(await c)).toMatch(/was stopped/);
    expect(String(await d)).toMatch(/pool is closed/);
    await expect(pool.run(program, { tape }, options)).rejects.toThrow(/pool is closed/);
    expect(pool.counts()).toEqual({ running: 0, waiting: 0 });
    expect(() => createHonestRunPool({ concurrency: 0 })).toThrow(/at least one/);
  }, 120_000);
});

describe("the epoch's tape rebuilt on the run's thread from its recipe", () => {
  // A hundred epochs of history, more inputs than one message carries (PRIOR_CHUNK), then the epoch of
  // the game: the recipe carries the history, not the state.
  const w = generateWorkload({ seed: 31, inputs: PRIOR_CHUNK + 600, epochLength: 80 });
  const ends = w.inputs.flatMap((x, i) => (x.kind === 'endEpoch' ? [i] : []));
  const first = (ends.at(-2) as number) + 1;
  const last = ends.at(-1) as number;
  const prior = w.inputs.slice(0, first);
  const inputs = w.inputs.slice(first, last + 1);
  const before = createGenesisState(w.genesis);
  reexecute(prior, { state: before });
  const preRoot = computeStateRoot(before).slice();
  const want = epochTape(before, inputs);
  const epoch = BigInt(ends.length - 1);
  const fromGenesis: TapeRecipe = { epoch, base: undefined, genesis: w.genesis, prior, inputs, preRoot };
  const options = { maxSteps: 2 ** 26, snapshots: 4 };
  // The governance program over a hundred epochs' state is minutes: a probe reads a word of each half.
  const probe = (() => {
    const a = new Assembler();
    const [x, y, p] = [a.slot('x'), a.slot('y'), a.slot('p')];
    a.mov(p, imm(17n))
      .tape(x, p)
      .mov(p, imm(BigInt(ADDRESS_LIMIT)))
      .tape(y, p)
      .add(x, x, y)
      .halt(x);
    return a.build();
  })();

  it('is the tape made in place, from genesis or from a base, and the run on it is the in-place run', async () => {
    // A base two epochs in: its snapshot, deflated as the derivation holds it, and the inputs after it.
    const at = (ends[1] as number) + 1;
    const base = createGenesisState(w.genesis);
    reexecute(w.inputs.slice(0, at), { state: base });
    const deflated = new Uint8Array(deflateRawSync(encodeStateSnapshot(base)));
    const fromBase: TapeRecipe = { ...fromGenesis, base: deflated, prior: w.inputs.slice(at, first) };
    const here = runHonest(probe, want, options);
    expect(here.result).toBe((want.word(17) + want.word(ADDRESS_LIMIT)) % 2n ** 256n);
    expect(fromBase.prior.length).toBeGreaterThan(PRIOR_CHUNK);
    for (const recipe of [fromGenesis, fromBase]) {
      const got = await runHonestOnThread(probe, { recipe }, options);
      expect(got.tape.root).toEqual(want.root);
      expect(got.tape.imageRoot).toEqual(preRoot);
      expect(got.tape.wordCounts).toEqual(want.wordCounts);
      for (const pos of [0, 1, 17, want.wordCounts.image - 1, 2 ** 29, 2 ** 29 + 5]) {
        expect(got.tape.word(pos)).toBe(want.word(pos));
        expect(got.tape.path(pos)).toEqual(want.path(pos));
      }
      expect(got.run).toEqual(here);
      expect(viewOfHonestRun(probe, got.tape, got.run).result).toBe(here.result);
    }
  }, 120_000);

  it('refuses a history that does not reach the pre-state root ingestion computed', async () => {
    const short = { ...fromGenesis, prior: prior.slice(0, -1) };
    await expect(runHonestOnThread(probe, { recipe: short }, options)).rejects.toThrow(
      /TapeRecipeError: Epoch \d+'s state rebuilt from the journal has root 0x[0-9a-f]{64}, ingestion computed 0x/,
    );
    expect(() => tapeOfRecipe(short)).toThrow(TapeRecipeError);
  }, 120_000);
});
