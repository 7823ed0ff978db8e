/**
 * Completeness of the narrowing game (docs/protocol.md §24, issue #15 acceptance 1, pure half): Vigil's
 * rule against an operator that keeps a wrong root however it lies. Every catalogue fault, played by an
 * operator running the fault's build and committing its own chain, is narrowed to a step of the fault's
 * rule and disproved there; every other way of lying tried here (about the result, the length, h_0, the
 * last writes, the tape, the points of either search, silence at any move) ends with the operator
 * disproved or timed out. The referee accepts a disprove only through the leaf twins.
 */
import { describe, expect, it } from 'vitest';
import { REGTEST_SEARCH, type SearchShape } from '../../../src/dispute/game/grid.ts';
import { assertLeafSpends } from '../../../src/dispute/game/leaves.ts';
import type { AssertMove, StepReveal } from '../../../src/dispute/game/moves.ts';
import { traceOperator } from '../../../src/dispute/game/operator.ts';
import type { OperatorPlayer } from '../../../src/dispute/game/players.ts';
import { type GameOutcome, playGame } from '../../../src/dispute/game/referee.ts';
import { ruleChallenger, UnchallengeableClaimError } from '../../../src/dispute/game/rule.ts';
import { runProgram } from '../../../src/machine/interpreter.ts';
import { NONE, type StepRecord, WORD_MAX } from '../../../src/machine/isa.ts';
import { PROGRAM_FAULTS } from '../../../src/machine/programs/faults.ts';
import { lastWriteBefore } from '../../../src/machine/reads.ts';
import { Tape } from '../../../src/machine/tape.ts';
import { FAULT_CASES, FAULT_RULE_LABEL } from '../../governance/fault-cases.ts';
import { reference } from '../../machine/equivalence.ts';
import { rng } from './griefer.ts';
import {
  contextOf,
  corruptedRun,
  faultyRun,
  haltReadsRootLiar,
  honestEpoch,
  operatorOf,
  otherTapeRun,
  smallEpoch,
} from './setup.ts';

/** Two shapes: regtest's (n = 32, K = 20: rounds of 5 bits) and a narrow one (n = 8, K = 22: 8 rounds, the last of 1 bit). */
const SHAPES: readonly SearchShape[] = [REGTEST_SEARCH, { pointsPerRound: 8, depth: 22 }];

function expectChallengerWins(outcome: GameOutcome, how: GameOutcome['end'], at?: string | RegExp) {
  const story = outcome.moves.map((m) => `${m.side} ${m.move}${m.detail ? ` (${m.detail})` : ''}`).join('\n');
  expect(outcome.winner, story).toBe('challenger');
  expect(outcome.end, story).toBe(how);
  if (at !== undefined) expect(outcome.at, story).toMatch(at);
}

/** A random 20-byte chain value from a seeded generator, so every lie is the same on every run. */
const randomValue = (next: () => number) => Uint8Array.from({ length: 20 }, () => Math.floor(next() * 256));

describe('every catalogue fault, played by its build, is disproved at its rule', () => {
  describe.each(PROGRAM_FAULTS)('%s', (fault) => {
    it.each(SHAPES)('n = $pointsPerRound, K = $depth', (shape) => {
      const { scenario, step } = (FAULT_CASES[fault] as (typeof FAULT_CASES)[string])();
      const epoch = honestEpoch(scenario.genesis, scenario.inputs.slice(0, step + 1));
      const lie = faultyRun(epoch, fault);
      expect(lie.result).not.toBe(epoch.honest.result);
      const operator = operatorOf(shape, epoch, lie.steps, epoch.tape, fault);
      const outcome = playGame(
        contextOf(epoch, lie.result),
        shape,
        operator,
        ruleChallenger(contextOf(epoch, lie.result), shape, epoch.view),
      );
      expectChallengerWins(outcome, 'disproved');
      const i = outcome.step as number;
      // The step disproved is the first whose chain value leaves the honest chain, inside the rule's code.
      expect(operator.chain[i]).toEqual(epoch.honest.chain[i]);
      expect(operator.chain[i + 1]).not.toEqual(epoch.honest.chain[i + 1]);
      expect(reference.locate((lie.steps[i] as StepRecord).pc)).toMatch(FAULT_RULE_LABEL[fault]);
      if (shape === REGTEST_SEARCH) {
        console.info(
          `${fault}: disproved by the ${outcome.at} leaf at step ${i} of ${lie.steps.length} (${reference.locate((lie.steps[i] as StepRecord).pc)}), ${outcome.moves.length} moves`,
        );
      }
    });
  });
});

describe('an operator that lies about the result', () => {
  const shape = REGTEST_SEARCH;
  const epoch = smallEpoch();
  const { steps } = epoch.honest;
  const T = steps.length;
  const halt = steps[T - 1] as StepRecord;
  const claimed = epoch.honest.result ^ 1n;
  const ctx = contextOf(epoch, claimed);
  const lastWrite = lastWriteBefore(steps, T - 1, halt.r1.addr) as number;

  const rootLiar = (r1last: number, patch: Partial<OperatorPlayer> = {}): OperatorPlayer =>
    haltReadsRootLiar(shape, epoch, claimed, r1last, patch);
  const play = (operator: OperatorPlayer) =>
    playGame(ctx, shape, operator, ruleChallenger(ctx, shape, epoch.view));

  it('a halt that reads its own root truthfully is disproved by the last-step leaf', () => {
    expectChallengerWins(play(operatorOf(shape, epoch)), 'disproved', 'last-step');
  });

  it('a halt that says it read the claimed root: the second search ends at the write it read (RV1)', () => {
    const outcome = play(rootLiar(lastWrite));
    expectChallengerWins(outcome, 'disproved', 'read-value');
    expect(outcome.step).toBe(T - 1);
    expect(outcome.writeStep).toBe(lastWrite);
  });

  it('…naming no earlier write: the unwritten-read leaf', () => {
    expectChallengerWins(play(rootLiar(NONE)), 'disproved', 'unwritten-read');
  });

  it('…naming a write from the future: the future-read leaf', () => {
    expectChallengerWins(play(rootLiar(T - 1)), 'disproved', 'future-read');
    expectChallengerWins(play(rootLiar(NONE - 1)), 'disproved', 'future-read');
  });

  it('…naming an earlier step that was not the last write: RV2 at the real last write', () => {
    for (const named of [0, lastWrite - 1]) {
      const outcome = play(rootLiar(named));
      expectChallengerWins(outcome, 'disproved', 'later-write');
      expect(outcome.writeStep).toBe(lastWrite);
    }
  });

  it('…and committing random points in the second search: the wrong-predecessor leaf where they rejoin', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const next = rng(seed);
      const everyOther = seed % 2 === 0;
      const outcome = play(
        rootLiar(lastWrite, {
          answerRead: (_q, _view, points) =>
            points.map((p, k) =>
              everyOther && k % 2 === 0
                ? (epoch.honest.chain[Math.min(p, T)] as Uint8Array)
                : randomValue(next),
            ),
        }),
      );
      expectChallengerWins(outcome, 'disproved', /^(wrong-predecessor|resign)$/);
    }
  });

  it('…and lying in reveal′ about what the write step chained: the chain-link or resign leaf', () => {
    const liar = rootLiar(lastWrite);
    const lying = play({
      ...liar,
      revealWrite(q, j) {
        const r = liar.revealWrite(q, j);
        return r === undefined || 'refuse' in r ? r : { ...r, w: { addr: r.w.addr, value: claimed } };
      },
    });
    expectChallengerWins(lying, 'disproved', 'chain-link');
  });
});

describe('an operator that lies about the run', () => {
  const shape = REGTEST_SEARCH;
  const epoch = smallEpoch();
  const { steps } = epoch.honest;
  const T = steps.length;
  const wrongRoot = epoch.honest.result ^ 2n;

  it('a kick-off over another inputs root, or a graph fixing another pre-state, is refused before any game', () => {
    const ctx = contextOf(epoch, wrongRoot);
    const other = new Uint8Array(32).fill(5);
    expect(() => ruleChallenger({ ...ctx, inputsRoot: other }, shape, epoch.view)).toThrow(
      UnchallengeableClaimError,
    );
    expect(() => ruleChallenger({ ...ctx, agreedImageRoot: other }, shape, epoch.view)).toThrow(
      /graph fixes another pre-state image root/,
    );
  });

  it('a claim run consistently from another pre-state is disproved at the assert by the image-root leaf', () => {
    // The operator changes one word of the previous state, commits that image's root in the kick-off,
    // and runs the honest program from it: h_0, its chain and its length all agree with what it
    // committed, so only the graph's constant, the agreed image root, can refute it.
    const { image, inputs } = epoch.tape.contents();
    const changed = [...image];
    changed[1] = (changed[1] as bigint) + 1n;
    const tape = new Tape({ image: changed, inputs });
    const run = runProgram(reference.program, tape, { maxSteps: 1 << 20 });
    if (run.status !== 'halted' || run.result === undefined) throw new Error('the run did not halt');
    expect(run.result).not.toBe(epoch.honest.result);
    const operator = traceOperator(shape, {
      program: reference.program,
      steps: run.steps,
      h0: run.chain[0] as Uint8Array,
      tape,
    });
    const ctx = { ...contextOf(epoch, run.result), imageRoot: tape.imageRoot };
    const assert = operator.assert() as AssertMove;
    expect(assertLeafSpends(ctx, shape, assert, { leaf: 'h0' })).toBe(false);
    expect(assertLeafSpends(ctx, shape, assert, { leaf: 'length' })).toBe(false);
    const outcome = playGame(ctx, shape, operator, ruleChallenger(ctx, shape, epoch.view));
    expectChallengerWins(outcome, 'disproved', 'image-root');
    // The honest operator's own kick-off commits the agreed root: the leaf never spends against it.
    const honestCtx = contextOf(epoch, epoch.honest.result);
    const honestAssert = operatorOf(shape, epoch).assert() as AssertMove;
    expect(assertLeafSpends(honestCtx, shape, honestAssert, { leaf: 'image-root' })).toBe(false);
  });

  it('a wrong h_0 is disproved at the assert', () => {
    const ctx = contextOf(epoch, wrongRoot);
    const honest = operatorOf(shape, epoch);
    const outcome = playGame(
      ctx,
      shape,
      {
        ...honest,
        assert: () => ({
          ...(honest.assert() as NonNullable<ReturnType<typeof honest.assert>>),
          h0: new Uint8Array(20),
        }),
      },
      ruleChallenger(ctx, shape, epoch.view),
    );
    expectChallengerWins(outcome, 'disproved', 'h0');
  });

  it('a length past 2^K is disproved at the assert', () => {
    const ctx = contextOf(epoch, wrongRoot);
    const honest = operatorOf(shape, epoch);
    const outcome = playGame(
      ctx,
      shape,
      {
        ...honest,
        assert: () => ({
          ...(honest.assert() as NonNullable<ReturnType<typeof honest.assert>>),
          steps: 2 ** 20 + 1,
        }),
      },
      ruleChallenger(ctx, shape, epoch.view),
    );
    expectChallengerWins(outcome, 'disproved', 'length');
  });

  it('a run cut short before the halt is disproved by the last-step leaf', () => {
    for (const cut of [1, 17, T >> 1]) {
      const ctx = contextOf(epoch, wrongRoot);
      const outcome = playGame(
        ctx,
        shape,
        operatorOf(shape, epoch, steps.slice(0, T - cut)),
        ruleChallenger(ctx, shape, epoch.view),
      );
      expectChallengerWins(outcome, 'disproved', 'last-step');
      expect(outcome.step).toBe(T - cut - 1);
    }
  });

  it('a run that goes on past the honest halt is disproved where it does (pc link past a halt, early halt)', () => {
    const halt = steps[T - 1] as StepRecord;
    const fake: StepRecord = { ...halt, r1: { addr: halt.r1.addr, value: wrongRoot } };
    for (const extra of [1, 2, 40]) {
      const ctx = contextOf(epoch, wrongRoot);
      const outcome = playGame(
        ctx,
        shape,
        operatorOf(shape, epoch, [...steps, ...Array.from({ length: extra }, () => fake)]),
        ruleChallenger(ctx, shape, epoch.view),
      );
      expectChallengerWins(outcome, 'disproved', /^(pc-link|early-halt)$/);
      expect(outcome.step).toBeGreaterThanOrEqual(T - 1);
    }
  });

  it('a run over another tape (one input word changed) is disproved on the tape path', () => {
    // The first input word whose change changes the root.
    const other = otherTapeRun(epoch);
    const claimed = other.run.result as bigint;
    const ctx = contextOf(epoch, claimed);
    // Its own tape's path, and the honest tape's path for its word: the top, then the word, give it away.
    const own = operatorOf(shape, epoch, other.run.steps, other.tape);
    const outcome = playGame(ctx, shape, own, ruleChallenger(ctx, shape, epoch.view));
    expectChallengerWins(outcome, 'disproved', 'tape-top');
    expect(
      reference.program.instructions[(other.run.steps[outcome.step as number] as StepRecord).pc]?.op,
    ).toBe('tape');
    const borrowed = playGame(
      ctx,
      shape,
      { ...own, revealTape: (i) => operatorOf(shape, epoch).revealTape(i) },
      ruleChallenger(ctx, shape, epoch.view),
    );
    expectChallengerWins(borrowed, 'disproved', 'tape-word');
    // A path whose levels do not hash: the first wrong level.
    const broken = playGame(
      ctx,
      shape,
      {
        ...own,
        revealTape(i) {
          const path = own.revealTape(i);
          if (path === undefined || 'refuse' in path) return path;
          const nodes = [...path.nodes];
          nodes[12] = new Uint8Array(32).fill(9);
          return { ...path, nodes };
        },
      },
      ruleChallenger(ctx, shape, epoch.view),
    );
    expectChallengerWins(broken, 'disproved', 'tape-level');
  });

  it('random points in any round of the first search are disproved at the reveal', () => {
    const fault = 'vote-counted-twice';
    const lie = faultyRun(epoch, fault);
    for (let seed = 1; seed <= 8; seed++) {
      const next = rng(seed);
      const ctx = contextOf(epoch, lie.result);
      const own = operatorOf(shape, epoch, lie.steps, epoch.tape, fault);
      const round = 1 + (seed % 4);
      const liar: OperatorPlayer = {
        ...own,
        assert() {
          const a = own.assert();
          return a && round === 1 ? { ...a, points: a.points.map(() => randomValue(next)) } : a;
        },
        answer: (view, points) =>
          view.round === round ? points.map(() => randomValue(next)) : own.answer(view, points),
      };
      expectChallengerWins(
        playGame(ctx, shape, liar, ruleChallenger(ctx, shape, epoch.view)),
        'disproved',
        /^(chain-link|resign|pc-link|execution)$/,
      );
    }
  });

  it('a reveal that re-signs other chain values than the points, or another record, is disproved', () => {
    const fault = 'vote-counted-twice';
    const lie = faultyRun(epoch, fault);
    const ctx = contextOf(epoch, lie.result);
    const own = operatorOf(shape, epoch, lie.steps, epoch.tape, fault);
    const variants: Array<(r: StepReveal) => StepReveal> = [
      (r) => ({ ...r, h: new Uint8Array(20) }),
      (r) => ({ ...r, hNext: new Uint8Array(20).fill(7) }),
      (r) => ({ ...r, record: { ...r.record, nextPc: r.record.nextPc + 1 } }),
      (r) => ({ ...r, record: { ...r.record, pc: r.record.pc + 1 } }),
    ];
    for (const change of variants) {
      const outcome = playGame(
        ctx,
        shape,
        {
          ...own,
          reveal(i) {
            const r = own.reveal(i);
            return r === undefined || 'refuse' in r ? r : change(r);
          },
        },
        ruleChallenger(ctx, shape, epoch.view),
      );
      expectChallengerWins(outcome, 'disproved', /^(resign|chain-link|pc-link|execution)$/);
    }
  });

  it('an operator silent at any move loses by timeout; a refusal it is not owed is silence', () => {
    const fault = 'vote-counted-twice';
    const lie = faultyRun(epoch, fault);
    const ctx = contextOf(epoch, lie.result);
    const own = operatorOf(shape, epoch, lie.steps, epoch.tape, fault);
    const silent: Array<[string, Partial<OperatorPlayer>]> = [
      ['assert', { assert: () => undefined }],
      ['answer 2', { answer: (view, points) => (view.round === 2 ? undefined : own.answer(view, points)) }],
      ['answer 4', { answer: (view, points) => (view.round === 4 ? undefined : own.answer(view, points)) }],
      [
        'answer 3',
        {
          answer: (view, points) =>
            view.round === 3 ? points.slice(1).map(() => new Uint8Array(20)) : own.answer(view, points),
        },
      ],
      ['reveal', { reveal: () => undefined }],
      ['reveal', { reveal: () => ({ refuse: 'past-end' }) }],
    ];
    for (const [at, patch] of silent) {
      const outcome = playGame(ctx, shape, { ...own, ...patch }, ruleChallenger(ctx, shape, epoch.view));
      expectChallengerWins(outcome, 'timeout', at);
    }
    // Silent in the second search: the root liar's.
    const T2 = steps.length;
    const halt = steps[T2 - 1] as StepRecord;
    const claimed = epoch.honest.result ^ 1n;
    const ctx2 = contextOf(epoch, claimed);
    const honest = operatorOf(shape, epoch);
    const liar: OperatorPlayer = {
      ...honest,
      reveal(i) {
        const r = honest.reveal(i);
        if (r === undefined || 'refuse' in r || i !== T2 - 1) return r;
        return { ...r, record: { ...halt, r1: { addr: halt.r1.addr, value: claimed } } };
      },
    };
    for (const [at, patch] of [
      ['answer′ 1', { answerRead: () => undefined }],
      [
        'answer′ 3',
        {
          answerRead: (q, view, points) => (view.round === 3 ? undefined : liar.answerRead(q, view, points)),
        },
      ],
      ['reveal′', { revealWrite: () => undefined }],
      ['reveal′', { revealWrite: () => ({ refuse: 'past-end' }) }],
    ] as Array<[string, Partial<OperatorPlayer>]>) {
      expectChallengerWins(
        playGame(ctx2, shape, { ...liar, ...patch }, ruleChallenger(ctx2, shape, epoch.view)),
        'timeout',
        at,
      );
    }
  });
});

describe('an operator that lies about a read in the middle of the run', () => {
  const shape = REGTEST_SEARCH;
  const epoch = smallEpoch();
  const { steps } = epoch.honest;
  // A step whose first read was last written well before it, and whose write depends on the value read.
  let tried = 0;
  const pick = (() => {
    for (let k = 1000; k < steps.length; k++) {
      const s = steps[k] as StepRecord;
      if (reference.program.instructions[s.pc]?.op !== 'add' || s.r1.addr === NONE) continue;
      const writer = lastWriteBefore(steps, k, s.r1.addr);
      if (writer === undefined || writer < 1 || k - writer < 3) continue;
      const run = corruptedRun(epoch, k, (s.r1.value + 1n) & WORD_MAX);
      if (run !== undefined && run.result !== epoch.honest.result) return { k, writer, run };
      tried++;
    }
    throw new Error('No add step of the epoch can be corrupted into another root');
  })();
  const { k, writer, run } = pick;
  console.info(`corrupted read at step ${k} (last written at ${writer}), after ${tried} candidates`);
  const ctx = contextOf(epoch, run.result);
  const withLast = (r1last: number | undefined): OperatorPlayer => {
    const own = operatorOf(shape, epoch, run.steps);
    if (r1last === undefined) return own;
    return {
      ...own,
      reveal(i) {
        const r = own.reveal(i);
        return r === undefined || 'refuse' in r || i !== k ? r : { ...r, r1last };
      },
    };
  };
  const play = (r1last: number | undefined) =>
    playGame(ctx, shape, withLast(r1last), ruleChallenger(ctx, shape, epoch.view));

  it('is narrowed to the step that read it; naming the real last write: RV1 there', () => {
    const outcome = play(undefined);
    expectChallengerWins(outcome, 'disproved', 'read-value');
    expect(outcome.step).toBe(k);
    expect(outcome.writeStep).toBe(writer);
  });

  it('naming a later step that wrote elsewhere: RV3 at it', () => {
    const outcome = play(writer + 1);
    expectChallengerWins(outcome, 'disproved', 'not-a-write');
    expect(outcome.writeStep).toBe(writer + 1);
  });

  it('naming an earlier step: RV2 at the real last write', () => {
    const outcome = play(writer - 1);
    expectChallengerWins(outcome, 'disproved', 'later-write');
    expect(outcome.writeStep).toBe(writer);
  });

  it('naming no write, or itself: the unwritten-read or future-read leaf', () => {
    expectChallengerWins(play(NONE), 'disproved', 'unwritten-read');
    expectChallengerWins(play(k), 'disproved', 'future-read');
  });
});
