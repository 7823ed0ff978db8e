/**
 * The governance program on GVM-1 (#14, docs/protocol.md §23): micro-steps per governance input kind
 * (accepted and rejected, mean and max over seeded random workloads of every kind, the workloads of
 * test/machine/workload-equivalence.test.ts), and the machine's speed against the reference model on the
 * same workload (the model's re-execution is the baseline; the ratio says how many times slower the
 * machine is). The operator runs the machine once per disputed epoch, with the trace chain.
 */
import { createGenesisState, INPUT_KINDS, reexecute } from '../src/governance/index.ts';
import { generateOneEpochWorkload, generateWorkload, type Workload } from '../src/governance/workload.ts';
import { runProgram } from '../src/machine/interpreter.ts';
import { wordOf } from '../src/machine/isa.ts';
import { buildGovernanceProgram } from '../src/machine/programs/governance.ts';
import { encodeInputsTape } from '../src/machine/programs/inputs-tape.ts';
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
      return figures;
    },
  },
];
