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
import { FAULT_CASES as CASES, type Case } from './fault-cases.ts';
import type { Scenario } from './scenario.ts';

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
