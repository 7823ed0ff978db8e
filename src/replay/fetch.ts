/**
 * `vigil replay fetch --epoch N`: a dispute bundle (format 2) built from the two chains alone, with no
 * Vigil state. The L2 gives the governance history through the epoch's end and the operator's
 * commitment; the operator's graph (a file) names the claim output whose spender is the kick-off; the
 * Bitcoin backend gives every transaction of the dispute from there. `source: 'chains'`, no watcher.
 */

import { existsSync } from 'node:fs';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { verifiedOutspend } from '../bitcoin/backends/verified-outspend.ts';
import { outsideRetry, verifiedTx } from '../bitcoin/backends/verify.ts';
import { hashToDisplayHex, txidHex } from '../bitcoin/tx/serialize.ts';
import type { VigilConfig } from '../config/schema.ts';
import { VigilError, type VigilErrorCategory } from '../core/errors.ts';
import type { Graph } from '../dispute/graph/build.ts';
import { type GraphExpectations, type ImportedGraph, importGraph } from '../dispute/graph/import.ts';
import type { JournalStore } from '../l2/cursor-store.ts';
import type { L2Entry } from '../l2/decode.ts';
import type { WatchedDeployment } from '../l2/governance-contracts.ts';
import type { L2Rpc } from '../l2/rpc.ts';
import { writeOutputFile } from '../store/atomic-file.ts';
import type { IngestProgress } from '../verify/epoch.ts';
import { graphSourceFromConfig, l2FromConfig } from '../verify/run.ts';
import { backendFromConfig } from '../watcher/from-config.ts';
import { BUNDLE_FORMAT, BUNDLE_VERSION, type DisputeBundleV2 } from './bundle.ts';
import { serializeBundle } from './bundle-codec.ts';
import { collectDisputeTransactions } from './collect.ts';
import { readL2History } from './l2-history.ts';

/** No operator graph for the epoch: without it no kick-off can be found or named. */
export class ReplayFetchNoGraphError extends VigilError {
  override name = 'ReplayFetchNoGraphError';
  override readonly category: VigilErrorCategory = 'usage';
}

/** The operator's graph does not import (wrong epoch, keys, parameters, signatures…). */
export class ReplayFetchGraphError extends VigilError {
  override name = 'ReplayFetchGraphError';
  override readonly category: VigilErrorCategory = 'usage';
}

/** The graph's claim output is not spent on Bitcoin (or the spender cannot be found): no dispute to fetch. */
export class ReplayFetchNoKickoffError extends VigilError {
  override name = 'ReplayFetchNoKickoffError';
  override readonly category: VigilErrorCategory = 'usage';
}

/** The operator's graph as published, and what it is imported against. */
export type FetchGraph = {
  document: unknown;
  /** Where the document came from, for messages. */
  name?: string;
  expectations: Omit<GraphExpectations, 'epoch' | 'commitment'>;
};

export type FetchDisputeBundleOptions = {
  rpc: L2Rpc;
  deployment: WatchedDeployment;
  store: JournalStore<L2Entry>;
  /** Blocks on top of the L2 head before a block is ingested (config `l2.confirmations`). */
  confirmations: number;
  /** The chain id the L2 node must report. */
  chainId?: number;
  maxRange?: bigint;
  epoch: bigint;
  graph: FetchGraph | undefined;
  backend: BitcoinBackend;
  /** At most this many Bitcoin transactions in the dispute (collect.ts's default otherwise). */
  maxTxs?: number;
  onProgress?: (p: IngestProgress) => void;
  /** Told when the L2 is read and the Bitcoin side begins. */
  onPhase?: (message: string) => void;
};

function importFor(g: FetchGraph, epoch: bigint, window: number | undefined, commitment?: Uint8Array) {
  const name = g.name ?? 'the graph document';
  try {
    return importGraph(g.document, {
      ...g.expectations,
      epoch,
      ...(window !== undefined ? { governedChallengeWindow: window } : {}),
      ...(commitment !== undefined ? { commitment } : {}),
    });
  } catch (err) {
    if (!(err instanceof VigilError)) throw err;
    throw new ReplayFetchGraphError(`the operator's graph ${name} is refused: ${err.shortMessage}`, {
      cause: err,
      metaMessages: [`It must be the graph of epoch ${epoch} under this configuration's keys and network.`],
    });
  }
}

/**
 * The kick-off: the spender of the graph's claim output. When the backend knows the output is spent but
 * not by whom (Core past its lookback), the txids that name it are tried: the one the L2 commitment
 * names, then the graph's own kick-off (its txid is fixed before any witness exists).
 */
async function findKickoff(
  backend: BitcoinBackend,
  graph: Graph,
  epoch: bigint,
  committed: string | undefined,
): Promise<string> {
  const claimTxid = hashToDisplayHex(graph.spec.claim.txid);
  const vout = graph.spec.claim.vout;
  const spend = await verifiedOutspend(backend, claimTxid, vout);
  if (!spend.spent) {
    throw new ReplayFetchNoKickoffError(`epoch ${epoch} has no kick-off on Bitcoin`, {
      metaMessages: [
        `The graph's claim output ${claimTxid}:${vout} is unspent on the Bitcoin backend.`,
        ...(committed !== undefined ? [`The L2 commitment names kick-off ${committed}.`] : []),
      ],
    });
  }
  if (spend.txid !== undefined) return spend.txid;
  for (const candidate of new Set([committed, txidHex(graph.txs.kickoff)])) {
    if (candidate === undefined) continue;
    const got = await backend.getTransaction(candidate);
    if (got === undefined) continue;
    const tx = outsideRetry(backend.kind, () => verifiedTx(backend.kind, candidate, got.raw));
    if (tx.inputs.some((i) => hashToDisplayHex(i.prevTxid) === claimTxid && i.vout === vout))
      return candidate;
  }
  throw new ReplayFetchNoKickoffError(
    `the Bitcoin backend says the claim output ${claimTxid}:${vout} of epoch ${epoch} is spent but cannot name the kick-off`,
    {
      metaMessages: [
        'A Bitcoin Core backend finds spenders only within its lookback; use -txindex or Esplora.',
      ],
    },
  );
}

/** Reads both chains and returns epoch `o.epoch`'s dispute bundle. */
export async function fetchDisputeBundle(o: FetchDisputeBundleOptions): Promise<DisputeBundleV2> {
  if (o.graph === undefined) {
    throw new ReplayFetchNoGraphError(`no operator graph for epoch ${o.epoch}`, {
      metaMessages: ["The kick-off and its dispute are found through the operator's graph: give its file."],
    });
  }
  const history = await readL2History({
    rpc: o.rpc,
    deployment: o.deployment,
    store: o.store,
    epoch: o.epoch,
    confirmations: o.confirmations,
    ...(o.chainId !== undefined ? { chainId: o.chainId } : {}),
    ...(o.maxRange !== undefined ? { maxRange: o.maxRange } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  const imported: ImportedGraph = importFor(
    o.graph,
    history.epoch,
    history.governedChallengeWindow,
    history.graphCommitment,
  );
  const kickoffTxid = await findKickoff(
    o.backend,
    imported.graph,
    history.epoch,
    history.commitment?.kickoffTxid,
  );
  o.onPhase?.(`collecting the dispute's Bitcoin transactions from kick-off ${kickoffTxid}`);
  const transactions = await collectDisputeTransactions(o.backend, {
    kickoffTxid,
    graph: imported.graph,
    ...(o.maxTxs !== undefined ? { maxTxs: o.maxTxs } : {}),
  });
  const e = o.graph.expectations;
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    source: 'chains',
    epoch: history.epoch,
    governance: { genesis: history.genesis, inputs: history.inputs, epochStart: history.epochStart },
    l2: {
      chainId: history.chainId,
      epochEndBlock: history.epochEndBlock,
      epochEndBlockHash: history.epochEndBlockHash,
      commitment: history.commitment,
    },
    graph: {
      document: o.graph.document,
      expectations: {
        network: e.network,
        circuit: e.circuit.id,
        operator: e.operator,
        committee: [...e.committee],
        governedChallengeWindow: history.governedChallengeWindow,
        commitment: history.graphCommitment,
      },
    },
    kickoffTxid,
    transactions,
    watcher: undefined,
  };
}

/**
 * Progress of the L2 ingestion on a stream: a bar redrawn in place on a terminal, else one plain line
 * each time another tenth of the range is read (a log file gets ten lines, not thousands).
 */
export function ingestProgressReporter(stream: NodeJS.WritableStream): {
  update: (p: IngestProgress) => void;
  done: () => void;
} {
  const tty = (stream as NodeJS.WriteStream).isTTY === true;
  let drawn = false;
  let lastTenth = -1;
  return {
    update: ({ start, cursor, head }) => {
      const total = head > start ? Number(head - start) : 1;
      const done = Math.min(total, Math.max(0, Number(cursor - start)));
      if (tty) {
        const width = 30;
        const filled = Math.round((done / total) * width);
        stream.write(`\rL2 blocks [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${cursor}/${head}`);
        drawn = true;
        return;
      }
      const tenth = Math.floor((done * 10) / total);
      if (tenth <= lastTenth) return;
      lastTenth = tenth;
      stream.write(`L2 blocks read: ${tenth * 10}% (${cursor}/${head})\n`);
    },
    done: () => {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}

export type ReplayFetchRunOptions = {
  epoch: bigint;
  /** Where to write the bundle (JSON); without it the caller prints `text`. */
  out?: string;
  /** The operator's graph document; default `dispute.graphDir/epoch-<N>.json` when that file exists. */
  graph?: string;
  /** The journal cache's root directory (shared with `vigil verify`); false keeps it in memory. */
  cacheDir?: string | false;
  maxTxs?: number;
  env?: Record<string, string | undefined>;
};

export type ReplayFetchRunResult = {
  bundle: DisputeBundleV2;
  /** The bundle as JSON (bundle-codec.ts). */
  text: string;
  /** The file written, when `out` was given. */
  out: string | undefined;
};

/**
 * `vigil replay fetch` from the configuration: the L2 RPC, the journal cache and the deployment as
 * `vigil verify` builds them, the Bitcoin backend, and the operator's graph file. Progress on stderr.
 */
export async function runReplayFetch(
  config: VigilConfig,
  o: ReplayFetchRunOptions,
  io: { stderr: NodeJS.WritableStream },
): Promise<ReplayFetchRunResult> {
  if (o.graph !== undefined && !existsSync(o.graph)) {
    throw new ReplayFetchNoGraphError(`the graph file ${o.graph} does not exist`);
  }
  const graph = graphSourceFromConfig(config, { graph: o.graph, bitcoin: false, env: o.env }, o.epoch);
  if (graph === undefined) {
    throw new ReplayFetchNoGraphError(`no operator graph for epoch ${o.epoch}`, {
      metaMessages: [
        config.dispute.graphDir !== undefined
          ? `Give one with --graph <file>, or put it in ${config.dispute.graphDir} as the watcher names it.`
          : 'Give one with --graph <file>, or set dispute.graphDir.',
      ],
    });
  }
  const backend = backendFromConfig(config, o.env);
  const progress = ingestProgressReporter(io.stderr);
  const l2 = l2FromConfig(config, {
    ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
    ...(o.env !== undefined ? { env: o.env } : {}),
    command: 'vigil replay fetch',
    onCacheDiscarded: (reason) =>
      io.stderr.write(`warning: the L2 cache could not be read and starts over: ${reason}\n`),
  });
  let bundle: DisputeBundleV2;
  try {
    bundle = await fetchDisputeBundle({
      rpc: l2.rpc,
      deployment: l2.deployment,
      store: l2.store,
      confirmations: config.l2.confirmations,
      chainId: config.l2.chainId,
      maxRange: BigInt(config.l2.maxRange),
      epoch: o.epoch,
      graph,
      backend,
      ...(o.maxTxs !== undefined ? { maxTxs: o.maxTxs } : {}),
      onProgress: progress.update,
      onPhase: (message) => {
        progress.done();
        io.stderr.write(`${message}\n`);
      },
    });
  } finally {
    progress.done();
    l2.close();
  }
  const text = serializeBundle(bundle);
  if (o.out !== undefined) {
    // Written whole or not at all: a reader never sees half a bundle.
    writeOutputFile(o.out, text, 'the bundle');
  }
  return { bundle, text, out: o.out };
}
