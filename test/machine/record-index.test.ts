/**
 * The governance program's record index (src/machine/programs/record-index.ts, docs/protocol.md §23):
 * probes that pass a taken entry and wrap at the table's end, and return to every caller; the table the
 * program leaves is where the TypeScript twin (`drawnSalt`, `firstEntry`) says, with every record and
 * every group; an input's steps stay the same as the state grows 100-fold; and keys an arithmetic hash
 * would pile into one entry (ground addresses, one account's checkpoints block after block) are spread.
 */
import { describe, expect, it } from 'vitest';
import {
  type Address,
  createGenesisState,
  type GovernanceInput,
  type GovernanceState,
  reexecute,
} from '../../src/governance/index.ts';
import { generateWorkload, WORKLOAD_PARAMS, workloadAddress } from '../../src/governance/workload.ts';
import { Assembler, imm } from '../../src/machine/assembler.ts';
import { runProgram } from '../../src/machine/interpreter.ts';
import { WORD_MODULUS } from '../../src/machine/isa.ts';
import { buildGovernanceProgram } from '../../src/machine/programs/governance.ts';
import { encodeInputsTape } from '../../src/machine/programs/inputs-tape.ts';
import {
  allocateScratch,
  ENTRY_COUNT,
  ENTRY_RECORD,
  emitProbe,
  LINK_OFFSET,
  probeReturnsOf,
  RECORD_SIZE,
  TABLE_BASE,
  TABLE_BITS,
  TABLE_END,
  tagWord,
} from '../../src/machine/programs/lib.ts';
import {
  CHECKPOINT_GROUP_SHIFT,
  drawnSalt,
  emitProbeFallback,
  emitProbeRoutine,
  firstEntry,
  VALIDATORS_GROUP,
  VOTE_GROUP_SHIFT,
} from '../../src/machine/programs/record-index.ts';
import { epochTape, imageWords } from '../../src/machine/programs/state-image.ts';
import { Tape } from '../../src/machine/tape.ts';

const built = buildGovernanceProgram();
const word = (memory: ReadonlyMap<number, bigint>, addr: number) => memory.get(addr) ?? 0n;
const entryAddress = (entry: number) => TABLE_BASE + entry;

/** The table entry holding `key` after a run, found as the program's probe finds it, and how far it sits. */
function entryOf(memory: ReadonlyMap<number, bigint>, key: bigint, salt: bigint) {
  const home = firstEntry(key, salt);
  for (let d = 0; d < 2 ** TABLE_BITS; d++) {
    const at = entryAddress((home + d) % 2 ** TABLE_BITS);
    const k = word(memory, at);
    if (k === key) return { at, displacement: d };
    if (k === 0n) return undefined;
  }
  return undefined;
}

type EpochRun = {
  readonly memory: ReadonlyMap<number, bigint>;
  readonly salt: bigint;
  /** Micro-steps of each input, by kind. */
  readonly steps: ReadonlyMap<string, number[]>;
};

function runEpoch(before: GovernanceState, inputs: readonly GovernanceInput[]): EpochRun {
  const run = runProgram(built.program, epochTape(before, inputs), {
    maxSteps: 50_000_000,
    hashChain: false,
  });
  expect(run.status).toBe('halted');
  const steps = new Map<string, number[]>();
  let previous = -1;
  run.steps.forEach((step, i) => {
    if (step.w.addr !== built.inputsDone) return;
    const done = Number(step.w.value);
    if (done > 0) {
      const kind = (inputs[done - 1] as GovernanceInput).kind;
      steps.set(kind, [...(steps.get(kind) ?? []), i - previous]);
    }
    previous = i;
  });
  return { memory: run.memory, salt: drawnSalt(encodeInputsTape(inputs)), steps };
}

const mean = (xs: readonly number[]) => xs.reduce((sum, x) => sum + x, 0) / xs.length;

describe('the record index', () => {
  it('probes past a taken entry, wraps at the table’s end, and finds what it stored', () => {
    const a = new Assembler(4_096);
    const s = allocateScratch(a, a.slot('n'), 2_048);
    const out = a.slots('out', 8);
    const last = TABLE_END - 1;
    // Under salt 0 this key's first entry is the last one, which another key holds.
    const key = 24_236_033n;
    expect(firstEntry(key, 0n)).toBe(2 ** TABLE_BITS - 1);
    a.mov(s.salt, imm(0n));
    a.mov(out, imm(BigInt(last)));
    a.store(out, imm(0xdeadn));
    emitProbe(a, s, imm(key));
    a.mov(out + 1, s.slot);
    a.mov(out + 2, s.found);
    a.store(s.slot, imm(key));
    a.store(s.slot, imm(100n), ENTRY_RECORD);
    emitProbe(a, s, imm(key));
    a.mov(out + 3, s.slot);
    a.mov(out + 4, s.found);
    a.load(out + 5, s.slot, ENTRY_RECORD);
    a.halt(out);
    emitProbeRoutine(a, s, probeReturnsOf(a));
    emitProbeFallback(a, s);
    const run = runProgram(a.build(), new Tape({ image: [], inputs: [] }), { maxSteps: 10_000 });
    expect(run.status).toBe('halted');
    const m = run.memory;
    expect(Array.from({ length: 5 }, (_, i) => word(m, out + 1 + i))).toEqual([
      BigInt(TABLE_BASE),
      0n,
      BigInt(TABLE_BASE),
      1n,
      100n,
    ]);
  });

  it('returns to each caller, and a return point it does not know faults', () => {
    const a = new Assembler(4_096);
    const s = allocateScratch(a, a.slot('n'), 2_048);
    const out = a.slots('out', 4);
    a.mov(s.salt, imm(7n));
    for (let i = 0; i < 4; i++) {
      emitProbe(a, s, imm(BigInt(1_000 + i)));
      a.mov(out + i, imm(BigInt(i + 1)));
    }
    // A return point no caller has.
    a.mov(s.probeKey, imm(5n));
    a.mov(s.probeReturn, imm(3n));
    a.jmp('probe.start');
    a.halt(out);
    emitProbeRoutine(a, s, probeReturnsOf(a));
    emitProbeFallback(a, s);
    const run = runProgram(a.build(), new Tape({ image: [], inputs: [] }), { maxSteps: 10_000 });
    expect(run.status).toBe('faulted');
    expect(Array.from({ length: 4 }, (_, i) => word(run.memory, out + i))).toEqual([1n, 2n, 3n, 4n]);
  });

  it('the table the program leaves holds every record and every group where the twin says', () => {
    const w = generateWorkload({ seed: 7, inputs: 240, validators: 10, delegators: 24, epochLength: 60 });
    const before = createGenesisState(w.genesis);
    const after = createGenesisState(w.genesis);
    reexecute(w.inputs, { state: after });
    const { memory, salt } = runEpoch(before, w.inputs);
    const image = imageWords(after);
    const records = image.length / RECORD_SIZE;
    // Every group: each checkpoint history, each proposal's votes, all validators (members in image order).
    const groups = new Map<bigint, number[]>();
    const join = (group: bigint, at: number) => groups.set(group, [...(groups.get(group) ?? []), at]);
    const prefix = (key: bigint, shift: bigint) => ((key >> shift) << shift) + 1n;
    let indexed = 0;
    for (let r = 0; r < records; r++) {
      const key = image[RECORD_SIZE * r] as bigint;
      const tag = Number(key >> 248n);
      const nameTag = image[RECORD_SIZE * r + 15] as bigint;
      if (tag > 0x0c && nameTag !== 3n) continue;
      const entry = entryOf(memory, key, salt);
      expect(entry, `record ${r}`).toBeDefined();
      expect(word(memory, (entry?.at ?? 0) + ENTRY_RECORD)).toBe(BigInt(RECORD_SIZE * r));
      indexed++;
      if (tag === 0x04) join(VALIDATORS_GROUP, RECORD_SIZE * r);
      if (tag === 0x0a) join(prefix(key, CHECKPOINT_GROUP_SHIFT), RECORD_SIZE * r);
      if (tag === 0x09) join(prefix(key, VOTE_GROUP_SHIFT), RECORD_SIZE * r);
    }
    expect(indexed).toBeGreaterThan(200);
    const tags = [...groups.keys()].map((g) => Number(g >> 248n));
    expect(tags.filter((t) => t === 0x04)).toHaveLength(1);
    expect(tags.filter((t) => t === 0x09).length).toBeGreaterThan(3);
    expect(tags.filter((t) => t === 0x0a).length).toBeGreaterThan(20);
    // Each group is linked newest first, in image order, and counted.
    for (const [group, members] of groups) {
      const entry = entryOf(memory, group, salt);
      expect(entry).toBeDefined();
      const walked: number[] = [];
      for (
        let p = Number(word(memory, (entry?.at ?? 0) + ENTRY_RECORD));
        p !== 0;
        p = Number(word(memory, p + LINK_OFFSET))
      ) {
        walked.push(p);
      }
      expect(walked).toEqual([...members].reverse());
      expect(word(memory, (entry?.at ?? 0) + ENTRY_COUNT)).toBe(BigInt(members.length));
    }
  });

  it('an input’s steps do not grow with the state: the same per kind at 20 records and at 2,119', () => {
    const w = generateWorkload({ seed: 5, inputs: 1_200, validators: 40, delegators: 400, epochLength: 200 });
    const runs = [0, 1_000].map((start) => {
      const before = createGenesisState(w.genesis);
      reexecute(w.inputs.slice(0, start), { state: before });
      return {
        records: imageWords(before).length / RECORD_SIZE,
        run: runEpoch(before, w.inputs.slice(start, start + 200)),
      };
    });
    const [small, large] = runs as [(typeof runs)[0], (typeof runs)[0]];
    expect([small.records, large.records]).toEqual([20, 2_119]);
    let compared = 0;
    for (const [kind, xs] of large.run.steps) {
      const ys = small.run.steps.get(kind);
      if (kind === 'endEpoch' || ys === undefined || xs.length < 5 || ys.length < 5) continue;
      // Before the index a delegate here cost 6,630 steps from 20 records (the state grows through the
      // epoch) and 57,663 from 2,119.
      expect(mean(xs) / mean(ys), kind).toBeLessThan(1.2);
      expect(Math.max(...xs), kind).toBeLessThan(1_000);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(4);
  });

  it('keys that an arithmetic hash would pile into one entry are spread: ground addresses, one account’s checkpoints block after block', () => {
    // Multiply-shift (the top 25 bits of key × m mod 2^256) with a multiplier known in advance: an
    // address a ≡ i / m (mod 2^168) gives key × m = tag × m × 2^248 + i × 2^88, the same top 25 bits
    // for every i below 2^143 (one i in about 256 gives an address below 2^160).
    const m = 0x9e3779b97f4a7c15f39cc0605cedc8341082276bf3a27251f86c6a11d0c18e95n;
    const multiplyShift = (key: bigint) => ((key * m) % WORD_MODULUS) >> BigInt(256 - TABLE_BITS);
    const modulus = 1n << 168n;
    const inverse = modInverse(m % modulus, modulus);
    const ground: Address[] = [];
    for (let i = 1n; ground.length < 640; i++) {
      const a = (i * inverse) % modulus;
      if (a < 1n << 160n) ground.push(`0x${a.toString(16).padStart(40, '0')}` as Address);
    }
    const delegationKey = (a: Address) => tagWord(0x05) + (BigInt(a) << 88n);
    expect(new Set(ground.map((a) => multiplyShift(delegationKey(a)))).size).toBe(1);

    const validators = Array.from({ length: 20 }, (_, i) => workloadAddress('validator', i));
    const stateWith = (delegators: readonly Address[]) => {
      const inputs: GovernanceInput[] = [];
      let block = 0n;
      const at = () => ({ block: ++block, txIndex: 0, logIndex: 0 });
      for (const v of validators) {
        inputs.push({ kind: 'registerValidator', sender: v, commissionBps: 500, position: at() });
        inputs.push({ kind: 'stake', sender: v, amount: WORKLOAD_PARAMS.minStake, position: at() });
      }
      // One validator stakes at 400 blocks in a row: its self and the bonded checkpoint keys are two
      // arithmetic progressions (the block sits at bit 16 of the key word).
      for (let i = 0; i < 400; i++) {
        inputs.push({ kind: 'stake', sender: validators[0] as Address, amount: 1n, position: at() });
      }
      delegators.forEach((d, i) => {
        inputs.push({
          kind: 'delegate',
          sender: d,
          validator: validators[i % 20] as Address,
          amount: 7n,
          position: at(),
        });
      });
      const state = createGenesisState({ params: WORKLOAD_PARAMS });
      expect(reexecute(inputs, { state }).accepted).toBe(inputs.length);
      const epoch: GovernanceInput[] = delegators.slice(0, 120).map((d, i) => ({
        kind: 'delegate',
        sender: d,
        validator: validators[i % 20] as Address,
        amount: 3n,
        position: at(),
      }));
      return { state, epoch };
    };
    const attacked = stateWith(ground);
    const control = stateWith(Array.from({ length: 640 }, (_, i) => workloadAddress('delegator', i)));
    const attackedRun = runEpoch(attacked.state, attacked.epoch);
    const controlRun = runEpoch(control.state, control.epoch);
    // Every indexed record of the attacked state sits within 3 entries of its first.
    const image = imageWords(attacked.state);
    let indexed = 0;
    for (let r = 0; r < image.length / RECORD_SIZE; r++) {
      const key = image[RECORD_SIZE * r] as bigint;
      if (Number(key >> 248n) > 0x0c) continue;
      const entry = entryOf(attackedRun.memory, key, attackedRun.salt);
      expect(entry?.displacement, `record ${r}`).toBeLessThanOrEqual(3);
      indexed++;
    }
    expect(indexed).toBeGreaterThan(2_500);
    const attackedSteps = attackedRun.steps.get('delegate') ?? [];
    const controlSteps = controlRun.steps.get('delegate') ?? [];
    expect([attackedSteps.length, controlSteps.length]).toEqual([120, 120]);
    expect(mean(attackedSteps) / mean(controlSteps)).toBeLessThan(1.1);
    expect(Math.max(...attackedSteps)).toBeLessThan(800);
  });

  it('the salt changes when only the last stake’s amount does (a word no key holds)', () => {
    const w = generateWorkload({ seed: 3, inputs: 30 });
    const base = drawnSalt(encodeInputsTape(w.inputs));
    const last = w.inputs.findLastIndex((input) => input.kind === 'stake');
    expect(last).toBeGreaterThan(0);
    const changed = w.inputs.map((input, i) =>
      i === last && input.kind === 'stake' ? { ...input, amount: input.amount + 1n } : input,
    );
    expect(drawnSalt(encodeInputsTape(changed))).not.toBe(base);
  });
});

function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [a, m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError('not invertible');
  return ((s0 % m) + m) % m;
}
