import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import {
  applyInput,
  computeStateRoot,
  createGenesisState,
  type Executor,
  FAULTS,
  type GenesisOptions,
  type GovernanceInput,
  REFERENCE_EXECUTOR,
  reexecute,
} from '../../src/governance/index.ts';
import { encodeStateSnapshot } from '../../src/governance/state-snapshot.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { diagnoseFraud } from '../../src/judge/diagnose.ts';
import { addr, Scenario } from '../governance/scenario.ts';

const hex = bytesToHex;

type Epoch = { start: number; end: number };

function epochsOf(inputs: readonly GovernanceInput[]): Epoch[] {
  const out: Epoch[] = [];
  let start = 0;
  inputs.forEach((input, i) => {
    if (input.kind === 'endEpoch') {
      out.push({ start, end: i });
      start = i + 1;
    }
  });
  return out;
}

/**
 * Independently of reexecute's trace: two reference pre-states stepped input by input, one with each
 * executor; the first input after which their roots differ, and the rules the reference evaluated there.
 */
function firstDifference(
  genesis: GenesisOptions,
  prior: readonly GovernanceInput[],
  epoch: readonly GovernanceInput[],
  fault: Executor,
): { step: number; rules: string[] } | undefined {
  const ref = createGenesisState(genesis);
  const bad = createGenesisState(genesis);
  for (const i of prior) {
    applyInput(ref, i, REFERENCE_EXECUTOR);
    applyInput(bad, i, REFERENCE_EXECUTOR);
  }
  for (let j = 0; j < epoch.length; j++) {
    const input = epoch[j] as GovernanceInput;
    const out = applyInput(ref, input, REFERENCE_EXECUTOR);
    applyInput(bad, input, fault);
    if (hex(computeStateRoot(ref)) !== hex(computeStateRoot(bad))) {
      return { step: j, rules: out.accepted ? out.rules : [...out.rules, out.rejectedBy] };
    }
  }
  return undefined;
}

/** The root a faulty operator claims for one epoch, from the reference state before it. */
function claimedRoot(
  genesis: GenesisOptions,
  prior: readonly GovernanceInput[],
  epoch: readonly GovernanceInput[],
  fault: Executor,
): Uint8Array {
  const state = createGenesisState(genesis);
  reexecute(prior, { state });
  return reexecute(epoch, { state, executor: fault }).root;
}

describe('diagnoseFraud on generated workloads', () => {
  // Valid workloads (every input accepted by the reference) reach these faults' rules within a few
  // epochs; the others need an input the reference rejects, covered with scenarios below.
  const reachedByWorkloads = [
    'delegator-override-ignored',
    'power-cap-not-applied',
    'tie-break-flipped',
    'commission-not-taken',
    'rewards-rounded-up',
    'unstake-keeps-power',
    'out-of-bounds-applied',
  ];

  it('names each fault, its rule, and the exact step where the rule first made a difference', () => {
    const diagnosed = new Set<string>();
    for (const seed of [1, 2]) {
      const w = generateWorkload({ seed, inputs: 240, epochLength: 30 });
      const epochs = epochsOf(w.inputs);
      for (const fault of FAULTS) {
        if (diagnosed.has(fault.name)) continue;
        for (const e of epochs) {
          const prior = w.inputs.slice(0, e.start);
          const epoch = w.inputs.slice(e.start, e.end + 1);
          const diff = firstDifference(w.genesis, prior, epoch, fault);
          if (!diff) continue;
          const d = diagnoseFraud({
            genesis: w.genesis,
            priorInputs: prior,
            epochInputs: epoch,
            claimedRoot: claimedRoot(w.genesis, prior, epoch, fault),
          });
          expect(d).toEqual({
            fault: fault.name,
            rule: fault.breaks,
            step: diff.step,
            globalStep: e.start + diff.step,
            inputKind: (epoch[diff.step] as GovernanceInput).kind,
          });
          expect(diff.rules).toContain(fault.breaks);
          diagnosed.add(fault.name);
          break;
        }
      }
    }
    expect([...diagnosed].sort()).toEqual([...reachedByWorkloads].sort());
  }, 120_000);

  it('from a base state (a pruned journal) it names the same fault at the same steps as from genesis', () => {
    const w = generateWorkload({ seed: 2, inputs: 240, epochLength: 30 });
    const epochs = epochsOf(w.inputs);
    let compared = 0;
    for (const fault of FAULTS) {
      for (const e of epochs.slice(2)) {
        const prior = w.inputs.slice(0, e.start);
        const epoch = w.inputs.slice(e.start, e.end + 1);
        const claimed = claimedRoot(w.genesis, prior, epoch, fault);
        const fromGenesis = diagnoseFraud({
          genesis: w.genesis,
          priorInputs: prior,
          epochInputs: epoch,
          claimedRoot: claimed,
        });
        if (fromGenesis.fault === undefined) continue;
        // The base: the state after the first two epochs; the prior inputs are those since.
        const cut = (epochs[1] as Epoch).end + 1;
        const base = createGenesisState(w.genesis);
        reexecute(w.inputs.slice(0, cut), { state: base });
        const before = hex(encodeStateSnapshot(base));
        const fromBase = diagnoseFraud({
          genesis: w.genesis,
          base: { state: base, inputs: cut },
          priorInputs: w.inputs.slice(cut, e.start),
          epochInputs: epoch,
          claimedRoot: claimed,
        });
        expect(fromBase).toEqual(fromGenesis);
        // The base is read, never run: every executor starts from its own copy.
        expect(hex(encodeStateSnapshot(base))).toBe(before);
        compared++;
        break;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(5);
  }, 120_000);

  it('an honest root is no fault, and a root no catalogue fault reproduces is unexplained', () => {
    const w = generateWorkload({ seed: 1, inputs: 120, epochLength: 30 });
    const [first, second] = epochsOf(w.inputs) as [Epoch, Epoch];
    const prior = w.inputs.slice(0, second.start);
    const epoch = w.inputs.slice(second.start, second.end + 1);
    const honest = claimedRoot(w.genesis, prior, epoch, REFERENCE_EXECUTOR);
    const d = diagnoseFraud({
      genesis: w.genesis,
      priorInputs: prior,
      epochInputs: epoch,
      claimedRoot: honest,
    });
    expect(d.fault).toBeUndefined();
    expect(d).toMatchObject({ reason: expect.stringMatching(/reference root/) });
    // The root of the previous epoch: wrong for this one, and no single broken rule explains it.
    const stale = claimedRoot(w.genesis, [], w.inputs.slice(0, first.end + 1), REFERENCE_EXECUTOR);
    const u = diagnoseFraud({
      genesis: w.genesis,
      priorInputs: prior,
      epochInputs: epoch,
      claimedRoot: stale,
    });
    expect(u).toMatchObject({ fault: undefined, reason: expect.stringMatching(/no executor/) });
  });
});

describe('diagnoseFraud on faults only an input the reference rejects reaches', () => {
  const A = addr('aa');
  const B = addr('bb');

  function passedProposal(params = {}) {
    const s = new Scenario(params).at(1).validator(A, 1000n);
    s.at(2);
    const id = s.setParam(A, 'epochReward', 5n);
    s.vote(A, id, 'for');
    return { s, id };
  }

  /** A scenario and the index of the input where the fault's rule decides differently. */
  const CASES: Record<string, () => { s: Scenario; step: number }> = {
    'quorum-not-checked': () => {
      const s = new Scenario().at(1).validator(A, 601n).validator(B, 399n);
      s.at(2);
      const id = s.setParam(A, 'epochReward', 7n);
      s.vote(B, id, 'for');
      s.at(13).queue(id);
      return { s, step: s.last };
    },
    'approval-threshold-off-by-one': () => {
      const s = new Scenario({ thresholdBps: 6_000n }).at(1).validator(A, 600n).validator(B, 400n);
      s.at(2);
      const id = s.setParam(A, 'epochReward', 7n);
      s.vote(A, id, 'for');
      s.vote(B, id, 'against');
      s.at(13).queue(id);
      return { s, step: s.last };
    },
    'canceled-proposal-executed': () => {
      const { s, id } = passedProposal();
      s.at(13).queue(id);
      s.cancel(A, id);
      s.at(18).execute(id);
      return { s, step: s.last };
    },
    'timelock-ignored': () => {
      const { s, id } = passedProposal();
      s.at(13).queue(id);
      s.at(17).execute(id);
      return { s, step: s.last };
    },
    'vote-counted-twice': () => {
      const { s, id } = passedProposal();
      s.vote(A, id, 'for');
      return { s, step: s.last };
    },
  };

  it.each(Object.keys(CASES))('%s', (name) => {
    const fault = FAULTS.find((f) => f.name === name) as Executor;
    const { s, step } = (CASES[name] as () => { s: Scenario; step: number })();
    s.at(20).endEpoch();
    // The first two inputs form the history before the epoch: the step is counted from the epoch's start.
    const prior = s.inputs.slice(0, 2);
    const epoch = s.inputs.slice(2);
    const d = diagnoseFraud({
      genesis: s.genesis,
      priorInputs: prior,
      epochInputs: epoch,
      claimedRoot: claimedRoot(s.genesis, prior, epoch, fault),
    });
    expect(d).toEqual({
      fault: name,
      rule: fault.breaks,
      step: step - 2,
      globalStep: step,
      inputKind: (s.inputs[step] as GovernanceInput).kind,
    });
    expect(firstDifference(s.genesis, prior, epoch, fault)?.step).toBe(step - 2);
  });
});
