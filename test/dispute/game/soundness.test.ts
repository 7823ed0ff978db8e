/**
 * Soundness of the narrowing game (docs/protocol.md §24, issue #15 acceptance 2, pure half): an honest
 * operator against griefing challengers. Each griefer makes seeded random choices in both searches, asks
 * for every kind of proof, and at every point where a leaf could end the game tries every leaf with every
 * preimage it could attach (the honest ones and perturbed ones): no twin ever says a leaf spends, and the
 * referee gives every game to the operator, by the griefer's timeout or by a refusal leaf.
 */
import { describe, expect, it } from 'vitest';
import { choiceFor, REGTEST_SEARCH, type SearchShape } from '../../../src/dispute/game/grid.ts';
import type { KeptRun } from '../../../src/dispute/game/honest-view.ts';
import {
  assertLeafSpends,
  type RevealAttempt,
  revealLeafSpends,
  type TapeRevealAttempt,
  tapeRevealLeafSpends,
  type WriteRevealAttempt,
  writeRevealLeafSpends,
} from '../../../src/dispute/game/leaves.ts';
import type { GameContext, Preimage } from '../../../src/dispute/game/moves.ts';
import type { ChallengerPlayer } from '../../../src/dispute/game/players.ts';
import { type GameOutcome, playGame } from '../../../src/dispute/game/referee.ts';
import { ruleChallenger } from '../../../src/dispute/game/rule.ts';
import { paddedChainValue } from '../../../src/machine/chain.ts';
import { type StepRecord, TAPE_HALF_DEPTH } from '../../../src/machine/isa.ts';
import { PROGRAM_FAULTS } from '../../../src/machine/programs/faults.ts';
import { FAULT_CASES } from '../../governance/fault-cases.ts';
import { contextOf, honestEpoch, operatorOf } from './setup.ts';

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

type Tally = Map<string, number>;
const bump = (t: Tally, k: string) => t.set(k, (t.get(k) ?? 0) + 1);

/** The preimages a griefer could attach for a chain value at position p: the honest one, and perturbed ones. */
function preimagesFor(honest: KeptRun, p: number, next: () => number): Preimage[] {
  const out: Preimage[] = [];
  if (p >= 1) {
    const k = Math.min(p, honest.steps.length);
    const h = honest.chain[k - 1] as Uint8Array;
    const record = honest.steps[k - 1] as StepRecord;
    out.push({ h, record });
    out.push({ h, record: { ...record, nextPc: record.nextPc + 1 } });
    out.push({ h, record: { ...record, pc: (record.pc + 1) % 4096 } });
    out.push({ h: Uint8Array.from(h, (b, i) => (i === 0 ? b ^ 1 : b)), record });
  }
  out.push({
    h: Uint8Array.from({ length: 20 }, () => Math.floor(next() * 256)),
    record: honest.steps[0] as StepRecord,
  });
  return out;
}

/** A griefing challenger: random moves, and every leaf tried (each must fail) before it picks one to send. */
function griefer(
  ctx: GameContext,
  shape: SearchShape,
  honest: KeptRun,
  seed: number,
  tally: Tally,
): ChallengerPlayer {
  const next = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  let claimedSteps = 0;
  // The step the griefer steers the first search to: a tape step a third of the time (so tape paths are
  // asked for), else any step; the second search steers to around the read's real last write, or anywhere.
  const tapeSteps = honest.steps.flatMap((st, k) =>
    ctx.program.instructions[st.pc]?.op === 'tape' ? [k] : [],
  );
  const aim = next() < 0.35 ? pick(tapeSteps) : Math.floor(next() * honest.steps.length);
  let readAim = -1;
  /** A choice toward `toward` when it lies in the segment, else one that mostly stays below `end`. */
  const choose = (segment: { left: number; width: number }, bits: number, end: number, toward: number) => {
    if (next() < 0.1 || end <= segment.left) return Math.floor(next() * 2 ** bits);
    if (toward >= segment.left && toward < segment.left + segment.width && next() < 0.9) {
      return choiceFor(segment, bits, toward);
    }
    const hi = Math.min(segment.left + segment.width, end) - 1;
    return choiceFor(segment, bits, segment.left + Math.floor(next() * (hi - segment.left + 1)));
  };
  return {
    onAssert(assert) {
      claimedSteps = assert.steps;
      for (const leaf of ['h0', 'length'] as const) {
        expect(assertLeafSpends(ctx, shape, assert, { leaf })).toBe(false);
      }
      return next() < 0.05 ? { leaf: pick(['h0', 'length'] as const) } : undefined;
    },
    choose: (view, bits) => choose(view.segment, bits, claimedSteps, aim),
    onReveal(site, reveal) {
      bump(tally, 'reveal');
      const attempts: RevealAttempt[] = [
        { leaf: 'resign', side: 'h' },
        { leaf: 'resign', side: 'hNext' },
        { leaf: 'chain-link' },
        { leaf: 'pc-link' },
        ...preimagesFor(honest, site.step, next).map((preimage) => ({ leaf: 'pc-link' as const, preimage })),
        { leaf: 'pc-range' },
        { leaf: 'execution' },
        { leaf: 'unwritten-read', read: 1 },
        { leaf: 'unwritten-read', read: 2 },
        { leaf: 'future-read', read: 1 },
        { leaf: 'future-read', read: 2 },
        { leaf: 'last-step' },
        { leaf: 'early-halt' },
      ];
      for (const a of attempts)
        expect(revealLeafSpends(ctx, site, reveal, a), JSON.stringify(a.leaf)).toBe(false);
      if (next() < 0.15) return { disprove: pick(attempts) };
      const q =
        ctx.program.instructions[reveal.record.pc]?.op === 'tape' && next() < 0.7
          ? 3
          : pick([1, 2, 3] as const);
      const last = q === 1 ? reveal.r1last : reveal.r2last;
      readAim = last < site.step ? last + Math.floor(next() * 3) - 1 : Math.floor(next() * site.step);
      return { request: q };
    },
    chooseRead: (_q, view, bits, readStep) => choose(view.segment, bits, readStep, readAim),
    onWriteReveal(site, reveal) {
      bump(tally, 'reveal′');
      const attempts: WriteRevealAttempt[] = [
        { leaf: 'resign', side: 'h' },
        { leaf: 'resign', side: 'hNext' },
        { leaf: 'chain-link' },
        ...preimagesFor(honest, site.step + 1, next).map((preimage) => ({
          leaf: 'wrong-predecessor' as const,
          preimage,
        })),
        { leaf: 'read-value' },
        { leaf: 'later-write' },
        { leaf: 'not-a-write' },
      ];
      for (const a of attempts) expect(writeRevealLeafSpends(site, reveal, a), a.leaf).toBe(false);
      return pick(attempts);
    },
    onTapeReveal(site, reveal) {
      bump(tally, 'tape reveal');
      const attempts: TapeRevealAttempt[] = [
        { leaf: 'tape-position' },
        { leaf: 'tape-word' },
        ...Array.from({ length: TAPE_HALF_DEPTH }, (_, level) => ({ leaf: 'tape-level' as const, level })),
        { leaf: 'tape-top' },
      ];
      for (const a of attempts) expect(tapeRevealLeafSpends(ctx, site, reveal, a), a.leaf).toBe(false);
      return pick(attempts);
    },
  };
}

const SHAPES: readonly SearchShape[] = [REGTEST_SEARCH, { pointsPerRound: 8, depth: 22 }];
const GAMES_PER_EPOCH = 40;

describe('an honest operator against griefing challengers', () => {
  it.each(SHAPES)('never loses a game (n = $pointsPerRound, K = $depth)', (shape) => {
    const tally: Tally = new Map();
    const ends: Tally = new Map();
    let games = 0;
    for (const [e, fault] of PROGRAM_FAULTS.entries()) {
      const { scenario } = (FAULT_CASES[fault] as (typeof FAULT_CASES)[string])();
      const epoch = honestEpoch(scenario, scenario.inputs);
      const ctx = contextOf(epoch, epoch.honest.result);
      for (let g = 0; g < GAMES_PER_EPOCH; g++) {
        const outcome: GameOutcome = playGame(
          ctx,
          shape,
          operatorOf(shape, epoch),
          griefer(ctx, shape, epoch.honest, 1 + e * 1000 + g, tally),
        );
        expect(
          outcome.winner,
          outcome.moves.map((m) => `${m.side} ${m.move} ${m.detail ?? ''}`).join('\n'),
        ).toBe('operator');
        bump(
          ends,
          `${outcome.end} ${outcome.end === 'timeout' ? outcome.at.replace(/ \(.*/, '') : outcome.at}`,
        );
        games++;
      }
    }
    // Every part of the game was reached often: reveals, both kinds of proof requests, every refusal.
    expect(tally.get('reveal') ?? 0).toBeGreaterThan(games / 2);
    expect(tally.get('reveal′') ?? 0).toBeGreaterThan(games / 10);
    expect(tally.get('tape reveal') ?? 0).toBeGreaterThan(10);
    expect(ends.get('refused past-end') ?? 0).toBeGreaterThan(0);
    expect(ends.get('refused not-a-tape-step') ?? 0).toBeGreaterThan(0);
    console.info(
      `${games} games (n = ${shape.pointsPerRound}, K = ${shape.depth}): ${[...tally].map(([k, v]) => `${k} ${v}`).join(', ')}; ends: ${[...ends].map(([k, v]) => `${k} ${v}`).join(', ')}`,
    );
  });

  it("Vigil's own rule, pointed at an honest claim, finds nothing to disprove and concedes", () => {
    const shape = REGTEST_SEARCH;
    for (const fault of PROGRAM_FAULTS) {
      const { scenario } = (FAULT_CASES[fault] as (typeof FAULT_CASES)[string])();
      const epoch = honestEpoch(scenario, scenario.inputs);
      const ctx = contextOf(epoch, epoch.honest.result);
      const outcome = playGame(ctx, shape, operatorOf(shape, epoch), ruleChallenger(ctx, shape, epoch.view));
      expect(outcome.winner).toBe('operator');
      expect(outcome.end).toBe('timeout');
      // It aims at the last step (nothing differs) and has nothing to say after the reveal.
      expect(outcome.step).toBe(epoch.honest.steps.length - 1);
      expect(outcome.at).toBe('after the reveal');
      expect(paddedChainValue(epoch.honest.chain, 2 ** shape.depth)).toEqual(epoch.honest.chain.at(-1));
    }
  });
});
