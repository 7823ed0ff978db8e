import { hash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { bytesToHex } from '../src/core/bytes.ts';
import { applyInput, computeStateRoot, createGenesisState, reexecute } from '../src/governance/index.ts';
import { hashLeaf, MerkleTree } from '../src/governance/merkle.ts';
import { generateOneEpochWorkload, type Workload } from '../src/governance/workload.ts';
import { type BenchFigure, type Benchmark, runInChild, timeBest, withRatio } from './harness.ts';

const EPOCH_INPUTS = 100_000;
const LEAVES = 1_000_000;
const LEAF_SIZE = 91; // a validator leaf

function replay(w: Workload, perStepRoot: boolean): Uint8Array {
  const state = createGenesisState(w.genesis);
  for (const input of w.inputs) {
    applyInput(state, input);
    if (perStepRoot) computeStateRoot(state);
  }
  return computeStateRoot(state);
}

/** CPU time (user + system) of `fn` in ms: less sensitive than wall time to other processes on the box. */
function cpuMs(fn: () => unknown): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const MIB = 1024 * 1024;
/** Issue #21's figure: the in-process peak RSS of the governance benches before the memory work. */
const ISSUE_PEAK_RSS = '< 652 MiB (issue #21, before)';

type ProbeMode = 'load' | 'reexecute' | 'trace';
export type MemoryProbe = { root: string; retainedHeapMiB: number };

function collect(): void {
  // The child runs with --expose-gc: a full collection so the heap figure counts only what is retained.
  if (typeof globalThis.gc !== 'function') throw new Error('the memory probe needs node --expose-gc');
  globalThis.gc();
}

/**
 * The child side of the memory figures (run by `runInChild`): loads the workload (v8-serialized, so
 * loading leaves no decoding garbage behind), then re-executes it as `mode` says and keeps the result
 * alive until its retained heap is measured. `load` stops after loading: the same-run baseline.
 */
export function reexecuteMemoryProbe(file: string, mode: ProbeMode): MemoryProbe {
  const w = deserialize(readFileSync(file)) as Workload;
  collect();
  const before = process.memoryUsage().heapUsed;
  if (mode === 'load') return { root: '', retainedHeapMiB: 0 };
  const r = reexecute(w.inputs, { genesis: w.genesis, trace: mode === 'trace' });
  collect();
  const retained = process.memoryUsage().heapUsed - before;
  return { root: bytesToHex(r.root), retainedHeapMiB: Math.round((retained / MIB) * 10) / 10 };
}

/** Peak RSS (and retained heap) of re-executing `w`, each mode in a fresh process. */
async function memoryFigures(w: Workload, expectedRoot: Uint8Array): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-gov-bench-'));
  try {
    const file = join(dir, 'workload.v8');
    writeFileSync(file, serialize(w));
    const probe = (mode: ProbeMode) =>
      runInChild<MemoryProbe>(import.meta.url, 'reexecuteMemoryProbe', [file, mode], ['--expose-gc']);
    const load = await probe('load');
    const plain = await probe('reexecute');
    const traced = await probe('trace');
    for (const run of [plain, traced]) {
      if (run.result.root !== bytesToHex(expectedRoot))
        throw new Error('the memory probe reached another root');
    }
    const mib = (x: number) => Math.round(x);
    return [
      withRatio({
        name: 'governance.reexecute-100k.peak-rss',
        value: mib(plain.peakRssMiB),
        unit: 'MiB',
        baseline: mib(load.peakRssMiB),
        target: ISSUE_PEAK_RSS,
      }),
      withRatio({
        name: 'governance.reexecute-100k.traced.peak-rss',
        value: mib(traced.peakRssMiB),
        unit: 'MiB',
        baseline: mib(load.peakRssMiB),
        target: ISSUE_PEAK_RSS,
      }),
      { name: 'governance.reexecute-100k.retained-heap', value: plain.result.retainedHeapMiB, unit: 'MiB' },
      {
        name: 'governance.reexecute-100k.traced.retained-heap',
        value: traced.result.retainedHeapMiB,
        unit: 'MiB',
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function* leaves(bytes: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < LEAVES; i++) yield bytes.subarray(i * LEAF_SIZE, (i + 1) * LEAF_SIZE);
}

export const benchmarks: Benchmark[] = [
  {
    name: 'governance.reexecute',
    run: async () => {
      const w = generateOneEpochWorkload(EPOCH_INPUTS);
      const n = w.inputs.length;
      const wall = await timeBest(() => replay(w, false), 1, 3);
      let cpu = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++)
        cpu = Math.min(
          cpu,
          cpuMs(() => replay(w, false)),
        );
      const traced = await timeBest(() => replay(w, true), 1, 1);
      const memory = await memoryFigures(w, replay(w, false));
      return [
        {
          name: 'governance.reexecute.epoch-100k',
          value: Math.round(n / (wall / 1000)),
          unit: 'inputs/s',
          target: '≥ 50,000',
        },
        {
          name: 'governance.reexecute.epoch-100k.cpu-time',
          value: Math.round(n / (cpu / 1000)),
          unit: 'inputs/s',
        },
        {
          name: 'governance.reexecute.epoch-100k.root-every-step',
          value: Math.round(n / (traced / 1000)),
          unit: 'inputs/s',
        },
        ...memory,
      ];
    },
  },
  {
    name: 'governance.root',
    run: async () => {
      const bytes = new Uint8Array(LEAVES * LEAF_SIZE);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < LEAVES; i++) {
        bytes[i * LEAF_SIZE] = 0x04;
        view.setUint32(i * LEAF_SIZE + 1, i);
      }
      let tree = MerkleTree.fromLeaves(leaves(bytes), LEAVES);
      const full = await timeBest(
        () => {
          tree = MerkleTree.fromLeaves(leaves(bytes), LEAVES);
          return tree.root();
        },
        1,
        3,
      );
      // Baseline: each leaf's record root alone (its 16 words laid out and hashed, 15 BLAKE3 compressions):
      // what any per-leaf commitment of the image costs; the tree above the records is the rest.
      const perLeaf = await timeBest(
        () => {
          for (const leaf of leaves(bytes)) hashLeaf(leaf);
        },
        1,
        3,
      );
      const oneStream = await timeBest(() => hash('sha256', bytes, 'buffer'), 1, 3);
      tree.root();
      let k = 0;
      const leafHash = new Uint8Array(32);
      const incremental = await timeBest(
        () => {
          leafHash[0] = ++k & 0xff;
          leafHash[1] = (k >> 8) & 0xff;
          tree.set((k * 7919) % LEAVES, leafHash);
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
          baseline: perLeaf,
          target: '≤ 3× baseline',
        }),
        withRatio({
          name: 'governance.root.full-1M-leaves.vs-one-stream',
          value: full,
          unit: 'ms',
          baseline: oneStream,
        }),
        { name: 'governance.root.incremental-one-leaf', value: incremental * 1000, unit: 'µs' },
      ];
      return figures;
    },
  },
];
