import { blake3Gadget } from '../circuits/blake3.ts';
import { blake3Node } from '../circuits/blake3-reference.ts';
import {
  limbAddGadget,
  limbEqualGadget,
  limbLessThanGadget,
  limbMulGadget,
  limbSubGadget,
  toLimbs,
  UINT256_LIMBS,
} from '../circuits/limbs.ts';
import { runScript } from '../src/bitcoin/script/interpreter.ts';
import { encodeScriptNum } from '../src/bitcoin/script/num.ts';
import { messageToDigits } from '../src/dispute/winternitz/digits.ts';
import { type BenchFigure, type Benchmark, timeBest, withRatio } from './harness.ts';

/**
 * Step-circuit building blocks (#14). The baselines are BitVM's published figures (FIELD-NOTES.md,
 * issue #14), not measured here: BLAKE3 of one 64-byte block ≈ 68.7 KB at 657 stack items (PR #136),
 * u32 add ≈ 80–90 B, U254 add ≈ 140 B, U64 mul ≈ 11.7 KB.
 */
export const benchmarks: Benchmark[] = [
  {
    name: 'circuits.blake3',
    run: async () => {
      const figures: BenchFigure[] = [];
      const digest = blake3Gadget('digest');
      const notEqual = blake3Gadget('notEqual');
      figures.push(
        withRatio({
          name: 'circuits.blake3.script',
          value: digest.script.length,
          unit: 'bytes / 64-byte block',
          baseline: 68_700,
          target: 'baseline: BitVM 68.7 KB (PR #136); ≤ it (#14 acceptance 3)',
        }),
        withRatio({
          name: 'circuits.blake3.maxStack',
          value: digest.maxStack,
          unit: 'stack + altstack items',
          baseline: 657,
          target: 'baseline: BitVM 657; ≤ 1,000',
        }),
        withRatio({
          name: 'circuits.blake3.notEqual.script',
          value: notEqual.script.length,
          unit: 'bytes (digest ≠ expected)',
          baseline: 68_700,
          target: 'baseline: BitVM 68.7 KB',
        }),
        {
          name: 'circuits.blake3.notEqual.maxStack',
          value: notEqual.maxStack,
          unit: 'stack + altstack items',
          target: '≤ 1,000',
        },
      );
      const message = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);
      const stack = messageToDigits(message).map((d) => encodeScriptNum(d));
      const exec = await timeBest(() => runScript(digest.script, { stack }), 500);
      const reference = await timeBest(() => blake3Node(message), 200);
      figures.push(
        withRatio({
          name: 'circuits.blake3.exec',
          value: Number(exec.toFixed(3)),
          unit: 'ms in the interpreter',
          baseline: Number(reference.toFixed(4)),
          target: 'baseline: the TypeScript reference, same run',
        }),
      );
      return figures;
    },
  },
  {
    name: 'circuits.limbs',
    run: async () => {
      const n = UINT256_LIMBS;
      const add = limbAddGadget();
      const mul = limbMulGadget();
      const figures: BenchFigure[] = [
        withRatio({
          name: 'circuits.limbs.add.uint256',
          value: add.script.length,
          unit: 'bytes (9 × 29-bit limbs)',
          baseline: 140,
          target: 'baseline: BitVM U254 add ≈ 140 B',
        }),
        withRatio({
          name: 'circuits.limbs.add.2limbs',
          value: limbAddGadget(2).script.length,
          unit: 'bytes (58-bit)',
          baseline: 85,
          target: 'baseline: BitVM u32 add ≈ 80–90 B',
        }),
        { name: 'circuits.limbs.sub.uint256', value: limbSubGadget().script.length, unit: 'bytes' },
        { name: 'circuits.limbs.lessThan.uint256', value: limbLessThanGadget().script.length, unit: 'bytes' },
        { name: 'circuits.limbs.equal.uint256', value: limbEqualGadget().script.length, unit: 'bytes' },
        withRatio({
          name: 'circuits.limbs.mul',
          value: mul.script.length,
          unit: 'bytes (29 × 29 → 58 bits)',
          baseline: 11_700,
          target: 'baseline: BitVM U64 mul ≈ 11.7 KB (64 × 64 bits)',
        }),
      ];
      const a = toLimbs(2n ** 255n + 12345n, n).reverse();
      const b = toLimbs(2n ** 254n + 999n, n).reverse();
      const stack = [...a, ...b].map((l) => encodeScriptNum(l));
      const addExec = await timeBest(() => runScript(add.script, { stack }), 200);
      const mulStack = [encodeScriptNum(0x1abcdef1), encodeScriptNum(0x1234567)];
      const mulExec = await timeBest(() => runScript(mul.script, { stack: mulStack }), 200);
      figures.push(
        { name: 'circuits.limbs.add.exec', value: Number((addExec * 1000).toFixed(1)), unit: 'µs' },
        { name: 'circuits.limbs.mul.exec', value: Number((mulExec * 1000).toFixed(1)), unit: 'µs' },
      );
      return figures;
    },
  },
];
