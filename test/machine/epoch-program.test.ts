/**
 * endEpoch in the governance program (docs/protocol.md §6, §23) against the model: pre-states reached by
 * the model over seeded workload prefixes (executed proposals come from the prefix, which is cut right
 * after an execute, so the cases of §6 can be chosen), then a suffix with endEpoch inputs among them, checked input by input (image, final root, every
 * step and read). A shadow run of the model records which cases of §6 each endEpoch met, so the test
 * asserts they really occurred. The four end-of-epoch faults: each fault build equals its faulty model,
 * on a workload where that model differs from the honest one.
 */
import { describe, expect, it } from 'vitest';
import {
  applyInput,
  computeStateRoot,
  createGenesisState,
  type Executor,
  executorByName,
  type GovernanceInput,
  type GovernanceState,
  REFERENCE_EXECUTOR,
  ROLLUP_PARAM_KEYS,
} from '../../src/governance/index.ts';
import {
  generateWorkload,
  WORKLOAD_PARAMS,
  type WorkloadOptions,
  workloadAddress,
} from '../../src/governance/workload.ts';
import { buildGovernanceProgram } from '../../src/machine/programs/governance.ts';
import { checkEquivalence, type Figures, noFigures, reference } from './equivalence.ts';

const IMPLEMENTED = new Set<GovernanceInput['kind']>([
  'registerValidator',
  'stake',
  'unstake',
  'delegate',
  'undelegate',
  'vote',
  'queue',
  'cancel',
  'endEpoch',
]);

/** A pre-state (a fresh one per call: the harness applies the suffix to it) and the inputs after it. */
type Case = { readonly pre: () => GovernanceState; readonly inputs: GovernanceInput[] };

/**
 * A seeded workload cut after an `execute` among its first `prefix` inputs (or at 0 when `prefix` is 0:
 * the first epoch, no active power): the last one whose proposal no validator voted on if there is one,
 * else the last one. The suffix keeps the rest's inputs of the implemented kinds, up to `endEpochs`
 * endEpoch inputs.
 */
function epochCase(options: WorkloadOptions, prefix: number, endEpochs: number): Case {
  const w = generateWorkload(options);
  const model = createGenesisState(w.genesis);
  let cut = 0;
  let cutWithoutVoters = 0;
  w.inputs.slice(0, prefix).forEach((input, i) => {
    applyInput(model, input);
    if (input.kind !== 'execute') return;
    cut = i + 1;
    const votes = [...(model.proposals.get(input.proposalId)?.votes.values() ?? [])];
    if (!votes.some((v) => v.isValidator)) cutWithoutVoters = i + 1;
  });
  if (cutWithoutVoters > 0) cut = cutWithoutVoters;
  const inputs: GovernanceInput[] = [];
  let ends = 0;
  for (const input of w.inputs.slice(cut)) {
    if (!IMPLEMENTED.has(input.kind)) continue;
    inputs.push(input);
    if (input.kind === 'endEpoch' && ++ends === endEpochs) break;
  }
  const pre = () => {
    const state = createGenesisState(w.genesis);
    for (const input of w.inputs.slice(0, cut)) applyInput(state, input);
    return state;
  };
  return { pre, inputs };
}

type Seen = Record<
  | 'endEpochs'
  | 'noPower'
  | 'zeroBase'
  | 'severalDelegated'
  | 'executedWithVoters'
  | 'executedWithoutVoters'
  | 'severalExecuted'
  | 'tiedTotals'
  | 'moreCandidates'
  | 'capBinding'
  | 'paramsActivated'
  | 'shrinking'
  | 'newRewards',
  number
>;
const noneSeen = (): Seen => ({
  endEpochs: 0,
  noPower: 0,
  zeroBase: 0,
  severalDelegated: 0,
  executedWithVoters: 0,
  executedWithoutVoters: 0,
  severalExecuted: 0,
  tiedTotals: 0,
  moreCandidates: 0,
  capBinding: 0,
  paramsActivated: 0,
  shrinking: 0,
  newRewards: 0,
});

/** Runs the suffix on its own copy of the model and counts the §6 cases each endEpoch met. */
function observe(c: Case, seen: Seen): void {
  const s = c.pre();
  for (const input of c.inputs) {
    if (input.kind !== 'endEpoch') {
      applyInput(s, input);
      continue;
    }
    seen.endEpochs++;
    const power = s.active.reduce((sum, e) => sum + e.power, 0n);
    if (power === 0n) seen.noPower++;
    const actives = s.active.map((e) => s.validators.get(e.validator));
    if (actives.some((v) => v !== undefined && v.selfStake + v.delegated === 0n)) seen.zeroBase++;
    if (power > 0n && actives.filter((v) => (v?.delegators.size ?? 0) > 0).length >= 2)
      seen.severalDelegated++;
    if (s.executedThisEpoch.length >= 2) seen.severalExecuted++;
    for (const id of s.executedThisEpoch) {
      const p = s.proposals.get(id);
      const voters = [...(p?.votes.values() ?? [])].filter((v) => v.isValidator).length;
      if (voters > 0) seen.executedWithVoters++;
      else seen.executedWithoutVoters++;
    }
    const totals = [...s.validators.values()]
      .filter((v) => v.selfStake >= s.params.minStake)
      .map((v) => v.selfStake + v.delegated);
    if (new Set(totals).size < totals.length) seen.tiedTotals++;
    if (BigInt(totals.length) > s.params.maxValidators) seen.moreCandidates++;
    const next = s.epoch + 1n;
    if (
      ROLLUP_PARAM_KEYS.some((k) => {
        const p = s.pendingParams.get(k);
        return p !== undefined && p.activationEpoch !== 0n && p.activationEpoch <= next;
      })
    )
      seen.paramsActivated++;
    const oldCount = s.active.length;
    const rewards = s.rewards.size;
    applyInput(s, input);
    if (s.rewards.size > rewards) seen.newRewards++;
    if (s.active.length < oldCount) seen.shrinking++;
    if (
      s.active.some((e) => {
        const v = s.validators.get(e.validator);
        return v !== undefined && v.selfStake + v.delegated > e.power;
      })
    )
      seen.capBinding++;
  }
}

const stepsOf = (f: Figures, label: string): number[] => f.steps.get(label) ?? [];

/** The workloads of the honest check: small epochs, many validators for the candidates' ranking. */
const CASES: Case[] = [
  // The first epochs: no active power at the first endEpoch.
  epochCase({ seed: 1, inputs: 120, epochLength: 6 }, 0, 4),
  // Quorum 1 bps on half of them: proposals pass on a few delegators' votes (no validator voter).
  ...[2, 3, 4, 5, 6, 7].map((seed) =>
    epochCase(
      {
        seed,
        inputs: 260,
        epochLength: 8,
        validators: 10,
        delegators: 24,
        weights: { execute: 12, propose: 4, unstake: 6 },
        ...(seed % 2 === 0 ? { params: { ...WORKLOAD_PARAMS, quorumBps: 1n } } : {}),
      },
      170,
      4,
    ),
  ),
];

describe('the governance program ends an epoch as the model does (docs/protocol.md §6)', () => {
  it('image equal after every input, final root equal, every step and read correct; every §6 case met', {
    timeout: 120_000,
  }, () => {
    const figures = noFigures();
    const seen = noneSeen();
    for (const c of CASES) {
      expect(c.inputs.every((i) => IMPLEMENTED.has(i.kind))).toBe(true);
      observe(c, seen);
      checkEquivalence(c.pre(), c.inputs, figures);
    }
    const ends = stepsOf(figures, 'endEpoch accepted');
    console.info(
      `endEpoch cases: ${JSON.stringify(seen)}\n  endEpoch steps: n=${ends.length} min=${Math.min(...ends)} max=${Math.max(...ends)}`,
    );
    expect(ends.length).toBe(seen.endEpochs);
    expect(figures.outcomes.get('endEpoch accepted')).toBe(seen.endEpochs);
    expect(seen.noPower).toBeGreaterThan(0);
    expect(seen.severalDelegated).toBeGreaterThan(5);
    expect(seen.executedWithVoters).toBeGreaterThan(0);
    expect(seen.executedWithoutVoters).toBeGreaterThan(0);
    expect(seen.severalExecuted).toBeGreaterThan(0);
    expect(seen.tiedTotals).toBeGreaterThan(0);
    expect(seen.moreCandidates).toBeGreaterThan(5);
    expect(seen.capBinding).toBeGreaterThan(5);
    expect(seen.paramsActivated).toBeGreaterThan(0);
    expect(seen.shrinking).toBeGreaterThan(0);
    expect(seen.newRewards).toBeGreaterThan(5);
  });

  it('a crafted history: tied totals, more candidates than seats, the cap, a zero base, a shrinking and regrowing set', () => {
    const v = (i: number) => workloadAddress('validator', i);
    const d = (i: number) => workloadAddress('delegator', i);
    let block = 0n;
    const inputs: GovernanceInput[] = [];
    const push = (input: Record<string, unknown> & { kind: GovernanceInput['kind'] }) => {
      block += 1n;
      inputs.push({ ...input, position: { block, txIndex: 0, logIndex: 0 } } as GovernanceInput);
    };
    const commissions = [0, 500, 1000, 3333, 10_000, 500];
    commissions.forEach((commissionBps, i) => {
      push({ kind: 'registerValidator', sender: v(i), commissionBps });
    });
    // Totals: v2 8007 (capped at 30% of 22 007), v0 4000 + 1000 and v1 5000 tie, v3 2000 + 2000, v4 2000,
    // v5 below minStake: five candidates for four seats.
    for (const [i, amount] of [4000n, 5000n, 3000n, 2000n, 2000n, 500n].entries()) {
      push({ kind: 'stake', sender: v(i), amount });
    }
    push({ kind: 'delegate', sender: d(0), validator: v(0), amount: 1000n });
    push({ kind: 'delegate', sender: d(1), validator: v(2), amount: 5000n });
    push({ kind: 'delegate', sender: d(2), validator: v(2), amount: 7n });
    push({ kind: 'delegate', sender: d(3), validator: v(3), amount: 2000n });
    push({ kind: 'endEpoch', sender: d(9) });
    // v3 (active) leaves entirely: its base is 0 at the next end; v1 drops below minStake: the set shrinks.
    push({ kind: 'unstake', sender: v(3), amount: 2000n });
    push({ kind: 'undelegate', sender: d(3), validator: v(3), amount: 2000n });
    push({ kind: 'unstake', sender: v(1), amount: 4500n });
    push({ kind: 'endEpoch', sender: d(9) });
    push({ kind: 'stake', sender: v(5), amount: 700n });
    push({ kind: 'delegate', sender: d(4), validator: v(4), amount: 3n });
    push({ kind: 'endEpoch', sender: d(9) });
    push({ kind: 'endEpoch', sender: d(9) });
    const c: Case = { pre: () => createGenesisState({ params: WORKLOAD_PARAMS }), inputs };
    const seen = noneSeen();
    observe(c, seen);
    const figures = noFigures();
    checkEquivalence(c.pre(), c.inputs, figures);
    expect(figures.rejected).toBe(0);
    expect(seen).toMatchObject({
      endEpochs: 4,
      noPower: 1,
      zeroBase: 1,
      tiedTotals: 1,
      moreCandidates: 1,
      shrinking: 1,
    });
    expect(seen.capBinding).toBe(4);
    expect(seen.severalDelegated).toBeGreaterThan(1);
    expect(seen.newRewards).toBeGreaterThan(1);
  });

  it('the bench shape (hundreds of delegators): the endEpoch equals the model in steps linear in the image', {
    timeout: 120_000,
  }, () => {
    // The benchmark's shape (64 validators, 2,000 delegators, one long epoch), all 64 seated, closed by
    // the model; the program runs the next endEpoch, which pays the set the first one chose.
    const w = generateWorkload({
      seed: 7,
      inputs: 900,
      validators: 64,
      delegators: 2_000,
      epochLength: 900,
      // No proposals: one could set epochReward to 0 and leave nothing to pay.
      weights: { endEpoch: 0, propose: 0 },
      params: { ...WORKLOAD_PARAMS, maxValidators: 64n },
    });
    const state = createGenesisState(w.genesis);
    for (const input of w.inputs) applyInput(state, input);
    applyInput(state, {
      kind: 'endEpoch',
      sender: workloadAddress('delegator', 0),
      position: { block: (state.lastPosition?.block ?? 0n) + 1n, txIndex: 0, logIndex: 0 },
    });
    const block = (state.lastPosition?.block ?? 0n) + 1n;
    const end: GovernanceInput = {
      kind: 'endEpoch',
      sender: workloadAddress('delegator', 0),
      position: { block, txIndex: 0, logIndex: 0 },
    };
    const records = state.leaves.tree.leafCount;
    const active = new Set(state.active.map((e) => e.validator));
    const paid = [...state.delegations.values()].filter(
      (d) => d.amount > 0n && active.has(d.validator),
    ).length;
    const rewardsBefore = state.rewards.size;
    const figures = noFigures();
    checkEquivalence(state, [end], figures);
    const [steps = 0] = stepsOf(figures, 'endEpoch accepted');
    const created = state.rewards.size - rewardsBefore;
    console.info(
      `bench-shaped endEpoch: ${records} records, ${active.size} seated, ${paid} delegators paid, ${created} reward records created, ${steps} steps`,
    );
    expect(state.params.epochReward).toBeGreaterThan(0n);
    expect(paid).toBeGreaterThan(100);
    expect(created).toBeGreaterThan(100);
    // Three passes over the image, a look-up in the set (≤ 64 entries) per delegation and an n log n
    // sort: linear in the image, where one record look-up per credit alone would cost 5 × records × paid.
    expect(steps).toBeLessThan(100 * records);
  });
});

const EPOCH_FAULTS = [
  'power-cap-not-applied',
  'tie-break-flipped',
  'commission-not-taken',
  'rewards-rounded-up',
] as const;

/** The suffix's final root under an executor. */
function rootUnder(c: Case, executor: Executor): string {
  const s = c.pre();
  for (const input of c.inputs) applyInput(s, input, executor);
  return Buffer.from(computeStateRoot(s)).toString('hex');
}

describe('the end-of-epoch faults compiled into the program match their faulty models', () => {
  for (const fault of EPOCH_FAULTS) {
    it(`${fault}: equal images per input with the faulty model; the honest program differs from it`, {
      timeout: 120_000,
    }, () => {
      const executor = executorByName(fault);
      // The first seeded case where the fault changes the result.
      const c = [11, 12, 13, 14, 15, 16, 17, 18]
        .map((seed) =>
          epochCase({ seed, inputs: 160, epochLength: 6, validators: 10, weights: { execute: 10 } }, 90, 2),
        )
        .find((x) => rootUnder(x, executor) !== rootUnder(x, REFERENCE_EXECUTOR));
      if (c === undefined) throw new Error(`no seed where ${fault} changes the result`);
      checkEquivalence(c.pre(), c.inputs, noFigures(), buildGovernanceProgram({ fault }), executor);
      expect(() => checkEquivalence(c.pre(), c.inputs, noFigures(), reference, executor)).toThrow(
        /after input \d+ \(endEpoch\)/,
      );
    });
  }
});
