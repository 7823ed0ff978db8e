/**
 * Vigil's layer rules (docs/architecture.md, "Layers") as data and one pure check over an import graph.
 * Each rule names the modules it constrains and the imports they may not make; a violation is one edge.
 */
import type { ImportEdge, ImportGraph } from './import-graph.ts';

/**
 * The pure core: the domain (the governance model, the script engine, transactions, taproot, Winternitz,
 * the dispute graph and the planning of its spends, the judge, the micro-step machine, the step circuits) and the primitives it stands on (`src/core/`, the
 * one `Network` type, byte writing). Everything else is an adapter or composition, including folders
 * created later, so a new folder is constrained without touching this list.
 */
export const PURE: readonly string[] = [
  'src/core/',
  'src/bitcoin/network.ts',
  'src/bitcoin/byte-writer.ts',
  'src/bitcoin/compact-size.ts',
  'src/bitcoin/codec/',
  'src/bitcoin/script/',
  'src/bitcoin/tx/',
  'src/bitcoin/taproot/',
  'src/governance/',
  'src/dispute/winternitz/',
  'src/dispute/graph/',
  // The narrowing game as values (docs/protocol.md §24): grid, moves, leaf twins, rule, referee.
  'src/dispute/game/',
  // Planning beside the graph it plans for (fee bumps, disprove plans, spend policy): no I/O.
  'src/dispute/plan/',
  // The record's types alone, not its store or codec: the plans read a challenge's versions from
  // them. They name the states and outcomes of `state-machine.ts`, which imports nothing.
  'src/dispute/records/types.ts',
  'src/dispute/records/state-machine.ts',
  // Heights from timelocks: arithmetic the replay engine shares with the challenger.
  'src/dispute/records/deadlines.ts',
  'src/dispute/trace-checkpoints.ts',
  'src/judge/',
  // GVM-1, the micro-step machine, and its governance program (docs/protocol.md Part III).
  'src/machine/',
  'circuits/',
  // The offline half of `vigil replay`: the bundle, its codec, the engine and what shows its result.
  'src/replay/bundle.ts',
  'src/replay/bundle-codec.ts',
  'src/replay/bundle-errors.ts',
  'src/replay/result.ts',
  'src/replay/engine.ts',
  'src/replay/leaf-diff.ts',
  'src/replay/consistency.ts',
  'src/replay/roles.ts',
  'src/replay/format.ts',
  'src/replay/script-traces.ts',
  'src/replay/debug-labels.ts',
  'src/replay/report/',
];

/**
 * Packages that do I/O, or exist only to serve it: the pure core imports none of them. `viem` is here
 * whole: the governance model does its own encoding and needs no allowance.
 */
export const IO_LIBRARIES: readonly string[] = [
  'ioredis',
  'bullmq',
  'viem',
  'pino',
  'pino-pretty',
  'prom-client',
  '@foundry-rs/anvil',
  'solc',
  'node:fs',
  'node:net',
  'node:tls',
  'node:dgram',
  'node:dns',
  'node:http',
  'node:https',
  'node:http2',
  'node:child_process',
  'node:worker_threads',
  'node:readline',
];

const under = (prefixes: readonly string[]) => (path: string) =>
  prefixes.some((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));

export const isPure = under(PURE);

export type LayerRule = {
  /** One line, as a failure prints it. */
  rule: string;
  /** Whether the rule constrains imports made by this module. */
  applies: (from: string) => boolean;
  /** Whether this import breaks the rule. */
  forbids: (edge: ImportEdge) => boolean;
};

export const LAYER_RULES: readonly LayerRule[] = [
  {
    rule: 'the pure core imports no I/O library',
    applies: isPure,
    forbids: (e) => e.external && IO_LIBRARIES.includes(e.to),
  },
  {
    rule: 'the pure core imports only the pure core (no adapter, no composition)',
    applies: isPure,
    forbids: (e) => !e.external && !isPure(e.to),
  },
  {
    rule: 'only src/cli/ and bin/ import src/cli/ (the CLI maps typed errors to exit codes)',
    applies: (from) => !from.startsWith('src/cli/') && !from.startsWith('bin/'),
    forbids: (e) => !e.external && e.to.startsWith('src/cli/'),
  },
  {
    rule: 'bench/ and testkit/ do not import test/',
    applies: (from) => from.startsWith('bench/') || from.startsWith('testkit/'),
    forbids: (e) => !e.external && e.to.startsWith('test/'),
  },
  {
    rule: 'production code (src/, circuits/, bin/) imports no test code (test/, testkit/, bench/)',
    applies: (from) => ['src/', 'circuits/', 'bin/'].some((p) => from.startsWith(p)),
    forbids: (e) => !e.external && ['test/', 'testkit/', 'bench/'].some((p) => e.to.startsWith(p)),
  },
  {
    rule: 'src/watcher/ does not import src/daemon/',
    applies: (from) => from.startsWith('src/watcher/'),
    forbids: (e) => !e.external && e.to.startsWith('src/daemon/'),
  },
];

export type LayerViolation = { rule: string; edge: ImportEdge };

/** Every edge of `graph` that breaks one of `rules`, in the graph's order. */
export function layerViolations(
  graph: ImportGraph,
  rules: readonly LayerRule[] = LAYER_RULES,
): LayerViolation[] {
  const out: LayerViolation[] = [];
  for (const edge of graph.edges) {
    for (const r of rules) if (r.applies(edge.from) && r.forbids(edge)) out.push({ rule: r.rule, edge });
  }
  return out;
}
