/**
 * The import graph of Vigil's own code, read with TypeScript's own pre-processor
 * (`ts.preProcessFile`): static imports, `import type`, re-exports (`export … from`) and dynamic
 * `import()` all count as edges. Everything but `readImportGraph` is pure, so the checks built on it are
 * unit-tested on synthetic graphs (test/architecture/dependencies.test.ts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import ts from 'typescript';

/** One import: `from` is a repo-relative module path; `to` is one too, or a package name (`viem`, `node:fs`). */
export type ImportEdge = {
  from: string;
  to: string;
  /** Whether `to` is a package (including Node's built-ins), not one of the repository's files. */
  external: boolean;
  /** The specifier as written. */
  specifier: string;
};

export type ImportGraph = {
  /** Every module read, repo-relative (`src/cli/main.ts`), sorted. */
  modules: readonly string[];
  edges: readonly ImportEdge[];
};

const builtins = new Set(builtinModules);

/** The specifiers a source text imports, in order, as `ts.preProcessFile` reads them. */
export function importSpecifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/**
 * Where `specifier`, imported by the module `from`, points: a repo-relative path for a relative
 * specifier (`.js` is taken for the `.ts` beside it when only that exists in `known`), else the package
 * it names: Node's built-ins as `node:<name>` (`fs/promises` → `node:fs`), scoped packages by scope and
 * name, others by name (`viem/utils` → `viem`).
 */
export function resolveSpecifier(
  from: string,
  specifier: string,
  known: ReadonlySet<string>,
): { to: string; external: boolean } {
  if (specifier.startsWith('.')) {
    const to = posix.normalize(posix.join(posix.dirname(from), specifier));
    if (!known.has(to) && to.endsWith('.js') && known.has(`${to.slice(0, -3)}.ts`)) {
      return { to: `${to.slice(0, -3)}.ts`, external: false };
    }
    return { to, external: false };
  }
  const bare = specifier.startsWith('node:') ? specifier.slice('node:'.length) : specifier;
  const parts = bare.split('/');
  if (specifier.startsWith('node:') || builtins.has(bare) || builtins.has(parts[0] ?? '')) {
    return { to: `node:${parts[0]}`, external: true };
  }
  const name = bare.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? bare);
  return { to: name, external: true };
}

/** The graph of `sources` (repo-relative path → source text). */
export function buildImportGraph(sources: ReadonlyMap<string, string>): ImportGraph {
  const known = new Set(sources.keys());
  const edges: ImportEdge[] = [];
  for (const [from, source] of sources) {
    for (const specifier of importSpecifiers(source)) {
      edges.push({ from, specifier, ...resolveSpecifier(from, specifier, known) });
    }
  }
  return { modules: [...known].sort(), edges };
}

/** Reads every `.ts`, `.mts` and `.js` file under `roots` (repo-relative folders) of the repository at `repo`. */
export function readImportGraph(repo: string, roots: readonly string[]): ImportGraph {
  const sources = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(posix.join(repo, dir))) {
      if (entry === 'node_modules') continue;
      const rel = posix.join(dir, entry);
      if (statSync(posix.join(repo, rel)).isDirectory()) walk(rel);
      else if (/\.(m?ts|js)$/.test(entry) && !entry.endsWith('.d.ts')) {
        sources.set(rel, readFileSync(posix.join(repo, rel), 'utf8'));
      }
    }
  };
  for (const root of roots) walk(root);
  return buildImportGraph(sources);
}

/**
 * The import cycles: the strongly connected components (Tarjan) of the graph's internal edges that have
 * more than one module, or one module importing itself. Each component is returned with its modules
 * (sorted) and the edges that stay inside it, so a failure names the imports to cut.
 */
export function findCycles(graph: ImportGraph): { modules: string[]; edges: ImportEdge[] }[] {
  const next = new Map<string, string[]>();
  for (const e of graph.edges) {
    if (e.external) continue;
    const list = next.get(e.from) ?? [];
    list.push(e.to);
    next.set(e.from, list);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  // Iterative, so a long chain of imports cannot overflow the call stack.
  for (const root of graph.modules) {
    if (index.has(root)) continue;
    const work: { node: string; i: number }[] = [{ node: root, i: 0 }];
    index.set(root, counter);
    low.set(root, counter);
    counter += 1;
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = next.get(frame.node) ?? [];
      if (frame.i < targets.length) {
        const target = targets[frame.i]!;
        frame.i += 1;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter);
          counter += 1;
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, i: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }

  const cycles: { modules: string[]; edges: ImportEdge[] }[] = [];
  for (const component of components) {
    const members = new Set(component);
    const edges = graph.edges.filter((e) => !e.external && members.has(e.from) && members.has(e.to));
    if (component.length > 1 || edges.length > 0) cycles.push({ modules: component.sort(), edges });
  }
  return cycles.sort((a, b) => (a.modules[0]! < b.modules[0]! ? -1 : 1));
}

/** An edge as one line of a failure message. */
export function formatEdge(e: ImportEdge): string {
  return `${e.from} -> ${e.to}${e.specifier === e.to ? '' : ` ('${e.specifier}')`}`;
}
