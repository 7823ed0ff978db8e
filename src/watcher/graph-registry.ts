/**
 * The operator's published graphs, as Vigil trusts them: every `epoch-<n>.json` of the graph directory
 * imported with Vigil's own expectations (network, protocol parameters, step circuit, the configured
 * operator and committee keys, the epoch of the file name, the claim output as the chain has it).
 *
 * Import is costly (every presigned signature is checked), so results are cached by the file's content
 * hash: a refused document is logged and counted once and read again only when the file changes. A file
 * that is not there yet is simply not a graph yet.
 *
 * A graph that verified stays Vigil's graph for its epoch, whatever happens to its file afterwards: a
 * dishonest operator could publish its graph, claim, then delete or corrupt the file so that Vigil loses
 * the graph it needs to challenge. A removal, a refused file or new content that does not verify is
 * logged (and counted in vigil_graph_files_changed_after_verification_total) once per change; new
 * content that verifies too is watched beside the first.
 *
 * The challenge window is governed (docs/protocol.md §20): with a lookup of the value in force per epoch
 * (`governedWindow`, the L2 epoch source gives one), a graph must carry the value in force at
 * its epoch. While that is not known yet (the ingested L2 has not started the epoch, or the end that
 * started it is not deep enough) the file is deferred: neither imported nor refused, never accepted on the
 * network's default. A deferred file is not even read (only lstat'ed, then asked for again on the next
 * poll); each deferral is logged once per file and reason, and vigil_graphs_deferred counts them.
 *
 * The operator also controls what sits in the directory. Each file is judged on its own: a directory,
 * FIFO, socket, device, symbolic link, unreadable or oversize file is refused with its reason (logged
 * and counted once per file version) and the poll goes on with the other files. Nothing is followed or
 * opened in a way that could block, and nothing larger than GRAPH_FILE_MAX_BYTES is read.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { DEFAULT_STEP_CIRCUIT_ID, STEP_CIRCUITS, stepCircuitById } from '../../circuits/index.ts';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import type { BitcoinNetwork } from '../bitcoin/network.ts';
import { bytesToHex } from '../core/bytes.ts';
import { sha256 } from '../core/hashes.ts';
import { GRAPH_DOCUMENT_MAX_BYTES } from '../dispute/graph/document.ts';
import { GraphImportError } from '../dispute/graph/errors.ts';
import {
  type GraphExpectations,
  type ImportedGraph,
  importGraphYielding,
  parseGraphJson,
} from '../dispute/graph/import.ts';
import { adoptGraphImportReply, type GraphImportReply, graphImportJob } from '../dispute/graph/import-job.ts';
import { defaultGraphParameters, type GraphParameters } from '../dispute/graph/parameters.ts';
import type { StepCircuit } from '../dispute/graph/scripts.ts';
import { WOTS_HASH_BYTES } from '../dispute/winternitz/parameters.ts';
import { ByteStringSet } from './byte-string-set.ts';
import type { GraphImportRunner } from './graph-import-pool.ts';

export const GRAPH_FILE = /^epoch-(0|[1-9][0-9]*)\.json$/;

export const graphFileName = (epoch: bigint): string => `epoch-${epoch}.json`;

/** The largest graph file read (the document bound: 4 MiB, ~170× a mainnet graph document). */
export const GRAPH_FILE_MAX_BYTES = GRAPH_DOCUMENT_MAX_BYTES;

/** Why a file of the graph directory is not read as a graph document at all. */
export type GraphFileReason =
  | 'directory'
  | 'fifo'
  | 'socket'
  | 'device'
  | 'symlink'
  | 'not_regular'
  | 'unreadable'
  | 'too_large';

export type GraphFileRefusal = { reason: GraphFileReason; message: string };

const SYMLINK: GraphFileRefusal = {
  reason: 'symlink',
  message: 'a symbolic link; links are not followed, publish the file itself',
};
const SOCKET: GraphFileRefusal = { reason: 'socket', message: 'a socket, not a regular file' };

/** The file types the operator must not publish in place of a document, with why they are refused. */
function fileKind(st: Stats): GraphFileRefusal | undefined {
  if (st.isFile()) return undefined;
  if (st.isSymbolicLink()) return SYMLINK;
  if (st.isDirectory()) return { reason: 'directory', message: 'a directory, not a graph document' };
  if (st.isFIFO()) return { reason: 'fifo', message: 'a named pipe (FIFO), not a regular file' };
  if (st.isSocket()) return SOCKET;
  if (st.isCharacterDevice() || st.isBlockDevice())
    return { reason: 'device', message: 'a device, not a regular file' };
  return { reason: 'not_regular', message: 'not a regular file' };
}

const tooLarge = (size: number, max = GRAPH_FILE_MAX_BYTES): GraphFileRefusal => ({
  reason: 'too_large',
  message: `${size} bytes; a graph document is at most ${max} bytes`,
});

const unreadable = (err: unknown): GraphFileRefusal => ({
  reason: 'unreadable',
  message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
});

/** A file version: a rewrite, a replacement (new inode) or a permission change is a new version. */
const stampOf = (st: Stats): string => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;

// O_NOFOLLOW: a link swapped in after lstat fails to open (ELOOP) instead of being followed.
// O_NONBLOCK: a FIFO swapped in opens at once instead of waiting for a writer; fstat then refuses it.
// O_NOCTTY: a terminal device swapped in never becomes the daemon's controlling terminal.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
const READ_CHUNK = 64 * 1024;

export type FileRead =
  | { kind: 'gone' }
  | { kind: 'refused'; refusal: GraphFileRefusal }
  | { kind: 'read'; bytes: Uint8Array; stamp: string };

/**
 * Reads one graph file within the bound, judging the file it actually opened (fstat on the descriptor),
 * not the one lstat saw a moment before: the operator may swap it in between.
 */
export async function readGraphFile(path: string, max: number = GRAPH_FILE_MAX_BYTES): Promise<FileRead> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'gone' };
    // A link (O_NOFOLLOW) or a socket (no open on one) swapped in after lstat.
    if (code === 'ELOOP') return { kind: 'refused', refusal: SYMLINK };
    if (code === 'ENXIO') return { kind: 'refused', refusal: SOCKET };
    return { kind: 'refused', refusal: unreadable(err) };
  }
  try {
    const st = await fh.stat();
    const kind = fileKind(st);
    if (kind) return { kind: 'refused', refusal: kind };
    if (st.size > max) return { kind: 'refused', refusal: tooLarge(st.size, max) };
    // The size fstat gave is only a hint: the file may grow while it is read, so reading stops one
    // byte past the bound whatever it says.
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(READ_CHUNK, max + 1 - total);
      const buf = new Uint8Array(want);
      const { bytesRead } = await fh.read(buf, 0, want, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > max) {
        return {
          kind: 'refused',
          refusal: {
            reason: 'too_large',
            message: `more than ${max} bytes when read; a graph document is at most ${max} bytes`,
          },
        };
      }
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    return { kind: 'read', bytes, stamp: stampOf(st) };
  } catch (err) {
    return { kind: 'refused', refusal: unreadable(err) };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** The challenge window in force during an epoch, or why it is not known yet. */
export type GovernedWindow = { known: true; value: number } | { known: false; reason: string };

/** Where the registry learns the governed challenge window of an epoch. */
export type GovernedChallengeWindow = (epoch: bigint) => GovernedWindow;

export type GraphRegistryOptions = {
  /** The directory the operator publishes its graph documents to. */
  dir: string;
  network: BitcoinNetwork;
  operator: Uint8Array;
  committee: readonly Uint8Array[];
  /** Defaults to defaultGraphParameters[network]. */
  params?: GraphParameters;
  /** Defaults to the circuit of DEFAULT_STEP_CIRCUIT_ID (circuits/index.ts). */
  circuit?: StepCircuit;
  /** Where the claim outputs are looked up; without it the claim is checked against the document only. */
  backend?: BitcoinBackend;
  logger?: Logger;
  registry?: Registry;
  /** The governed challenge window per epoch (also settable later with `governWith`). */
  governedWindow?: GovernedChallengeWindow;
  /**
   * Worker threads to import graphs on (graph-import-pool.ts): when a read of the directory finds at
   * least `importPoolFrom` new versions (a backlog, a restart), they are imported on it, several at once,
   * and adopted in file order. Fewer, no pool, or a circuit the workers cannot name: each file is
   * imported in place, one after another.
   */
  importPool?: GraphImportRunner;
  /** New versions in one read from which the pool is used (default IMPORT_POOL_FROM). */
  importPoolFrom?: number;
};

/**
 * New graphs a read must find before they go to the workers. A worker first spends about a second of CPU
 * loading its sources (then stays a V8 heap of its own until idle), as much as importing some 60 graphs in
 * place: a watcher keeping up (one new graph a poll) or a backlog ingested a few epochs a poll imports in
 * place; a restart, or a directory read after a long catch-up, brings batches this large or larger.
 */
export const IMPORT_POOL_FROM = 32;

export type GraphRegistry = {
  /** Every graph of the directory Vigil accepts, by epoch. */
  graphs(): Promise<ImportedGraph[]>;
  /** Refused documents by file name, with the refusal (for tests and diagnostics). */
  refused(): ReadonlyMap<string, GraphImportError>;
  /** Files not read as documents at all (not a regular file, unreadable, too large), by file name. */
  refusedFiles(): ReadonlyMap<string, GraphFileRefusal>;
  /** Files waiting for the governed challenge window of their epoch, with why (asked again each poll, unread). */
  deferred?(): ReadonlyMap<string, string>;
  /**
   * The watcher judged this graph's claim for good: the registry lets go of it (its document and imported
   * graph), keeps its Winternitz hashes for the reuse check and its epoch in `settledEpochs`, and never
   * imports the same document again. A daemon that runs for months holds only the graphs still to judge.
   */
  settle?(graph: ImportedGraph): void;
  /** Epochs whose graph was settled. */
  settledEpochs?(): ReadonlySet<bigint>;
  /** From now on, graphs are held to the governed challenge window of their epoch. */
  governWith?(lookup: GovernedChallengeWindow): void;
};

/** What the current version of a file was judged: verified (the graph is in `verified`) or refused. */
type Entry = (
  | { hash: string; ok: true }
  | { hash: string; ok: false; error: GraphImportError }
  | { hash: undefined; ok: false; file: GraphFileRefusal }
) & { stamp?: string | undefined };

/** A version of a graph file that verified: kept for its epoch whatever the file becomes later. */
type Verified = {
  epoch: bigint;
  hash: string;
  /** The document as read, so the claim can be checked on chain after the file is gone. */
  text: string;
  graph: ImportedGraph;
  wots: string[];
  prevoutChecked: boolean;
  /** The governed challenge window it verified against (undefined: held to the network's parameters). */
  governedChallengeWindow: number | undefined;
};

type RegistryMetrics = {
  refused: Counter<'defect'>;
  filesRefused: Counter<'reason'>;
  changed: Counter<never>;
  imported: Gauge<never>;
  deferred: Gauge<never>;
  settledHashBytes: Gauge<never>;
};

/** The graph registry's metrics, registered once per registry (exported for the alert-rule check). */
export function registryMetrics(registry: Registry | undefined): RegistryMetrics | undefined {
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
    filesRefused:
      (registry.getSingleMetric('vigil_graph_files_refused_total') as Counter<'reason'> | undefined) ??
      new Counter({
        name: 'vigil_graph_files_refused_total',
        help: 'Files of the graph directory not read as graph documents, by reason (each file version counted once)',
        labelNames: ['reason'],
        registers: r,
      }),
    changed:
      (registry.getSingleMetric('vigil_graph_files_changed_after_verification_total') as
        | Counter<never>
        | undefined) ??
      new Counter({
        name: 'vigil_graph_files_changed_after_verification_total',
        help: 'Operator graph files removed or rewritten after their graph was verified (each change counted once)',
        registers: r,
      }),
    imported:
      (registry.getSingleMetric('vigil_graphs_imported') as Gauge<never> | undefined) ??
      new Gauge({
        name: 'vigil_graphs_imported',
        help: 'Operator graphs imported and verified',
        registers: r,
      }),
    deferred:
      (registry.getSingleMetric('vigil_graphs_deferred') as Gauge<never> | undefined) ??
      new Gauge({
        name: 'vigil_graphs_deferred',
        help: 'Operator graph files waiting for the governed challenge window of their epoch (not read yet)',
        registers: r,
      }),
    settledHashBytes:
      (registry.getSingleMetric('vigil_graph_settled_wots_bytes') as Gauge<never> | undefined) ??
      new Gauge({
        name: 'vigil_graph_settled_wots_bytes',
        help: 'Memory held by the Winternitz hashes of settled graphs, kept for the reuse check while the process runs',
        registers: r,
      }),
  };
}

/** Every Winternitz hash a document publishes (hex, lower case): no later graph may reuse one. */
function wotsHashes(g: ImportedGraph): string[] {
  const w = g.document.wots;
  return [...w.epoch, ...w.stateRoot, ...w.l2BlockHash, ...w.trace.flat()].map((h) => h.toLowerCase());
}

/** The claim txid and vout of a parsed document, when it has readable ones (import reports anything else). */
function claimOf(doc: unknown): { txid: string; vout: number } | undefined {
  if (typeof doc !== 'object' || doc === null || !('claim' in doc)) return undefined;
  const c = doc.claim;
  if (typeof c !== 'object' || c === null || !('txid' in c) || !('vout' in c)) return undefined;
  if (typeof c.txid !== 'string' || !/^[0-9a-fA-F]{64}$/.test(c.txid)) return undefined;
  if (typeof c.vout !== 'number' || !Number.isInteger(c.vout) || c.vout < 0) return undefined;
  return { txid: c.txid.toLowerCase(), vout: c.vout };
}

export function createGraphRegistry(o: GraphRegistryOptions): GraphRegistry {
  const metrics = registryMetrics(o.registry);
  const base: Omit<GraphExpectations, 'epoch'> = {
    network: o.network,
    params: o.params ?? defaultGraphParameters[o.network],
    circuit: o.circuit ?? stepCircuitById(DEFAULT_STEP_CIRCUIT_ID),
    operator: o.operator,
    committee: o.committee,
  };
  const entries = new Map<string, Entry>();
  /**
   * Every version of each file that verified, by file then content hash. Never dropped because the file
   * changed: an operator could publish its graph, claim, then delete or corrupt the file so that Vigil
   * loses the graph it needs to challenge that epoch. Only the chain can take a graph back (its claim
   * output contradicting the document).
   */
  const verified = new Map<string, Map<string, Verified>>();
  /** Per file, the change after verification last logged: each change is logged once. */
  const changeLogged = new Map<string, string>();
  let governed = o.governedWindow;
  /** Files waiting for their epoch's governed challenge window, with why (logged once per reason). */
  const deferredFiles = new Map<string, string>();
  /** Versions whose claim was judged for good (`settle`), by file: known, never imported again. */
  const settled = new Map<string, Set<string>>();
  const settledEpochs = new Set<bigint>();

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

  /** The claim output from the chain; undefined while the claim transaction is unknown to the backend. */
  async function claimPrevout(doc: unknown): Promise<GraphExpectations['claimPrevout']> {
    const claim = o.backend ? claimOf(doc) : undefined;
    if (!claim || !o.backend) return undefined;
    const tx = await o.backend.getTransaction(claim.txid);
    const out = tx?.tx.outputs[claim.vout];
    return out ? { value: out.value, script: out.script } : undefined;
  }

  /**
   * Which verified versions (`file\nhash`) publish each Winternitz hash: kept as versions come and go,
   * so the reuse check of one import is a lookup per hash, not a set rebuilt from every graph verified
   * so far (which made a backlog of n graphs cost n² at import).
   */
  const wotsOwners = new Map<string, Set<string>>();
  const ownerKey = (file: string, hash: string) => `${file}\n${hash}`;
  /**
   * The Winternitz hashes of every graph settled: its version can never be imported again, so no owner
   * is needed, only the hash, kept for as long as the daemon runs (byte-string-set.ts: ~30 bytes each).
   */
  const settledWots = new ByteStringSet(WOTS_HASH_BYTES);

  function addVerified(file: string, versions: Map<string, Verified>, v: Verified): void {
    versions.set(v.hash, v);
    verified.set(file, versions);
    const key = ownerKey(file, v.hash);
    for (const h of v.wots) {
      const owners = wotsOwners.get(h) ?? new Set<string>();
      owners.add(key);
      wotsOwners.set(h, owners);
    }
  }

  function removeVerified(file: string, versions: Map<string, Verified>, v: Verified): void {
    versions.delete(v.hash);
    if (versions.size === 0) verified.delete(file);
    const key = ownerKey(file, v.hash);
    for (const h of v.wots) {
      const owners = wotsOwners.get(h);
      owners?.delete(key);
      if (owners?.size === 0) wotsOwners.delete(h);
    }
  }

  /** A settled version's hashes move from their owners to `settledWots`: still known, for good. */
  function sealWots(file: string, v: Verified): void {
    const key = ownerKey(file, v.hash);
    for (const h of v.wots) {
      settledWots.addHex(h);
      const owners = wotsOwners.get(h);
      owners?.delete(key);
      if (owners?.size === 0) wotsOwners.delete(h);
    }
  }

  /** The Winternitz hashes of every verified graph but one version (the one being imported again). */
  function known(file: string, hash: string): { has(id: string): boolean } {
    const self = ownerKey(file, hash);
    return {
      has: (id) => {
        const owners = wotsOwners.get(id);
        if (owners !== undefined && (owners.size > 1 || !owners.has(self))) return true;
        return /^[0-9a-f]{40}$/.test(id) && settledWots.hasHex(id);
      },
    };
  }

  type Loaded = { ok: true; version: Verified } | { ok: false; error: GraphImportError };

  // A worker names the circuit by id: a circuit of the caller's own (a test's) is imported in place.
  const pool = o.importPool && STEP_CIRCUITS.includes(base.circuit) ? o.importPool : undefined;

  /** An import under way: the document bounded and parsed, its claim looked up, a worker's reply to come. */
  type Begun = {
    doc: unknown;
    expect: GraphExpectations;
    prevout: GraphExpectations['claimPrevout'];
    reply: Promise<GraphImportReply> | undefined;
  };

  async function begin(
    epoch: bigint,
    text: string,
    governedChallengeWindow: number | undefined,
    onPool = false,
  ): Promise<Begun> {
    // Bounded before anything else reads it: the claim lookup below must not parse what import refuses.
    const doc = parseGraphJson(text, base);
    const prevout = await claimPrevout(doc);
    const expect: GraphExpectations = {
      ...base,
      epoch,
      ...(prevout ? { claimPrevout: prevout } : {}),
      ...(governedChallengeWindow !== undefined ? { governedChallengeWindow } : {}),
    };
    const reply = onPool ? pool?.run(graphImportJob(text, expect)) : undefined;
    // Awaited at adoption; until then a failed worker must not be an unhandled rejection.
    reply?.catch(() => undefined);
    return { doc, expect, prevout, reply };
  }

  /**
   * Imports one document; `recheck`: a version verified before, imported again to check its claim on
   * chain. `begun`: its import started ahead (in a worker); the verdict is still reached here, against
   * the graphs verified by now, so files adopted in order conclude what imports one after another do.
   */
  async function load(
    file: string,
    epoch: bigint,
    text: string,
    hash: string,
    recheck: boolean,
    governedChallengeWindow: number | undefined,
    begun?: Promise<Begun>,
  ): Promise<Loaded> {
    try {
      const b = await (begun ?? begin(epoch, text, governedChallengeWindow));
      const prevout = b.prevout;
      const graph =
        b.reply !== undefined
          ? adoptGraphImportReply(await b.reply, base.circuit, known(file, hash))
          : await importGraphYielding(b.doc, { ...b.expect, knownWotsHashes: known(file, hash) });
      // A recheck that still finds no claim on chain changes nothing, and says nothing.
      if (!recheck || prevout !== undefined) {
        o.logger?.info(
          { file, epoch: epoch.toString(), claimOnChain: prevout !== undefined },
          'operator graph imported and verified',
        );
      }
      return {
        ok: true,
        version: {
          epoch,
          hash,
          text,
          graph,
          wots: wotsHashes(graph),
          prevoutChecked: prevout !== undefined,
          governedChallengeWindow,
        },
      };
    } catch (err) {
      if (!(err instanceof GraphImportError)) throw err;
      o.logger?.error(
        { file, epoch: epoch.toString(), defect: err.defect, where: err.where, err: err.shortMessage },
        recheck
          ? 'operator graph verified before is refused against the chain: it is not watched any more'
          : 'operator graph refused: it is not read again until the file changes',
      );
      metrics?.refused.inc({ defect: err.defect });
      return { ok: false, error: err };
    }
  }

  /**
   * Notes that a file whose graph verified no longer holds a verified version (gone, refused, or new
   * content that does not verify): logged and counted once per change. The verified graph stays.
   */
  function changedAfterVerification(file: string, key: string, change: string): void {
    const versions = verified.get(file);
    if (versions === undefined || versions.size === 0 || changeLogged.get(file) === key) return;
    changeLogged.set(file, key);
    const epoch = [...versions.values()][0]?.epoch;
    o.logger?.error(
      { file, epoch: String(epoch), change },
      "the operator's published graph file changed after its graph was verified: the verified graph is kept and watched for its epoch",
    );
    metrics?.changed.inc();
  }

  /** Records a file refused before reading; logged and counted once per file version. */
  function refuseFile(
    file: string,
    epoch: bigint,
    refusal: GraphFileRefusal,
    stamp: string | undefined,
  ): undefined {
    const cached = entries.get(file);
    const same =
      cached !== undefined &&
      'file' in cached &&
      cached.stamp === stamp &&
      cached.file.reason === refusal.reason &&
      stamp !== undefined;
    if (!same) {
      o.logger?.error(
        { file, epoch: epoch.toString(), reason: refusal.reason, err: refusal.message },
        'operator graph file refused: it is not read again until the file changes',
      );
      metrics?.filesRefused.inc({ reason: refusal.reason });
    }
    entries.set(file, { hash: undefined, ok: false, file: refusal, stamp });
    deferredFiles.delete(file);
    changedAfterVerification(file, `refused:${refusal.reason}:${stamp}`, `now ${refusal.message}`);
    return undefined;
  }

  function gone(file: string): undefined {
    entries.delete(file);
    deferredFiles.delete(file);
    changedAfterVerification(file, 'gone', 'the file was removed');
    return undefined;
  }

  /** A new version of a file, read, to be imported. */
  type NewVersion = {
    file: string;
    epoch: bigint;
    text: string;
    hash: string;
    stamp: string;
    versions: Map<string, Verified>;
    window: number | undefined;
    begun?: Promise<Begun>;
  };

  /**
   * Reads one present file and judges its current version, but for a new version: that one is returned,
   * to be imported (`importVersion`).
   */
  async function readFile(file: string, epoch: bigint): Promise<NewVersion | undefined> {
    const path = join(o.dir, file);
    // lstat, not stat: a symbolic link is judged as what it is, never followed to what it names.
    let st: Stats;
    try {
      st = await lstat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return gone(file);
      return refuseFile(file, epoch, unreadable(err), `lstat:${(err as NodeJS.ErrnoException).code}`);
    }
    // Reading and hashing every document on every poll costs more than the rest of the poll: a file
    // whose inode, size, mtime and ctime have not changed since it was judged is the same file.
    const stamp = stampOf(st);
    if (entries.get(file)?.stamp === stamp) return undefined;
    const kind = fileKind(st);
    if (kind) return refuseFile(file, epoch, kind, stamp);
    if (st.size > GRAPH_FILE_MAX_BYTES) return refuseFile(file, epoch, tooLarge(st.size), stamp);
    // Never judged on the network's default: without the governed window of its epoch (from the file
    // name) it waits, unread, so a deferred file costs one lstat per poll.
    const window = governed?.(epoch);
    if (window !== undefined && !window.known) {
      if (deferredFiles.get(file) !== window.reason) {
        deferredFiles.set(file, window.reason);
        o.logger?.info(
          { file, epoch: epoch.toString(), reason: window.reason },
          'operator graph deferred: the governed challenge window of its epoch is not known yet',
        );
      }
      return undefined;
    }
    deferredFiles.delete(file);
    const read = await readGraphFile(path);
    if (read.kind === 'gone') return gone(file);
    if (read.kind === 'refused') return refuseFile(file, epoch, read.refusal, stamp);
    const hash = bytesToHex(sha256(read.bytes));
    const versions = verified.get(file) ?? new Map<string, Verified>();
    if (versions.has(hash) || settled.get(file)?.has(hash)) {
      // A version that verified before (the same file, or the operator putting it back).
      entries.set(file, { hash, ok: true, stamp: read.stamp });
      changeLogged.delete(file);
      return undefined;
    }
    const cached = entries.get(file);
    if (cached?.hash === hash) {
      // Refused before; only its stamp changed (touched, copied back): still refused, nothing new to say.
      entries.set(file, { ...cached, stamp: read.stamp });
      return undefined;
    }
    return {
      file,
      epoch,
      text: new TextDecoder().decode(read.bytes),
      hash,
      stamp: read.stamp,
      versions,
      window: window?.known ? window.value : undefined,
    };
  }

  /** Imports a new version of a file and records the verdict. */
  async function importVersion(v: NewVersion): Promise<void> {
    const { file, epoch, hash, versions } = v;
    let loaded: Loaded;
    try {
      loaded = await load(file, epoch, v.text, hash, false, v.window, v.begun);
    } catch (err) {
      // Not a verdict on the document (the backend failed): read and tried again on the next call.
      o.logger?.warn({ file, err: String(err) }, 'operator graph not imported yet');
      return;
    }
    if (loaded.ok) {
      if (versions.size > 0) {
        // Another graph for the epoch that verifies too: both are watched (a kick-off may use either).
        o.logger?.warn(
          { file, epoch: epoch.toString() },
          "the operator's published graph file changed after its graph was verified: the new version verifies too, both are watched",
        );
        metrics?.changed.inc();
      }
      addVerified(file, versions, loaded.version);
      entries.set(file, { hash, ok: true, stamp: v.stamp });
      changeLogged.delete(file);
      return;
    }
    entries.set(file, { hash, ok: false, error: loaded.error, stamp: v.stamp });
    changedAfterVerification(file, `content:${hash}`, `new content refused (${loaded.error.defect})`);
  }

  /**
   * A graph verified before its claim transaction was on chain is imported again (from the document
   * kept, so a file removed since changes nothing) until the claim output can be checked. A claim
   * output that contradicts the document takes the graph back: it could not be used on that claim.
   */
  async function recheckClaims(): Promise<void> {
    if (!o.backend) return;
    for (const [file, versions] of verified) {
      for (const v of [...versions.values()]) {
        if (v.prevoutChecked) continue;
        let loaded: Loaded;
        try {
          loaded = await load(file, v.epoch, v.text, v.hash, true, v.governedChallengeWindow);
        } catch (err) {
          o.logger?.warn({ file, err: String(err) }, 'operator graph claim not checked on chain yet');
          continue;
        }
        if (loaded.ok) {
          if (loaded.version.prevoutChecked) addVerified(file, versions, loaded.version);
          continue;
        }
        removeVerified(file, versions, v);
        const entry = entries.get(file);
        if (entry?.hash === v.hash)
          entries.set(file, { hash: v.hash, ok: false, error: loaded.error, stamp: entry.stamp });
      }
    }
  }

  async function graphs(): Promise<ImportedGraph[]> {
    const files = await listFiles();
    const present = new Set(files.map((f) => f.file));
    for (const file of [...entries.keys()]) if (!present.has(file)) gone(file);
    for (const file of [...deferredFiles.keys()]) if (!present.has(file)) deferredFiles.delete(file);
    for (const file of verified.keys()) if (!present.has(file)) gone(file);
    // New versions are read ahead (a few at a time: a file may be 4 MiB). Once `from` of them are found
    // they go to the workers, whose imports run while earlier ones are adopted, in file order; fewer
    // are imported in place.
    const from = Math.max(1, o.importPoolFrom ?? IMPORT_POOL_FROM);
    const limit = pool ? Math.max(from, 2 * pool.size + 2) : 0;
    const ahead: NewVersion[] = [];
    let onPool = false;
    const start = (v: NewVersion) => {
      v.begun = begin(v.epoch, v.text, v.window, true);
      // Its failure is the adoption's to handle (importVersion awaits it); never an unhandled rejection.
      v.begun.catch(() => undefined);
    };
    for (const { file, epoch } of files) {
      const v = await readFile(file, epoch);
      if (v === undefined) continue;
      if (!pool) {
        await importVersion(v);
        continue;
      }
      ahead.push(v);
      if (onPool) start(v);
      else if (ahead.length >= from) {
        onPool = true;
        for (const w of ahead) start(w);
      }
      if (onPool && ahead.length >= limit) await importVersion(ahead.shift() as NewVersion);
    }
    for (const v of ahead.splice(0)) await importVersion(v);
    await recheckClaims();
    const out = [...verified.values()]
      .flatMap((versions) => [...versions.values()])
      .sort((a, b) => (a.epoch < b.epoch ? -1 : a.epoch > b.epoch ? 1 : 0))
      .map((v) => v.graph);
    metrics?.imported.set(out.length);
    metrics?.deferred.set(deferredFiles.size);
    return out;
  }

  return {
    graphs,
    refused: () => {
      const out = new Map<string, GraphImportError>();
      for (const [file, e] of entries) if ('error' in e) out.set(file, e.error);
      return out;
    },
    refusedFiles: () => {
      const out = new Map<string, GraphFileRefusal>();
      for (const [file, e] of entries) if ('file' in e) out.set(file, e.file);
      return out;
    },
    deferred: () => new Map(deferredFiles),
    settle: (graph) => {
      for (const [file, versions] of verified) {
        for (const v of versions.values()) {
          if (v.graph !== graph) continue;
          // Out of `verified` (so the document and the graph can be collected), but its Winternitz
          // hashes stay known (`settledWots`): a later graph reusing one is still refused.
          sealWots(file, v);
          versions.delete(v.hash);
          if (versions.size === 0) verified.delete(file);
          const hashes = settled.get(file) ?? new Set<string>();
          hashes.add(v.hash);
          settled.set(file, hashes);
          settledEpochs.add(v.epoch);
          metrics?.settledHashBytes.set(settledWots.bytes);
          return;
        }
      }
    },
    settledEpochs: () => settledEpochs,
    governWith: (lookup) => {
      governed = lookup;
    },
  };
}
