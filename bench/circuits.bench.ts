import { ARITH_KINDS, arithStepLeaf, arithStepWitness } from '../circuits/arith-step.ts';
import { blake3Gadget } from '../circuits/blake3.ts';
import { blake3Node } from '../circuits/blake3-reference.ts';
import { bytesOfValue, digitsToLimbsGadget } from '../circuits/digits-to-limbs.ts';
import {
  limbAddGadget,
  limbEqualGadget,
  limbLessThanGadget,
  limbMulGadget,
  limbSubGadget,
  toLimbs,
  UINT256_LIMBS,
} from '../circuits/limbs.ts';
import { merkleStepLeaf, merkleStepWitness } from '../circuits/merkle-step.ts';
import { CONSENSUS_FLAGS } from '../src/bitcoin/script/flags.ts';
import { runScript } from '../src/bitcoin/script/interpreter.ts';
import { encodeScriptNum } from '../src/bitcoin/script/num.ts';
import { concatBytes } from '../src/core/bytes.ts';
import { messageToDigits } from '../src/dispute/winternitz/digits.ts';
import { type WotsSecretKey, wotsPublicKey } from '../src/dispute/winternitz/keys.ts';
import { wotsSign } from '../src/dispute/winternitz/sign.ts';
import { type BenchFigure, type Benchmark, timeBest, withRatio } from './harness.ts';
import { benchSecret, maxStackFigure, measuredRun, weightFigure, witnessFigures } from './leaf-figures.ts';

/**
 * Step-circuit building blocks (#14). The baselines are BitVM's published figures (FIELD-NOTES.md,
 * issue #14), not measured here: BLAKE3 of one 64-byte block ≈ 68.7 KB at 657 stack items (PR #136),
 * u32 add ≈ 80–90 B, U254 add ≈ 140 B, U64 mul ≈ 11.7 KB.
 */
/** Three Winternitz secret keys (value indexes 0–2) as a graph derives them, from a one-byte seed. */
function threeSecrets(seedByte: number): [WotsSecretKey, WotsSecretKey, WotsSecretKey] {
  const derive = (valueIndex: number) => benchSecret(seedByte, 0, valueIndex, 32);
  return [derive(0), derive(1), derive(2)];
}

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
  {
    name: 'circuits.digitsToLimbs',
    run: async () => {
      const g = digitsToLimbsGadget();
      const value = Uint8Array.from({ length: 32 }, (_, i) => (i * 53 + 7) & 0xff);
      const stack = messageToDigits(value).map((d) => encodeScriptNum(d));
      const exec = await timeBest(() => runScript(g.script, { stack }), 200);
      return [
        {
          name: 'circuits.digitsToLimbs.script',
          value: g.script.length,
          unit: 'bytes (64 digits → 9 limbs)',
        },
        { name: 'circuits.digitsToLimbs.maxStack', value: g.maxStack, unit: 'stack + altstack items' },
        { name: 'circuits.digitsToLimbs.exec', value: Number((exec * 1000).toFixed(1)), unit: 'µs' },
      ];
    },
  },
  {
    name: 'circuits.merkleStep',
    run: async () => {
      // Real keys and signatures; the weight of the spending input's witness (witness bytes are 1 WU).
      const [l, r, p] = threeSecrets(0x5e);
      const leaf = merkleStepLeaf({
        left: wotsPublicKey(l),
        right: wotsPublicKey(r),
        parent: wotsPublicKey(p),
      });
      const left = Uint8Array.from({ length: 32 }, (_, i) => i);
      const right = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
      const wrongParent = blake3Node(concatBytes(right, left));
      const items = merkleStepWitness({
        left: wotsSign(l, left),
        right: wotsSign(r, right),
        parent: wotsSign(p, wrongParent),
      });
      const weighed = weightFigure('circuits.merkleStep.weight', items, leaf.script);
      const witness = witnessFigures('circuits.merkleStep', items);
      const witnessBytes = witness.find((f) => f.name.endsWith('.witnessBytes'))?.value ?? 0;
      const run = measuredRun(leaf.script, items);
      if (run.error !== 'OK') throw new Error(`the Merkle-step leaf failed on a wrong parent: ${run.error}`);
      const exec = await timeBest(() => runScript(leaf.script, { stack: items, flags: CONSENSUS_FLAGS }), 20);
      return [
        weighed,
        { name: 'circuits.merkleStep.script', value: leaf.script.length, unit: 'bytes' },
        {
          name: 'circuits.merkleStep.circuit',
          value: leaf.circuitBytes,
          unit: 'bytes (BLAKE3 notEqual)',
        },
        {
          name: 'circuits.merkleStep.wotsVerify',
          value: leaf.verifyBytes,
          unit: 'bytes (3 Winternitz verifications + altstack moves)',
        },
        ...witness,
        {
          name: 'circuits.merkleStep.wotsShare',
          value: Number((((leaf.verifyBytes + witnessBytes) / weighed.value) * 100).toFixed(1)),
          unit: '% of the weight (Winternitz script + signatures)',
        },
        maxStackFigure('circuits.merkleStep.maxStack', run.max),
        { name: 'circuits.merkleStep.exec', value: Number(exec.toFixed(2)), unit: 'ms in the interpreter' },
      ];
    },
  },
  {
    name: 'circuits.arithStep',
    run: async () => {
      // Per kind: real keys, a wrong step signed honestly (the spending path), the input's witness weight.
      const [sa, sb, sc] = threeSecrets(0xa7);
      const keys = { a: wotsPublicKey(sa), b: wotsPublicKey(sb), c: wotsPublicKey(sc) };
      const a = (1n << 255n) + 123_456_789n;
      const b = (1n << 254n) + 987_654_321n;
      const wrong = { add: a + b + 1n, sub: a - b - 1n, lt: 1n };
      const figures: BenchFigure[] = [];
      for (const kind of ARITH_KINDS) {
        const leaf = arithStepLeaf(kind, keys);
        const items = arithStepWitness({
          a: wotsSign(sa, bytesOfValue(a)),
          b: wotsSign(sb, bytesOfValue(b)),
          c: wotsSign(sc, bytesOfValue(wrong[kind])),
        });
        const run = measuredRun(leaf.script, items);
        if (run.error !== 'OK') throw new Error(`the ${kind}-step leaf failed on a wrong step: ${run.error}`);
        figures.push(
          weightFigure(`circuits.arithStep.${kind}.weight`, items, leaf.script),
          { name: `circuits.arithStep.${kind}.script`, value: leaf.script.length, unit: 'bytes' },
          {
            name: `circuits.arithStep.${kind}.circuit`,
            value: leaf.circuitBytes,
            unit: 'bytes (limb judgement on [A B C])',
          },
          {
            name: `circuits.arithStep.${kind}.verify`,
            value: leaf.verifyBytes,
            unit: 'bytes (3 Winternitz verifications + digits → limbs + altstack moves)',
          },
          maxStackFigure(`circuits.arithStep.${kind}.maxStack`, run.max),
        );
        if (kind === 'add') {
          const exec = await timeBest(
            () => runScript(leaf.script, { stack: items, flags: CONSENSUS_FLAGS }),
            20,
          );
          figures.push({
            name: 'circuits.arithStep.add.exec',
            value: Number(exec.toFixed(2)),
            unit: 'ms in the interpreter',
          });
        }
      }
      return figures;
    },
  },
];
