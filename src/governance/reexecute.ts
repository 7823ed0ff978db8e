/** Re-execution of an input sequence: the root per epoch and, on request, a trace with the root per step. */
import { bytesToHex } from '../core/bytes.ts';
import { applyInput, type Executor, REFERENCE_EXECUTOR } from './executor.ts';
import { createGenesisState } from './genesis.ts';
import type { GovernanceInput } from './inputs.ts';
import { type MerkleProof, verifyProof } from './merkle.ts';
import type { RuleId } from './rule-ids.ts';
import type { GenesisOptions, GovernanceState } from './state.ts';

/** Flushes pending leaf changes and returns the state root (32 bytes). */
export function computeStateRoot(state: GovernanceState): Uint8Array {
  state.leaves.flush();
  return state.leaves.tree.root();
}

export type TraceStep = {
  index: number;
  input: GovernanceInput;
  accepted: boolean;
  rejectedBy?: RuleId;
  reason?: string;
  rules: RuleId[];
  root: Uint8Array;
};

/**
 * A trace keeps one root per input, so a long epoch's trace is mostly roots and rule lists. The roots are
 * copied into shared slabs (a view each, not a buffer each) and equal rule lists are one frozen array:
 * about half the memory of a fresh array per step, with the same values.
 */
const MAX_ROOTS_PER_SLAB = 4096;
/**
 * Slabs start small and double: a short epoch's trace (a handful of steps, re-executed on every epoch a
 * daemon judges) must not allocate, and through its views keep alive, a buffer sized for a long one.
 */
const FIRST_SLAB_ROOTS = 16;

class TraceStore {
  private slab = new Uint8Array(0);
  private capacity = 0;
  private used = 0;
  private readonly ruleLists = new Map<string, RuleId[]>();

  root(root: Uint8Array): Uint8Array {
    if (this.used === this.capacity) {
      this.capacity = Math.min(MAX_ROOTS_PER_SLAB, Math.max(FIRST_SLAB_ROOTS, this.capacity * 2));
      this.slab = new Uint8Array(this.capacity * 32);
      this.used = 0;
    }
    const at = this.used++ * 32;
    this.slab.set(root, at);
    return this.slab.subarray(at, at + 32);
  }

  rules(rules: RuleId[]): RuleId[] {
    const key = rules.join(' ');
    let list = this.ruleLists.get(key);
    if (list === undefined) {
      list = Object.freeze(rules.slice()) as RuleId[];
      this.ruleLists.set(key, list);
    }
    return list;
  }
}

export type EpochRoot = { epoch: bigint; stepIndex: number; root: Uint8Array };

export type ReexecuteResult = {
  state: GovernanceState;
  /** The root after the last input. */
  root: Uint8Array;
  /** The root right after each endEpoch input (the roots an operator commits). */
  epochs: EpochRoot[];
  /** One step per input, only when `trace` was requested. */
  trace: TraceStep[] | undefined;
  accepted: number;
  rejected: number;
};

export type ReexecuteOptions = {
  genesis?: GenesisOptions;
  executor?: Executor;
  /** Compute the root after every step (costs one path rehash per changed leaf per step). */
  trace?: boolean;
  /** Start from this state instead of a fresh genesis (it is mutated). */
  state?: GovernanceState;
};

export function reexecute(
  inputs: readonly GovernanceInput[],
  options: ReexecuteOptions = {},
): ReexecuteResult {
  const state = options.state ?? createGenesisState(options.genesis);
  const executor = options.executor ?? REFERENCE_EXECUTOR;
  const trace: TraceStep[] | undefined = options.trace ? [] : undefined;
  const store = trace ? new TraceStore() : undefined;
  const epochs: EpochRoot[] = [];
  let accepted = 0;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i] as GovernanceInput;
    const out = applyInput(state, input, executor);
    if (out.accepted) accepted++;
    const needRoot = trace !== undefined || (out.accepted && input.kind === 'endEpoch');
    const root = needRoot ? computeStateRoot(state) : undefined;
    if (out.accepted && input.kind === 'endEpoch') {
      epochs.push({ epoch: state.epoch - 1n, stepIndex: i, root: root as Uint8Array });
    }
    if (trace && store) {
      const step: TraceStep = {
        index: i,
        input,
        accepted: out.accepted,
        rules: store.rules(out.rules),
        root: store.root(root as Uint8Array),
      };
      if (!out.accepted) {
        step.rejectedBy = out.rejectedBy;
        step.reason = out.reason;
      }
      trace.push(step);
    }
  }
  return {
    state,
    root: computeStateRoot(state),
    epochs,
    trace,
    accepted,
    rejected: inputs.length - accepted,
  };
}

/** Re-executes one epoch's inputs from `state` (or genesis): its final root and its trace. */
export function reexecuteEpoch(
  inputs: readonly GovernanceInput[],
  options: Omit<ReexecuteOptions, 'trace'> = {},
): { root: Uint8Array; trace: TraceStep[] } {
  const r = reexecute(inputs, { ...options, trace: true });
  return { root: r.root, trace: r.trace as TraceStep[] };
}

export type Divergence = {
  /** Index of the first step whose root differs. */
  index: number;
  input: GovernanceInput;
  expected: TraceStep;
  actual: TraceStep;
  /** The rules the reference evaluated at that step: the candidates for the rule broken. */
  rules: RuleId[];
};

/** The first step where `actual` departs from `expected`, or undefined if every root agrees. */
export function firstDivergence(
  expected: readonly TraceStep[],
  actual: readonly TraceStep[],
): Divergence | undefined {
  const n = Math.min(expected.length, actual.length);
  for (let i = 0; i < n; i++) {
    const e = expected[i] as TraceStep;
    const a = actual[i] as TraceStep;
    if (bytesToHex(e.root) !== bytesToHex(a.root)) {
      return { index: i, input: e.input, expected: e, actual: a, rules: e.rules };
    }
  }
  return undefined;
}

/** A membership proof for one leaf id (e.g. `v:0xabc…`), against the current root. */
export function proveLeaf(
  state: GovernanceState,
  id: string,
): { root: Uint8Array; leaf: Uint8Array; proof: MerkleProof } | undefined {
  const root = computeStateRoot(state);
  const leaf = state.leaves.leaf(id);
  if (!leaf) return undefined;
  return { root, leaf: leaf.bytes, proof: state.leaves.tree.proof(leaf.index) };
}

export { verifyProof };
