/**
 * GVM-1 machine core (#14): interpreter speed with and without the trace chain (one BLAKE3 compression
 * per step), and the cost of the state image root (the tape's image half, Part I's state root) and of
 * building a tape with its paths. The interpreter's target is ≥ 200,000 steps/s without hashing.
 */
import { Assembler, imm } from '../src/machine/assembler.ts';
import { runProgram } from '../src/machine/interpreter.ts';
import { ADDRESS_LIMIT } from '../src/machine/isa.ts';
import { imageRoot, Tape } from '../src/machine/tape.ts';
import { type BenchFigure, type Benchmark, timeBest, withRatio } from './harness.ts';

/** Insertion sort of `count` input words into memory: loads, stores, compares and branches. */
function sortProgram(count: number) {
  const a = new Assembler();
  const arr = a.slots('arr', count);
  const [cnt, tp, sorted, key, ptr, q, prev, c] = ['cnt', 'tp', 'sorted', 'key', 'ptr', 'q', 'prev', 'c'].map(
    (name) => a.slot(name),
  ) as [number, number, number, number, number, number, number, number];
  a.mov(cnt, imm(BigInt(count))).mov(tp, imm(BigInt(ADDRESS_LIMIT)));
  a.label('outer').jz(cnt, 'done');
  a.tape(key, tp).add(ptr, sorted, imm(BigInt(arr)));
  a.label('inner')
    .eq(c, ptr, imm(BigInt(arr)))
    .jnz(c, 'place');
  a.sub(q, ptr, imm(1n)).load(prev, q).lt(c, key, prev).jz(c, 'place');
  a.store(ptr, prev).mov(ptr, q).jmp('inner');
  a.label('place').store(ptr, key);
  a.add(tp, tp, imm(1n)).add(sorted, sorted, imm(1n)).sub(cnt, cnt, imm(1n)).jmp('outer');
  a.label('done').halt(arr);
  return a.build();
}

/** Deterministic pseudo-random uint256 words. */
function words(n: number, seed: number): bigint[] {
  let x = BigInt(seed) | 1n;
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 256n) - 1n);
    out.push(x ^ (x >> 97n));
  }
  return out;
}

export const benchmarks: Benchmark[] = [
  {
    name: 'circuits.gvm.machine',
    run: async () => {
      const program = sortProgram(250);
      const tape = new Tape({ image: [], inputs: words(250, 14) });
      const steps = runProgram(program, tape, {
        maxSteps: 10_000_000,
        keepSteps: false,
        hashChain: false,
      }).stepCount;
      const plain = await timeBest(
        () => runProgram(program, tape, { maxSteps: 10_000_000, keepSteps: false, hashChain: false }),
        1_000,
      );
      const kept = await timeBest(
        () => runProgram(program, tape, { maxSteps: 10_000_000, hashChain: false }),
        1_000,
      );
      const chained = await timeBest(() => runProgram(program, tape, { maxSteps: 10_000_000 }), 1_000);
      const perSecond = (ms: number) => Math.round(steps / (ms / 1_000));
      const image = words(1_000_000, 29);
      const root1m = await timeBest(() => imageRoot(image), 0, 2);
      const image64k = image.slice(0, 65_536);
      const root64k = await timeBest(() => imageRoot(image64k), 500);
      const tape64k = await timeBest(
        () => new Tape({ image: image64k, inputs: image64k.slice(0, 1_024) }),
        500,
      );
      const built = new Tape({ image: image64k, inputs: [] });
      const path = await timeBest(() => built.path(12_345), 200);
      const figures: BenchFigure[] = [
        {
          name: 'circuits.gvm.machine.sort250.steps',
          value: steps,
          unit: 'steps (insertion sort of 250 words)',
        },
        withRatio({
          name: 'circuits.gvm.machine.stepsPerSecond',
          value: perSecond(plain),
          unit: 'steps/s, no chain, steps not kept',
          baseline: 200_000,
          target: '≥ 200,000 steps/s (the brief)',
        }),
        {
          name: 'circuits.gvm.machine.stepsPerSecond.kept',
          value: perSecond(kept),
          unit: 'steps/s, no chain, step records kept',
        },
        withRatio({
          name: 'circuits.gvm.machine.stepsPerSecond.chained',
          value: perSecond(chained),
          unit: 'steps/s, trace chain hashed, records kept',
          baseline: perSecond(plain),
          target: 'baseline: the same run without the chain',
        }),
        {
          name: 'circuits.gvm.machine.imageRoot.1m',
          value: Math.round(root1m),
          unit: 'ms for 1,000,000 words (depth 29)',
        },
        {
          name: 'circuits.gvm.machine.imageRoot.64k',
          value: Number(root64k.toFixed(1)),
          unit: 'ms for 65,536 words',
        },
        {
          name: 'circuits.gvm.machine.tape.64k',
          value: Number(tape64k.toFixed(1)),
          unit: 'ms to build a tape of 65,536 + 1,024 words (all levels kept)',
        },
        {
          name: 'circuits.gvm.machine.tape.path',
          value: Number(path.toFixed(4)),
          unit: 'ms per 30-sibling path',
        },
      ];
      return figures;
    },
  },
];
