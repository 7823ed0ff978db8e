/**
 * The governance program on GVM-1 (#14, docs/protocol.md §23): micro-steps per governance input kind
 * (accepted and rejected, mean and max over seeded random workloads of every kind, the workloads of
 * test/machine/workload-equivalence.test.ts), and the machine's speed against the reference model on the
 * same workload (the model's re-execution is the baseline; the ratio says how many times slower the
 * machine is), and the steps of an input as the state grows (`growth`: the record index keeps them flat;
 * the smallest state is the baseline). The operator runs the machine once per disputed epoch, with the
 * trace chain.
 */
import { createGenesisState, INPUT_KINDS, reexecute } from '../src/governance/index.ts';
import { generateOneEpochWorkload, generateWorkload, type Workload } from '../src/governance/workload.ts';
import { runProgram } from '../src/machine/interpreter.ts';
import { wordOf } from '../src/machine/isa.ts';
import { buildGovernanceProgram } from '../src/machine/programs/governance.ts';
import { encodeInputsTape } from '../src/machine/programs/inputs-tape.ts';
import { epochTape } from '../src/machine/programs/state-image.ts';
import { Tape } from '../src/machine/tape.ts';
import { type BenchFigure, type Benchmark, timeBest, withRatio } from './harness.ts';

const built = buildGovernanceProgram();

const workloadOf = (seed: number): Workload =>
  generateWorkload({
    seed,
    inputs: 60 + (seed % 4) * 25,
    validators: 3 + (seed % 7) * 2,
    delegators: 4 + (seed % 5) * 6,
    epochLength: 15 + (seed % 3) * 15,
    rejected: 0.12,
  });

function tapeOf(w: Workload): Tape {
  const bytes = createGenesisState(w.genesis).leaves.image();
  const image: bigint[] = [];
  for (let i = 0; i < bytes.length; i += 32) image.push(wordOf(bytes.subarray(i, i + 32)));
  return new Tape({ image, inputs: encodeInputsTape(w.inputs) });
}

/** Micro-steps of each input of the workload, labelled `<kind> accepted|rejected` by the model. */
function stepsPerInput(w: Workload, into: Map<string, number[]>): void {
  const state = createGenesisState(w.genesis);
  const labels = w.inputs.map((input) => {
    const accepted = reexecute([input], { state }).accepted === 1;
    return `${input.kind}.${accepted ? 'accepted' : 'rejected'}`;
  });
  const run = runProgram(built.program, tapeOf(w), { maxSteps: 100_000_000, hashChain: false });
  let start = -1;
  run.steps.forEach((step, i) => {
    if (step.w.addr !== built.inputsDone) return;
    const k = Number(step.w.value);
    if (k > 0) {
      const label = labels[k - 1] as string;
      const list = into.get(label) ?? [];
      list.push(i - start);
      into.set(label, list);
    }
    start = i;
  });
}

/**
 * Steps per input (endEpoch left out: its passes read every record) of the 200 inputs after `start` of one
 * seeded workload, and the state's record count there.
 */
function growthAt(w: Workload, start: number): { records: number; perInput: number; epoch: number } {
  const state = createGenesisState(w.genesis);
  reexecute(w.inputs.slice(0, start), { state });
  const inputs = w.inputs.slice(start, start + 200);
  const run = runProgram(built.program, epochTape(state, inputs), {
    maxSteps: 100_000_000,
    hashChain: false,
  });
  let previous = -1;
  let steps = 0;
  let counted = 0;
  run.steps.forEach((step, i) => {
    if (step.w.addr !== built.inputsDone) return;
    const done = Number(step.w.value);
    if (done > 0 && inputs[done - 1]?.kind !== 'endEpoch') {
      steps += i - previous;
      counted++;
    }
    previous = i;
  });
  return {
    records: state.leaves.image().length / 512,
    perInput: Math.round(steps / counted),
    epoch: run.stepCount,
  };
}

export const benchmarks: Benchmark[] = [
  {
    name: 'circuits.gvm.governance',
    run: async () => {
      const figures: BenchFigure[] = [];
      const seeds = Array.from({ length: 20 }, (_, i) => 1_000 + i);
      const perKind = new Map<string, number[]>();
      for (const seed of seeds) stepsPerInput(workloadOf(seed), perKind);
      for (const kind of INPUT_KINDS) {
        for (const outcome of ['accepted', 'rejected']) {
          const xs = perKind.get(`${kind}.${outcome}`);
          if (xs === undefined) continue;
          const mean = Math.round(xs.reduce((s, x) => s + x, 0) / xs.length);
          figures.push({
            name: `circuits.gvm.governance.steps.${kind}.${outcome}`,
            value: mean,
            unit: `micro-steps per input, mean of ${xs.length} (max ${Math.max(...xs)})`,
          });
        }
      }

      // Speed on one workload: the model's re-execution (roots at each end of epoch) is the baseline.
      const w = workloadOf(1_003);
      const tape = tapeOf(w);
      const options = { maxSteps: 100_000_000, keepSteps: false } as const;
      const steps = runProgram(built.program, tape, { ...options, hashChain: false }).stepCount;
      const model = await timeBest(() => reexecute(w.inputs, { genesis: w.genesis }), 300);
      const machine = await timeBest(
        () => runProgram(built.program, tape, { ...options, hashChain: false }),
        300,
      );
      const chained = await timeBest(() => runProgram(built.program, tape, options), 300);
      figures.push(
        {
          name: 'circuits.gvm.governance.workload.steps',
          value: steps,
          unit: `micro-steps for ${w.inputs.length} inputs from genesis (image copy and root included)`,
        },
        withRatio({
          name: 'circuits.gvm.governance.workload.machineMs',
          value: Number(machine.toFixed(1)),
          unit: 'ms, machine without the trace chain (ratio: × the model)',
          baseline: Number(model.toFixed(2)),
          target: 'baseline: reference model re-execution of the same inputs',
        }),
        withRatio({
          name: 'circuits.gvm.governance.workload.chainedMs',
          value: Number(chained.toFixed(1)),
          unit: 'ms, machine with the trace chain, as the operator runs it (ratio: × the model)',
          baseline: Number(model.toFixed(2)),
        }),
      );

      // A bench-shaped epoch: many delegators, one end of epoch.
      const epoch = generateOneEpochWorkload(1_000);
      const epochTape = tapeOf(epoch);
      // One run (tens of millions of steps): its time and its step count.
      const t0 = performance.now();
      const epochSteps = runProgram(built.program, epochTape, { ...options, hashChain: false }).stepCount;
      const epochMachine = performance.now() - t0;
      const epochModel = await timeBest(() => reexecute(epoch.inputs, { genesis: epoch.genesis }), 0, 2);
      figures.push(
        {
          name: 'circuits.gvm.governance.epoch1000.steps',
          value: epochSteps,
          unit: 'micro-steps, one epoch of 1,000 inputs (64 validators, 2,000 delegators)',
        },
        withRatio({
          name: 'circuits.gvm.governance.epoch1000.machineMs',
          value: Math.round(epochMachine),
          unit: 'ms, machine without the chain (ratio: × the model)',
          baseline: Number(epochModel.toFixed(1)),
        }),
      );

      // An input's steps as the state grows: the same workload cut at three points.
      const grown = generateWorkload({
        seed: 5,
        inputs: 2_200,
        validators: 40,
        delegators: 400,
        epochLength: 200,
      });
      const [small, ...larger] = [0, 1_000, 2_000].map((start) => growthAt(grown, start));
      if (small === undefined) throw new Error('no growth sample');
      for (const g of [small, ...larger]) {
        figures.push(
          withRatio({
            name: `circuits.gvm.governance.growth.records${g.records}.stepsPerInput`,
            value: g.perInput,
            unit: `micro-steps per input (endEpoch left out), 200 inputs over ${g.records} records; the epoch ${g.epoch} (ratio: × at ${small.records} records)`,
            baseline: small.perInput,
            target: 'flat: an input touches the records it names, not the state',
          }),
        );
      }
      return figures;
    },
  },
];
