/**
 * Per-input equivalence of the governance program with the reference model (docs/protocol.md §23) for the
 * validator kinds and vote, queue and cancel, with crafted rejections of each rule mixed in (vote, queue
 * and cancel from states with proposals, reached by the model over a workload prefix; whole workloads of
 * every kind are in workload-equivalence.test.ts): the
 * machine's memory image after every input (cut at each write of `inputsDone`) is word for word the
 * model's state image after the same input, the run halts on the model's final state root, every step is
 * execution-correct and every read returns the last write.
 */
import { describe, expect, it } from 'vitest';
import {
  type Address,
  applyInput,
  computeStateRoot,
  createGenesisState,
  type GovernanceInput,
  type GovernanceState,
  type InputPosition,
  MAX_TOTAL_BONDED,
  ProposalStatus,
} from '../../src/governance/index.ts';
import { markProposal } from '../../src/governance/state.ts';
import { createRng, generateWorkload, workloadAddress } from '../../src/governance/workload.ts';
import { runProgram } from '../../src/machine/interpreter.ts';
import { wordOf } from '../../src/machine/isa.ts';
import type { GovernanceProgram } from '../../src/machine/programs/governance.ts';
import { encodeInputsTape } from '../../src/machine/programs/inputs-tape.ts';
import { PROPOSAL_WORD } from '../../src/machine/programs/proposal-rules.ts';
import { Tape } from '../../src/machine/tape.ts';
import { checkEquivalence, imageWords, noFigures, reference } from './equivalence.ts';

const { program } = reference;

const IMPLEMENTED = new Set<GovernanceInput['kind']>([
  'registerValidator',
  'stake',
  'unstake',
  'delegate',
  'undelegate',
]);

type Template =
  | { kind: 'registerValidator'; sender: Address; commissionBps: number }
  | { kind: 'stake' | 'unstake'; sender: Address; amount: bigint }
  | { kind: 'delegate' | 'undelegate'; sender: Address; validator: Address; amount: bigint };

/**
 * A workload of the implemented kinds: the seeded workload's own inputs of those kinds (nearly all
 * accepted), with crafted ones mixed in that the model rejects or that hit the rules' edges (re-register,
 * commission 10001, unregistered senders, zero amounts, unstaking more than the self stake, a stake past
 * MAX_TOTAL_BONDED, repeated positions, malformed senders, delegations from validators, to unregistered or
 * other validators, undelegations from the wrong validator or of too much, delegators registering), and
 * positions re-drawn so that several inputs share a block (same-block checkpoints overwrite) and some
 * repeat the previous position.
 */
function mixedWorkload(seed: number, size: number): { genesis: GovernanceState; inputs: GovernanceInput[] } {
  const w = generateWorkload({ seed, inputs: size });
  const rng = createRng(seed ^ 0x5eed);
  const int = (n: number) => Math.floor(rng() * n);
  const validators = Array.from({ length: 10 }, (_, i) => workloadAddress('validator', i));
  const delegators = Array.from({ length: 18 }, (_, i) => workloadAddress('delegator', i));
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const templates: Template[] = [];
  for (const input of w.inputs) {
    if (input.kind === 'registerValidator') {
      templates.push({ kind: input.kind, sender: input.sender, commissionBps: input.commissionBps });
    } else if (input.kind === 'stake' || input.kind === 'unstake') {
      templates.push({ kind: input.kind, sender: input.sender, amount: input.amount });
    } else if (input.kind === 'delegate' || input.kind === 'undelegate') {
      const { kind, sender, validator, amount } = input;
      templates.push({ kind, sender, validator, amount });
    } else continue;
    if (rng() < 0.35) {
      const r = int(12);
      const v = pick(validators);
      const d = pick(delegators);
      const small = () => BigInt(1 + int(5_000));
      if (r === 0)
        templates.push({ kind: 'registerValidator', sender: v, commissionBps: int(3) * 5_000 + int(2) });
      else if (r === 1) templates.push({ kind: 'stake', sender: v, amount: BigInt(int(4)) * 1_000n });
      else if (r === 2) templates.push({ kind: 'unstake', sender: v, amount: small() });
      else if (r === 3) templates.push({ kind: 'unstake', sender: v, amount: 10n ** 30n });
      else if (r === 4) templates.push({ kind: 'stake', sender: v, amount: MAX_TOTAL_BONDED });
      else if (r === 5) templates.push({ kind: 'stake', sender: '0xNotAnAddress' as Address, amount: 5n });
      else if (r === 6) templates.push({ kind: 'stake', sender: v, amount: BigInt(1 + int(9_999)) });
      // Delegations: to any validator (maybe unregistered, maybe another than the current one), from a
      // validator, zero amounts, undelegating from the wrong validator or more than delegated; and a
      // delegator trying to register.
      else if (r === 7)
        templates.push({ kind: 'delegate', sender: d, validator: v, amount: BigInt(int(3)) * small() });
      else if (r === 8)
        templates.push({ kind: 'delegate', sender: pick(validators), validator: v, amount: small() });
      else if (r === 9)
        templates.push({ kind: 'undelegate', sender: d, validator: v, amount: BigInt(int(3)) * small() });
      else if (r === 10) templates.push({ kind: 'undelegate', sender: d, validator: v, amount: 10n ** 30n });
      else templates.push({ kind: 'registerValidator', sender: d, commissionBps: 100 });
    }
  }
  let block = 1n;
  let tx = 0;
  let last: InputPosition = { block, txIndex: 0, logIndex: 0 };
  const inputs = templates.map((t): GovernanceInput => {
    const r = rng();
    let position: InputPosition;
    if (r < 0.06) position = { ...last };
    else {
      if (r < 0.45) {
        block += BigInt(1 + int(2));
        tx = 0;
      } else tx += 1;
      position = { block, txIndex: tx, logIndex: int(3) };
    }
    last = position;
    return { ...t, position } as GovernanceInput;
  });
  return { genesis: createGenesisState(w.genesis), inputs };
}

/**
 * 12 seeded workloads in `npm test`; 500 in the long suite (VIGIL_LONG=1, governance-equivalence.long.test.ts),
 * or VIGIL_EQUIVALENCE_SEEDS of them when set (to try the long run at a reduced count).
 */
const SEED_COUNT = Number(process.env.VIGIL_EQUIVALENCE_SEEDS ?? (process.env.VIGIL_LONG === '1' ? 500 : 12));
const SEEDS = Array.from({ length: SEED_COUNT }, (_, i) => i + 1);

describe('the governance program applies the validator rules (register, stake, unstake, delegate, undelegate) as the model does', () => {
  it(`image equal after every input, final root equal, every step and read correct (${SEEDS.length} seeds)`, {
    timeout: 60_000 + 2_000 * SEED_COUNT,
  }, () => {
    const figures = noFigures();
    for (const seed of SEEDS) {
      const { genesis, inputs } = mixedWorkload(seed, 120);
      expect(inputs.every((i) => IMPLEMENTED.has(i.kind))).toBe(true);
      checkEquivalence(genesis, inputs, figures);
    }
    // The mix must exercise both outcomes in earnest.
    expect(figures.accepted).toBeGreaterThan(200);
    expect(figures.rejected).toBeGreaterThan(50);
    // Same-block checkpoints were overwritten (no record created) and new blocks made new ones.
    expect(figures.growth.get(0) ?? 0).toBeGreaterThan(20);
    expect(figures.growth.get(2) ?? 0).toBeGreaterThan(20);
    const table = [...figures.steps.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([label, xs]) => {
        const mean = Math.round(xs.reduce((s, x) => s + x, 0) / xs.length);
        return `${label}: n=${xs.length} mean=${mean} min=${Math.min(...xs)} max=${Math.max(...xs)}`;
      });
    const growth = [...figures.growth.entries()].map(([k, n]) => `${n} × ${k} new records`).join(', ');
    console.info(
      `governance program steps per input (accepted ${figures.accepted}, rejected ${figures.rejected}):\n  ${table.join('\n  ')}\n  accepted inputs other than registrations: ${growth}`,
    );
  });

  it('the validator limit: the 257th registration is rejected, as in the model', () => {
    const genesis = createGenesisState();
    const inputs: GovernanceInput[] = Array.from({ length: 258 }, (_, i) => ({
      kind: 'registerValidator',
      sender: workloadAddress('validator', i % 257),
      commissionBps: i % 10_001,
      position: { block: BigInt(1 + i), txIndex: 0, logIndex: 0 },
    }));
    const model = createGenesisState();
    const outcomes = inputs.map((input) => applyInput(model, input).accepted);
    expect(outcomes.filter((a) => a).length).toBe(256);
    expect(outcomes[256]).toBe(false);
    const tape = new Tape({ image: imageWords(genesis), inputs: encodeInputsTape(inputs) });
    const run = runProgram(program, tape, { maxSteps: 20_000_000, keepSteps: false, hashChain: false });
    expect(run.status).toBe('halted');
    expect(run.result).toBe(wordOf(computeStateRoot(model)));
  });

  it('a stake up to exactly MAX_TOTAL_BONDED is accepted and one more unit is not; unstake to zero', () => {
    const figures = noFigures();
    const v = workloadAddress('validator', 1);
    const at = (block: number, txIndex = 0) => ({ block: BigInt(block), txIndex, logIndex: 0 });
    const inputs: GovernanceInput[] = [
      { kind: 'registerValidator', sender: v, commissionBps: 10_000, position: at(1) },
      { kind: 'stake', sender: v, amount: 5n, position: at(1, 1) },
      { kind: 'stake', sender: v, amount: MAX_TOTAL_BONDED - 5n, position: at(1, 2) },
      { kind: 'stake', sender: v, amount: 1n, position: at(2) },
      { kind: 'unstake', sender: v, amount: MAX_TOTAL_BONDED, position: at(2, 1) },
      { kind: 'unstake', sender: v, amount: 1n, position: at(3) },
      { kind: 'registerValidator', sender: v, commissionBps: 0, position: at(4) },
    ];
    checkEquivalence(createGenesisState(), inputs, figures);
    expect(figures.accepted).toBe(4);
    expect(figures.rejected).toBe(3);
  });

  it('block 0 (the L2 genesis) is refused by both, so the zero last position of the global record means none yet', () => {
    const figures = noFigures();
    const v = workloadAddress('validator', 2);
    const at = (block: number, txIndex = 0) => ({ block: BigInt(block), txIndex, logIndex: 0 });
    const inputs: GovernanceInput[] = [
      { kind: 'registerValidator', sender: v, commissionBps: 1, position: at(0) },
      { kind: 'registerValidator', sender: v, commissionBps: 2, position: at(0, 1) },
      { kind: 'registerValidator', sender: v, commissionBps: 3, position: at(1) },
      { kind: 'stake', sender: v, amount: 9n, position: at(1) },
    ];
    checkEquivalence(createGenesisState(), inputs, figures);
    expect(figures.accepted).toBe(1);
    expect(figures.rejected).toBe(3);
  });

  it('malformed inputs (kind 0) and kind codes past the last kind are rejected without effect', () => {
    const v = workloadAddress('validator', 0);
    const malformed: GovernanceInput = {
      kind: 'unstake',
      sender: v,
      amount: -1n,
      position: { block: 1n, txIndex: 0, logIndex: 0 },
    };
    const register: GovernanceInput = {
      kind: 'registerValidator',
      sender: v,
      commissionBps: 5,
      position: { block: 2n, txIndex: 0, logIndex: 0 },
    };
    expect(encodeInputsTape([malformed])[1]).toBe(0n);
    const figures = noFigures();
    checkEquivalence(createGenesisState(), [malformed], figures);
    expect(figures.rejected).toBe(1);
    // The registration's kind word raised past endEpoch's code (11): no input; the model never sees it.
    const words = encodeInputsTape([register]);
    words[1] = 12n;
    const run = runProgram(program, new Tape({ image: imageWords(createGenesisState()), inputs: words }), {
      maxSteps: 1_000_000,
      hashChain: false,
    });
    expect(run.status).toBe('halted');
    expect(run.result).toBe(wordOf(computeStateRoot(createGenesisState())));
    const boundaries = run.steps.filter((s) => s.w.addr === reference.inputsDone).map((s) => s.w.value);
    expect(boundaries).toEqual([0n, 1n]);
  });

  it('the check sees a wrong program: a stake that does not raise totalBonded diverges at that stake', () => {
    const at = reference.program.instructions.findIndex(
      (ins) => ins.op === 'add' && ins.dst === 7 && 'mem' in ins.x && ins.x.mem === 7,
    );
    expect(at).toBeGreaterThan(0);
    const instructions = reference.program.instructions.slice();
    const original = instructions[at];
    if (original?.op !== 'add') throw new Error('not the totalBonded add');
    instructions[at] = { ...original, y: { imm: 0n } };
    const mutant: GovernanceProgram = { ...reference, program: { instructions } };
    const { genesis, inputs } = mixedWorkload(3, 40);
    expect(() => checkEquivalence(genesis, inputs, noFigures(), mutant)).toThrow(/after input \d+ \(stake\)/);
  });

  it('the delegator limit: a 33rd delegator is rejected, and a freed place (undelegate to zero) is taken again', () => {
    const v = workloadAddress('validator', 0);
    const at = (i: number) => ({ block: BigInt(2 + (i >> 2)), txIndex: i & 3, logIndex: 0 });
    const inputs: GovernanceInput[] = [
      {
        kind: 'registerValidator',
        sender: v,
        commissionBps: 0,
        position: { block: 1n, txIndex: 0, logIndex: 0 },
      },
    ];
    for (let i = 0; i < 33; i++) {
      inputs.push({
        kind: 'delegate',
        sender: workloadAddress('delegator', i),
        validator: v,
        amount: 7n,
        position: at(i),
      });
    }
    inputs.push(
      {
        kind: 'undelegate',
        sender: workloadAddress('delegator', 3),
        validator: v,
        amount: 7n,
        position: at(33),
      },
      {
        kind: 'delegate',
        sender: workloadAddress('delegator', 32),
        validator: v,
        amount: 9n,
        position: at(34),
      },
      {
        kind: 'delegate',
        sender: workloadAddress('delegator', 3),
        validator: v,
        amount: 9n,
        position: at(35),
      },
    );
    const figures = noFigures();
    checkEquivalence(createGenesisState(), inputs, figures);
    expect(figures.rejected).toBe(2);
    expect(figures.accepted).toBe(inputs.length - 2);
  });

  it('a tape word that is no address (sender or validator ≥ 2^160) is rejected like a malformed input', () => {
    const v = workloadAddress('validator', 0);
    const d = workloadAddress('delegator', 0);
    const at = (block: bigint) => ({ block, txIndex: 0, logIndex: 0 });
    const inputs: GovernanceInput[] = [
      { kind: 'registerValidator', sender: v, commissionBps: 0, position: at(1n) },
      { kind: 'delegate', sender: d, validator: v, amount: 5n, position: at(2n) },
      { kind: 'stake', sender: v, amount: 5n, position: at(3n) },
    ];
    const words = encodeInputsTape(inputs);
    // Input 1's validator word (record word 5) and input 2's sender (word 1) pushed past 160 bits: the
    // key words they would make wrap onto the real ones' (mod 2^256 after the shift), so only the
    // address bound keeps them from being accepted as v's.
    words[1 + 16 + 5] = (words[1 + 16 + 5] as bigint) + (1n << 168n);
    words[1 + 32 + 1] = (words[1 + 32 + 1] as bigint) + (1n << 168n);
    const model = createGenesisState();
    expect(applyInput(model, inputs[0] as GovernanceInput).accepted).toBe(true);
    const run = runProgram(program, new Tape({ image: imageWords(createGenesisState()), inputs: words }), {
      maxSteps: 1_000_000,
      keepSteps: false,
      hashChain: false,
    });
    expect(run.status).toBe('halted');
    expect(run.result).toBe(wordOf(computeStateRoot(model)));
  });
});

const PROPOSAL_KINDS = new Set<GovernanceInput['kind']>([...IMPLEMENTED, 'vote', 'queue', 'cancel']);

/**
 * A pre-state with proposals and a suffix the program can run. `propose`, `vote` and `execute` are not in
 * the program yet, so the model runs a seeded workload's first `prefix` inputs (every kind) to reach a
 * state holding proposals in every status; the suffix is the rest of that workload's inputs of the
 * implemented kinds (validator rules, queue, cancel), after a queue of every proposal still in its voting
 * period and a cancel by the proposer of every finished one, with crafted queues and cancels mixed in: of every
 * proposal the state has (whatever its status, so before voteEnd, short of quorum or approval, already
 * queued, executed, canceled or failed), of ids no proposal has (the next ones, 0, 2^64 + a real id),
 * cancels by the proposer and by others. Positions are re-drawn after the prefix's last one, with jumps
 * of 6 … 17 blocks (after the first 12 inputs) so voting periods (12 blocks in the workload's parameters) end inside the suffix.
 */
function proposalWorkload(
  seed: number,
  prefix: number,
  size: number,
): { state: GovernanceState; inputs: GovernanceInput[] } {
  // Few queues and more proposals in the workload, so the prefix leaves Active proposals to queue.
  const w = generateWorkload({
    seed,
    inputs: prefix + size,
    rejected: 0.1,
    weights: { queue: 2, propose: 4 },
  });
  const state = createGenesisState(w.genesis);
  for (const input of w.inputs.slice(0, prefix)) applyInput(state, input);
  const rng = createRng(seed ^ 0x9a11);
  const int = (n: number) => Math.floor(rng() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const ids = [...state.proposals.keys()];
  const everyone = [
    ...Array.from({ length: 8 }, (_, i) => workloadAddress('validator', i)),
    ...Array.from({ length: 16 }, (_, i) => workloadAddress('delegator', i)),
  ];
  const start = state.lastPosition ?? { block: 1n, txIndex: 0, logIndex: 0 };
  type Bare = Record<string, unknown> & { kind: GovernanceInput['kind'] };
  const bare: Bare[] = [];
  const craft = (): Bare => {
    const known = ids.length > 0 && rng() < 0.8;
    // Known ids: Active ones still in their voting period (queued too early, or later on), other Active
    // ones (voting over: short of quorum or approval, or passed), or any (queued, executed, canceled…).
    const open = ids.filter((i) => {
      const p = state.proposals.get(i);
      return p?.status === ProposalStatus.Active && p.voteEnd >= start.block + 3n;
    });
    const active = ids.filter((i) => state.proposals.get(i)?.status === ProposalStatus.Active);
    const r = rng();
    const id = known
      ? pick(open.length > 0 && r < 0.3 ? open : active.length > 0 && r < 0.6 ? active : ids)
      : pick([state.proposalCount + 1n, state.proposalCount + 2n, 0n, (1n << 64n) + (ids[0] ?? 1n)]);
    const proposer = state.proposals.get(id)?.proposer;
    const r2 = rng();
    if (r2 < 0.3) {
      const support = pick(['for', 'against', 'abstain', 'maybe']);
      return { kind: 'vote', sender: pick(everyone), proposalId: id, support };
    }
    if (r2 < 0.65) return { kind: 'queue', sender: pick(everyone), proposalId: id };
    const sender = proposer !== undefined && rng() < 0.6 ? proposer : pick(everyone);
    return { kind: 'cancel', sender, proposalId: id };
  };
  // First, for every proposal still in its voting period, a queue (too early, whatever its tallies) and
  // votes by a dozen accounts (validators, delegators, accounts with no power at the snapshot; delegators
  // before and after their validators; two repeats).
  for (const id of ids) {
    const p = state.proposals.get(id);
    if (p?.status === ProposalStatus.Active && p.voteEnd > start.block) {
      bare.push({ kind: 'queue', sender: pick(everyone), proposalId: id });
      const voters = Array.from({ length: 12 }, () => pick(everyone));
      for (const sender of [...voters, pick(voters), pick(voters)]) {
        bare.push({ kind: 'vote', sender, proposalId: id, support: pick(['for', 'against', 'abstain']) });
      }
    }
    // And a cancel by its proposer of every finished one (executed, canceled or failed).
    if (p !== undefined && p.status >= ProposalStatus.Executed) {
      bare.push({ kind: 'cancel', sender: p.proposer, proposalId: id });
    }
  }
  for (const input of w.inputs.slice(prefix)) {
    if (PROPOSAL_KINDS.has(input.kind)) {
      const { position: _, ...rest } = input;
      bare.push(rest);
    }
    if (rng() < 0.6) bare.push(craft());
  }
  let block = start.block + 1n;
  let tx = 0;
  const early = bare.length + 12;
  const inputs = bare.map((b, k): GovernanceInput => {
    const r = rng();
    // No long jump over the first inputs: votes and queues of Active proposals before their voteEnd.
    if (r < 0.1 && k >= early) {
      block += BigInt(6 + int(12));
      tx = 0;
    } else if (r < 0.5) {
      block += 1n;
      tx = 0;
    } else tx += 1;
    return { ...b, position: { block, txIndex: tx, logIndex: int(3) } } as GovernanceInput;
  });
  return { state, inputs };
}

const PROPOSAL_SEED_COUNT = Number(
  process.env.VIGIL_EQUIVALENCE_SEEDS ?? (process.env.VIGIL_LONG === '1' ? 300 : 10),
);

describe('the governance program applies vote, queue and cancel as the model does, from states the model reached', () => {
  it(`image equal after every input, final root equal, every step and read correct (${PROPOSAL_SEED_COUNT} seeds)`, {
    timeout: 60_000 + 2_000 * PROPOSAL_SEED_COUNT,
  }, () => {
    const figures = noFigures();
    let cancelsOfExecuted = 0;
    let overrides = 0;
    for (let seed = 1; seed <= PROPOSAL_SEED_COUNT; seed++) {
      const { state, inputs } = proposalWorkload(seed, 110, 60);
      expect(inputs.every((i) => PROPOSAL_KINDS.has(i.kind))).toBe(true);
      const overriddenBefore = new Map(
        [...state.proposals.values()].flatMap((p) => [...p.overridden].map(([v, d]) => [`${p.id} ${v}`, d])),
      );
      // Cancels by the proposer of a proposal executed in the prefix (no execute runs in the suffix).
      cancelsOfExecuted += inputs.filter((i) => {
        const p = i.kind === 'cancel' ? state.proposals.get(i.proposalId) : undefined;
        return p?.status === ProposalStatus.Executed && p.proposer === i.sender;
      }).length;
      checkEquivalence(state, inputs, figures);
      // Delegator overrides in the suffix where the validator voted too (before or after its delegator).
      for (const p of state.proposals.values()) {
        for (const [v, d] of p.overridden) {
          if (d !== overriddenBefore.get(`${p.id} ${v}`) && p.votes.has(v)) overrides++;
        }
      }
    }
    const count = (prefix: string) =>
      [...figures.outcomes.entries()].filter(([k]) => k.startsWith(prefix)).reduce((s, [, n]) => s + n, 0);
    console.info(
      `vote/queue/cancel outcomes (${overrides} delegator overrides of a validator's vote):\n  ${[
        ...figures.outcomes.entries(),
      ]
        .filter(([k]) => /^(vote|queue|cancel) /.test(k))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, n]) => `${k}: ${n}`)
        .join('\n  ')}\n  steps: ${[...figures.steps.entries()]
        .filter(([k]) => /^(vote|queue|cancel) /.test(k))
        .map(([k, xs]) => `${k} n=${xs.length} min=${Math.min(...xs)} max=${Math.max(...xs)}`)
        .join('; ')}`,
    );
    // Every outcome of the three rules, several times over.
    expect(count('queue accepted')).toBeGreaterThan(10);
    expect(count('queue queue.status: no such')).toBeGreaterThan(10);
    expect(count('queue queue.status: proposal is not active')).toBeGreaterThan(10);
    expect(count('queue queue.period')).toBeGreaterThan(5);
    expect(count('queue queue.quorum')).toBeGreaterThan(10);
    expect(count('queue queue.approval')).toBeGreaterThan(5);
    expect(count('cancel accepted')).toBeGreaterThan(10);
    expect(count('cancel cancel: no such')).toBeGreaterThan(10);
    expect(count('cancel cancel: only the proposer')).toBeGreaterThan(10);
    expect(count('cancel cancel: proposal is already')).toBeGreaterThan(10);
    expect(cancelsOfExecuted).toBeGreaterThan(0);
    expect(count('vote accepted')).toBeGreaterThan(30);
    expect(count('vote vote.status: no such')).toBeGreaterThan(5);
    expect(count('vote vote.status: proposal is not open')).toBeGreaterThan(5);
    expect(count('vote vote.status: support')).toBeGreaterThan(0);
    expect(count('vote vote.period')).toBeGreaterThan(5);
    expect(count('vote vote.once')).toBeGreaterThan(5);
    expect(count('vote vote.power')).toBeGreaterThan(5);
    expect(overrides).toBeGreaterThan(3);
  });

  it('queue at the quorum and approval edges: exact quorum suffices, exact approval does not, abstain counts for quorum only', () => {
    // Tallies the model could reach, set on an Active proposal of a state the model reached: bonded at
    // snapshot 100 000 so the workload's quorumBps (3000) and thresholdBps (5000) have exact edges.
    const cases: { tally: [bigint, bigint, bigint]; accepted: boolean; rule?: string }[] = [
      { tally: [30_000n, 0n, 0n], accepted: true },
      { tally: [29_999n, 0n, 0n], accepted: false, rule: 'queue.quorum' },
      { tally: [10_000n, 0n, 19_999n], accepted: false, rule: 'queue.quorum' },
      { tally: [10_000n, 0n, 20_000n], accepted: true },
      { tally: [15_000n, 15_000n, 0n], accepted: false, rule: 'queue.approval' },
      { tally: [15_001n, 14_999n, 0n], accepted: true },
      { tally: [0n, 0n, 100_000n], accepted: false, rule: 'queue.approval' },
    ];
    for (const c of cases) {
      const { state } = proposalWorkload(4, 110, 0);
      const p = [...state.proposals.values()].find((x) => x.status === ProposalStatus.Active);
      if (p === undefined) throw new Error('no Active proposal after the prefix');
      expect([p.quorumBps, p.thresholdBps]).toEqual([3_000n, 5_000n]);
      (p as { bondedAtSnapshot: bigint }).bondedAtSnapshot = 100_000n;
      [p.tally.for, p.tally.against, p.tally.abstain] = c.tally;
      markProposal(state, p);
      state.leaves.endStep();
      const last = state.lastPosition?.block ?? 1n;
      const block = (p.voteEnd > last ? p.voteEnd : last) + 1n;
      const inputs: GovernanceInput[] = [
        { kind: 'queue', sender: p.proposer, proposalId: p.id, position: { block, txIndex: 0, logIndex: 0 } },
      ];
      const figures = noFigures();
      checkEquivalence(state, inputs, figures);
      expect(figures.accepted).toBe(c.accepted ? 1 : 0);
      if (c.rule) expect([...figures.outcomes.keys()][0]).toMatch(new RegExp(`^queue ${c.rule}`));
    }
  });

  it('the check sees a wrong program: a queue that stores the wrong status diverges at that queue', () => {
    const at = reference.program.instructions.findIndex(
      (ins) =>
        ins.op === 'store' && ins.offset === PROPOSAL_WORD.status && 'imm' in ins.x && ins.x.imm === 1n,
    );
    expect(at).toBeGreaterThan(0);
    const instructions = reference.program.instructions.slice();
    const original = instructions[at];
    if (original?.op !== 'store') throw new Error('not the status store');
    instructions[at] = { ...original, x: { imm: 2n } };
    const mutant: GovernanceProgram = { ...reference, program: { instructions } };
    let diverged = 0;
    for (let seed = 1; seed <= 2; seed++) {
      const { state, inputs } = proposalWorkload(seed, 110, 60);
      try {
        checkEquivalence(state, inputs, noFigures(), mutant);
      } catch (e) {
        expect(String(e)).toMatch(/after input \d+ \(queue\): image word \d+ \(record \d+ word 9\)/);
        diverged++;
      }
    }
    expect(diverged).toBeGreaterThan(0);
  });
});
