/**
 * Each catalogue fault, compiled into the governance program (programs/faults.ts) and run through GVM-1
 * (docs/protocol.md §23, issue #14 acceptance 2): on the fault's own scenario (test/governance/fault-cases.ts)
 * the faulty build reproduces the faulty model input by input, its trace first leaves the honest trace at
 * a micro-step of the input that exercises the fault's rule, that micro-step is named (label + offset in
 * the program source), and the disprove leaf of the honest program at its pc, run in Vigil's interpreter
 * with the faulty step's Winternitz-signed values, succeeds, while the honest step's values do not spend it.
 */
import { describe, expect, it } from 'vitest';
import { execLeaf, execLeafWitness } from '../../circuits/gvm/exec-leaf.ts';
import { hashExecLeaf, hashExecWitness } from '../../circuits/gvm/hash-leaf.ts';
import { createGenesisState, executorByName, FAULTS } from '../../src/governance/index.ts';
import { runProgram } from '../../src/machine/interpreter.ts';
import {
  fieldBytes,
  fieldValue,
  type Instruction,
  STEP_FIELDS,
  type StepRecord,
} from '../../src/machine/isa.ts';
import { PROGRAM_FAULTS } from '../../src/machine/programs/faults.ts';
import { buildGovernanceProgram, type GovernanceProgram } from '../../src/machine/programs/governance.ts';
import { encodeInputsTape } from '../../src/machine/programs/inputs-tape.ts';
import { isWrongStep } from '../../src/machine/semantics.ts';
import { Tape } from '../../src/machine/tape.ts';
import { fieldSecrets, publicKeysOf, signFields, spends } from '../circuits/gvm/helpers.ts';
import { FAULT_CASES, FAULT_RULE_LABEL } from '../governance/fault-cases.ts';
import { checkEquivalence, imageWords, noFigures, reference } from './equivalence.ts';

const SECRETS = fieldSecrets(STEP_FIELDS, 'fd', 0, fieldBytes);
const KEYS = publicKeysOf(STEP_FIELDS, SECRETS);

/** Whether the honest program's disprove leaf at `step.pc` is spent by `step`'s signed values. */
function leafSpends(ins: Instruction, step: StepRecord): boolean {
  const sigs = signFields(STEP_FIELDS, SECRETS, (f) => fieldValue(step, f));
  if (ins.op === 'hash') {
    return spends(hashExecLeaf(step.pc, ins, KEYS).script, hashExecWitness(sigs));
  }
  return spends(execLeaf(step.pc, ins, KEYS).script, execLeafWitness(sigs));
}

const sameAccess = (a: StepRecord['r1'], b: StepRecord['r1']) => a.addr === b.addr && a.value === b.value;
const sameStep = (a: StepRecord, b: StepRecord) =>
  a.pc === b.pc &&
  a.nextPc === b.nextPc &&
  sameAccess(a.r1, b.r1) &&
  sameAccess(a.r2, b.r2) &&
  sameAccess(a.w, b.w);

/** The step index at which the run writes `value` to the per-input boundary slot. */
function boundaryStep(built: GovernanceProgram, steps: readonly StepRecord[], value: number): number {
  return steps.findIndex((s) => s.w.addr === built.inputsDone && s.w.value === BigInt(value));
}

const describeStep = (s: StepRecord) =>
  `pc ${s.pc} r1 ${s.r1.addr}=${s.r1.value} r2 ${s.r2.addr}=${s.r2.value} w ${s.w.addr}=${s.w.value} next ${s.nextPc}`;

describe('catalogue faults in GVM-1', () => {
  it('the program knows every catalogue fault by its catalogue name', () => {
    expect([...PROGRAM_FAULTS].sort()).toEqual(FAULTS.map((f) => f.name).sort());
  });

  it('a fault build is the honest program but for its rule: every other pc holds the same instruction', () => {
    const honest = reference.program.instructions;
    for (const fault of PROGRAM_FAULTS) {
      const built = buildGovernanceProgram({ fault });
      const instructions = built.program.instructions;
      // The layout a fault build keeps ends at the halt. After it come the probe routine's jump to its
      // list of return points the honest build does not have (same pc, its target moves past a fault
      // build's out-of-line code) and that list, then the out-of-line code.
      const halt = honest.findIndex((ins) => ins.op === 'halt');
      expect(instructions.length).toBeGreaterThanOrEqual(honest.length);
      expect(instructions[halt]).toEqual(honest[halt]);
      const changed = honest
        .slice(0, halt + 1)
        .flatMap((ins, pc) =>
          JSON.stringify(ins, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)) ===
          JSON.stringify(instructions[pc], (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))
            ? []
            : [pc],
        );
      expect(changed.length, fault).toBeGreaterThan(0);
      for (const pc of changed)
        expect(reference.locate(pc), `${fault} at pc ${pc}`).toMatch(FAULT_RULE_LABEL[fault]);
    }
  });

  describe.each(PROGRAM_FAULTS)('%s', (fault) => {
    it('diverges first inside the input its rule decides; the honest leaf at that pc disproves the faulty step', () => {
      const { scenario, step } = (FAULT_CASES[fault] as (typeof FAULT_CASES)[string])();
      const inputs = scenario.inputs.slice(0, step + 1);
      const faulty = buildGovernanceProgram({ fault });

      // The faulty build is the faulty model, input by input (and the honest build is the reference).
      checkEquivalence(
        createGenesisState(scenario.genesis),
        inputs,
        noFigures(),
        faulty,
        executorByName(fault),
      );
      checkEquivalence(createGenesisState(scenario.genesis), inputs, noFigures());

      const tape = () =>
        new Tape({
          image: imageWords(createGenesisState(scenario.genesis)),
          inputs: encodeInputsTape(inputs),
        });
      const honestRun = runProgram(reference.program, tape(), { maxSteps: 5_000_000, hashChain: false });
      const faultyRun = runProgram(faulty.program, tape(), { maxSteps: 5_000_000, hashChain: false });
      expect(honestRun.status).toBe('halted');
      expect(faultyRun.status).toBe('halted');
      expect(faultyRun.result).not.toBe(honestRun.result);

      const at = honestRun.steps.findIndex((s, i) => !sameStep(s, faultyRun.steps[i] as StepRecord));
      expect(at).toBeGreaterThan(0);
      // Inside the input that exercises the rule: after the previous input's boundary, before its own.
      expect(at).toBeGreaterThan(boundaryStep(reference, honestRun.steps, step));
      expect(at).toBeLessThanOrEqual(boundaryStep(reference, honestRun.steps, step + 1));

      const honestStep = honestRun.steps[at] as StepRecord;
      const faultyStep = faultyRun.steps[at] as StepRecord;
      expect(faultyStep.pc).toBe(honestStep.pc);
      const ins = reference.program.instructions[faultyStep.pc] as Instruction;
      const where = reference.locate(faultyStep.pc);
      expect(where).toMatch(FAULT_RULE_LABEL[fault]);
      expect(isWrongStep(faultyStep.pc, ins, faultyStep)).toBe(true);
      expect(isWrongStep(honestStep.pc, ins, honestStep)).toBe(false);
      expect(leafSpends(ins, faultyStep)).toBe(true);
      expect(leafSpends(ins, honestStep)).toBe(false);
      console.info(
        `${fault}: first divergent micro-step ${at} of ${honestRun.steps.length}, input ${step} (${inputs[step]?.kind}), ` +
          `${where} (${ins.op})\n  honest ${describeStep(honestStep)}\n  faulty ${describeStep(faultyStep)}`,
      );
    });
  });
});
