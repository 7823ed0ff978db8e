/**
 * The devnet operator's epochs for the narrowing game: each ended epoch of the L2 feed as the governance
 * program runs it (the state before it rebuilt from the feed, its inputs after: the tape), and the
 * operator's play over it. An honest operator plays the honest run; a faulty one runs its fault's build
 * of the program over the same tape, from the same agreed pre-state and h_0, and claims the root that
 * build halts on (the epochs its fault does not touch are honest claims). Pure: no I/O.
 */

import { hexToBytes } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import { claimParameters } from '../dispute/game/claim-parameters.ts';
import { checkpointedView, type HonestView } from '../dispute/game/honest-view.ts';
import type { GameContext } from '../dispute/game/moves.ts';
import { traceOperator, viewOperator } from '../dispute/game/operator.ts';
import type { OperatorPlayer } from '../dispute/game/players.ts';
import type { GovernanceDerivation } from '../l2/derivation.ts';
import { runProgram } from '../machine/interpreter.ts';
import { type StepRecord, wordOf } from '../machine/isa.ts';
import type { ProgramFault } from '../machine/programs/faults.ts';
import { buildGovernanceProgram } from '../machine/programs/governance.ts';
import { epochTape } from '../machine/programs/state-image.ts';
import type { Tape } from '../machine/tape.ts';
import { DEVNET_NETWORK } from './operator-graph.ts';

/** One ended epoch of the feed, as a claim of it needs. */
export type GameEpoch = {
  readonly epoch: bigint;
  readonly tape: Tape;
  /** The model's root at the epoch's end (the L2's). */
  readonly honestRoot: bigint;
  readonly l2BlockHash: Uint8Array;
};

/** The operator's play over one epoch. */
export type EpochGame = {
  readonly claimedRoot: bigint;
  readonly fraud: boolean;
  /** What the kick-off fixes. */
  readonly context: GameContext;
  readonly player: OperatorPlayer;
  /** The honest run (where a challenger's rule narrows from). */
  readonly honest: HonestView;
  /** The operator's step i and its source position in the operator's build ("rule.vote+34 (…)"). */
  stepAt(i: number): { record: StepRecord; at: string } | undefined;
};

/** Every ended epoch of the feed whose inputs it still holds, in order. */
export function gameEpochsOf(derivation: GovernanceDerivation): GameEpoch[] {
  return derivation.epochEnds
    .filter((end) => end.firstInput >= derivation.inputsOffset)
    .map((end) => ({
      epoch: end.epoch,
      tape: epochTape(derivation.stateBefore(end), derivation.inputsSlice(end.firstInput, end.lastInput + 1)),
      honestRoot: wordOf(hexToBytes(end.root)),
      l2BlockHash: hexToBytes(end.blockHash),
    }));
}

/** The operator's play over `e` with its program's `fault` (undefined: honest). */
export function epochGame(e: GameEpoch, fault: ProgramFault): EpochGame {
  const params = claimParameters(DEVNET_NETWORK);
  const maxSteps = 2 ** params.shape.depth;
  const honest = checkpointedView(params.program, e.tape, { maxSteps });
  if (honest.result !== e.honestRoot) {
    throw new VigilError(
      `The governance program's run of epoch ${e.epoch} halts on another root than the model's: the devnet cannot claim it`,
    );
  }
  const context = (claimedRoot: bigint): GameContext => ({
    program: params.program,
    imageRoot: e.tape.imageRoot,
    inputsRoot: e.tape.inputRoot,
    agreedImageRoot: e.tape.imageRoot,
    claimedRoot,
  });
  const honestBuild = buildGovernanceProgram();
  if (fault !== undefined) {
    const build = buildGovernanceProgram({ fault });
    const run = runProgram(build.program, e.tape, { maxSteps, hashChain: false });
    if (run.status !== 'halted' || run.result === undefined)
      throw new VigilError(`The ${fault} build does not halt on epoch ${e.epoch}`);
    if (run.result !== honest.result) {
      const steps = run.steps;
      return {
        claimedRoot: run.result,
        fraud: true,
        context: context(run.result),
        player: traceOperator(params.shape, {
          program: build.program,
          steps,
          h0: honest.chainAt(0),
          tape: e.tape,
        }),
        honest,
        stepAt: (i) => {
          const record = steps[i];
          return record === undefined ? undefined : { record, at: build.locate(record.pc) };
        },
      };
    }
  }
  return {
    claimedRoot: honest.result,
    fraud: false,
    context: context(honest.result),
    player: viewOperator(params.shape, params.program, honest),
    honest,
    stepAt: (i) => {
      if (i < 0 || i >= honest.stepCount) return undefined;
      const record = honest.stepAt(i);
      return { record, at: honestBuild.locate(record.pc) };
    },
  };
}
