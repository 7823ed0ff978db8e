/**
 * Soundness of the narrowing game (docs/protocol.md §24, issue #15 acceptance 2, pure half): an honest
 * operator against griefing challengers. Each griefer makes seeded random choices in both searches, asks
 * for every kind of proof, and at every point where a leaf could end the game tries every leaf with every
 * preimage it could attach (the honest ones and perturbed ones): no twin ever says a leaf spends, and the
 * referee gives every game to the operator, by the griefer's timeout or by a refusal leaf.
 */
import { describe, expect, it } from 'vitest';
import { REGTEST_SEARCH, type SearchShape } from '../../../src/dispute/game/grid.ts';
import { type GameOutcome, playGame } from '../../../src/dispute/game/referee.ts';
import { ruleChallenger } from '../../../src/dispute/game/rule.ts';
import { paddedChainValue } from '../../../src/machine/chain.ts';
import { PROGRAM_FAULTS } from '../../../src/machine/programs/faults.ts';
import { FAULT_CASES } from '../../governance/fault-cases.ts';
import { bump, griefer, type Tally } from './griefer.ts';
import { contextOf, honestEpoch, operatorOf } from './setup.ts';

const SHAPES: readonly SearchShape[] = [REGTEST_SEARCH, { pointsPerRound: 8, depth: 22 }];
const GAMES_PER_EPOCH = 40;

describe('an honest operator against griefing challengers', () => {
  it.each(SHAPES)('never loses a game (n = $pointsPerRound, K = $depth)', (shape) => {
    const tally: Tally = new Map();
    const ends: Tally = new Map();
    let games = 0;
    for (const [e, fault] of PROGRAM_FAULTS.entries()) {
      const { scenario } = (FAULT_CASES[fault] as (typeof FAULT_CASES)[string])();
      const epoch = honestEpoch(scenario.genesis, scenario.inputs);
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
      const epoch = honestEpoch(scenario.genesis, scenario.inputs);
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
