/**
 * The benchmark harness. Each `bench/*.bench.ts` file exports `benchmarks: Benchmark[]`.
 * A benchmark returns one or more figures; where a baseline exists it is measured in the same run
 * (same process, same machine load) and the figure carries the ratio to it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export type BenchFigure = {
  name: string;
  value: number;
  unit: string;
  /** The same-run baseline figure, in the same unit. */
  baseline?: number;
  /** value / baseline (or the direction documented by the benchmark's name). */
  ratio?: number;
  /** A target from the issue that asked for this figure, for the reader. */
  target?: string;
};

export type Benchmark = {
  /** Dotted name; `--only <prefix>` selects on it. */
  name: string;
  run: () => Promise<BenchFigure[]>;
};

/** Runs `fn` repeatedly for about `minMs` and returns the best per-iteration time in ms. */
export async function timeBest(
  fn: () => unknown | Promise<unknown>,
  minMs = 300,
  minRuns = 3,
): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  const start = performance.now();
  let runs = 0;
  while (runs < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    await fn();
    const dt = performance.now() - t0;
    if (dt < best) best = dt;
    runs++;
  }
  return best;
}

export function withRatio(figure: Omit<BenchFigure, 'ratio'> & { baseline: number }): BenchFigure {
  return { ...figure, ratio: figure.baseline === 0 ? 0 : figure.value / figure.baseline };
}

export function formatTable(figures: readonly BenchFigure[]): string {
  const rows = figures.map((f) => [
    f.name,
    formatNumber(f.value),
    f.unit,
    f.baseline === undefined ? '' : formatNumber(f.baseline),
    f.ratio === undefined ? '' : `${f.ratio.toFixed(2)}×`,
    f.target ?? '',
  ]);
  const header = ['benchmark', 'value', 'unit', 'baseline', 'ratio', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  if (Math.abs(n) >= 100) return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
  return n.toPrecision(4);
}

/** What `runInChild` hands back: the child's result and its peak resident set. */
export type ChildRun<T> = { result: T; peakRssMiB: number };

/**
 * Runs `exportName(...args)` of the module at `moduleUrl` in a fresh Node process (this process's loader
 * flags, plus `nodeFlags`) and returns its JSON result with the child's peak RSS (getrusage's maxRSS)
 * in MiB. A peak RSS is a high-water mark for the whole process: measured in-process, it would include
 * every benchmark that ran before, so each memory figure gets a process of its own.
 */
export async function runInChild<T>(
  moduleUrl: string,
  exportName: string,
  args: readonly string[] = [],
  nodeFlags: readonly string[] = [],
): Promise<ChildRun<T>> {
  const code = [
    'const m = await import(process.argv[1]);',
    'const result = await m[process.argv[2]](...process.argv.slice(3));',
    'const maxRSS = process.resourceUsage().maxRSS;',
    'process.stdout.write(JSON.stringify({ result, maxRSS }));',
  ].join('\n');
  const argv = [
    ...process.execArgv,
    ...nodeFlags,
    '--input-type=module',
    '-e',
    code,
    moduleUrl,
    exportName,
    ...args,
  ];
  const { stdout } = await execFileAsync(process.execPath, argv, { maxBuffer: 16 * 1024 * 1024 });
  const out = JSON.parse(stdout) as { result: T; maxRSS: number };
  return { result: out.result, peakRssMiB: out.maxRSS / 1024 };
}
