/**
 * Games over real governance traces: a scenario's epoch run by the honest governance program (Vigil's
 * side) and by an operator's program (honest, or a catalogue fault's build), with the context a kick-off
 * fixes. Shared by the game tests.
 */

import type { SearchShape } from '../../../src/dispute/game/grid.ts';
import { type HonestView, type KeptRun, viewOfRun } from '../../../src/dispute/game/honest-view.ts';
import type { GameContext } from '../../../src/dispute/game/moves.ts';
import { traceOperator } from '../../../src/dispute/game/operator.ts';
import type { OperatorPlayer } from '../../../src/dispute/game/players.ts';
import {
  createGenesisState,
  type GenesisOptions,
  type GovernanceInput,
} from '../../../src/governance/index.ts';
import { runProgram } from '../../../src/machine/interpreter.ts';
import { NONE, type StepRecord, WORD_MAX } from '../../../src/machine/isa.ts';
import type { ProgramFault } from '../../../src/machine/programs/faults.ts';
import { buildGovernanceProgram } from '../../../src/machine/programs/governance.ts';
import { encodeInputsTape } from '../../../src/machine/programs/inputs-tape.ts';
import { execute } from '../../../src/machine/semantics.ts';
import { Tape } from '../../../src/machine/tape.ts';
import { FAULT_CASES } from '../../governance/fault-cases.ts';
import { imageWords, reference } from '../../machine/equivalence.ts';

const MAX_STEPS = 1 << 20;

export type Epoch = {
  readonly tape: Tape;
  readonly honest: KeptRun;
  /** The honest run as Vigil's rule reads it (every record kept). */
  readonly view: HonestView;
};

/** The honest run of `inputs` from a genesis. */
export function honestEpoch(genesis: GenesisOptions, inputs: readonly GovernanceInput[]): Epoch {
  const tape = new Tape({
    image: imageWords(createGenesisState(genesis)),
    inputs: encodeInputsTape(inputs),
  });
  const run = runProgram(reference.program, tape, { maxSteps: MAX_STEPS });
  if (run.status !== 'halted' || run.result === undefined) throw new Error('The honest run did not halt');
  const honest = { steps: run.steps, chain: run.chain, tape, result: run.result };
  return { tape, honest, view: viewOfRun(honest) };
}

/** A small epoch most game tests play over: the vote-counted-twice scenario, honest. */
export function smallEpoch(): Epoch {
  const { scenario } = (FAULT_CASES['vote-counted-twice'] as (typeof FAULT_CASES)[string])();
  return honestEpoch(scenario.genesis, scenario.inputs);
}

/** The context a kick-off claiming `claimedRoot` fixes for this epoch. */
export const contextOf = (epoch: Epoch, claimedRoot: bigint): GameContext => ({
  program: reference.program,
  imageRoot: epoch.tape.imageRoot,
  inputsRoot: epoch.tape.inputRoot,
  agreedImageRoot: epoch.tape.imageRoot,
  claimedRoot,
});

/** The operator whose trace is `steps`, chained from the honest h_0 (its program: the build that ran them). */
export function operatorOf(
  shape: SearchShape,
  epoch: Epoch,
  steps: readonly StepRecord[] = epoch.honest.steps,
  tape: Tape = epoch.tape,
  fault?: ProgramFault,
) {
  const program = fault === undefined ? reference.program : buildGovernanceProgram({ fault }).program;
  return traceOperator(shape, { program, steps, h0: epoch.honest.chain[0] as Uint8Array, tape });
}

/** A faulty build's run over the epoch's tape: its steps and the root it halts on. */
export function faultyRun(epoch: Epoch, fault: NonNullable<ProgramFault>, tape: Tape = epoch.tape) {
  const run = runProgram(buildGovernanceProgram({ fault }).program, tape, {
    maxSteps: MAX_STEPS,
    hashChain: false,
  });
  if (run.status !== 'halted' || run.result === undefined) throw new Error(`The ${fault} run did not halt`);
  return { steps: run.steps, result: run.result };
}

/**
 * The honest program run with one read corrupted: before step k executes, memory at the address its
 * first read names holds `value` instead. The run goes on from the corrupted memory, so its chain leaves
 * the honest one where the corruption first changes a write or a jump; its records say what it read.
 */
export function corruptedRun(
  epoch: Epoch,
  k: number,
  value: bigint,
): { steps: StepRecord[]; result: bigint } | undefined {
  const words = new Map<number, bigint>();
  const memory = { read: (a: number) => words.get(a) ?? 0n };
  const steps: StepRecord[] = [];
  let pc = 0;
  // A corruption that sends the run into a loop is given up on well before the step limit.
  const limit = Math.min(MAX_STEPS, 2 * epoch.honest.steps.length);
  for (let count = 0; count < limit; count++) {
    const ins = reference.program.instructions[pc];
    if (ins === undefined) return undefined;
    if (count === k) words.set((epoch.honest.steps[k] as StepRecord).r1.addr, value);
    const step = execute(pc, ins, memory, epoch.tape);
    if (step.w.addr !== NONE) words.set(step.w.addr, step.w.value);
    steps.push(step);
    if (ins.op === 'halt') return { steps, result: step.r1.value };
    if (step.nextPc === NONE) return undefined;
    pc = step.nextPc;
  }
  return undefined;
}

/** The epoch run over its tape with the first input word whose change changes the root changed. */
export function otherTapeRun(epoch: Epoch) {
  const contents = epoch.tape.contents();
  for (const [index, word] of contents.inputs.entries()) {
    if (word === 0n) continue;
    const inputs = [...contents.inputs];
    inputs[index] = (word + 1n) & WORD_MAX;
    const tape = new Tape({ image: contents.image, inputs });
    const run = runProgram(reference.program, tape, { maxSteps: MAX_STEPS, hashChain: false });
    if (run.status === 'halted' && run.result !== epoch.honest.result) return { tape, run };
  }
  throw new Error('No input word of the epoch changes its root');
}

/**
 * The honest trace, but its halt says it read `claimed` (a wrong root) as its first read, last written at
 * `r1last`: the lie the read's second search ends in RV1 at that write.
 */
export function haltReadsRootLiar(
  shape: SearchShape,
  epoch: Epoch,
  claimed: bigint,
  r1last: number,
  patch: Partial<OperatorPlayer> = {},
): OperatorPlayer {
  const steps = epoch.honest.steps;
  const T = steps.length;
  const halt = steps[T - 1] as StepRecord;
  const honest = operatorOf(shape, epoch);
  return {
    ...honest,
    reveal(i) {
      const r = honest.reveal(i);
      if (r === undefined || 'refuse' in r || i !== T - 1) return r;
      return { ...r, record: { ...halt, r1: { addr: halt.r1.addr, value: claimed } }, r1last };
    },
    ...patch,
  };
}
