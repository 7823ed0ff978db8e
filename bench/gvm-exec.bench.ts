/**
 * GVM-1 execution leaves (every opcode but hash, `circuits/gvm/exec-leaf.ts`): per opcode, the leaf
 * script's bytes (and its judgement's share), the spending input's witness weight at tree depth 8 with
 * real keys and a wrong step signed honestly (the disprove path), the stack + altstack peak measured in
 * Vigil's interpreter, and one execution's time there.
 */
import { EXEC_OPCODES, type ExecOpcode, execLeaf, execLeafWitness } from '../circuits/gvm/exec-leaf.ts';
import { tapscriptWitnessWeight } from '../circuits/wots-values.ts';
import { NoSignatureChecker } from '../src/bitcoin/script/checker.ts';
import { CONSENSUS_FLAGS } from '../src/bitcoin/script/flags.ts';
import { runScript, ScriptExecution } from '../src/bitcoin/script/interpreter.ts';
import { castToBool } from '../src/bitcoin/script/num.ts';
import { deriveWotsSecretKey, type WotsSecretKey, wotsPublicKey } from '../src/dispute/winternitz/keys.ts';
import { type WotsSignature, wotsSign } from '../src/dispute/winternitz/sign.ts';
import {
  fieldBytes,
  fieldValue,
  type Instruction,
  STEP_FIELDS,
  type StepField,
  type StepRecord,
} from '../src/machine/isa.ts';
import { execute } from '../src/machine/semantics.ts';
import { type BenchFigure, type Benchmark, timeBest, withRatio } from './harness.ts';

const PC = 4_242;
const DEPTH = 8;

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
      const secrets = {} as Record<StepField, WotsSecretKey>;
      STEP_FIELDS.forEach((field, valueIndex) => {
        secrets[field] = deriveWotsSecretKey(new Uint8Array(32).fill(0xe8), {
          network: 'regtest',
          operator: new Uint8Array(32).fill(0x66),
          epoch: 14n,
          instance: 0,
          valueIndex,
          messageBytes: fieldBytes(field),
        });
      });
      const keys = Object.fromEntries(STEP_FIELDS.map((f) => [f, wotsPublicKey(secrets[f])])) as Record<
        StepField,
        ReturnType<typeof wotsPublicKey>
      >;
      const sign = (step: StepRecord) =>
        execLeafWitness(
          Object.fromEntries(
            STEP_FIELDS.map((f) => [f, wotsSign(secrets[f], fieldValue(step, f))]),
          ) as Record<StepField, WotsSignature>,
        );
      const figures: BenchFigure[] = [];
      for (const op of EXEC_OPCODES) {
        const ins = INSTRUCTIONS[op];
        const leaf = execLeaf(PC, ins, keys);
        const step = execute(PC, ins, MEMORY, { word: () => 5n });
        // A wrong next pc: the leaf's spending path runs the whole judgement.
        const items = sign({ ...step, nextPc: step.nextPc + 1 });
        const e = new ScriptExecution({
          script: leaf.script,
          stack: items,
          flags: CONSENSUS_FLAGS,
          checker: NoSignatureChecker,
          sigVersion: 'tapscript',
        });
        let max = items.length;
        while (e.step() === 'running') max = Math.max(max, e.stack.length + e.altstack.length);
        if (e.error !== 'OK' || e.stack.length !== 1 || !castToBool(e.stack[0] as Uint8Array)) {
          throw new Error(`the ${op} leaf did not disprove a wrong step: ${e.error}`);
        }
        const exec = await timeBest(
          () => runScript(leaf.script, { stack: items, flags: CONSENSUS_FLAGS }),
          5,
        );
        figures.push(
          withRatio({
            name: `circuits.gvm.exec.${op}.weight`,
            value: tapscriptWitnessWeight(items, leaf.script, DEPTH),
            unit: `WU (script + witness + control block, tree depth ${DEPTH})`,
            baseline: 400_000,
            target: 'baseline: the 400,000 WU standard transaction; ≤ it',
          }),
          { name: `circuits.gvm.exec.${op}.script`, value: leaf.script.length, unit: 'bytes' },
          {
            name: `circuits.gvm.exec.${op}.circuit`,
            value: leaf.circuitBytes,
            unit: 'bytes (judgement on the 30 transformed items)',
          },
          withRatio({
            name: `circuits.gvm.exec.${op}.maxStack`,
            value: max,
            unit: 'stack + altstack items (measured)',
            baseline: 1_000,
            target: 'baseline: the 1,000-item limit',
          }),
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
