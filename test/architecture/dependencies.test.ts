/**
 * Layers point one way (docs/architecture.md, "Layers"): no import cycles, a pure core that imports no
 * I/O and no adapter, nothing below the CLI importing it, benches apart from tests, the watcher apart
 * from the daemon. Reads the import graph of src/, circuits/, bench/, bin/ and testkit/ and lists every
 * offending edge.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildImportGraph,
  findCycles,
  formatEdge,
  type ImportGraph,
  importSpecifiers,
  readImportGraph,
  resolveSpecifier,
} from './import-graph.ts';
import { isPure, LAYER_RULES, layerViolations } from './layers.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ROOTS = ['src', 'circuits', 'bench', 'bin', 'testkit'];

describe('the checker (on synthetic graphs, so the real check cannot pass vacuously)', () => {
  it('reads static, type-only, re-exported and dynamic imports', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from './b.ts';",
      "export { c } from './c.ts';",
      "export * from './d.ts';",
      "const e = await import('./e.ts');",
      "import 'node:fs';",
      "import { parseAbi } from 'viem/utils';",
    ].join('\n');
    expect(importSpecifiers(source)).toEqual([
      './a.ts',
      './b.ts',
      './c.ts',
      './d.ts',
      './e.ts',
      'node:fs',
      'viem/utils',
    ]);
  });

  it('resolves relative paths, packages and built-ins', () => {
    const known = new Set(['src/a/x.ts', 'src/cli/main.ts']);
    expect(resolveSpecifier('src/a/y.ts', './x.ts', known)).toEqual({ to: 'src/a/x.ts', external: false });
    expect(resolveSpecifier('bin/v.js', '../src/cli/main.ts', known)).toEqual({
      to: 'src/cli/main.ts',
      external: false,
    });
    expect(resolveSpecifier('src/a/y.ts', 'fs/promises', known)).toEqual({ to: 'node:fs', external: true });
    expect(resolveSpecifier('src/a/y.ts', 'node:http', known)).toEqual({ to: 'node:http', external: true });
    expect(resolveSpecifier('src/a/y.ts', 'viem/accounts', known)).toEqual({ to: 'viem', external: true });
    expect(resolveSpecifier('src/a/y.ts', '@foundry-rs/anvil/x', known)).toEqual({
      to: '@foundry-rs/anvil',
      external: true,
    });
  });

  const synthetic: ImportGraph = buildImportGraph(
    new Map([
      ['src/governance/model.ts', "import type { T } from './types.ts';\nimport 'ioredis';"],
      ['src/governance/types.ts', "export * from './model.ts';"],
      [
        'src/judge/verdict.ts',
        "import { x } from '../store/redis.ts';\nimport { y } from '../core/bytes.ts';",
      ],
      ['src/core/bytes.ts', "import { createHash } from 'node:crypto';"],
      ['src/store/redis.ts', "import { ExitCode } from '../cli/exit-codes.ts';\nimport 'ioredis';"],
      ['src/cli/exit-codes.ts', ''],
      ['src/cli/main.ts', "const c = await import('./exit-codes.ts');"],
      ['src/watcher/w.ts', "import type { Component } from '../daemon/runtime.ts';"],
      ['src/daemon/runtime.ts', ''],
      ['src/challenger/new.ts', "import 'bullmq';"],
      ['bench/x.bench.ts', "import { scenario } from '../test/queue/scenario.ts';"],
      ['src/devnet/run.ts', "import { makeGraph } from '../../testkit/dispute/graph.ts';"],
      ['testkit/dispute/graph.ts', "import { vectors } from '../../test/fixtures/v.ts';"],
      ['self.ts', "import './self.ts';"],
    ]),
  );

  it('finds each cycle with the edges inside it, type-only and re-exports included', () => {
    const cycles = findCycles(synthetic);
    expect(cycles.map((c) => c.modules)).toEqual([
      ['self.ts'],
      ['src/governance/model.ts', 'src/governance/types.ts'],
    ]);
    expect(cycles[1]?.edges.map(formatEdge)).toEqual([
      "src/governance/model.ts -> src/governance/types.ts ('./types.ts')",
      "src/governance/types.ts -> src/governance/model.ts ('./model.ts')",
    ]);
    expect(findCycles(buildImportGraph(new Map([['a.ts', "import './b.ts';"]])))).toEqual([]);
  });

  it('lists each edge that breaks a layer rule, and only those', () => {
    const found = layerViolations(synthetic).map((v) => `${formatEdge(v.edge)}: ${v.rule}`);
    expect(found).toEqual([
      'src/governance/model.ts -> ioredis: the pure core imports no I/O library',
      "src/judge/verdict.ts -> src/store/redis.ts ('../store/redis.ts'): the pure core imports only the pure core (no adapter, no composition)",
      "src/store/redis.ts -> src/cli/exit-codes.ts ('../cli/exit-codes.ts'): only src/cli/ and bin/ import src/cli/ (the CLI maps typed errors to exit codes)",
      "src/watcher/w.ts -> src/daemon/runtime.ts ('../daemon/runtime.ts'): src/watcher/ does not import src/daemon/",
      "bench/x.bench.ts -> test/queue/scenario.ts ('../test/queue/scenario.ts'): bench/ and testkit/ do not import test/",
      "src/devnet/run.ts -> testkit/dispute/graph.ts ('../../testkit/dispute/graph.ts'): production code (src/, circuits/, bin/) imports no test code (test/, testkit/, bench/)",
      "testkit/dispute/graph.ts -> test/fixtures/v.ts ('../../test/fixtures/v.ts'): bench/ and testkit/ do not import test/",
    ]);
  });

  it('treats a folder it does not know as not pure', () => {
    expect(isPure('src/challenger/new.ts')).toBe(false);
    expect(isPure('src/governance/state.ts')).toBe(true);
    expect(isPure('src/bitcoin/tx/types.ts')).toBe(true);
    expect(isPure('src/bitcoin/backends/esplora.ts')).toBe(false);
    expect(LAYER_RULES.length).toBeGreaterThanOrEqual(5);
  });
});

describe("Vigil's import graph", () => {
  let graph: ImportGraph;
  beforeAll(() => {
    graph = readImportGraph(REPO, ROOTS);
  });

  it('is the whole code base, not an empty read', () => {
    expect(graph.modules.length).toBeGreaterThan(100);
    expect(graph.modules).toContain('src/cli/main.ts');
    expect(graph.modules).toContain('bin/vigil.js');
    expect(graph.edges.some((e) => e.from === 'bin/vigil.js' && e.to === 'src/cli/main.ts')).toBe(true);
  });

  it('has every relative import pointing at a file that exists', () => {
    const known = new Set(graph.modules);
    const missing = graph.edges.filter(
      (e) => !e.external && !known.has(e.to) && !e.to.startsWith('test/') && !e.to.endsWith('.json'),
    );
    expect(missing.map(formatEdge)).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles = findCycles(graph).map(
      (c) => `${c.modules.join(' ⇄ ')}\n    ${c.edges.map(formatEdge).join('\n    ')}`,
    );
    expect(cycles, `import cycles:\n  ${cycles.join('\n  ')}`).toEqual([]);
  });

  it('breaks no layer rule', () => {
    const found = layerViolations(graph).map((v) => `${formatEdge(v.edge)}: ${v.rule}`);
    expect(found, `layer violations:\n  ${found.join('\n  ')}`).toEqual([]);
  });
});
