/**
 * One hand-written scenario per catalogue fault (src/governance/faults.ts), recorded with the reference:
 * its last input is the one that exercises the fault's rule. Shared by the catalogue tests and GVM-1's
 * fault-divergence test.
 */
import type { ProgramFault } from '../../src/machine/programs/faults.ts';
import { addr, Scenario } from './scenario.ts';

const A = addr('aa');
const B = addr('bb');
const C = addr('cc');
const V = addr('ee');
const D1 = addr('d1');

/** A scenario recorded with the reference, and the index of the input that exercises the fault's rule. */
export type Case = { scenario: Scenario; step: number };

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

export const FAULT_CASES: Readonly<Record<string, () => Case>> = {
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

/** The governance program's label (src/machine/programs) each fault's first divergent micro-step lies under: its rule's code. */
export const FAULT_RULE_LABEL: Readonly<Record<NonNullable<ProgramFault>, RegExp>> = {
  'delegator-override-ignored': /^rule\.vote\+/,
  'quorum-not-checked': /^rule\.queue\+/,
  'approval-threshold-off-by-one': /^rule\.queue\+/,
  'out-of-bounds-applied': /^rule\.execute\+/,
  'canceled-proposal-executed': /^rule\.execute\+/,
  'timelock-ignored': /^rule\.execute\+/,
  'vote-counted-twice': /^rule\.vote\+/,
  'power-cap-not-applied': /^rule\.endEpoch\+/,
  'tie-break-flipped': /^rule\.endEpoch\+/,
  'commission-not-taken': /^rule\.endEpoch\+/,
  'rewards-rounded-up': /^rule\.endEpoch\+/,
  'unstake-keeps-power': /^rule\.unstake\+/,
};
