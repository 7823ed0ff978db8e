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
import { viewOperator } from '../dispute/game/operator.ts';
import type { OperatorPlayer } from '../dispute/game/players.ts';
import { type GovernanceState, reexecute } from '../governance/index.ts';
import type { EpochEnd, GovernanceDerivation } from '../l2/derivation.ts';
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
    .map((end) => gameEpochOf(derivation, end));
}

/** The ended epoch `end` of the feed (its inputs must still be held). */
export function gameEpochOf(derivation: GovernanceDerivation, end: EpochEnd): GameEpoch {
  return {
    epoch: end.epoch,
    tape: epochTape(derivation.stateBefore(end), derivation.inputsSlice(end.firstInput, end.lastInput + 1)),
    honestRoot: wordOf(hexToBytes(end.root)),
    l2BlockHash: hexToBytes(end.blockHash),
  };
}

/**
 * The ended epochs of a feed one after another, for a long-running operator: the state before each is
 * walked forward from the one before (the feed's `stateBefore` re-executes the whole history each time).
 * An epoch before the walk's position starts it again from the feed's.
 */
export class GameEpochWalk {
  #state: GovernanceState | undefined;
  /** The absolute index of the next input the walk runs. */
  #at = 0;

  epoch(derivation: GovernanceDerivation, end: EpochEnd): GameEpoch {
    if (this.#state === undefined || end.firstInput < this.#at) {
      this.#state = derivation.stateBefore(end);
    } else if (this.#at < end.firstInput) {
      reexecute(derivation.inputsSlice(this.#at, end.firstInput), { state: this.#state });
    }
    const inputs = derivation.inputsSlice(end.firstInput, end.lastInput + 1);
    const e: GameEpoch = {
      epoch: end.epoch,
      tape: epochTape(this.#state, inputs),
      honestRoot: wordOf(hexToBytes(end.root)),
      l2BlockHash: hexToBytes(end.blockHash),
    };
    reexecute(inputs, { state: this.#state });
    this.#at = end.lastInput + 1;
    return e;
  }
}

/**
 * How far the devnet runs a faulty build to find the root it claims: well past the search's 2^K, since a
 * lying operator claims its build's root however long the run (the game then plays its first 2^K steps).
 */
const FAULTY_RUN_LIMIT = 2 ** 23;

/** A faulty build's run of an epoch, kept with the epoch: the L2 clock and the claim both need its root. */
const faultyRoots = new WeakMap<GameEpoch, Map<string, bigint>>();

/**
 * The root the operator's program halts on for `e` (the model's when honest), without the views a game
 * needs: what the operator commits on the L2 before it claims on Bitcoin.
 */
export function claimedRootOf(e: GameEpoch, fault: ProgramFault): bigint {
  if (fault === undefined) return e.honestRoot;
  return faultyRoot(e, fault);
}

/** The root a faulty build halts on over `e` (a run past FAULTY_RUN_LIMIT throws). */
function faultyRoot(e: GameEpoch, fault: NonNullable<ProgramFault>): bigint {
  let roots = faultyRoots.get(e);
  if (roots === undefined) {
    roots = new Map();
    faultyRoots.set(e, roots);
  }
  const known = roots.get(fault);
  if (known !== undefined) return known;
  const run = runProgram(buildGovernanceProgram({ fault }).program, e.tape, {
    maxSteps: FAULTY_RUN_LIMIT,
    hashChain: false,
    keepSteps: false,
  });
  if (run.status !== 'halted' || run.result === undefined)
    throw new VigilError(`The ${fault} build does not halt on epoch ${e.epoch}`);
  roots.set(fault, run.result);
  return run.result;
}

/** An epoch whose honest run is longer than the search's 2^K steps: no claim of it can be defended. */
export class UnclaimableEpochError extends VigilError {
  override name = 'UnclaimableEpochError';
}

/**
 * The operator's play over `e` with its program's `fault` (undefined: honest). A faulty build whose run
 * is longer than the search's 2^K steps still claims its root, and plays its first 2^K steps (as a lying
 * operator would: the game cannot take it further); an honest epoch that long cannot be claimed
 * (`UnclaimableEpochError`): the honest operator could not defend its own claim.
 */
export function epochGame(e: GameEpoch, fault: ProgramFault): EpochGame {
  const params = claimParameters(DEVNET_NETWORK);
  const maxSteps = 2 ** params.shape.depth;
  // Not run on past the cut: an honest epoch that long is not claimed, whatever root it halts on.
  const honest = checkpointedView(params.program, e.tape, { maxSteps, truncate: true, haltWithin: maxSteps });
  if (honest.result !== undefined && honest.result !== e.honestRoot) {
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
  if (fault !== undefined) {
    const claimedRoot = faultyRoot(e, fault);
    if (claimedRoot !== e.honestRoot) {
      const build = buildGovernanceProgram({ fault });
      // Snapshots of its first 2^K steps (a long run's records would take gigabytes), chained from the
      // graph's h_0: all a game asks about, however long the build runs.
      const view = checkpointedView(build.program, e.tape, {
        maxSteps,
        truncate: true,
        snapshots: 64,
        haltWithin: maxSteps,
        h0: honest.chainAt(0),
      });
      return {
        claimedRoot,
        fraud: true,
        context: context(claimedRoot),
        player: viewOperator(params.shape, build.program, view),
        honest,
        stepAt: (i) => {
          if (!Number.isInteger(i) || i < 0 || i >= view.stepCount) return undefined;
          const record = view.stepAt(i);
          return { record, at: build.locate(record.pc) };
        },
      };
    }
  }
  if (honest.cut || honest.result === undefined) {
    throw new UnclaimableEpochError(
      `Epoch ${e.epoch}'s run is longer than the search's ${maxSteps} steps: an honest claim of it could not be defended`,
    );
  }
  const honestBuild = buildGovernanceProgram();
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
