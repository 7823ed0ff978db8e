/**
 * A graph import as data in and data out, so that it can run away from the registry that asked for it
 * (a worker thread: src/watcher/graph-import-pool.ts) and be adopted back with the same verdict an
 * import in place would have reached.
 *
 * Two things cannot travel: the step circuit (it holds functions; the job names it by id and the
 * adopter puts the caller's own object back), and the Winternitz hashes of the graphs imported before
 * (the registry's, which change as graphs come). The job runs without the latter and reports the keys
 * it reached; the adopter then checks them against the earlier graphs at the place import checks them,
 * so the first defect named is the one an import in place names, whatever else is wrong further on.
 */
import type { BitcoinNetwork } from '../../bitcoin/network.ts';
import type { Graph, GraphSpec } from './build.ts';
import { type GraphDefect, GraphImportError } from './errors.ts';
import {
  checkWotsKeys,
  type GraphExpectations,
  type ImportedGraph,
  importGraph,
  type NamedWotsKey,
} from './import.ts';
import type { GraphParameters } from './parameters.ts';
import type { StepCircuit } from './scripts.ts';

/** Everything an import needs, as plain data. */
export type GraphImportJob = {
  /** The document as published (bounded and parsed by the import itself). */
  text: string;
  network: BitcoinNetwork;
  params: GraphParameters;
  /** The step circuit's id (graph-import-worker.ts resolves it from circuits/index.ts). */
  circuitId: string;
  operator: Uint8Array;
  committee: Uint8Array[];
  epoch?: bigint;
  governedChallengeWindow?: number;
  commitment?: Uint8Array;
  claimPrevout?: { value: bigint; script: Uint8Array };
};

/** An imported graph without its step circuit (put back on adoption). */
export type DetachedGraph = Omit<Graph, 'spec'> & { spec: Omit<GraphSpec, 'circuit'> };
export type DetachedImport = Omit<ImportedGraph, 'graph'> & { graph: DetachedGraph };

export type GraphRefusal = { defect: GraphDefect; where: string; reason: string; details?: string };

export type GraphImportReply =
  | { kind: 'imported'; imported: DetachedImport; wots: NamedWotsKey[] }
  /** `wots`: the import passed every check before the Winternitz keys' (they are to be checked first). */
  | { kind: 'refused'; refusal: GraphRefusal; wots?: NamedWotsKey[] }
  /** Not a verdict on the document: the import itself failed (a bug, a resource). */
  | { kind: 'failed'; message: string };

/** The job of importing `text` against `expect` (whose `knownWotsHashes` stays with the caller). */
export function graphImportJob(text: string, expect: GraphExpectations): GraphImportJob {
  return {
    text,
    network: expect.network,
    params: expect.params,
    circuitId: expect.circuit.id,
    operator: expect.operator,
    committee: [...expect.committee],
    ...(expect.epoch !== undefined ? { epoch: expect.epoch } : {}),
    ...(expect.governedChallengeWindow !== undefined
      ? { governedChallengeWindow: expect.governedChallengeWindow }
      : {}),
    ...(expect.commitment !== undefined ? { commitment: expect.commitment } : {}),
    ...(expect.claimPrevout !== undefined ? { claimPrevout: expect.claimPrevout } : {}),
  };
}

/** Runs a job with the circuit its id names. Never throws: a failure is a reply too. */
export function runGraphImportJob(job: GraphImportJob, circuit: StepCircuit): GraphImportReply {
  let wots: NamedWotsKey[] | undefined;
  try {
    const { text, circuitId: _id, ...rest } = job;
    const imported = importGraph(
      text,
      { ...rest, circuit },
      {
        wotsKeys: (keys) => {
          wots = [...keys];
        },
      },
    );
    const { circuit: _circuit, ...spec } = imported.graph.spec;
    return {
      kind: 'imported',
      imported: { ...imported, graph: { ...imported.graph, spec } },
      wots: wots ?? [],
    };
  } catch (err) {
    if (err instanceof GraphImportError) {
      const refusal: GraphRefusal = {
        defect: err.defect,
        where: err.where,
        reason: err.reason,
        ...(err.details !== undefined ? { details: err.details } : {}),
      };
      return { kind: 'refused', refusal, ...(wots !== undefined ? { wots } : {}) };
    }
    return { kind: 'failed', message: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The verdict of a reply for the caller: the imported graph with `circuit` put back, or the
 * GraphImportError an import in place would have thrown, the earlier graphs' Winternitz hashes
 * (`known`) checked where import checks them. A failed job throws a plain Error (not a verdict).
 */
export function adoptGraphImportReply(
  reply: GraphImportReply,
  circuit: StepCircuit,
  known: { has(id: string): boolean } | undefined,
): ImportedGraph {
  if (reply.kind === 'failed') throw new Error(`graph import failed: ${reply.message}`);
  if (reply.wots !== undefined) checkWotsKeys(reply.wots, known);
  if (reply.kind === 'refused') {
    const r = reply.refusal;
    throw new GraphImportError(
      r.defect,
      r.where,
      r.reason,
      r.details !== undefined ? { details: r.details } : {},
    );
  }
  const { imported } = reply;
  return { ...imported, graph: { ...imported.graph, spec: { ...imported.graph.spec, circuit } } };
}
