/**
 * What a served devnet's operator claims for one epoch. The fault switch (`vigil devnet fault <name>
 * --from-epoch N [--to-epoch M]`) applies per epoch: the operator starts every epoch from the reference
 * state (the chain's), and runs that epoch's inputs with the faulty executor when the fault applies to
 * it. So each wrong claim parts from the reference inside its own epoch, and an epoch where the fault
 * does not bite, or one after the fault is switched off, is claimed right again.
 *
 * `operatorEpochClaim` is the definition: it re-executes from genesis, so its cost grows with history.
 * `ClaimWalk` gives the same claims at the cost of the epoch's own inputs for an honest epoch, by keeping
 * the reference state at the end of the last epoch it walked. A faulty epoch needs the epoch's pre-state
 * twice (the reference goes on from it, the faulty executor parts from it) and the model's state cannot
 * be copied (its leaf table holds closures), so the walk claims a faulty epoch with the definition, from
 * genesis, and stays where it was: a faulty epoch costs O(history), an honest one O(epoch).
 */
import { bytesToHex, equalBytes, hexToBytes } from '../core/bytes.ts';
import { traceCheckpoints } from '../dispute/trace-checkpoints.ts';
import {
  computeStateRoot,
  createGenesisState,
  type Executor,
  executorByName,
  type GenesisOptions,
  type GovernanceInput,
  type GovernanceState,
  REFERENCE_EXECUTOR,
  reexecute,
  type TraceStep,
} from '../governance/index.ts';
import type { EpochEnd } from '../l2/derivation.ts';
import type { EpochClaim } from './operator-claims.ts';
import type { ServeControl } from './serve-dir.ts';

/** The executor the control gives `epoch`. */
export function executorForEpoch(control: ServeControl, epoch: bigint): Executor {
  if (control.fault === 'none' || epoch < BigInt(control.fromEpoch)) return REFERENCE_EXECUTOR;
  if (control.toEpoch !== undefined && epoch > BigInt(control.toEpoch)) return REFERENCE_EXECUTOR;
  return executorByName(control.fault);
}

export type OperatorEpochClaim = EpochClaim & {
  referenceRoot: Uint8Array;
  /** The claimed root is not the reference's. */
  fraud: boolean;
  executor: string;
};

/** The operator's claim for the epoch `end` closes, from the feed's inputs up to it. */
export function operatorEpochClaim(o: {
  inputs: readonly GovernanceInput[];
  genesis: GenesisOptions;
  end: EpochEnd;
  executor: Executor;
  traceSteps: number;
}): OperatorEpochClaim {
  const { end } = o;
  const before = reexecute(o.inputs.slice(0, end.firstInput), { genesis: o.genesis });
  return epochClaim(o, before.state, before.root);
}

/** The claim of the epoch `o.end` closes, run with `o.executor` on `state` (the epoch's pre-state). */
function epochClaim(
  o: { inputs: readonly GovernanceInput[]; end: EpochEnd; executor: Executor; traceSteps: number },
  state: GovernanceState,
  beforeRoot: Uint8Array,
): OperatorEpochClaim {
  const { end } = o;
  // The window in force at the epoch's start, which is what the watcher's import checks the graph
  // against (the state is mutated by the run below: read it first). A change that activates at this
  // epoch's own end applies to the next epoch's claim.
  const challengeWindow = Number(state.params.challengeWindow);
  const epoch = reexecute(o.inputs.slice(end.firstInput, end.lastInput + 1), {
    state,
    executor: o.executor,
    trace: true,
  });
  const steps = epoch.trace as TraceStep[];
  const stateRoot = epoch.root;
  const referenceRoot = hexToBytes(end.root);
  return {
    epoch: end.epoch,
    stateRoot,
    l2BlockHash: hexToBytes(end.blockHash),
    checkpoints: traceCheckpoints(
      beforeRoot,
      steps.map((s) => s.root),
      o.traceSteps,
    ),
    referenceRoot,
    fraud: !equalBytes(stateRoot, referenceRoot),
    executor: o.executor.name,
    challengeWindow,
  };
}

/**
 * The operator's claims epoch after epoch, walking the reference state forward (see the top of the
 * file). Epochs may be skipped (claimed before a restart): the walk runs their inputs on the way. An
 * epoch before the walk's position (never asked by the served devnet) starts it again from genesis.
 */
export class ClaimWalk {
  /** The reference state after inputs [0, #at). */
  #state: GovernanceState | undefined;
  #at = 0;

  constructor(
    private readonly genesis: GenesisOptions,
    private readonly traceSteps: number,
  ) {}

  /** Where the walk stands: the index of the next input it runs. */
  get position(): number {
    return this.#at;
  }

  claim(inputs: readonly GovernanceInput[], end: EpochEnd, executor: Executor): OperatorEpochClaim {
    const o = { inputs, end, executor, traceSteps: this.traceSteps };
    if (executor.name !== REFERENCE_EXECUTOR.name) {
      return operatorEpochClaim({ ...o, genesis: this.genesis });
    }
    if (this.#state === undefined || end.firstInput < this.#at) {
      this.#state = createGenesisState(this.genesis);
      this.#at = 0;
    }
    if (this.#at < end.firstInput) reexecute(inputs.slice(this.#at, end.firstInput), { state: this.#state });
    this.#at = end.firstInput;
    const claim = epochClaim(o, this.#state, computeStateRoot(this.#state));
    this.#at = end.lastInput + 1;
    return claim;
  }
}

export const rootHex = (r: Uint8Array): `0x${string}` => `0x${bytesToHex(r)}`;
