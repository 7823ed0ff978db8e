/**
 * GVM-1 execution leaves (every opcode but hash, `circuits/gvm/exec-leaf.ts`): per opcode, the leaf
 * script's bytes (and its judgement's share), the spending input's witness weight at tree depth 8 with
 * real keys and a wrong step signed honestly (the disprove path), that spending witness's items and
 * bytes, the stack + altstack peak measured in Vigil's interpreter, and one execution's time there.
 * Weights and stack peaks stand beside BitVM's largest disprove leaf (`leaf-figures.ts`).
 */
import { type ExecGroup, execGroupLeaf, planExecGroups } from '../circuits/gvm/exec-groups.ts';
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
import { governanceProgram } from '../src/machine/programs/governance.ts';
import { execute } from '../src/machine/semantics.ts';
import { type BenchFigure, type Benchmark, timeBest, withRatio } from './harness.ts';
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

function benchKeys() {
  const secrets = secretsOf(STEP_FIELDS, (f, valueIndex) => benchSecret(0xe8, 0, valueIndex, fieldBytes(f)));
  const keys = publicKeysOf(STEP_FIELDS, secrets);
  const sign = (step: StepRecord) =>
    execLeafWitness(signFields(STEP_FIELDS, secrets, (f) => fieldValue(step, f)));
  return { keys, sign };
}

/**
 * The governance program's execution leaves grouped (`exec-groups.ts`) against one leaf per position,
 * built in the same run: leaves, script bytes, build time; and the dearest disprove of the grouped set
 * (the last branch of the largest leaf), its weight and its time in the interpreter.
 */
async function groupFigures(): Promise<BenchFigure[]> {
  const { keys, sign } = benchKeys();
  const program = governanceProgram();
  const positions = program.instructions.flatMap((ins, pc) => (ins.op === 'hash' ? [] : [pc]));
  let perPositionBytes = 0;
  const perPositionMs = await timeBest(
    () => {
      perPositionBytes = 0;
      for (const pc of positions) {
        perPositionBytes += execLeaf(pc, program.instructions[pc] as Instruction, keys).script.length;
      }
    },
    0,
    2,
  );
  // The first build of a program plans and compiles every branch; later ones (another game's keys)
  // reuse the branches and only verify anew.
  const cold = performance.now();
  for (const g of planExecGroups(program)) execGroupLeaf(program, g, keys);
  const coldMs = performance.now() - cold;
  let groups: ExecGroup[] = [];
  let groupedBytes = 0;
  let largest: { group: ExecGroup | undefined; script: Uint8Array } = {
    group: undefined,
    script: new Uint8Array(),
  };
  const groupedMs = await timeBest(
    () => {
      groups = planExecGroups(program);
      groupedBytes = 0;
      for (const g of groups) {
        const script = execGroupLeaf(program, g, keys).script;
        groupedBytes += script.length;
        if (script.length > largest.script.length) largest = { group: g, script };
      }
    },
    0,
    2,
  );
  const pc = largest.group?.positions.at(-1) as number;
  const ins = program.instructions[pc] as Instruction;
  const step = execute(pc, ins, MEMORY, { word: () => 5n });
  const items = sign({ ...step, nextPc: step.nextPc + 1 });
  const run = measuredRun(largest.script, items);
  if (run.error !== 'OK' || !run.spent)
    throw new Error(`the group leaf did not disprove a wrong step: ${run.error}`);
  const exec = await timeBest(() => runScript(largest.script, { stack: items, flags: CONSENSUS_FLAGS }), 20);
  const single = execLeaf(pc, ins, keys).script;
  const singleExec = await timeBest(() => runScript(single, { stack: items, flags: CONSENSUS_FLAGS }), 20);
  return [
    withRatio({
      name: 'circuits.gvm.execGroups.leaves',
      value: groups.length,
      unit: 'leaves for the governance program (baseline: one per non-hash position)',
      baseline: positions.length,
    }),
    withRatio({
      name: 'circuits.gvm.execGroups.scriptBytes',
      value: groupedBytes,
      unit: 'bytes of script, all leaves (baseline: one leaf per position)',
      baseline: perPositionBytes,
    }),
    withRatio({
      name: 'circuits.gvm.execGroups.buildMs.first',
      value: Number(coldMs.toFixed(1)),
      unit: "ms to plan and build every leaf, the program's first time (baseline: one leaf per position)",
      baseline: Number(perPositionMs.toFixed(1)),
    }),
    withRatio({
      name: 'circuits.gvm.execGroups.buildMs',
      value: Number(groupedMs.toFixed(1)),
      unit: 'ms to plan and build every leaf for other keys, branches reused (baseline: one leaf per position)',
      baseline: Number(perPositionMs.toFixed(1)),
    }),
    { name: 'circuits.gvm.execGroups.largest.script', value: largest.script.length, unit: 'bytes' },
    weightFigure('circuits.gvm.execGroups.largest.weight', items, largest.script),
    maxStackFigure('circuits.gvm.execGroups.largest.maxStack', run.max),
    withRatio({
      name: 'circuits.gvm.execGroups.largest.exec',
      value: Number(exec.toFixed(2)),
      unit: `ms in the interpreter, the last branch (${ins.op} at ${pc}) of the largest leaf (baseline: that position's own leaf)`,
      baseline: Number(singleExec.toFixed(2)),
    }),
  ];
}

export const benchmarks: Benchmark[] = [
  { name: 'circuits.gvm.execGroups', run: groupFigures },
  {
    name: 'circuits.gvm.exec',
    run: async () => {
      const { keys, sign } = benchKeys();
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
            unit: 'bytes (judgement on the 31 transformed items)',
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
