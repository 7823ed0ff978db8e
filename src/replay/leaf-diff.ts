/**
 * The state leaves a divergent step leaves different: the reference and the executor that reproduces
 * the operator's claim both run the epoch up to and including that step from the same pre-state, and
 * every leaf whose bytes differ (or that only one side has) is listed. This is what "expected vs claimed
 * leaf values" means in a replay: the records the broken rule wrote wrong.
 */
import { bytesToHex } from '../core/bytes.ts';
import {
  createGenesisState,
  type Executor,
  type GenesisOptions,
  type GovernanceInput,
  type GovernanceState,
  reexecute,
} from '../governance/index.ts';

export type LeafDifference = {
  /** The leaf id (hex, its first byte the kind, docs/protocol.md §8). */
  id: string;
  kind: string;
  /** The leaf's bytes (hex) after the step under the reference; undefined when it has no such leaf. */
  expected: string | undefined;
  claimed: string | undefined;
};

const KIND_BY_PREFIX: Readonly<Record<string, string>> = {
  '01': 'global',
  '02': 'param',
  '03': 'module',
  '04': 'validator',
  '05': 'delegation',
  '06': 'active slot',
  '07': 'reward',
  '08': 'proposal',
  '09': 'vote',
  '0a': 'checkpoint',
  '0b': 'pending param',
  '0c': 'proposal action',
};

/** At most this many differences are listed (a broken sort can rewrite every active slot). */
export const MAX_LEAF_DIFFERENCES = 64;

function leavesOf(s: GovernanceState): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of s.leaves.ids()) {
    const leaf = s.leaves.leaf(id);
    if (leaf !== undefined) out.set(id, bytesToHex(leaf.bytes));
  }
  return out;
}

export function leafDifferencesAt(o: {
  genesis: GenesisOptions;
  priorInputs: readonly GovernanceInput[];
  epochInputs: readonly GovernanceInput[];
  /** The divergent step (index within the epoch's inputs). */
  step: number;
  reference: Executor;
  claimed: Executor;
}): { differences: LeafDifference[]; total: number } {
  const run = (executor: Executor): Map<string, string> => {
    const state = createGenesisState(o.genesis);
    if (o.priorInputs.length > 0) reexecute(o.priorInputs, { state });
    reexecute(o.epochInputs.slice(0, o.step + 1), { state, executor });
    return leavesOf(state);
  };
  const expected = run(o.reference);
  const claimed = run(o.claimed);
  const ids = [...new Set([...expected.keys(), ...claimed.keys()])].sort();
  const all: LeafDifference[] = [];
  for (const id of ids) {
    const e = expected.get(id);
    const c = claimed.get(id);
    if (e === c) continue;
    all.push({ id, kind: KIND_BY_PREFIX[id.slice(0, 2)] ?? 'unknown', expected: e, claimed: c });
  }
  return { differences: all.slice(0, MAX_LEAF_DIFFERENCES), total: all.length };
}
