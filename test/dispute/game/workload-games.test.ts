/**
 * The narrowing game on seeded random workloads of every input kind (the workloads of
 * test/machine/workload-equivalence.test.ts), beside the hand-written scenarios of completeness.test.ts
 * and soundness.test.ts:
 * - completeness: on each workload, every catalogue fault whose build ends on another root than the
 *   honest program is played by an operator committing that build's chain; Vigil's rule disproves it at
 *   the first step its chain leaves the honest one, inside the fault's rule code;
 * - soundness: the honest operator of each workload wins every game against seeded griefers.
 * A few workloads in `npm test`; VIGIL_LONG=1 (workload-games.long.test.ts) plays 100, or
 * VIGIL_GAME_SEEDS of them.
 */
import { describe, expect, it } from 'vitest';
import { REGTEST_SEARCH } from '../../../src/dispute/game/grid.ts';
import { playGame } from '../../../src/dispute/game/referee.ts';
import { ruleChallenger } from '../../../src/dispute/game/rule.ts';
import type { StepRecord } from '../../../src/machine/isa.ts';
import { PROGRAM_FAULTS } from '../../../src/machine/programs/faults.ts';
import { FAULT_RULE_LABEL } from '../../governance/fault-cases.ts';
import { reference, seededWorkload } from '../../machine/equivalence.ts';
import { bump, griefer, type Tally } from './griefer.ts';
import { contextOf, faultyRun, honestEpoch, operatorOf } from './setup.ts';

const LONG = process.env.VIGIL_LONG === '1';
const SEED_COUNT = Number(process.env.VIGIL_GAME_SEEDS ?? (LONG ? 100 : 2));
const SEEDS = Array.from({ length: SEED_COUNT }, (_, i) => 5_000 + i);
const GRIEFERS = LONG ? 20 : 5;

describe(`the narrowing game on ${SEED_COUNT} random workloads`, () => {
  it('disproves every fault that changes the root at its rule; the honest operator wins every griefing game', {
    timeout: 60_000 + 30_000 * SEED_COUNT,
  }, () => {
    const shape = REGTEST_SEARCH;
    const disproved = new Map<string, number>();
    const leaves: Tally = new Map();
    const ends: Tally = new Map();
    for (const seed of SEEDS) {
      const w = seededWorkload(seed);
      const epoch = honestEpoch(w.genesis, w.inputs);
      expect(epoch.honest.steps.length).toBeLessThan(2 ** shape.depth);
      for (const fault of PROGRAM_FAULTS) {
        const lie = faultyRun(epoch, fault);
        if (lie.result === epoch.honest.result) continue;
        const ctx = contextOf(epoch, lie.result);
        const operator = operatorOf(shape, epoch, lie.steps, epoch.tape, fault);
        const outcome = playGame(ctx, shape, operator, ruleChallenger(ctx, shape, epoch.view));
        const story = `seed ${seed}, ${fault}: ${outcome.winner} ${outcome.end} ${outcome.at}`;
        expect(outcome.winner, story).toBe('challenger');
        expect(outcome.end, story).toBe('disproved');
        const i = outcome.step as number;
        expect(operator.chain[i], story).toEqual(epoch.honest.chain[i]);
        expect(operator.chain[i + 1], story).not.toEqual(epoch.honest.chain[i + 1]);
        expect(reference.locate((lie.steps[i] as StepRecord).pc), story).toMatch(FAULT_RULE_LABEL[fault]);
        bump(disproved, fault);
        bump(leaves, outcome.at);
      }
      const ctx = contextOf(epoch, epoch.honest.result);
      for (let g = 0; g < GRIEFERS; g++) {
        const outcome = playGame(
          ctx,
          shape,
          operatorOf(shape, epoch),
          griefer(ctx, shape, epoch.honest, seed * 100 + g, new Map()),
        );
        expect(outcome.winner, `seed ${seed}, griefer ${g}: ${outcome.end} ${outcome.at}`).toBe('operator');
        bump(ends, outcome.end);
      }
    }
    // The generator's workloads exercise most faults; each that ran was disproved.
    expect(disproved.size).toBeGreaterThan(0);
    console.info(
      `${SEED_COUNT} workloads: faults disproved ${[...disproved].map(([k, v]) => `${k} ${v}`).join(', ')}; ` +
        `by leaf ${[...leaves].map(([k, v]) => `${k} ${v}`).join(', ')}; griefing games ${SEED_COUNT * GRIEFERS}, ` +
        `operator won all (${[...ends].map(([k, v]) => `${k} ${v}`).join(', ')})`,
    );
  });
});
