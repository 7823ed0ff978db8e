/**
 * Which known fault explains a fraudulent root: the epoch is re-executed from the reference pre-state
 * with each executor of the fault catalogue, and the one that reproduces the claimed root names the rule
 * the operator broke and the first step where it made a difference.
 *
 * Informational only (logs, the devnet's story, the dispute record): the challenge never depends on it,
 * since an operator may be wrong in a way no catalogue entry describes.
 */
import { bytesToHex, equalBytes } from '../core/bytes.ts';
import {
  createGenesisState,
  type Executor,
  FAULTS,
  firstDivergence,
  type GenesisOptions,
  type GovernanceInput,
  type GovernanceState,
  REFERENCE_EXECUTOR,
  type RuleId,
  reexecute,
  type TraceStep,
} from '../governance/index.ts';
import { cloneState } from '../governance/state-snapshot.ts';

export type FraudDiagnosisInput = {
  genesis: GenesisOptions;
  /**
   * Where the history starts when it does not start at genesis (a pruned journal): the state after the
   * first `inputs` inputs. Not modified (each run starts from a copy).
   */
  base?: { state: GovernanceState; inputs: number };
  /** Every input before the epoch's first one (since the base, when there is one), in L2 order. */
  priorInputs: readonly GovernanceInput[];
  /** The epoch's inputs, its endEpoch last. */
  epochInputs: readonly GovernanceInput[];
  /** The root the operator claimed for the epoch. */
  claimedRoot: Uint8Array;
};

export type FraudDiagnosis =
  | {
      fault: string;
      rule: RuleId;
      /** Index within the epoch's inputs of the first step whose root departs from the reference. */
      step: number;
      /** The same step as an index into every input since genesis (the base's inputs counted). */
      globalStep: number;
      inputKind: GovernanceInput['kind'];
    }
  | { fault: undefined; reason: string };

function preState(input: FraudDiagnosisInput): GovernanceState {
  const state = input.base ? cloneState(input.base.state) : createGenesisState(input.genesis);
  if (input.priorInputs.length > 0) reexecute(input.priorInputs, { state });
  return state;
}

/**
 * Runs the epoch with each executor from a copy of the reference pre-state (computed once per diagnosis).
 * Each copy is made in the previous one's buffers: a run keeps only its root and trace, which are copies.
 */
function runner(
  input: FraudDiagnosisInput,
  pre: GovernanceState,
): (executor: Executor) => { root: Uint8Array; trace: TraceStep[] } {
  let spare: GovernanceState | undefined;
  return (executor) => {
    const state = cloneState(pre, spare);
    const r = reexecute(input.epochInputs, { state, executor, trace: true });
    spare = state;
    return { root: r.root, trace: r.trace as TraceStep[] };
  };
}

/** Pure: the catalogue fault that reproduces `claimedRoot`, or why none does. */
export function diagnoseFraud(input: FraudDiagnosisInput): FraudDiagnosis {
  if (input.epochInputs.length === 0) return { fault: undefined, reason: 'the epoch has no inputs' };
  const run = runner(input, preState(input));
  const reference = run(REFERENCE_EXECUTOR);
  if (equalBytes(reference.root, input.claimedRoot)) {
    return { fault: undefined, reason: 'the claimed root is the reference root: no fault to explain' };
  }
  for (const executor of FAULTS) {
    const faulty = run(executor);
    if (!equalBytes(faulty.root, input.claimedRoot)) continue;
    const d = firstDivergence(reference.trace, faulty.trace);
    if (d === undefined || executor.breaks === null) continue;
    return {
      fault: executor.name,
      rule: executor.breaks,
      step: d.index,
      globalStep: (input.base?.inputs ?? 0) + input.priorInputs.length + d.index,
      inputKind: d.input.kind,
    };
  }
  return {
    fault: undefined,
    reason: `no executor of the fault catalogue reproduces the claimed root ${bytesToHex(input.claimedRoot)}`,
  };
}
