/**
 * The operator's published graphs, as Vigil trusts them: every `epoch-<n>.json` of the graph directory
 * imported with Vigil's own expectations (network, protocol parameters, step circuit, the configured
 * operator and committee keys, the epoch of the file name, the claim output as the chain has it).
 *
 * Import is costly (every presigned signature is checked), so results are cached by the file's content
 * hash: a refused document is logged and counted once and read again only when the file changes. A file
 * that is not there yet is simply not a graph yet.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { identityStepCircuit } from '../../circuits/identity.ts';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { bytesToHex } from '../core/bytes.ts';
import { sha256 } from '../core/hashes.ts';
import { GraphImportError } from '../dispute/graph/errors.ts';
import { type GraphExpectations, type ImportedGraph, importGraph } from '../dispute/graph/import.ts';
import { defaultGraphParameters, type GraphParameters } from '../dispute/graph/parameters.ts';
import type { StepCircuit } from '../dispute/graph/scripts.ts';
import type { DisputeNetwork } from '../dispute/network.ts';

export const GRAPH_FILE = /^epoch-(0|[1-9][0-9]*)\.json$/;

export const graphFileName = (epoch: bigint): string => `epoch-${epoch}.json`;

export type GraphRegistryOptions = {
  /** The directory the operator publishes its graph documents to. */
  dir: string;
  network: DisputeNetwork;
  operator: Uint8Array;
  committee: readonly Uint8Array[];
  /** Defaults to defaultGraphParameters[network]. */
  params?: GraphParameters;
  /** Defaults to identityStepCircuit. */
  circuit?: StepCircuit;
  /** Where the claim outputs are looked up; without it the claim is checked against the document only. */
  backend?: BitcoinBackend;
  logger?: Logger;
  registry?: Registry;
};

export type GraphRegistry = {
  /** Every graph of the directory Vigil accepts, by epoch. */
  graphs(): Promise<ImportedGraph[]>;
  /** Refused documents by file name, with the refusal (for tests and diagnostics). */
  refused(): ReadonlyMap<string, GraphImportError>;
};

type Entry = (
  | { hash: string; ok: true; graph: ImportedGraph; wots: string[]; prevoutChecked: boolean }
  | { hash: string; ok: false; error: GraphImportError }
) & { stamp?: string | undefined };

type RegistryMetrics = { refused: Counter<'defect'>; imported: Gauge<never> };

function registryMetrics(registry: Registry | undefined): RegistryMetrics | undefined {
  if (!registry) return undefined;
  const r = [registry];
  return {
    refused:
      (registry.getSingleMetric('vigil_graphs_refused_total') as Counter<'defect'> | undefined) ??
      new Counter({
        name: 'vigil_graphs_refused_total',
        help: 'Operator graph documents refused at import, by defect (each file version counted once)',
        labelNames: ['defect'],
        registers: r,
      }),
    imported:
      (registry.getSingleMetric('vigil_graphs_imported') as Gauge<never> | undefined) ??
      new Gauge({
        name: 'vigil_graphs_imported',
        help: 'Operator graphs imported and verified',
        registers: r,
      }),
  };
}

/** Every Winternitz hash a document publishes (hex, lower case): no later graph may reuse one. */
function wotsHashes(g: ImportedGraph): string[] {
  const w = g.document.wots;
  return [...w.epoch, ...w.stateRoot, ...w.l2BlockHash, ...w.trace.flat()].map((h) => h.toLowerCase());
}

/** The claim txid and vout of a document, when it has readable ones (import reports anything else). */
function claimOf(text: string): { txid: string; vout: number } | undefined {
  try {
    const doc: unknown = JSON.parse(text);
    if (typeof doc !== 'object' || doc === null || !('claim' in doc)) return undefined;
    const c = doc.claim;
    if (typeof c !== 'object' || c === null || !('txid' in c) || !('vout' in c)) return undefined;
    if (typeof c.txid !== 'string' || !/^[0-9a-fA-F]{64}$/.test(c.txid)) return undefined;
    if (typeof c.vout !== 'number' || !Number.isInteger(c.vout) || c.vout < 0) return undefined;
    return { txid: c.txid.toLowerCase(), vout: c.vout };
  } catch {
    return undefined;
  }
}

export function createGraphRegistry(o: GraphRegistryOptions): GraphRegistry {
  const metrics = registryMetrics(o.registry);
  const base: Omit<GraphExpectations, 'epoch'> = {
    network: o.network,
    params: o.params ?? defaultGraphParameters[o.network],
    circuit: o.circuit ?? identityStepCircuit,
    operator: o.operator,
    committee: o.committee,
  };
  const entries = new Map<string, Entry>();

  async function listFiles(): Promise<{ file: string; epoch: bigint }[]> {
    let names: string[];
    try {
      names = await readdir(o.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .flatMap((file) => {
        const m = GRAPH_FILE.exec(file);
        return m ? [{ file, epoch: BigInt(m[1] as string) }] : [];
      })
      .sort((a, b) => (a.epoch < b.epoch ? -1 : a.epoch > b.epoch ? 1 : 0));
  }

  async function stampOf(file: string): Promise<string | undefined> {
    try {
      const st = await stat(join(o.dir, file));
      return `${st.size}:${st.mtimeMs}`;
    } catch {
      return undefined;
    }
  }

  async function readText(file: string): Promise<string | undefined> {
    try {
      return await readFile(join(o.dir, file), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** The claim output from the chain; undefined while the claim transaction is unknown to the backend. */
  async function claimPrevout(text: string): Promise<GraphExpectations['claimPrevout']> {
    const claim = o.backend ? claimOf(text) : undefined;
    if (!claim || !o.backend) return undefined;
    const tx = await o.backend.getTransaction(claim.txid);
    const out = tx?.tx.outputs[claim.vout];
    return out ? { value: out.value, script: out.script } : undefined;
  }

  function known(except: string): Set<string> {
    const out = new Set<string>();
    for (const [file, e] of entries) if (file !== except && e.ok) for (const h of e.wots) out.add(h);
    return out;
  }

  async function load(file: string, epoch: bigint, text: string, hash: string): Promise<Entry> {
    const prevout = await claimPrevout(text);
    try {
      const graph = importGraph(text, {
        ...base,
        epoch,
        ...(prevout ? { claimPrevout: prevout } : {}),
        knownWotsHashes: known(file),
      });
      o.logger?.info(
        { file, epoch: epoch.toString(), claimOnChain: prevout !== undefined },
        'operator graph imported and verified',
      );
      return { hash, ok: true, graph, wots: wotsHashes(graph), prevoutChecked: prevout !== undefined };
    } catch (err) {
      if (!(err instanceof GraphImportError)) throw err;
      o.logger?.error(
        { file, epoch: epoch.toString(), defect: err.defect, where: err.where, err: err.shortMessage },
        'operator graph refused: it is not read again until the file changes',
      );
      metrics?.refused.inc({ defect: err.defect });
      return { hash, ok: false, error: err };
    }
  }

  async function graphs(): Promise<ImportedGraph[]> {
    const files = await listFiles();
    const present = new Set(files.map((f) => f.file));
    for (const file of [...entries.keys()]) if (!present.has(file)) entries.delete(file);
    const out: ImportedGraph[] = [];
    for (const { file, epoch } of files) {
      // Reading and hashing every document on every poll costs more than the rest of the poll: a file
      // whose size and mtime have not changed since it was imported is the same file.
      const stamp = await stampOf(file);
      const cached = entries.get(file);
      const settled = cached !== undefined && (!cached.ok || cached.prevoutChecked || !o.backend);
      if (stamp !== undefined && cached?.stamp === stamp && settled) {
        if (cached.ok) out.push(cached.graph);
        continue;
      }
      const text = await readText(file);
      if (text === undefined) {
        entries.delete(file);
        continue;
      }
      const hash = bytesToHex(sha256(new TextEncoder().encode(text)));
      let entry = entries.get(file);
      // A graph first verified without its claim output is verified again once the chain has it.
      const recheck = entry?.ok === true && !entry.prevoutChecked && o.backend !== undefined;
      if (entry?.hash !== hash || recheck) {
        try {
          const next = await load(file, epoch, text, hash);
          // A recheck that finds the claim still unknown keeps the entry it had.
          if (!(recheck && entry?.hash === hash && next.ok && !next.prevoutChecked)) entry = next;
        } catch (err) {
          // Not a verdict on the document (the backend failed): tried again on the next call.
          o.logger?.warn({ file, err: String(err) }, 'operator graph not imported yet');
          if (entry?.hash !== hash) continue;
        }
        if (entry) entries.set(file, { ...entry, stamp });
      }
      if (entry?.ok) out.push(entry.graph);
    }
    metrics?.imported.set(out.length);
    return out;
  }

  return {
    graphs,
    refused: () => {
      const out = new Map<string, GraphImportError>();
      for (const [file, e] of entries) if (!e.ok) out.set(file, e.error);
      return out;
    },
  };
}
