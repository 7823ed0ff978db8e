/**
 * `npm run bench [-- --json] [--only <prefix>]`: runs every benchmark in bench/*.bench.ts and prints a
 * table, or one JSON object per line.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchFigure, type Benchmark, formatTable } from './harness.ts';

function parseArgs(argv: string[]): { json: boolean; only: string | undefined } {
  let json = false;
  let only: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = true;
    else if (a === '--only') only = argv[++i];
    else if (a?.startsWith('--only=')) only = a.slice('--only='.length);
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm run bench [-- --json] [--only <prefix>]\n');
      process.exit(0);
    } else {
      process.stderr.write(`bench: unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  return { json, only };
}

async function loadBenchmarks(): Promise<Benchmark[]> {
  const dir = dirname(fileURLToPath(import.meta.url));
  const files = (await readdir(dir)).filter((f) => f.endsWith('.bench.ts')).sort();
  const all: Benchmark[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { benchmarks?: Benchmark[] };
    all.push(...(mod.benchmarks ?? []));
  }
  return all;
}

const { json, only } = parseArgs(process.argv.slice(2));
const selected = (await loadBenchmarks()).filter((b) => only === undefined || b.name.startsWith(only));
if (selected.length === 0) {
  process.stderr.write(`bench: no benchmark matches ${only ?? '(any)'}\n`);
  process.exit(2);
}
const figures: BenchFigure[] = [];
let failed = 0;
for (const b of selected) {
  if (!json) process.stderr.write(`running ${b.name}…\n`);
  try {
    const out = await b.run();
    for (const f of out) {
      figures.push(f);
      if (json) process.stdout.write(`${JSON.stringify(f)}\n`);
    }
  } catch (err) {
    failed++;
    process.stderr.write(`bench: ${b.name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}
if (!json) process.stdout.write(`${formatTable(figures)}\n`);
process.exit(failed === 0 ? 0 : 1);
