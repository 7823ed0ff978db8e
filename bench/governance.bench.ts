import { hash } from 'node:crypto';
import {
  applyInput,
  computeStateRoot,
  createGenesisState,
  generateWorkload,
  type Workload,
} from '../src/governance/index.ts';
import { hashLeaf, MerkleTree } from '../src/governance/merkle.ts';
import { type BenchFigure, type Benchmark, timeBest, withRatio } from './harness.ts';

const EPOCH_INPUTS = 100_000;
const LEAVES = 1_000_000;

function epochWorkload(): Workload {
  const w = generateWorkload({
    seed: 42,
    inputs: EPOCH_INPUTS - 1,
    validators: 64,
    delegators: 2_000,
    epochLength: EPOCH_INPUTS,
  });
  const last = w.inputs[w.inputs.length - 1];
  const block = (last?.position.block ?? 1n) + 1n;
  w.inputs.push({
    kind: 'endEpoch',
    sender: w.inputs[0]?.sender ?? '0x',
    position: { block, txIndex: 0, logIndex: 0 },
  } as never);
  return w;
}

function replay(w: Workload, perStepRoot: boolean): Uint8Array {
  const state = createGenesisState(w.genesis);
  for (const input of w.inputs) {
    applyInput(state, input);
    if (perStepRoot) computeStateRoot(state);
  }
  return computeStateRoot(state);
}

/** Distinct leaf-sized byte strings (the size of a validator leaf), as one buffer. */
function leafBytes(n: number, size: number): Uint8Array {
  const out = new Uint8Array(n * size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) view.setUint32(i * size + 1, i);
  return out;
}

export const benchmarks: Benchmark[] = [
  {
    name: 'governance.reexecute',
    run: async () => {
      const w = epochWorkload();
      const n = w.inputs.length;
      const plain = await timeBest(() => replay(w, false), 1, 2);
      const traced = await timeBest(() => replay(w, true), 1, 1);
      return [
        {
          name: 'governance.reexecute.epoch-100k',
          value: Math.round(n / (plain / 1000)),
          unit: 'inputs/s',
          target: '≥ 50,000',
        },
        {
          name: 'governance.reexecute.epoch-100k.with-step-roots',
          value: Math.round(n / (traced / 1000)),
          unit: 'inputs/s',
        },
      ];
    },
  },
  {
    name: 'governance.root',
    run: async () => {
      const size = 91; // a validator leaf
      const bytes = leafBytes(LEAVES, size);
      const leafHashes = new Uint8Array(LEAVES * 32);
      const full = await timeBest(
        () => {
          for (let i = 0; i < LEAVES; i++)
            leafHashes.set(hashLeaf(bytes.subarray(i * size, (i + 1) * size)), i * 32);
          return MerkleTree.fromLeafHashes(leafHashes).root();
        },
        1,
        2,
      );
      // Baseline: SHA-256 of the same leaf bytes, one call per leaf (the least any per-leaf commitment costs).
      const baseline = await timeBest(
        () => {
          for (let i = 0; i < LEAVES; i++) hash('sha256', bytes.subarray(i * size, (i + 1) * size), 'buffer');
        },
        1,
        2,
      );
      const stream = await timeBest(() => hash('sha256', bytes, 'buffer'), 1, 3);
      const tree = MerkleTree.fromLeafHashes(leafHashes);
      tree.root();
      let k = 0;
      const leaf = new Uint8Array(32);
      const incremental = await timeBest(
        () => {
          leaf[0] = ++k & 0xff;
          tree.set((k * 7919) % LEAVES, leaf);
          tree.root();
        },
        200,
        50,
      );
      const figures: BenchFigure[] = [
        withRatio({
          name: 'governance.root.full-1M-leaves',
          value: full,
          unit: 'ms',
          baseline,
          target: '≤ 3× baseline',
        }),
        { name: 'governance.root.sha256-one-stream-same-bytes', value: stream, unit: 'ms' },
        { name: 'governance.root.incremental-one-leaf', value: incremental * 1000, unit: 'µs' },
        {
          name: 'governance.memory.rss-peak',
          value: Math.round(process.resourceUsage().maxRSS / 1024),
          unit: 'MiB',
        },
      ];
      return figures;
    },
  },
];
