/**
 * propose and execute in the governance program (docs/protocol.md §5, §23): over seeded workloads in
 * which the program itself proposes, votes, queues, cancels and executes (from genesis; no endEpoch, which
 * the program does not run yet), with crafted rejections mixed in, the machine's image after every input
 * is the model's, the final root is the model's, and every step and read is correct. The three catalogue
 * faults that break execute, compiled into the program, match the faulty model and not the honest one.
 */
import { describe, expect, it } from 'vitest';
import {
  type Address,
  applyInput,
  createGenesisState,
  executorByName,
  type GenesisOptions,
  type GovernanceInput,
  type GovernanceState,
  type Hash32,
  PARAM_KEYS,
  PARAM_SPECS,
  type ParamKey,
  type ProposalAction,
  ProposalStatus,
  type VoteSupport,
} from '../../src/governance/index.ts';
import { createRng, WORKLOAD_PARAMS, workloadAddress } from '../../src/governance/workload.ts';
import { buildGovernanceProgram } from '../../src/machine/programs/governance.ts';
import { checkEquivalence, type Figures, noFigures, reference } from './equivalence.ts';

const hash = (n: number): Hash32 => `0x${n.toString(16).padStart(64, '0')}` as Hash32;

/**
 * Genesis modules: `bridge` (upgraded over its record) and `timelock`, a module named like a parameter,
 * so its key word is also the `timelock` param record's (the program must tell them apart by word 15).
 */
const GENESIS: GenesisOptions = {
  params: WORKLOAD_PARAMS,
  modules: [
    { id: 'bridge', version: 3n, codeHash: hash(0xb1) },
    { id: 'timelock', version: 1n, codeHash: hash(0x71) },
  ],
};
const GENESIS_VERSION = new Map((GENESIS.modules ?? []).map((m) => [m.id, m.version]));
/** Modules proposals upgrade: the genesis ones, new ones, and new ones named like a (rollup) parameter. */
const MODULES = ['bridge', 'timelock', 'privacy', 'quorumBps', 'l2GasLimit'] as const;

/**
 * Values kept near the workload's for the parameters frozen into proposals, so that later proposals still
 * end their voting and timelock in a few blocks and reach quorum and approval.
 */
const FROZEN_RANGE: Partial<Record<ParamKey, readonly [bigint, bigint]>> = {
  quorumBps: [1n, 3_000n],
  thresholdBps: [5_000n, 6_000n],
  votingPeriod: [1n, 14n],
  timelock: [0n, 5n],
};

const SHORT_PERIOD = 14n;

type Sim = {
  readonly model: GovernanceState;
  readonly inputs: GovernanceInput[];
  readonly rng: () => number;
  block: bigint;
  tx: number;
  /** Rejected proposals so far: they take the five kinds of rejection in turn. */
  bad: number;
};

const int = (sim: Sim, n: number): number => Math.floor(sim.rng() * n);
const pick = <T>(sim: Sim, xs: readonly T[]): T => xs[int(sim, xs.length)] as T;

/** Appends an input at the next position (same block, next tx, or `advance` blocks on). */
function push(
  sim: Sim,
  input: Record<string, unknown> & { kind: GovernanceInput['kind'] },
  advance = 0n,
): void {
  if (advance > 0n) {
    sim.block += advance;
    sim.tx = 0;
  } else sim.tx += 1;
  const full = { ...input, position: { block: sim.block, txIndex: sim.tx, logIndex: int(sim, 3) } };
  sim.inputs.push(full as GovernanceInput);
  applyInput(sim.model, full as GovernanceInput);
}

/** A parameter value: in bounds mostly (at the edges often), out of bounds one time in five. */
function paramValue(sim: Sim, key: ParamKey): bigint {
  const { min, max } = PARAM_SPECS[key];
  const r = sim.rng();
  if (r < 0.1 && min > 0n) return min - 1n;
  if (r < 0.2) return max + 1n + BigInt(int(sim, 3));
  const range = FROZEN_RANGE[key];
  if (range !== undefined) return range[0] + BigInt(int(sim, Number(range[1] - range[0]) + 1));
  if (r < 0.4) return min;
  if (r < 0.6) return max;
  return min + BigInt(int(sim, 1000)) > max ? max : min + BigInt(int(sim, 1000));
}

/**
 * 1 … 5 actions from small pools, so a proposal often sets one parameter or upgrades one module twice;
 * module versions mostly increase over the module's current one (as of this proposal's earlier
 * actions), sometimes repeat it (the proposal fails), sometimes jump to 2^64 − 1.
 */
function actions(sim: Sim, count = 1 + int(sim, 5)): ProposalAction[] {
  const out: ProposalAction[] = [];
  const versions = new Map<string, bigint>();
  const keys = [pick(sim, PARAM_KEYS), pick(sim, PARAM_KEYS), 'l2GasLimit', 'timelock'] as const;
  for (let i = 0; i < count; i++) {
    if (sim.rng() < 0.55) {
      const key = pick(sim, keys);
      out.push({ kind: 'setParameter', key, value: paramValue(sim, key) });
    } else {
      const moduleId = pick(sim, MODULES);
      const cur = versions.get(moduleId) ?? sim.model.modules.get(moduleId)?.version ?? 0n;
      const r = sim.rng();
      const next = r < 0.1 && cur > 0n ? cur : r < 0.15 ? (1n << 64n) - 1n : cur + 1n + BigInt(int(sim, 2));
      const version = next >= 1n << 64n ? cur : next;
      versions.set(moduleId, version);
      out.push({ kind: 'upgradeModule', moduleId, version, codeHash: hash(1 + int(sim, 0xffff)) });
    }
  }
  return out;
}

/** Proposals the model rejects: 0 or 17 actions, an unknown parameter, a version 0 or 2^64. */
function badActions(sim: Sim): ProposalAction[] {
  const good = actions(sim, 2);
  sim.bad += 1;
  switch (sim.bad % 5) {
    case 0:
      return [];
    case 1:
      return actions(sim, 17);
    case 2:
      return [...good, { kind: 'setParameter', key: 'noSuchParam', value: 1n }];
    case 3:
      return [{ kind: 'upgradeModule', moduleId: 'privacy', version: 0n, codeHash: hash(5) }, ...good];
    default:
      return [...good, { kind: 'upgradeModule', moduleId: 'bridge', version: 1n << 64n, codeHash: hash(6) }];
  }
}

const validators = Array.from({ length: 6 }, (_, i) => workloadAddress('validator', i));
const delegators = Array.from({ length: 10 }, (_, i) => workloadAddress('delegator', i));
const everyone: readonly Address[] = [...validators, ...delegators];

/**
 * Rounds of: stake changes (some in the block of a proposal, before it: its snapshot is the block
 * before), two or three proposals (now and then a rejected one, now and then 16 actions), votes (mostly
 * for; one proposal in four mostly against, so its queue fails approval), an early queue and an early
 * execute, a cancel now and then, queues after voteEnd, executes before eta, after eta, of a canceled
 * proposal, of unknown ids and of ids already executed or failed.
 */
function workload(seed: number, rounds: number): { genesis: GovernanceState; inputs: GovernanceInput[] } {
  const sim: Sim = {
    model: createGenesisState(GENESIS),
    inputs: [],
    rng: createRng(seed),
    block: 1n,
    tx: 0,
    bad: 0,
  };
  validators.forEach((v, i) => {
    push(sim, { kind: 'registerValidator', sender: v, commissionBps: 100 * i });
    push(sim, { kind: 'stake', sender: v, amount: BigInt(1_000 + int(sim, 4_000)) });
  });
  for (const d of delegators) {
    push(sim, {
      kind: 'delegate',
      sender: d,
      validator: pick(sim, validators),
      amount: BigInt(1 + int(sim, 900)),
    });
  }
  for (let round = 0; round < rounds; round++) {
    const ids: bigint[] = [];
    const proposals = 2 + int(sim, 2);
    for (let k = 0; k < proposals; k++) {
      // A stake in the proposal's own block, before it: not in its bondedAtSnapshot.
      const stakeFirst = sim.rng() < 0.5;
      if (stakeFirst) push(sim, { kind: 'stake', sender: pick(sim, validators), amount: 50n }, 1n);
      if (sim.rng() < 0.3)
        push(sim, { kind: 'propose', sender: pick(sim, everyone), actions: badActions(sim) });
      const count = sim.rng() < 0.1 ? 16 : undefined;
      const advance = stakeFirst ? 0n : 1n;
      push(sim, { kind: 'propose', sender: pick(sim, everyone), actions: actions(sim, count) }, advance);
      ids.push(sim.model.proposalCount);
    }
    for (const id of ids) {
      const against = sim.rng() < 0.25;
      for (const v of validators) {
        if (sim.rng() < 0.7) {
          const support: VoteSupport = against
            ? pick(sim, ['against', 'against', 'for'])
            : pick(sim, ['for', 'for', 'for', 'abstain']);
          push(sim, { kind: 'vote', sender: v, proposalId: id, support });
        }
      }
      if (sim.rng() < 0.3)
        push(sim, { kind: 'vote', sender: pick(sim, delegators), proposalId: id, support: 'against' });
    }
    push(sim, { kind: 'queue', sender: pick(sim, everyone), proposalId: pick(sim, ids) }, 1n);
    push(sim, { kind: 'execute', sender: pick(sim, everyone), proposalId: pick(sim, ids) });
    const canceled = sim.rng() < 0.3 ? pick(sim, ids) : undefined;
    const proposer = canceled === undefined ? undefined : sim.model.proposals.get(canceled)?.proposer;
    if (proposer !== undefined) push(sim, { kind: 'cancel', sender: proposer, proposalId: canceled });
    // Past every voteEnd: queue each.
    const voteEnd = ids.reduce((m, id) => {
      const e = sim.model.proposals.get(id)?.voteEnd ?? 0n;
      return e > m ? e : m;
    }, 0n);
    push(sim, { kind: 'queue', sender: pick(sim, everyone), proposalId: ids[0] }, voteEnd - sim.block + 1n);
    for (const id of ids.slice(1)) push(sim, { kind: 'queue', sender: pick(sim, everyone), proposalId: id });
    // Executes in the same block (before eta unless the timelock is 0), then a cancel of a queued one.
    push(sim, { kind: 'execute', sender: pick(sim, everyone), proposalId: pick(sim, ids) });
    const queued = ids.filter((id) => sim.model.proposals.get(id)?.status === ProposalStatus.Queued);
    if (queued.length > 1 && sim.rng() < 0.4) {
      const id = pick(sim, queued);
      push(sim, { kind: 'cancel', sender: sim.model.proposals.get(id)?.proposer, proposalId: id });
    }
    const eta = ids.reduce((m, id) => {
      const e = sim.model.proposals.get(id)?.eta ?? 0n;
      return e > m ? e : m;
    }, sim.block);
    push(sim, { kind: 'execute', sender: pick(sim, everyone), proposalId: ids[0] }, eta - sim.block + 1n);
    for (const id of ids.slice(1))
      push(sim, { kind: 'execute', sender: pick(sim, everyone), proposalId: id });
    const unknown = [0n, sim.model.proposalCount + 1n, (1n << 64n) + 1n, pick(sim, ids)];
    push(sim, { kind: 'execute', sender: pick(sim, everyone), proposalId: pick(sim, unknown) });
    // Keep the frozen parameters usable: a proposal that set votingPeriod high would stall later rounds.
    if (sim.model.params.votingPeriod > SHORT_PERIOD) throw new Error('votingPeriod left its range');
  }
  return { genesis: createGenesisState(GENESIS), inputs: sim.inputs };
}

const count = (figures: Figures, prefix: string): number =>
  [...figures.outcomes.entries()].filter(([k]) => k.startsWith(prefix)).reduce((s, [, n]) => s + n, 0);

const SEED_COUNT = Number(process.env.VIGIL_EQUIVALENCE_SEEDS ?? (process.env.VIGIL_LONG === '1' ? 100 : 6));

describe('the governance program applies propose and execute as the model does', () => {
  it(`image equal after every input, final root equal, every step and read correct (${SEED_COUNT} seeds)`, {
    timeout: 60_000 + 10_000 * SEED_COUNT,
  }, () => {
    const figures = noFigures();
    const statuses = new Map<number, number>();
    let pending = 0;
    let newModules = 0;
    let sameTarget = 0;
    let canceledExecutes = 0;
    let fullProposals = 0;
    const modulesSeen = new Set<string>();
    for (let seed = 1; seed <= SEED_COUNT; seed++) {
      const { genesis, inputs } = workload(seed, 5);
      // Executes that find the proposal Canceled, counted on a replay (checkEquivalence moves genesis on).
      const replay = createGenesisState(GENESIS);
      for (const input of inputs) {
        const p = input.kind === 'execute' ? replay.proposals.get(input.proposalId) : undefined;
        if (p?.status === ProposalStatus.Canceled) canceledExecutes++;
        applyInput(replay, input);
      }
      checkEquivalence(genesis, inputs, figures);
      for (const p of genesis.proposals.values()) {
        statuses.set(p.status, (statuses.get(p.status) ?? 0) + 1);
        const targets = p.actions.map((a) => (a.kind === 'setParameter' ? `p ${a.key}` : `m ${a.moduleId}`));
        if (p.status === ProposalStatus.Executed && new Set(targets).size < targets.length) sameTarget++;
      }
      pending += [...genesis.pendingParams.values()].filter((x) => x.activationEpoch > 0n).length;
      newModules += [...genesis.modules.keys()].filter((m) => m !== 'bridge' && m !== 'timelock').length;
      for (const [m, r] of genesis.modules) if (r.version !== GENESIS_VERSION.get(m)) modulesSeen.add(m);
      fullProposals += [...genesis.proposals.values()].filter((p) => p.actions.length === 16).length;
    }
    const steps = [...figures.steps.entries()]
      .filter(([k]) => /^(propose|execute) /.test(k))
      .map(([k, xs]) => `${k} n=${xs.length} min=${Math.min(...xs)} max=${Math.max(...xs)}`);
    console.info(
      `propose/execute outcomes (proposals by status ${JSON.stringify(Object.fromEntries(statuses))}):\n  ${[
        ...figures.outcomes.entries(),
      ]
        .filter(([k]) => /^(propose|execute) /.test(k))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, n]) => `${k}: ${n}`)
        .join('\n  ')}\n  steps: ${steps.join('; ')}`,
    );
    expect(count(figures, 'propose accepted')).toBeGreaterThan(20);
    expect(count(figures, 'propose propose: a proposal has')).toBeGreaterThan(0);
    expect(count(figures, 'propose propose: unknown parameter')).toBeGreaterThan(0);
    expect(count(figures, 'propose propose: version outside')).toBeGreaterThan(0);
    expect(count(figures, 'execute accepted')).toBeGreaterThan(15);
    expect(count(figures, 'execute execute.status: no such')).toBeGreaterThan(3);
    expect(count(figures, 'execute execute.status: proposal is not queued')).toBeGreaterThan(5);
    expect(count(figures, 'execute execute.timelock')).toBeGreaterThan(1);
    expect(statuses.get(ProposalStatus.Executed) ?? 0).toBeGreaterThan(5);
    expect(statuses.get(ProposalStatus.Failed) ?? 0).toBeGreaterThan(5);
    expect(statuses.get(ProposalStatus.Canceled) ?? 0).toBeGreaterThan(0);
    expect(pending).toBeGreaterThan(0);
    expect(newModules).toBeGreaterThan(0);
    expect(sameTarget).toBeGreaterThan(0);
    expect(canceledExecutes).toBeGreaterThan(0);
    expect(fullProposals).toBeGreaterThan(0);
    // Upgraded over their genesis records (bridge; timelock, whose key word is also a param record's) and
    // created (privacy; quorumBps and l2GasLimit, named like a parameter and a rollup parameter).
    expect([...modulesSeen].sort()).toEqual([...MODULES].sort());
  });
});

type Step = Record<string, unknown> & { kind: GovernanceInput['kind'] };
type FaultName = 'out-of-bounds-applied' | 'canceled-proposal-executed' | 'timelock-ignored';

/** Inputs at explicit blocks (tx in list order within a block). */
function atBlocks(steps: readonly (readonly [number, Step])[]): GovernanceInput[] {
  let last = -1;
  let tx = 0;
  return steps.map(([block, step]) => {
    tx = block === last ? tx + 1 : 0;
    last = block;
    return { ...step, position: { block: BigInt(block), txIndex: tx, logIndex: 0 } } as GovernanceInput;
  });
}

const [v0, v1, v2] = validators as [Address, Address, Address];

/** Three validators with equal stakes at block 1; proposals at block 2 vote-ended at 14 (votingPeriod 12). */
function setup(): (readonly [number, Step])[] {
  return [v0, v1, v2].flatMap((v) => [
    [1, { kind: 'registerValidator', sender: v, commissionBps: 0 }],
    [1, { kind: 'stake', sender: v, amount: 1_000n }],
  ]);
}
const propose = (block: number, sender: Address, acts: ProposalAction[]): [number, Step] => [
  block,
  { kind: 'propose', sender, actions: acts },
];
const votesFor = (block: number, id: bigint): [number, Step][] =>
  [v0, v1, v2].map((sender) => [block, { kind: 'vote', sender, proposalId: id, support: 'for' }]);
const queue = (block: number, id: bigint): [number, Step] => [
  block,
  { kind: 'queue', sender: v2, proposalId: id },
];
const execute = (block: number, id: bigint): [number, Step] => [
  block,
  { kind: 'execute', sender: v1, proposalId: id },
];
const cancel = (block: number, sender: Address, id: bigint): [number, Step] => [
  block,
  { kind: 'cancel', sender, proposalId: id },
];

/** Each fault's workload: inputs the fault decides differently from the reference, on execute. */
const FAULT_WORKLOADS: Readonly<Record<FaultName, () => GovernanceInput[]>> = {
  // An out-of-bounds quorum (applied by the fault, then frozen into the next proposal), an
  // out-of-bounds rollup parameter (a pending record under the fault), and a stale module version next to
  // an out-of-bounds value (Failed in both: module versions are still checked).
  'out-of-bounds-applied': () =>
    atBlocks([
      ...setup(),
      propose(2, v0, [
        { kind: 'setParameter', key: 'quorumBps', value: 0n },
        { kind: 'upgradeModule', moduleId: 'bridge', version: 4n, codeHash: hash(4) },
      ]),
      propose(2, v1, [
        { kind: 'setParameter', key: 'l2GasLimit', value: 100_000_000_001n },
        { kind: 'upgradeModule', moduleId: 'bridge', version: 3n, codeHash: hash(3) },
      ]),
      propose(2, v2, [{ kind: 'setParameter', key: 'minBaseFee', value: 1_000_000_000_001n }]),
      ...[1n, 2n, 3n].flatMap((id) => votesFor(3, id)),
      ...[1n, 2n, 3n].map((id) => queue(15, id)),
      ...[1n, 2n, 3n].map((id) => execute(18, id)),
      propose(19, v1, [{ kind: 'setParameter', key: 'epochReward', value: 5n }]),
    ]),
  // A proposal canceled while Active (eta 0) and one canceled once Queued, both executed after the
  // timelock; a Queued one beside them; an Active one (not executable even under the fault).
  'canceled-proposal-executed': () =>
    atBlocks([
      ...setup(),
      propose(2, v0, [{ kind: 'setParameter', key: 'timelock', value: 4n }]),
      propose(2, v1, [{ kind: 'upgradeModule', moduleId: 'privacy', version: 1n, codeHash: hash(9) }]),
      propose(2, v2, [{ kind: 'setParameter', key: 'batchInterval', value: 20n }]),
      ...[1n, 2n, 3n].flatMap((id) => votesFor(3, id)),
      cancel(4, v0, 1n),
      propose(5, v2, [{ kind: 'setParameter', key: 'maxValidators', value: 9n }]),
      queue(15, 2n),
      queue(15, 3n),
      cancel(16, v1, 2n),
      ...[1n, 2n, 3n, 4n].map((id) => execute(18, id)),
    ]),
  // Executes before eta (accepted by the fault only), then at and after eta.
  'timelock-ignored': () =>
    atBlocks([
      ...setup(),
      propose(2, v0, [{ kind: 'setParameter', key: 'votingPeriod', value: 5n }]),
      propose(2, v1, [{ kind: 'upgradeModule', moduleId: 'bridge', version: 7n, codeHash: hash(7) }]),
      ...[1n, 2n].flatMap((id) => votesFor(3, id)),
      queue(15, 1n),
      queue(15, 2n),
      execute(16, 1n),
      execute(17, 2n),
      execute(18, 2n),
      execute(19, 1n),
    ]),
};

describe('the execute faults compiled into the program match the faulty model, not the honest one', () => {
  for (const fault of Object.keys(FAULT_WORKLOADS) as FaultName[]) {
    it(fault, () => {
      const inputs = FAULT_WORKLOADS[fault]();
      const executor = executorByName(fault);
      const built = buildGovernanceProgram({ fault });
      // The faulty program against the faulty model: equal after every input.
      const faulty = createGenesisState(GENESIS);
      const figures = noFigures();
      checkEquivalence(faulty, inputs, figures, built, executor);
      // The workload makes the fault decide an execute differently from the reference.
      const honest = createGenesisState(GENESIS);
      const honestOutcomes = inputs.map((input) => applyInput(honest, input).accepted);
      const faultyModel = createGenesisState(GENESIS);
      const faultyOutcomes = inputs.map((input) => applyInput(faultyModel, input, executor).accepted);
      const status = (s: GovernanceState) => [...s.proposals.values()].map((p) => p.status);
      expect([faultyOutcomes, status(faulty)]).not.toEqual([honestOutcomes, status(honest)]);
      // The honest program diverges from the faulty model, and the faulty program from the reference,
      // at an execute.
      expect(() =>
        checkEquivalence(createGenesisState(GENESIS), inputs, noFigures(), reference, executor),
      ).toThrow(/after input \d+ \(execute\)/);
      expect(() => checkEquivalence(createGenesisState(GENESIS), inputs, noFigures(), built)).toThrow(
        /after input \d+ \(execute\)/,
      );
      if (fault === 'out-of-bounds-applied') {
        expect(faulty.params.quorumBps).toBe(0n);
        expect(faulty.proposals.get(4n)?.quorumBps).toBe(0n);
        expect(faulty.pendingParams.get('minBaseFee')).toEqual({
          value: 1_000_000_000_001n,
          activationEpoch: 1n,
        });
        expect(faulty.proposals.get(2n)?.status).toBe(ProposalStatus.Failed);
        expect(faulty.modules.get('bridge')?.version).toBe(4n);
      }
      if (fault === 'canceled-proposal-executed') {
        expect(status(faulty)).toEqual([2, 2, 2, 0]);
        expect(status(honest)).toEqual([3, 3, 2, 0]);
      }
      if (fault === 'timelock-ignored') {
        // eta is 18: the fault executes both proposals early, so the executes at and after eta find
        // them executed; the reference refuses the early ones and executes both later.
        expect(status(faulty)).toEqual([2, 2]);
        expect(faultyOutcomes.slice(-4)).toEqual([true, true, false, false]);
        expect(honestOutcomes.slice(-4)).toEqual([false, false, true, true]);
      }
    });
  }
});

describe('propose and execute at their edges', () => {
  it('bondedAtSnapshot with no checkpoint yet and with a stake in the proposal block; 16 upgrades of one module; the u64 fields near 2^64', () => {
    const upgrades: ProposalAction[] = Array.from({ length: 16 }, (_, i) => ({
      kind: 'upgradeModule',
      moduleId: 'privacy',
      version: BigInt(1 + 2 * i),
      codeHash: hash(0x100 + i),
    }));
    const last = (1n << 64n) - 5n;
    const inputs = atBlocks([
      propose(1, v0, [{ kind: 'setParameter', key: 'epochReward', value: 7n }]),
      [1, { kind: 'registerValidator', sender: v0, commissionBps: 0 }],
      [1, { kind: 'stake', sender: v0, amount: 1_000n }],
      [2, { kind: 'stake', sender: v0, amount: 500n }],
      propose(2, v1, upgrades),
      [3, { kind: 'vote', sender: v0, proposalId: 1n, support: 'for' }],
      [3, { kind: 'vote', sender: v0, proposalId: 2n, support: 'for' }],
      queue(15, 2n),
      execute(17, 2n),
      execute(18, 2n),
      execute(19, 2n),
    ]);
    inputs.push({
      kind: 'propose',
      sender: v2,
      actions: [{ kind: 'upgradeModule', moduleId: 'bridge', version: (1n << 64n) - 1n, codeHash: hash(1) }],
      position: { block: last, txIndex: 0, logIndex: 0 },
    });
    const state = createGenesisState(GENESIS);
    const figures = noFigures();
    checkEquivalence(state, inputs, figures);
    expect(state.proposals.get(1n)?.bondedAtSnapshot).toBe(0n);
    expect(state.proposals.get(2n)?.bondedAtSnapshot).toBe(1_000n);
    expect(state.proposals.get(2n)?.status).toBe(ProposalStatus.Executed);
    expect(state.modules.get('privacy')?.version).toBe(31n);
    // voteEnd past 2^64: the leaf's u64 field (and the program) keep its low 64 bits.
    expect(state.proposals.get(3n)?.voteEnd).toBe(last + WORKLOAD_PARAMS.votingPeriod);
    // Accepted: both proposes, register, stakes, the vote on 2, queue, the execute at eta, the last propose.
    expect(figures.accepted).toBe(9);
    expect(figures.rejected).toBe(3);
  });
});
