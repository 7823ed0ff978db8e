/**
 * The checkpointed honest view (docs/protocol.md §24.9) answers every question as the view that keeps
 * every record: chain values (padded), records and memory before a step, at random positions and in the
 * order a game asks them; its first run matches `runProgram`; and Vigil's rule, reading it, disproves
 * every catalogue fault where it does with the kept view.
 */
import { describe, expect, it } from 'vitest';
import {
  MAINNET_SEARCH,
  narrow,
  REGTEST_SEARCH,
  splitPoints,
  wholeTrace,
} from '../../../src/dispute/game/grid.ts';
import {
  checkpointedView,
  gameViewOptions,
  runHonest,
  viewOfHonestRun,
  viewOfRun,
} from '../../../src/dispute/game/honest-view.ts';
import { playGame } from '../../../src/dispute/game/referee.ts';
import { ruleChallenger } from '../../../src/dispute/game/rule.ts';
import { StepLimitError } from '../../../src/machine/interpreter.ts';
import { NONE } from '../../../src/machine/isa.ts';
import { PROGRAM_FAULTS } from '../../../src/machine/programs/faults.ts';
import { Stepper } from '../../../src/machine/stepper.ts';
import { FAULT_CASES } from '../../governance/fault-cases.ts';
import { reference } from '../../machine/equivalence.ts';
import { rng } from './griefer.ts';
import { contextOf, faultyRun, honestEpoch, operatorOf } from './setup.ts';

const caseOf = (fault: string) => (FAULT_CASES[fault] as (typeof FAULT_CASES)[string])();

describe('the checkpointed honest view', () => {
  const { scenario } = caseOf('rewards-rounded-up');
  const epoch = honestEpoch(scenario.genesis, scenario.inputs);
  const kept = epoch.view;
  const T = kept.stepCount;

  it('runs as runProgram does: same records, chain, length and result', () => {
    const m = new Stepper(reference.program, epoch.tape);
    expect(m.h).toEqual(epoch.honest.chain[0]);
    for (let k = 0; k < T; k++) {
      expect(m.step()).toEqual(epoch.honest.steps[k]);
      expect(m.h).toEqual(epoch.honest.chain[k + 1]);
    }
    expect(m.stopped).toBe(true);
    expect(() => m.step()).toThrow(/stopped after/);
  });

  it('answers every question as the kept view, with few snapshots (random positions, then a narrowing order)', () => {
    // Tiny snapshot budgets, so nearly every answer is a re-run from far away.
    const view = checkpointedView(reference.program, epoch.tape, {
      maxSteps: 1 << 20,
      snapshots: 3,
      recent: 2,
    });
    expect(view.stepCount).toBe(T);
    expect(view.result).toBe(kept.result);
    const next = rng(7);
    const addresses = epoch.honest.steps.flatMap((s) => [s.r1.addr, s.w.addr]).filter((a) => a !== NONE);
    for (let q = 0; q < 300; q++) {
      const p = Math.floor(next() * (T + 50));
      expect(view.chainAt(p)).toEqual(kept.chainAt(p));
      if (p < T) expect(view.stepAt(p)).toEqual(kept.stepAt(p));
      const addr = addresses[Math.floor(next() * addresses.length)] as number;
      expect(view.memoryBefore(Math.min(p, T), addr)).toEqual(kept.memoryBefore(Math.min(p, T), addr));
    }
    // A narrowing: ascending points inside ever smaller segments.
    let left = 0;
    for (let width = 2 ** 14; width >= 1; width /= 8) {
      for (let k = 1; k < 8; k++) {
        const p = left + Math.floor((k * width) / 8);
        expect(view.chainAt(p)).toEqual(kept.chainAt(p));
      }
      left += Math.floor(width / 8) * 3;
    }
    expect(() => view.stepAt(T)).toThrow(/No step/);
  });

  it('keeps the chain value at every multiple of chainEvery (thinned past chainValues) and answers as the kept view', () => {
    const run = runHonest(reference.program, epoch.tape, { maxSteps: 1 << 20, chainEvery: 64 });
    expect(run.chain?.every).toBe(64);
    expect(run.chain?.values.length).toBe(Math.ceil(T / 64));
    run.chain?.values.forEach((h, k) => {
      expect(h).toEqual(kept.chainAt(k * 64));
    });
    const thin = runHonest(reference.program, epoch.tape, {
      maxSteps: 1 << 20,
      chainEvery: 64,
      chainValues: 10,
    });
    expect(thin.chain?.values.length).toBeLessThanOrEqual(10);
    expect(thin.chain?.every).toBe(64 * 2 ** Math.ceil(Math.log2(Math.ceil(T / 64) / 10)));
    thin.chain?.values.forEach((h, k) => {
      expect(h).toEqual(kept.chainAt(k * (thin.chain?.every ?? 0)));
    });
    const view = viewOfHonestRun(reference.program, epoch.tape, thin);
    for (let p = 0; p < T + 3; p += 97) expect(view.chainAt(p)).toEqual(kept.chainAt(p));
    expect(() => runHonest(reference.program, epoch.tape, { maxSteps: 1 << 20, chainEvery: 48 })).toThrow(
      /power of two/,
    );
  });

  it("keeps, for a game, 64 snapshots and the chain at every point of a search's first three rounds, cut at 2^K", () => {
    expect(gameViewOptions(MAINNET_SEARCH)).toEqual({
      maxSteps: 2 ** 29,
      truncate: true,
      snapshots: 64,
      chainEvery: 2 ** 14,
    });
    expect(gameViewOptions(REGTEST_SEARCH)).toEqual({
      maxSteps: 2 ** 20,
      truncate: true,
      snapshots: 64,
      chainEvery: 2 ** 5,
    });
    // Every point of rounds 1–3 of a regtest search falls on a kept value.
    const first = splitPoints(wholeTrace(REGTEST_SEARCH), 5);
    const third = splitPoints(narrow(narrow(wholeTrace(REGTEST_SEARCH), 5, 3), 5, 17), 5);
    for (const p of [...first, ...third]) expect(p % 2 ** 5).toBe(0);
  });

  it('refuses a run past its step limit, and bad budgets', () => {
    expect(() => checkpointedView(reference.program, epoch.tape, { maxSteps: 1000 })).toThrow(StepLimitError);
    expect(() =>
      checkpointedView(reference.program, epoch.tape, { maxSteps: 1 << 20, snapshots: 0 }),
    ).toThrow(/at least one snapshot/);
  });

  it("with it, Vigil's rule disproves every catalogue fault at the same step and leaf as with the kept view", () => {
    const shape = REGTEST_SEARCH;
    for (const fault of PROGRAM_FAULTS) {
      const { scenario: s, step } = caseOf(fault);
      const e = honestEpoch(s.genesis, s.inputs.slice(0, step + 1));
      const lie = faultyRun(e, fault);
      const ctx = contextOf(e, lie.result);
      const play = (view: typeof e.view) =>
        playGame(
          ctx,
          shape,
          operatorOf(shape, e, lie.steps, e.tape, fault),
          ruleChallenger(ctx, shape, view),
        );
      const withKept = play(e.view);
      const withCheckpoints = play(
        checkpointedView(reference.program, e.tape, { maxSteps: 1 << 20, snapshots: 2 }),
      );
      expect(withKept.winner).toBe('challenger');
      expect({ ...withCheckpoints, moves: withCheckpoints.moves.length }).toEqual({
        ...withKept,
        moves: withKept.moves.length,
      });
      expect(viewOfRun(e.honest).stepCount).toBe(e.honest.steps.length);
    }
  });
});
