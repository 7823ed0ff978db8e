import { describe, expect, it } from 'vitest';
import {
  executorByName,
  FAULTS,
  faultCatalogue,
  firstDivergence,
  type GovernanceInput,
  reexecute,
  UnknownFaultError,
} from '../../src/governance/index.ts';
import { generateWorkload, type WorkloadOptions } from '../../src/governance/workload.ts';
import { addr, Scenario } from './scenario.ts';

const A = addr('aa');
const B = addr('bb');
const C = addr('cc');
const V = addr('ee');
const D1 = addr('d1');

/** A scenario recorded with the reference, and the index of the input that exercises the fault's rule. */
type Case = { scenario: Scenario; step: number };

function passedProposal(params = {}) {
  const s = new Scenario(params).at(1).validator(A, 1000n);
  s.at(2);
  const id = s.setParam(A, 'epochReward', 5n);
  s.vote(A, id, 'for');
  return { s, id };
}

function rewardScenario(): Scenario {
  const s = new Scenario({ epochReward: 1_001n }).at(1).validator(A, 300n, 333).validator(B, 400n);
  s.delegate(D1, A, 200n);
  s.endEpoch();
  s.at(2).endEpoch();
  return s;
}

const CASES: Record<string, () => Case> = {
  'delegator-override-ignored': () => {
    const s = new Scenario().at(1).validator(A, 600n).validator(B, 100n);
    s.delegate(D1, A, 300n);
    s.at(2);
    const id = s.setParam(B, 'epochReward', 7n);
    s.vote(A, id, 'for');
    s.vote(D1, id, 'against');
    return { scenario: s, step: s.last };
  },
  'quorum-not-checked': () => {
    const s = new Scenario().at(1).validator(A, 601n).validator(B, 399n);
    s.at(2);
    const id = s.setParam(A, 'epochReward', 7n);
    s.vote(B, id, 'for');
    s.at(13).queue(id);
    return { scenario: s, step: s.last };
  },
  'approval-threshold-off-by-one': () => {
    const s = new Scenario({ thresholdBps: 6_000n }).at(1).validator(A, 600n).validator(B, 400n);
    s.at(2);
    const id = s.setParam(A, 'epochReward', 7n);
    s.vote(A, id, 'for');
    s.vote(B, id, 'against');
    s.at(13).queue(id);
    return { scenario: s, step: s.last };
  },
  'out-of-bounds-applied': () => {
    const s = new Scenario().at(1).validator(A, 1000n);
    s.at(2);
    const id = s.setParam(A, 'quorumBps', 0n);
    s.vote(A, id, 'for');
    s.at(13).queue(id);
    s.at(18).execute(id);
    return { scenario: s, step: s.last };
  },
  'canceled-proposal-executed': () => {
    const { s, id } = passedProposal();
    s.at(13).queue(id);
    s.cancel(A, id);
    s.at(18).execute(id);
    return { scenario: s, step: s.last };
  },
  'timelock-ignored': () => {
    const { s, id } = passedProposal();
    s.at(13).queue(id);
    s.at(17).execute(id);
    return { scenario: s, step: s.last };
  },
  'vote-counted-twice': () => {
    const { s, id } = passedProposal();
    s.vote(A, id, 'for');
    return { scenario: s, step: s.last };
  },
  'power-cap-not-applied': () => {
    const s = new Scenario({ maxPowerBps: 3_000n, maxValidators: 5n })
      .at(1)
      .validator(A, 1000n)
      .validator(B, 800n)
      .validator(C, 100n)
      .validator(V, 100n);
    s.endEpoch();
    return { scenario: s, step: s.last };
  },
  'tie-break-flipped': () => {
    const s = new Scenario({ maxValidators: 2n })
      .at(1)
      .validator(A, 500n)
      .validator(B, 500n)
      .validator(C, 500n);
    s.endEpoch();
    return { scenario: s, step: s.last };
  },
  'commission-not-taken': () => {
    const s = rewardScenario();
    return { scenario: s, step: s.last };
  },
  'rewards-rounded-up': () => {
    const s = rewardScenario();
    return { scenario: s, step: s.last };
  },
  'unstake-keeps-power': () => {
    const s = new Scenario().at(1).validator(A, 1000n);
    s.at(2).unstake(A, 400n);
    return { scenario: s, step: s.last };
  },
};

/** Workload options under which the fault's rule never decides anything differently. */
const QUIET: Record<string, Partial<WorkloadOptions>> = {
  'delegator-override-ignored': { weights: { vote: 0 } },
  'quorum-not-checked': { weights: { queue: 0 } },
  'approval-threshold-off-by-one': { weights: { queue: 0 } },
  'out-of-bounds-applied': { weights: { execute: 0 } },
  'canceled-proposal-executed': { weights: { cancel: 0 } },
  'timelock-ignored': { weights: { execute: 0 } },
  'vote-counted-twice': {}, // valid feeds never repeat a vote
  'power-cap-not-applied': { params: { maxPowerBps: 10_000n }, weights: { execute: 0 } }, // no executed change lowers the cap
  'tie-break-flipped': { validators: 1 },
  'commission-not-taken': { commissions: [0] },
  'rewards-rounded-up': { params: { epochReward: 0n }, weights: { execute: 0 } }, // no reward, and none voted in
  'unstake-keeps-power': { weights: { unstake: 0 } },
};

function traces(inputs: readonly GovernanceInput[], genesis: Scenario['genesis'], faultName: string) {
  const ref = reexecute(inputs, { genesis, trace: true });
  const bad = reexecute(inputs, { genesis, trace: true, executor: executorByName(faultName) });
  return { ref, bad, divergence: firstDivergence(ref.trace ?? [], bad.trace ?? []) };
}

describe('fault catalogue', () => {
  it('holds the reference and twelve faults, each breaking a distinct rule', () => {
    expect(FAULTS.length).toBeGreaterThanOrEqual(12);
    expect(new Set(FAULTS.map((f) => f.breaks)).size).toBe(FAULTS.length);
    expect(faultCatalogue.get('reference')?.breaks).toBeNull();
    expect(Object.keys(CASES).sort()).toEqual(FAULTS.map((f) => f.name).sort());
    expect(() => executorByName('no-such-fault')).toThrow(UnknownFaultError);
  });

  describe.each(FAULTS.map((f) => [f.name, f] as const))('%s', (name, fault) => {
    it('diverges at exactly the step that exercises its rule, and the trace names that rule', () => {
      const { scenario, step } = (CASES[name] as () => Case)();
      const { ref, bad, divergence } = traces(scenario.inputs, scenario.genesis, name);
      expect(divergence?.index).toBe(step);
      expect(divergence?.rules).toContain(fault.breaks);
      expect(Buffer.from(bad.root).equals(Buffer.from(ref.root))).toBe(false);
    });

    it('agrees with the reference on workloads that do not exercise its rule', () => {
      for (const seed of [1, 2, 3]) {
        const w = generateWorkload({ seed, inputs: 300, ...QUIET[name] });
        const { ref, divergence } = traces(w.inputs, w.genesis, name);
        expect(divergence).toBeUndefined();
        expect(ref.rejected).toBe(0);
      }
    });

    it('when it diverges on a random workload, the first divergent step evaluated its rule', () => {
      for (const seed of [11, 12]) {
        const w = generateWorkload({ seed, inputs: 300 });
        const { divergence } = traces(w.inputs, w.genesis, name);
        if (divergence) expect(divergence.rules).toContain(fault.breaks);
      }
    });
  });
});
