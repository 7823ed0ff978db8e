/**
 * Fault diagnosis on a long-running L2's state: the watcher diagnoses every fraudulent epoch, copying the
 * pre-state once per catalogue fault, so its time and the native heap it leaves behind grow with the
 * state. Baseline: one traced re-execution of the same epoch from a copy (what each of the runs costs).
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  createGenesisState,
  FAULTS,
  type GovernanceInput,
  type GovernanceState,
  reexecute,
} from '../src/governance/index.ts';
import { cloneState } from '../src/governance/state-snapshot.ts';
import { generateWorkload } from '../src/governance/workload.ts';
import { diagnoseFraud, type FraudDiagnosisInput } from '../src/judge/diagnose.ts';
import { type BenchFigure, type Benchmark, runInChild, timeBest, withRatio } from './harness.ts';

const ROUNDS = 30;

type Setup = { input: FraudDiagnosisInput; base: GovernanceState; epoch: readonly GovernanceInput[] };

/** A state of about 19,000 leaves (a devnet of some 2,000 epochs) and a fraudulent claim on its next epoch. */
function setup(): Setup {
  const w = generateWorkload({ seed: 7, inputs: 10_000, validators: 20, delegators: 200, epochLength: 40 });
  const ends = w.inputs.flatMap((x, i) => (x.kind === 'endEpoch' ? [i] : []));
  const from = (ends.at(-2) as number) + 1;
  const epoch = w.inputs.slice(from, (ends.at(-1) as number) + 1);
  const base = createGenesisState(w.genesis);
  reexecute(w.inputs.slice(0, from), { state: base });
  const fault = FAULTS.at(-1);
  if (fault === undefined) throw new Error('the fault catalogue is empty');
  const claimedRoot = reexecute(epoch, { state: cloneState(base), executor: fault }).root;
  const input = {
    genesis: w.genesis,
    base: { state: base, inputs: from },
    priorInputs: [],
    epochInputs: epoch,
    claimedRoot,
  };
  return { input, base, epoch };
}

/** The allocator's heap (`[heap]` in smaps) in MiB: where freed native memory stays resident. */
function allocatorHeapMiB(): number | undefined {
  if (!existsSync('/proc/self/smaps')) return undefined;
  const smaps = readFileSync('/proc/self/smaps', 'utf8');
  const at = smaps.indexOf('[heap]');
  const rss = at < 0 ? null : /Rss:\s+(\d+) kB/.exec(smaps.slice(at));
  return rss ? Number(rss[1]) / 1024 : 0;
}

export type NativeHeapProbe = { leaves: number; afterSetupMiB: number; afterRoundsMiB: number } | null;

/** The child side: the allocator's heap after the setup, then after ROUNDS diagnoses (null off Linux). */
export function diagnoseNativeHeapProbe(): NativeHeapProbe {
  const s = setup();
  const afterSetup = allocatorHeapMiB();
  if (afterSetup === undefined) return null;
  for (let i = 0; i < ROUNDS; i++) {
    if (diagnoseFraud(s.input).fault === undefined) throw new Error('the diagnosis found no fault');
  }
  return { leaves: s.base.leaves.size, afterSetupMiB: afterSetup, afterRoundsMiB: allocatorHeapMiB() ?? 0 };
}

export const benchmarks: Benchmark[] = [
  {
    name: 'diagnose.fraud',
    run: async () => {
      const s = setup();
      const one = await timeBest(() => reexecute(s.epoch, { state: cloneState(s.base), trace: true }), 1, 5);
      const whole = await timeBest(() => diagnoseFraud(s.input), 1, 5);
      const figures: BenchFigure[] = [
        withRatio({
          name: 'diagnose.fraud.19k-leaves',
          value: Math.round(whole * 10) / 10,
          unit: 'ms',
          baseline: Math.round(one * 10) / 10,
          target: `baseline: one traced run from a copy; a diagnosis makes ${FAULTS.length + 1}`,
        }),
      ];
      const probe = (await runInChild<NativeHeapProbe>(import.meta.url, 'diagnoseNativeHeapProbe')).result;
      if (probe !== null) {
        figures.push(
          withRatio({
            name: `diagnose.fraud.allocator-heap-after-${ROUNDS}`,
            value: Math.round(probe.afterRoundsMiB * 10) / 10,
            unit: 'MiB',
            baseline: Math.round(probe.afterSetupMiB * 10) / 10,
            target: `${probe.leaves} leaves; baseline: after building the state`,
          }),
        );
      }
      return figures;
    },
  },
];
