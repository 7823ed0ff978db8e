/**
 * The equivalence harness of the governance program (docs/protocol.md §23): runs the program over an
 * epoch's inputs from a pre-state image and checks, after every input (cut at each write of
 * `inputsDone`), that its memory image is word for word the model's state image, that the run halts on the
 * model's final root, and that every step is execution-correct and every read returns the last write.
 */
import { expect } from 'vitest';
import {
  applyInput,
  computeStateRoot,
  type Executor,
  type GovernanceInput,
  type GovernanceState,
  REFERENCE_EXECUTOR,
} from '../../src/governance/index.ts';
import { generateWorkload, type Workload } from '../../src/governance/workload.ts';
import { runProgram } from '../../src/machine/interpreter.ts';
import { NONE, wordOf } from '../../src/machine/isa.ts';
import { buildGovernanceProgram, type GovernanceProgram } from '../../src/machine/programs/governance.ts';
import { encodeInputsTape } from '../../src/machine/programs/inputs-tape.ts';
import { imageWords } from '../../src/machine/programs/state-image.ts';
import { readIndex } from '../../src/machine/reads.ts';
import { isWrongStep } from '../../src/machine/semantics.ts';
import { Tape } from '../../src/machine/tape.ts';

/** The honest governance program (built once per test file). */
export const reference = buildGovernanceProgram();

export { imageWords } from '../../src/machine/programs/state-image.ts';

export type Figures = {
  accepted: number;
  rejected: number;
  steps: Map<string, number[]>;
  /** Accepted inputs other than registrations by the records they created (0: all checkpoints overwritten). */
  growth: Map<number, number>;
  /** Inputs by kind and outcome: `<kind> accepted` or `<kind> <the model's rejecting rule>: <reason>`. */
  outcomes: Map<string, number>;
};
export const noFigures = (): Figures => ({
  accepted: 0,
  rejected: 0,
  steps: new Map(),
  growth: new Map(),
  outcomes: new Map(),
});

/**
 * Runs the program once over the workload, from `genesis` (a genesis state or any state the model reached:
 * its image is the tape's image half; the model then applies the inputs to it), and checks the image after every input against the model,
 * the final root, and every step and read. Returns the per-input step counts by kind and outcome.
 */
export function checkEquivalence(
  genesis: GovernanceState,
  inputs: readonly GovernanceInput[],
  figures: Figures,
  built: GovernanceProgram = reference,
  executor: Executor = REFERENCE_EXECUTOR,
): void {
  const { program } = built;
  const tape = new Tape({ image: imageWords(genesis), inputs: encodeInputsTape(inputs) });
  // The model's image after each input (index 0: before the first).
  const expected: bigint[][] = [imageWords(genesis)];
  const outcomes: boolean[] = [];
  for (const input of inputs) {
    const outcome = applyInput(genesis, input, executor);
    outcomes.push(outcome.accepted);
    const label = `${input.kind} ${outcome.accepted ? 'accepted' : `${outcome.rejectedBy}: ${outcome.reason}`}`;
    figures.outcomes.set(label, (figures.outcomes.get(label) ?? 0) + 1);
    expected.push(imageWords(genesis));
  }
  const run = runProgram(program, tape, { maxSteps: 20_000_000, hashChain: false });
  expect(run.status).toBe('halted');

  const memory = new Map<number, bigint>();
  const reads = readIndex(run.steps);
  let boundary = -1;
  let boundaryStep = 0;
  for (let i = 0; i < run.steps.length; i++) {
    const step = run.steps[i];
    if (step === undefined) throw new Error(`no step ${i}`);
    const ins = program.instructions[step.pc];
    if (ins === undefined) throw new Error(`pc ${step.pc} outside the program`);
    if (isWrongStep(step.pc, ins, step) || reads.isWrongRead(i, 1) || reads.isWrongRead(i, 2)) {
      expect.fail(`step ${i} (pc ${step.pc}, ${ins.op}) is wrong or reads a wrong value`);
    }
    if (step.w.addr === NONE) continue;
    memory.set(step.w.addr, step.w.value);
    if (step.w.addr !== built.inputsDone) continue;
    const k = Number(step.w.value);
    expect(k).toBe(boundary + 1);
    boundary = k;
    const want = expected[k] as bigint[];
    expect(
      memory.get(built.imageWords) ?? 0n,
      `image words after input ${k} (${inputs[k - 1]?.kind}, ${outcomes[k - 1] ? 'accepted' : 'rejected'} by the model)`,
    ).toBe(BigInt(want.length));
    const bad = want.findIndex((word, j) => (memory.get(j) ?? 0n) !== word);
    if (bad >= 0) {
      expect.fail(
        `after input ${k} (${inputs[k - 1]?.kind}): image word ${bad} (record ${bad >> 4} word ${bad & 15}) is ` +
          `0x${(memory.get(bad) ?? 0n).toString(16)}, the model's 0x${(want[bad] as bigint).toString(16)}`,
      );
    }
    if (k > 0) {
      const accepted = outcomes[k - 1] as boolean;
      if (accepted) figures.accepted++;
      else figures.rejected++;
      const label = `${inputs[k - 1]?.kind} ${accepted ? 'accepted' : 'rejected'}`;
      const list = figures.steps.get(label) ?? [];
      list.push(i - boundaryStep);
      figures.steps.set(label, list);
      if (accepted && inputs[k - 1]?.kind !== 'registerValidator') {
        const created = (want.length - (expected[k - 1] as bigint[]).length) / 16;
        figures.growth.set(created, (figures.growth.get(created) ?? 0) + 1);
      }
    }
    boundaryStep = i;
  }
  expect(boundary).toBe(inputs.length);
  expect(run.result).toBe(wordOf(computeStateRoot(genesis)));
}

/**
 * The random workload of a seed: every input kind, 12 % of them rejected by the model, and sizes, set
 * sizes and epoch lengths that vary with the seed so that sets, caps and ties differ.
 */
export const seededWorkload = (seed: number): Workload =>
  generateWorkload({
    seed,
    inputs: 60 + (seed % 4) * 25,
    validators: 3 + (seed % 7) * 2,
    delegators: 4 + (seed % 5) * 6,
    epochLength: 15 + (seed % 3) * 15,
    rejected: 0.12,
  });
