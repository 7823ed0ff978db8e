/**
 * Completeness on Bitcoin's rules (#15 acceptance 1, the simnet half): every catalogue fault, played by an
 * operator running the fault's build and committing its own chain, is narrowed by Vigil's rule through the
 * game's presigned transactions on simnet, move by move with real signatures, and the slash through the
 * leaf the rule picked confirms: half of D burned, the rest and the pot to the challenger. The devnet
 * daemon playing these moves as jobs is not built yet; here the pure players choose the moves.
 */
import { describe, expect, it } from 'vitest';
import { REGTEST_SEARCH } from '../../../src/dispute/game/grid.ts';
import type { StepRecord } from '../../../src/machine/isa.ts';
import { PROGRAM_FAULTS } from '../../../src/machine/programs/faults.ts';
import { FAULT_CASES, FAULT_RULE_LABEL } from '../../governance/fault-cases.ts';
import { reference } from '../../machine/equivalence.ts';
import { expectSlashed, playEpochOnChain } from './chain-play.ts';
import { contextOf, faultyRun, honestEpoch, operatorOf } from './setup.ts';

const shape = REGTEST_SEARCH;

describe('every catalogue fault is slashed on simnet through the game’s transactions', () => {
  it.each(PROGRAM_FAULTS)('%s', (fault) => {
    const { scenario, step } = (FAULT_CASES[fault] as (typeof FAULT_CASES)[string])();
    const epoch = honestEpoch(scenario.genesis, scenario.inputs.slice(0, step + 1));
    const lie = faultyRun(epoch, fault);
    const operator = operatorOf(shape, epoch, lie.steps, epoch.tape, fault);
    const r = playEpochOnChain(epoch, shape, contextOf(epoch, lie.result), operator);
    expect(r.outcome).toMatchObject({ winner: 'challenger', end: 'disproved' });
    const i = r.outcome.step as number;
    expect(reference.locate((lie.steps[i] as StepRecord).pc)).toMatch(FAULT_RULE_LABEL[fault]);
    expectSlashed(r, r.outcome.at);
    console.info(
      `${fault}: ${r.replay.played.length} moves on simnet, slashed by ${r.replay.slash?.leaf} at step ${i}`,
    );
  });
});
