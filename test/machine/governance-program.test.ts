/**
 * The governance program's two ends (docs/protocol.md §23): GVM-1 copies the state image from its tape
 * and hashes it into the state root, and that root is the model's, for real states of seeded
 * workloads; every step of such a run is execution-correct and every read returns the last write.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { computeStateRoot, createGenesisState, reexecute } from '../../src/governance/index.ts';
import type { GovernanceState } from '../../src/governance/state.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { runProgram } from '../../src/machine/interpreter.ts';
import { wordOf } from '../../src/machine/isa.ts';
import { buildGovernanceProgram, governanceProgram } from '../../src/machine/programs/governance.ts';
import { isWrongRead } from '../../src/machine/reads.ts';
import { isWrongStep } from '../../src/machine/semantics.ts';
import { Tape } from '../../src/machine/tape.ts';

function imageWords(state: GovernanceState): bigint[] {
  const bytes = state.leaves.image();
  const words: bigint[] = [];
  for (let i = 0; i < bytes.length; i += 32) words.push(wordOf(bytes.subarray(i, i + 32)));
  return words;
}

const program = governanceProgram();

describe('the governance program: image in, root out', () => {
  it.each([1, 7, 42])('seed %i: the machine halts on the model’s state root, and the tape agrees', (seed) => {
    const w = generateWorkload({ seed, inputs: 150 });
    const { state } = reexecute(w.inputs, { genesis: w.genesis });
    const root = computeStateRoot(state);
    const tape = new Tape({ image: imageWords(state), inputs: [] });
    expect(bytesToHex(tape.imageRoot)).toBe(bytesToHex(root));
    const run = runProgram(program, tape, { maxSteps: 5_000_000, keepSteps: false, hashChain: false });
    expect(run.status).toBe('halted');
    expect(run.result).toBe(wordOf(root));
  });

  it('names its places the same whichever programs were built before it', () => {
    const first = buildGovernanceProgram();
    buildGovernanceProgram({ fault: 'vote-counted-twice' });
    const again = buildGovernanceProgram();
    expect(again.program).toEqual(first.program);
    const n = first.program.instructions.length;
    for (let pc = 0; pc < n; pc += Math.floor(n / 97)) expect(again.locate(pc)).toBe(first.locate(pc));
  });

  it('the genesis state, and an empty image (its root is the zero hash of depth 29)', () => {
    const genesis = createGenesisState();
    const tape = new Tape({ image: imageWords(genesis), inputs: [] });
    const run = runProgram(program, tape, { maxSteps: 1_000_000 });
    expect(run.result).toBe(wordOf(computeStateRoot(genesis)));
    const empty = runProgram(program, new Tape({ image: [], inputs: [] }), { maxSteps: 1_000_000 });
    expect(empty.status).toBe('halted');
    expect(empty.result).toBe(wordOf(new Tape({ image: [], inputs: [] }).imageRoot));
  });

  it('every step of a run is execution-correct and every read returns the last write', () => {
    const genesis = createGenesisState();
    const run = runProgram(program, new Tape({ image: imageWords(genesis), inputs: [] }), {
      maxSteps: 1_000_000,
    });
    expect(run.steps.length).toBe(run.stepCount);
    expect(run.chain.length).toBe(run.stepCount + 1);
    for (let i = 0; i < run.steps.length; i++) {
      const step = run.steps[i];
      if (step === undefined) throw new Error(`no step ${i}`);
      const ins = program.instructions[step.pc];
      if (ins === undefined) throw new Error(`pc ${step.pc} outside the program`);
      expect(isWrongStep(step.pc, ins, step)).toBe(false);
      expect(isWrongRead(run.steps, i, 1)).toBe(false);
      expect(isWrongRead(run.steps, i, 2)).toBe(false);
    }
  });
});
