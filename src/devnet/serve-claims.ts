/**
 * What a served devnet's operator claims for one epoch. The fault switch (`vigil devnet fault <name>
 * --from-epoch N`) applies per epoch: the operator starts every epoch from the reference state (the
 * chain's), and runs that epoch's inputs with the faulty executor when the fault applies to it. So each
 * wrong claim parts from the reference inside its own epoch, and an epoch where the fault does not bite,
 * or one after the fault is switched off, is claimed right again.
 */
import { bytesToHex, equalBytes, hexToBytes } from '../core/bytes.ts';
import { traceCheckpoints } from '../dispute/trace-checkpoints.ts';
import {
  type Executor,
  executorByName,
  type GenesisOptions,
  type GovernanceInput,
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
  const epoch = reexecute(o.inputs.slice(end.firstInput, end.lastInput + 1), {
    state: before.state,
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
      before.root,
      steps.map((s) => s.root),
      o.traceSteps,
    ),
    referenceRoot,
    fraud: !equalBytes(stateRoot, referenceRoot),
    executor: o.executor.name,
    // The window in force during the epoch: the state at its first input, as the reference has it.
    challengeWindow: Number(before.state.params.challengeWindow),
  };
}

export const rootHex = (r: Uint8Array): `0x${string}` => `0x${bytesToHex(r)}`;
