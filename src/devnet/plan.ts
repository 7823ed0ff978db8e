/**
 * What the devnet's operator claims and what the run must find, computed from the L2 input feed alone,
 * independently of the watcher: the operator's executor and the reference each re-execute the feed with
 * a trace. The operator's roots and trace checkpoints become its Bitcoin claims; the first step where the
 * two traces part is the fraud the watcher has to find (its epoch, step and rule).
 */
import { bytesToHex, equalBytes, hexToBytes } from '../core/bytes.ts';
import { traceCheckpoints } from '../dispute/trace-checkpoints.ts';
import {
  computeStateRoot,
  createGenesisState,
  type Executor,
  firstDivergence,
  type GenesisOptions,
  type GovernanceInput,
  REFERENCE_EXECUTOR,
  reexecute,
  type TraceStep,
} from '../governance/index.ts';
import type { ExpectedEnd } from './strategies/types.ts';

/** One epoch end on the L2 as the devnet's ingestion saw it. */
export type FeedEpochEnd = {
  epoch: bigint;
  blockHash: string;
  /** The governed challenge window in force during the epoch (Bitcoin blocks). */
  challengeWindow: bigint;
};

/** An operator's claim for one epoch: what its kick-off reveals and what its assert would commit. */
export type PlannedClaim = {
  epoch: bigint;
  stateRoot: Uint8Array;
  l2BlockHash: Uint8Array;
  /** r_0 … r_k of the operator's own trace; r_k = stateRoot. */
  checkpoints: Uint8Array[];
  /** The reference model's root for the same epoch. */
  referenceRoot: Uint8Array;
  fraud: boolean;
  /** T_c of the epoch's graph: the governed challenge window in force during the epoch. */
  challengeWindow: number;
};

/** The first fraud, as the devnet knows it from the injected fault. */
export type PlannedFault = {
  epoch: bigint;
  /** Index of the diverging input within its epoch (0 = the epoch's first input). */
  step: number;
  globalStep: number;
  inputKind: string;
  rule: string;
  fault: string;
};

/**
 * What the run must find: the claims, the first fault, and how every wrong claim must end under the
 * operator's strategy (its `expect`, e.g. slashed by disprove, or no dispute possible and an alert).
 */
export type DevnetPlan = {
  claims: PlannedClaim[];
  firstFault: PlannedFault | undefined;
  expect: ExpectedEnd;
};

type EpochSpan = { epoch: bigint; first: number; last: number; root: Uint8Array };

/** The epochs an execution ended (accepted endEpoch steps), with the input span of each. */
function epochSpans(trace: readonly TraceStep[]): EpochSpan[] {
  const spans: EpochSpan[] = [];
  let first = 0;
  let epoch = 0n;
  for (const step of trace) {
    if (step.input.kind === 'endEpoch' && step.accepted) {
      spans.push({ epoch, first, last: step.index, root: step.root });
      epoch++;
      first = step.index + 1;
    }
  }
  return spans;
}

export function planDevnet(options: {
  inputs: readonly GovernanceInput[];
  genesis: GenesisOptions;
  operator: Executor;
  epochEnds: readonly FeedEpochEnd[];
  traceSteps: number;
  /** How the operator's strategy says every wrong claim must end (default: slashed either way). */
  expect?: ExpectedEnd;
}): DevnetPlan {
  const genesisRoot = computeStateRoot(createGenesisState(options.genesis));
  const run = (executor: Executor) =>
    reexecute(options.inputs, { genesis: options.genesis, executor, trace: true }).trace as TraceStep[];
  const reference = run(REFERENCE_EXECUTOR);
  const operator = options.operator === REFERENCE_EXECUTOR ? reference : run(options.operator);
  const referenceRoots = new Map(epochSpans(reference).map((s) => [s.epoch, s.root]));
  const ends = new Map(options.epochEnds.map((e) => [e.epoch, e]));
  const claims: PlannedClaim[] = [];
  for (const span of epochSpans(operator)) {
    const end = ends.get(span.epoch);
    const referenceRoot = referenceRoots.get(span.epoch);
    // An epoch the operator ended but the chain did not (or the reverse) is not claimable here.
    if (end === undefined || referenceRoot === undefined) continue;
    const preRoot = span.first === 0 ? genesisRoot : (operator[span.first - 1] as TraceStep).root;
    const stepRoots = operator.slice(span.first, span.last + 1).map((s) => s.root);
    claims.push({
      epoch: span.epoch,
      stateRoot: span.root,
      l2BlockHash: hexToBytes(end.blockHash),
      checkpoints: traceCheckpoints(preRoot, stepRoots, options.traceSteps),
      referenceRoot,
      fraud: !equalBytes(span.root, referenceRoot),
      challengeWindow: Number(end.challengeWindow),
    });
  }
  let firstFault: PlannedFault | undefined;
  const d = firstDivergence(reference, operator);
  if (d) {
    const span = epochSpans(reference).find((s) => s.first <= d.index && d.index <= s.last);
    if (span) {
      firstFault = {
        epoch: span.epoch,
        step: d.index - span.first,
        globalStep: d.index,
        inputKind: d.input.kind,
        rule: options.operator.breaks ?? 'unknown',
        fault: options.operator.name,
      };
    }
  }
  return { claims, firstFault, expect: options.expect ?? 'slashed' };
}

export const rootHex = (r: Uint8Array): string => `0x${bytesToHex(r)}`;
