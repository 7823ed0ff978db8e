import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import {
  createGenesisState,
  getActiveSet,
  getParam,
  getProposal,
  getReward,
  getRewardTotals,
  getValidator,
  getVote,
  InvalidGenesisError,
  leafIds,
  ProposalStatus,
  proposalState,
  votingPowerAt,
} from '../../src/governance/index.ts';
import { encodeActionLeaf } from '../../src/governance/state.ts';
import { addr, Scenario } from './scenario.ts';

const A = addr('aa');
const B = addr('bb');
const C = addr('cc');
const V = addr('ee');
const D1 = addr('d1');
const D2 = addr('d2');
const hex = (b: Uint8Array) => bytesToHex(b);

/** A (self a) and B (self b) staked at block 1; a proposal by A at block 2 (snapshot 1). */
function twoValidators(a: bigint, b: bigint, params = {}) {
  const s = new Scenario(params).at(1).validator(A, a).validator(B, b);
  s.at(2);
  const id = s.setParam(A, 'epochReward', 7n);
  return { s, id };
}

describe('quorum (queue.quorum): voted × 10000 ≥ quorumBps × bonded at the snapshot', () => {
  it.each([
    { name: 'met exactly (400 of 1000 at 40%)', a: 600n, b: 400n, expected: true },
    { name: 'one short (399 of 1000)', a: 601n, b: 399n, expected: false },
  ])('$name', ({ a, b, expected }) => {
    const { s, id } = twoValidators(a, b);
    expect(s.vote(B, id, 'for').accepted).toBe(true);
    s.at(13);
    const out = s.queue(id);
    expect(out.accepted).toBe(expected);
    if (!out.accepted) expect(out.rejectedBy).toBe('queue.quorum');
    expect(getProposal(s.state, id)?.bondedAtSnapshot).toBe(1000n);
  });

  it('counts abstain toward quorum', () => {
    const { s, id } = twoValidators(700n, 300n);
    s.at(3).register(C);
    s.vote(B, id, 'abstain'); // 300 < 400 alone
    expect(s.at(13).queue(id).accepted).toBe(false);
    const { s: s2, id: id2 } = twoValidators(600n, 400n);
    s2.vote(B, id2, 'abstain');
    // quorum met (400) but approval fails: for = 0, against = 0 → 0 > 0 is false
    const out = s2.at(13).queue(id2);
    expect(out.accepted ? '' : out.rejectedBy).toBe('queue.approval');
  });
});

describe('approval (queue.approval): for × 10000 > thresholdBps × (for + against)', () => {
  it.each([
    { name: 'exactly at the 60% threshold fails (strict)', forV: 600n, againstV: 400n, expected: false },
    { name: 'one unit above passes', forV: 601n, againstV: 399n, expected: true },
  ])('$name', ({ forV, againstV, expected }) => {
    const { s, id } = twoValidators(forV, againstV, { thresholdBps: 6_000n });
    s.vote(A, id, 'for');
    s.vote(B, id, 'against');
    const out = s.at(13).queue(id);
    expect(out.accepted).toBe(expected);
    if (!out.accepted) expect(out.rejectedBy).toBe('queue.approval');
  });

  it('abstain counts toward quorum only', () => {
    // for 300, against 200, abstain 500: 300/500 = 60% of for+against > 50% → passes
    const s = new Scenario().at(1).validator(A, 300n).validator(B, 200n).validator(C, 500n);
    s.at(2);
    const id = s.setParam(A, 'epochReward', 7n);
    s.vote(A, id, 'for');
    s.vote(B, id, 'against');
    s.vote(C, id, 'abstain');
    expect(getProposal(s.state, id)?.tally).toEqual({ for: 300n, against: 200n, abstain: 500n });
    expect(s.at(13).queue(id).accepted).toBe(true);
  });
});

describe('voting period and timelock boundaries', () => {
  it('accepts a vote at voteEnd, rejects one after; queue only after voteEnd', () => {
    const { s, id } = twoValidators(600n, 400n);
    expect(getProposal(s.state, id)?.voteEnd).toBe(12n);
    expect(s.at(12).vote(A, id, 'for').accepted).toBe(true);
    const q = s.queue(id);
    expect(q.accepted ? '' : q.rejectedBy).toBe('queue.period');
    const late = s.at(13).vote(B, id, 'against');
    expect(late.accepted ? '' : late.rejectedBy).toBe('vote.period');
    expect(s.queue(id).accepted).toBe(true);
    expect(getProposal(s.state, id)?.eta).toBe(18n);
    const early = s.at(17).execute(id);
    expect(early.accepted ? '' : early.rejectedBy).toBe('execute.timelock');
    expect(s.at(18).execute(id).accepted).toBe(true);
    expect(getParam(s.state, 'epochReward')).toBe(7n);
    expect(proposalState(s.state, id, 18n)).toBe('executed');
  });
});

describe('voting power at the snapshot (vote.power)', () => {
  it('ignores stake added in the proposal block and reads the block before', () => {
    const s = new Scenario().at(1).validator(A, 100n);
    s.at(5).stake(A, 900n);
    const id = s.setParam(A, 'epochReward', 7n);
    s.vote(A, id, 'for');
    expect(getProposal(s.state, id)?.tally.for).toBe(100n);
    expect(getProposal(s.state, id)?.bondedAtSnapshot).toBe(100n);
    expect(votingPowerAt(s.state, A, 5n)).toBe(1000n);
  });

  it('rejects a vote without power (zero-stake validator) and a repeated vote', () => {
    const { s, id } = twoValidators(600n, 400n);
    s.register(V);
    const none = s.vote(V, id, 'for');
    expect(none.accepted ? '' : none.rejectedBy).toBe('vote.power');
    s.vote(A, id, 'for');
    const again = s.vote(A, id, 'against');
    expect(again.accepted ? '' : again.rejectedBy).toBe('vote.once');
    expect(getProposal(s.state, id)?.tally).toEqual({ for: 600n, against: 0n, abstain: 0n });
  });
});

describe('delegator override (vote.override)', () => {
  // A self 600 with D1 delegating 300; B self 100. Bonded 1000.
  function setup() {
    const s = new Scenario().at(1).validator(A, 600n).validator(B, 100n);
    s.delegate(D1, A, 300n);
    s.at(2);
    const id = s.setParam(B, 'epochReward', 7n);
    return { s, id };
  }

  it.each([
    { order: 'validator first', first: A, second: D1 },
    { order: 'delegator first', first: D1, second: A },
  ])('gives the same tally with the $order', ({ first, second }) => {
    const { s, id } = setup();
    const support = (x: typeof A) => (x === A ? 'for' : 'against');
    expect(s.vote(first, id, support(first)).accepted).toBe(true);
    expect(s.vote(second, id, support(second)).accepted).toBe(true);
    expect(getProposal(s.state, id)?.tally).toEqual({ for: 600n, against: 300n, abstain: 0n });
    expect(getVote(s.state, id, A)?.weight).toBe(600n);
    expect(getVote(s.state, id, D1)?.weight).toBe(300n);
  });

  it('lets a validator vote with its delegators when they do not vote', () => {
    const { s, id } = setup();
    s.vote(A, id, 'for');
    expect(getProposal(s.state, id)?.tally.for).toBe(900n);
  });
});

describe('execution (execute.status, execute.bounds)', () => {
  function passed(actions: Parameters<Scenario['propose']>[1], modules = false) {
    const s = new Scenario(
      {},
      undefined,
      modules
        ? {
            params: { votingPeriod: 10n, timelock: 5n, minStake: 100n },
            modules: [{ id: 'privacy', version: 1n, codeHash: `0x${'11'.repeat(32)}` }],
          }
        : undefined,
    )
      .at(1)
      .validator(A, 1000n);
    s.at(2);
    const id = s.propose(A, actions);
    s.vote(A, id, 'for');
    s.at(13).queue(id);
    s.at(18);
    return { s, id };
  }

  it.each([
    { key: 'quorumBps' as const, value: 1n, ok: true },
    { key: 'quorumBps' as const, value: 10_000n, ok: true },
    { key: 'quorumBps' as const, value: 0n, ok: false },
    { key: 'maxPowerBps' as const, value: 10_001n, ok: false },
    { key: 'thresholdBps' as const, value: 4_999n, ok: false },
    { key: 'thresholdBps' as const, value: 9_900n, ok: true },
    { key: 'timelock' as const, value: 0n, ok: true },
  ])('$key = $value → executed: $ok', ({ key, value, ok }) => {
    const { s, id } = passed([{ kind: 'setParameter', key, value }]);
    const before = getParam(s.state, key);
    expect(s.execute(id).accepted).toBe(true);
    expect(getProposal(s.state, id)?.status).toBe(ok ? ProposalStatus.Executed : ProposalStatus.Failed);
    expect(getParam(s.state, key)).toBe(ok ? value : before);
  });

  it('keeps each action as a leaf (§8, 0x0c) in proposal order, created with the proposal', () => {
    const actions = [
      { kind: 'setParameter' as const, key: 'quorumBps' as const, value: 7n },
      {
        kind: 'upgradeModule' as const,
        moduleId: 'bridge',
        version: 4n,
        codeHash: `0x${'ab'.repeat(32)}` as const,
      },
    ];
    const { s, id } = passed(actions);
    s.state.leaves.flush();
    for (const [i, a] of actions.entries()) {
      const leaf = s.state.leaves.leaf(leafIds.action(id, i));
      expect(leaf?.bytes).toEqual(encodeActionLeaf(id, i, a).slice());
    }
    expect(s.state.leaves.leaf(leafIds.action(id, 2))).toBeUndefined();
    const first = s.state.leaves.leaf(leafIds.action(id, 0))?.index as number;
    expect(s.state.leaves.leaf(leafIds.action(id, 1))?.index).toBe(first + 1);
    expect(s.state.leaves.leaf(leafIds.proposal(id))?.index).toBe(first - 1);
  });

  it('applies nothing when any action of the proposal is out of bounds', () => {
    const { s, id } = passed([
      { kind: 'setParameter', key: 'epochReward', value: 5n },
      { kind: 'setParameter', key: 'maxValidators', value: 101n },
    ]);
    s.execute(id);
    expect(getProposal(s.state, id)?.status).toBe(ProposalStatus.Failed);
    expect(getParam(s.state, 'epochReward')).toBe(1000n);
  });

  it('upgrades a module only to a strictly higher version', () => {
    const hash = `0x${'22'.repeat(32)}` as const;
    const ok = passed([{ kind: 'upgradeModule', moduleId: 'privacy', version: 2n, codeHash: hash }], true);
    ok.s.execute(ok.id);
    expect(ok.s.state.modules.get('privacy')).toEqual({ version: 2n, codeHash: hash });
    const same = passed([{ kind: 'upgradeModule', moduleId: 'privacy', version: 1n, codeHash: hash }], true);
    same.s.execute(same.id);
    expect(getProposal(same.s.state, same.id)?.status).toBe(ProposalStatus.Failed);
    const twice = passed(
      [
        { kind: 'upgradeModule', moduleId: 'privacy', version: 3n, codeHash: hash },
        { kind: 'upgradeModule', moduleId: 'privacy', version: 3n, codeHash: hash },
      ],
      true,
    );
    twice.s.execute(twice.id);
    expect(getProposal(twice.s.state, twice.id)?.status).toBe(ProposalStatus.Failed);
    expect(twice.s.state.modules.get('privacy')?.version).toBe(1n);
  });

  it('never executes a canceled, executed or unqueued proposal; only the proposer cancels', () => {
    const { s, id } = passed([{ kind: 'setParameter', key: 'epochReward', value: 5n }]);
    const notProposer = s.cancel(B, id);
    expect(notProposer.accepted ? '' : notProposer.rejectedBy).toBe('cancel');
    expect(s.cancel(A, id).accepted).toBe(true); // a queued proposal can be canceled
    const ex = s.execute(id);
    expect(ex.accepted ? '' : ex.rejectedBy).toBe('execute.status');
    expect(getParam(s.state, 'epochReward')).toBe(1000n);
    const { s: s2, id: id2 } = passed([{ kind: 'setParameter', key: 'epochReward', value: 5n }]);
    expect(s2.execute(id2).accepted).toBe(true);
    expect(s2.execute(id2).accepted).toBe(false);
    expect(s2.cancel(A, id2).accepted).toBe(false);
  });

  it('freezes quorum/threshold/period/timelock per proposal; end-of-epoch parameters apply at once', () => {
    const { s, id } = passed([
      { kind: 'setParameter', key: 'quorumBps', value: 10_000n },
      { kind: 'setParameter', key: 'maxValidators', value: 1n },
    ]);
    s.register(B);
    s.stake(B, 500n);
    const open = s.setParam(A, 'epochReward', 9n); // created before the change: keeps 40 %
    s.execute(id);
    const after = s.setParam(A, 'epochReward', 8n);
    expect(s.state.proposals.get(open)?.quorumBps).toBe(4_000n);
    expect(s.state.proposals.get(after)?.quorumBps).toBe(10_000n);
    s.endEpoch();
    expect(getActiveSet(s.state).map((e) => e.validator)).toEqual([A]); // maxValidators 1 already
  });
});

describe('end of epoch: rewards (hand-computed)', () => {
  // A self 300 (commission 3.33 %) with D1 200 and D2 100; B self 400, no commission. No cap.
  // Epoch 0 → set {A 600, B 400}. Epoch 1 reward 1001: R_A = ⌊1001·600/1000⌋ = 600, R_B = 400, +1 treasury.
  // A: C = ⌊600·333/10000⌋ = 19, rest 581, base 600: D1 ⌊581·200/600⌋ = 193, D2 ⌊581·100/600⌋ = 96,
  // self ⌊581·300/600⌋ = 290 → A 309, treasury +2. Epoch 0 had no set: treasury +1001.
  it('splits by power, takes commission, floors every share and sends remainders to the treasury', () => {
    const s = new Scenario({ epochReward: 1_001n }).at(1).validator(A, 300n, 333).validator(B, 400n);
    s.delegate(D1, A, 200n);
    s.delegate(D2, A, 100n);
    s.endEpoch();
    expect(getActiveSet(s.state)).toEqual([
      { validator: A, power: 600n },
      { validator: B, power: 400n },
    ]);
    s.at(2).endEpoch();
    expect([A, B, D1, D2].map((x) => getReward(s.state, x))).toEqual([309n, 400n, 193n, 96n]);
    expect(getRewardTotals(s.state)).toEqual({ issued: 2_002n, paid: 998n, treasury: 1_004n });
  });

  it('pays a governance subsidy equally to the validators that voted, remainder to the treasury', () => {
    const s = new Scenario({ epochReward: 0n, governanceSubsidy: 100n, quorumBps: 1n })
      .at(1)
      .validator(A, 100n)
      .validator(B, 100n)
      .validator(C, 100n);
    s.delegate(D1, A, 50n);
    s.at(2);
    const id = s.setParam(A, 'epochReward', 0n);
    for (const x of [A, B, C, D1]) s.vote(x, id, 'for');
    s.at(13).queue(id);
    s.at(18).execute(id);
    s.endEpoch();
    expect([A, B, C, D1].map((x) => getReward(s.state, x))).toEqual([33n, 33n, 33n, 0n]);
    expect(getRewardTotals(s.state)).toEqual({ issued: 100n, paid: 99n, treasury: 1n });
  });
});

describe('end of epoch: the next validator set', () => {
  it('breaks ties in total power by address ascending', () => {
    const s = new Scenario({ maxValidators: 2n })
      .at(1)
      .validator(C, 500n)
      .validator(B, 500n)
      .validator(A, 500n);
    s.endEpoch();
    expect(getActiveSet(s.state).map((e) => e.validator)).toEqual([A, B]);
  });

  it('caps power at maxPowerBps of the selected total, binding on several validators, no redistribution', () => {
    // totals 1000, 800, 100, 100 → T = 2000, cap = ⌊2000·3000/10000⌋ = 600
    const s = new Scenario({ maxPowerBps: 3_000n, maxValidators: 5n })
      .at(1)
      .validator(A, 1000n)
      .validator(B, 700n)
      .validator(C, 100n)
      .validator(V, 100n);
    s.delegate(D1, B, 100n);
    s.endEpoch();
    expect(getActiveSet(s.state)).toEqual([
      { validator: A, power: 600n },
      { validator: B, power: 600n },
      { validator: C, power: 100n },
      { validator: V, power: 100n },
    ]);
  });

  it('excludes zero-stake and fully unstaked validators, but pays an active one that unstaked in full', () => {
    const s = new Scenario({ maxPowerBps: 5_000n }).at(1).validator(A, 500n);
    s.register(V); // zero stake: never a candidate
    s.endEpoch();
    expect(getActiveSet(s.state)).toEqual([{ validator: A, power: 250n }]);
    s.at(2).unstake(A, 500n);
    expect(getValidator(s.state, A)?.selfStake).toBe(0n);
    s.endEpoch(); // A was active: base 0 → the whole reward goes to A
    expect(getReward(s.state, A)).toBe(1000n);
    expect(getActiveSet(s.state)).toEqual([]);
    s.endEpoch(); // no set: everything to the treasury
    expect(getRewardTotals(s.state)).toEqual({ issued: 3000n, paid: 1000n, treasury: 2000n });
  });

  it('requires self stake ≥ minStake (exactly minStake qualifies)', () => {
    const s = new Scenario({ minStake: 100n }).at(1).validator(A, 100n).validator(B, 99n);
    s.delegate(D1, B, 1000n);
    s.endEpoch();
    expect(getActiveSet(s.state).map((e) => e.validator)).toEqual([A]);
  });
});

describe('rejected inputs change nothing', () => {
  it.each([
    { name: 'unstake more than staked', rule: 'unstake', run: (s: Scenario) => s.unstake(A, 601n) },
    { name: 'unstake by a non-validator', rule: 'unstake', run: (s: Scenario) => s.unstake(D1, 1n) },
    { name: 'stake zero', rule: 'stake', run: (s: Scenario) => s.stake(A, 0n) },
    { name: 'register twice', rule: 'register', run: (s: Scenario) => s.register(A) },
    { name: 'commission above 100 %', rule: 'register', run: (s: Scenario) => s.register(C, 10_001) },
    { name: 'a validator delegating', rule: 'delegate', run: (s: Scenario) => s.delegate(B, A, 1n) },
    { name: 'delegate to a second validator', rule: 'delegate', run: (s: Scenario) => s.delegate(D1, B, 1n) },
    { name: 'delegate to a non-validator', rule: 'delegate', run: (s: Scenario) => s.delegate(D2, C, 1n) },
    {
      name: 'undelegate more than delegated',
      rule: 'undelegate',
      run: (s: Scenario) => s.undelegate(D1, A, 301n),
    },
    {
      name: 'undelegate from the wrong validator',
      rule: 'undelegate',
      run: (s: Scenario) => s.undelegate(D1, B, 1n),
    },
    { name: 'a delegator registering', rule: 'register', run: (s: Scenario) => s.register(D1) },
    { name: 'vote on an unknown proposal', rule: 'vote.status', run: (s: Scenario) => s.vote(A, 99n, 'for') },
    { name: 'queue an unknown proposal', rule: 'queue.status', run: (s: Scenario) => s.queue(99n) },
    {
      name: 'propose an unknown key',
      rule: 'propose',
      run: (s: Scenario) =>
        s.apply({ kind: 'propose', sender: A, actions: [{ kind: 'setParameter', key: 'nope', value: 1n }] }),
    },
    {
      name: 'propose nothing',
      rule: 'propose',
      run: (s: Scenario) => s.apply({ kind: 'propose', sender: A, actions: [] }),
    },
    {
      name: 'an input out of L2 order',
      rule: 'input.order',
      run: (s: Scenario) => s.at(0).stake(A, 1n),
    },
  ])('$name → rejected by $rule', ({ rule, run }) => {
    const s = new Scenario().at(1).validator(A, 600n).validator(B, 400n);
    s.delegate(D1, A, 300n);
    const before = hex(s.root());
    const out = run(s);
    expect(out.accepted).toBe(false);
    if (!out.accepted) expect(out.rejectedBy).toBe(rule);
    expect(hex(s.root())).toBe(before);
  });

  it('limits a validator to 32 delegators with a non-zero delegation', () => {
    const s = new Scenario().at(1).validator(A, 600n);
    for (let i = 0; i < 32; i++) expect(s.delegate(addr((0x10 + i).toString(16)), A, 1n).accepted).toBe(true);
    expect(s.delegate(addr('f0'), A, 1n).accepted).toBe(false);
    s.undelegate(addr('10'), A, 1n); // a slot frees up when a delegation reaches 0
    expect(s.delegate(addr('f0'), A, 1n).accepted).toBe(true);
    expect(getValidator(s.state, A)?.delegatorCount).toBe(32);
  });
});

describe('input order (input.order)', () => {
  it('refuses block 0 (the L2 genesis): a first input there could not be told from "none yet" in the global leaf', () => {
    const s = new Scenario().at(0);
    const before = hex(s.root());
    const first = s.register(A, 500);
    expect(first.accepted).toBe(false);
    if (!first.accepted) expect(first.rejectedBy).toBe('input.order');
    expect(hex(s.root())).toBe(before);
    expect(s.at(1).register(A, 500).accepted).toBe(true);
  });
});

describe('genesis', () => {
  it('rejects parameters outside their bounds and accepts them at the bounds', () => {
    expect(() => createGenesisState({ params: { maxValidators: 0n } })).toThrow(InvalidGenesisError);
    expect(() => createGenesisState({ params: { thresholdBps: 9_901n } })).toThrow(/outside/);
    expect(createGenesisState({ params: { maxValidators: 100n, quorumBps: 1n } }).params.maxValidators).toBe(
      100n,
    );
  });
});
