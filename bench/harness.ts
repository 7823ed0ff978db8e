/**
 * The benchmark harness. Each `bench/*.bench.ts` file exports `benchmarks: Benchmark[]`.
 * A benchmark returns one or more figures; where a baseline exists it is measured in the same run
 * (same process, same machine load) and the figure carries the ratio to it.
 */
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
