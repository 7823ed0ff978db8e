/**
 * GVM-1 execution leaves (every opcode but hash, `circuits/gvm/exec-leaf.ts`): per opcode, the leaf
 * script's bytes (and its judgement's share), the spending input's witness weight at tree depth 8 with
 * real keys and a wrong step signed honestly (the disprove path), that spending witness's items and
 * bytes, the stack + altstack peak measured in Vigil's interpreter, and one execution's time there.
 * Weights and stack peaks stand beside BitVM's largest disprove leaf (`leaf-figures.ts`).
 */
import { EXEC_OPCODES, type ExecOpcode, execLeaf, execLeafWitness } from '../circuits/gvm/exec-leaf.ts';
import { CONSENSUS_FLAGS } from '../src/bitcoin/script/flags.ts';
import { runScript } from '../src/bitcoin/script/interpreter.ts';
import {
  fieldBytes,
  fieldValue,
  type Instruction,
  STEP_FIELDS,
  type StepRecord,
} from '../src/machine/isa.ts';
import { execute } from '../src/machine/semantics.ts';
import { type BenchFigure, type Benchmark, timeBest } from './harness.ts';
import {
  benchSecret,
  maxStackFigure,
  measuredRun,
  publicKeysOf,
  secretsOf,
  signFields,
  weightFigure,
  witnessFigures,
} from './leaf-figures.ts';

const PC = 4_242;

/** One instruction per opcode, memory operands where it has any. */
const INSTRUCTIONS: Record<ExecOpcode, Instruction> = {
  add: { op: 'add', dst: 9, x: { mem: 1 }, y: { mem: 2 } },
  sub: { op: 'sub', dst: 9, x: { mem: 1 }, y: { mem: 2 } },
  mul: { op: 'mul', dst: 9, x: { mem: 1 }, y: { mem: 2 } },
  div: { op: 'div', dst: 9, x: { mem: 1 }, y: { mem: 2 } },
  lt: { op: 'lt', dst: 9, x: { mem: 1 }, y: { mem: 2 } },
  eq: { op: 'eq', dst: 9, x: { mem: 1 }, y: { mem: 2 } },
  mov: { op: 'mov', dst: 9, x: { mem: 1 } },
  load: { op: 'load', dst: 9, ptr: 3, offset: 5 },
  store: { op: 'store', ptr: 3, offset: 5, x: { mem: 1 } },
  tape: { op: 'tape', dst: 9, pos: 3 },
  jmp: { op: 'jmp', target: 77 },
  jz: { op: 'jz', x: 1, target: 77 },
  jnz: { op: 'jnz', x: 1, target: 77 },
  halt: { op: 'halt', result: 1 },
};

const MEMORY = {
  read: (a: number) =>
    a === 3 ? 1_000n : a === 1 ? (1n << 255n) + 123_456_789n : (1n << 200n) + 987_654_321n + BigInt(a),
};

export const benchmarks: Benchmark[] = [
  {
    name: 'circuits.gvm.exec',
    run: async () => {
      const secrets = secretsOf(STEP_FIELDS, (f, valueIndex) =>
        benchSecret(0xe8, 0, valueIndex, fieldBytes(f)),
      );
      const keys = publicKeysOf(STEP_FIELDS, secrets);
      const sign = (step: StepRecord) =>
        execLeafWitness(signFields(STEP_FIELDS, secrets, (f) => fieldValue(step, f)));
      const figures: BenchFigure[] = [];
      for (const op of EXEC_OPCODES) {
        const ins = INSTRUCTIONS[op];
        const leaf = execLeaf(PC, ins, keys);
        const step = execute(PC, ins, MEMORY, { word: () => 5n });
        // A wrong next pc: the leaf's spending path runs the whole judgement.
        const items = sign({ ...step, nextPc: step.nextPc + 1 });
        const run = measuredRun(leaf.script, items);
        if (run.error !== 'OK' || !run.spent) {
          throw new Error(`the ${op} leaf did not disprove a wrong step: ${run.error}`);
        }
        const exec = await timeBest(
          () => runScript(leaf.script, { stack: items, flags: CONSENSUS_FLAGS }),
          5,
        );
        figures.push(
          weightFigure(`circuits.gvm.exec.${op}.weight`, items, leaf.script),
          { name: `circuits.gvm.exec.${op}.script`, value: leaf.script.length, unit: 'bytes' },
          {
            name: `circuits.gvm.exec.${op}.circuit`,
            value: leaf.circuitBytes,
            unit: 'bytes (judgement on the 30 transformed items)',
          },
          ...witnessFigures(`circuits.gvm.exec.${op}`, items),
          maxStackFigure(`circuits.gvm.exec.${op}.maxStack`, run.max),
          {
            name: `circuits.gvm.exec.${op}.exec`,
            value: Number(exec.toFixed(2)),
            unit: 'ms in the interpreter',
          },
        );
      }
      return figures;
    },
  },
];
