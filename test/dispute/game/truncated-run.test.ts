/**
 * An epoch whose run is longer than the graph's 2^K steps (docs/protocol.md §24.2): the state grows with
 * every epoch, and so does the program's run, so a long-lived L2 (or one whose state an attacker inflates)
 * reaches epochs no claim can describe within 2^K steps. Vigil's view of such an epoch is the run cut at
 * 2^K (run on to its halt without keeping anything, for the root the model is held to). Every way of
 * claiming a false root over it tried here is still disproved: the
 * operator's chain either leaves Vigil's inside the 2^K steps, or ends on a step that is not the halt.
 * Shapes of K = 12 and 13 over the 10,165-step small epoch stand in for regtest's 2^20 over a long one.
 */
import { describe, expect, it } from 'vitest';
import type { SearchShape } from '../../../src/dispute/game/grid.ts';
import { checkpointedView, runHonest } from '../../../src/dispute/game/honest-view.ts';
import { traceOperator, viewOperator } from '../../../src/dispute/game/operator.ts';
import { type GameOutcome, playGame } from '../../../src/dispute/game/referee.ts';
import { ruleChallenger } from '../../../src/dispute/game/rule.ts';
import { chainOf } from '../../../src/machine/chain.ts';
import { StepLimitError } from '../../../src/machine/interpreter.ts';
import type { StepRecord } from '../../../src/machine/isa.ts';
import { PROGRAM_FAULTS } from '../../../src/machine/programs/faults.ts';
import { buildGovernanceProgram } from '../../../src/machine/programs/governance.ts';
import { reference } from '../../machine/equivalence.ts';
import { contextOf, smallEpoch } from './setup.ts';

const SHAPES: readonly SearchShape[] = [
  { pointsPerRound: 32, depth: 12 },
  { pointsPerRound: 8, depth: 13 },
];

const epoch = smallEpoch();
const { steps } = epoch.honest;
const T = steps.length;
const halt = steps[T - 1] as StepRecord;
const falseRoot = epoch.honest.result ^ 1n;
const h0 = epoch.honest.chain[0] as Uint8Array;

/** Vigil's view as the daemon makes it (gameViewOptions' cut, a few snapshots). */
const vigilView = (shape: SearchShape) =>
  checkpointedView(reference.program, epoch.tape, {
    maxSteps: 2 ** shape.depth,
    truncate: true,
    snapshots: 8,
  });

function story(outcome: GameOutcome): string {
  return outcome.moves.map((m) => `${m.side} ${m.move}${m.detail ? ` (${m.detail})` : ''}`).join('\n');
}

function expectDisproved(outcome: GameOutcome, at?: string, step?: number): void {
  expect(outcome.winner, story(outcome)).toBe('challenger');
  expect(outcome.end, story(outcome)).toBe('disproved');
  if (at !== undefined) expect(outcome.at, story(outcome)).toBe(at);
  if (step !== undefined) expect(outcome.step, story(outcome)).toBe(step);
}

/** An operator committing the chain of `trace` (a prefix of a run, or one with a step changed). */
const traceLiar = (shape: SearchShape, trace: readonly StepRecord[]) =>
  traceOperator(shape, { program: reference.program, steps: trace, h0, tape: epoch.tape });

describe('the honest run cut at 2^K', () => {
  it.each(SHAPES)(
    'K = $depth: a view of the first 2^K steps and the root the run halts on; uncut, the step limit',
    (shape) => {
      const cut = 2 ** shape.depth;
      expect(T).toBeGreaterThan(cut);
      const view = vigilView(shape);
      expect(view.stepCount).toBe(cut);
      expect(view.cut).toBe(true);
      // Run on to twice the cut for the root: the 10,165-step run halts within 2 × 2^13, not 2 × 2^12.
      expect(view.result).toBe(T <= 2 * cut ? epoch.honest.result : undefined);
      for (const p of [0, 1, 777, cut - 1, cut]) expect(view.chainAt(p)).toEqual(epoch.honest.chain[p]);
      for (const k of [0, 1234, cut - 1]) expect(view.stepAt(k)).toEqual(steps[k]);
      expect(() => runHonest(reference.program, epoch.tape, { maxSteps: cut })).toThrow(StepLimitError);
      // A run that halts within the cut keeps its result.
      const whole = runHonest(reference.program, epoch.tape, { maxSteps: T, truncate: true });
      expect(whole.stepCount).toBe(T);
      expect(whole.cut).toBe(false);
      expect(whole.result).toBe(epoch.honest.result);
      // Run on no further than `haltWithin`: no root to hold the model to.
      const short = runHonest(reference.program, epoch.tape, {
        maxSteps: cut,
        truncate: true,
        haltWithin: T - 1,
      });
      expect(short.cut).toBe(true);
      expect(short.result).toBeUndefined();
      expect(short.hEnd).toEqual(epoch.honest.chain[cut]);
    },
  );

  it('is refused for a search of another depth than its cut', () => {
    const view = vigilView(SHAPES[0] as SearchShape);
    const deeper = { pointsPerRound: 32, depth: 20 };
    expect(() => ruleChallenger(contextOf(epoch, falseRoot), deeper, view)).toThrow(/cut at 4096 steps/);
  });
});

describe.each(SHAPES)('a false root over an epoch longer than 2^K (K = $depth)', (shape) => {
  const cut = 2 ** shape.depth;
  const ctx = contextOf(epoch, falseRoot);
  const play = (operator: Parameters<typeof playGame>[2]) =>
    playGame(ctx, shape, operator, ruleChallenger(ctx, shape, vigilView(shape)));

  it('claiming all 2^K steps, the honest ones: disproved at the last step, which is not a halt', () => {
    expectDisproved(play(traceLiar(shape, steps.slice(0, cut))), 'last-step', cut - 1);
  });

  it('claiming fewer steps, the honest ones: disproved at its last step', () => {
    for (const length of [1, 600, cut - 5]) {
      expectDisproved(play(traceLiar(shape, steps.slice(0, length))), 'last-step', length - 1);
    }
  });

  it('ending on a forged halt that reads the claimed root: disproved where its chain leaves the honest one', () => {
    for (const length of [900, cut]) {
      const forged: StepRecord = { ...halt, r1: { addr: halt.r1.addr, value: falseRoot } };
      const trace = [...steps.slice(0, length - 1), forged];
      expect(chainOf(h0, trace)[length - 1]).toEqual(epoch.honest.chain[length - 1]);
      const outcome = play(traceLiar(shape, trace));
      expectDisproved(outcome, undefined, length - 1);
      expect(outcome.at, story(outcome)).toMatch(/^(pc-link|execution)$/);
    }
  });

  it.each(PROGRAM_FAULTS)('the %s build, cut at 2^K: disproved', (fault) => {
    const build = buildGovernanceProgram({ fault }).program;
    // Chained from the graph's h_0, as a lying operator must (its own build's h_0 is disproved at the assert).
    const lying = checkpointedView(build, epoch.tape, { maxSteps: cut, truncate: true, snapshots: 8, h0 });
    const outcome = play(viewOperator(shape, build, lying));
    expectDisproved(outcome);
    expect(outcome.step, story(outcome)).toBeDefined();
    const i = outcome.step as number;
    const leaves = lying.chainAt(i + 1);
    if (i === cut - 1 && outcome.at === 'last-step') {
      // The build's run agrees with the honest one through the cut: it is the cut that is false.
      expect(leaves).toEqual(epoch.honest.chain[cut]);
    } else {
      // Where the build's chain first leaves the honest one.
      expect(lying.chainAt(i)).toEqual(epoch.honest.chain[i]);
      expect(leaves).not.toEqual(epoch.honest.chain[i + 1]);
    }
  });
});
