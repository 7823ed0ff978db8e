/**
 * The directory a served devnet lives in (`vigil devnet serve --dir`), so that a restarted `serve`
 * resumes the same network and other commands (`vigil devnet fault`, `vigil devnet operator`) can change
 * the operator while it runs:
 *   serve.json            what was created once: seed, ports, contracts, the workload's block offset
 *   control.json          the operator's fault and strategy, rewritten by `fault` / `operator`
 *   claims.json           the epochs the operator claimed on Bitcoin (enough to rebuild each graph)
 *   commits.json          the executor of each epoch the operator committed on the L2
 *   lock                  the pid of the serving process
 *   anvil-state.json      anvil's own state (--state)
 *   bitcoin/              the simnet's recorded chain and mempool
 *   graphs/               the operator's published graph documents
 *   watch.yaml, genesis.json, watcher.key   the generated `vigil watch` configuration
 * Every JSON file is replaced atomically (write, fsync, rename) and checked with a schema when read: a
 * file that does not parse is an error naming it, never a fresh start over a network that exists.
 */
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { VigilError, type VigilErrorCategory } from '../core/errors.ts';
import { writeFileAtomic } from '../store/atomic-file.ts';

/** The directory holds something this version cannot use: a config problem for the person who named it. */
export class ServeDirError extends VigilError {
  override name = 'ServeDirError';
  override readonly category: VigilErrorCategory = 'config';
}

/** Another live `serve` uses the directory. */
export class ServeDirBusyError extends VigilError {
  override name = 'ServeDirBusyError';
  override readonly category: VigilErrorCategory = 'unavailable';
}

/**
 * Version 2: the contracts govern rollup parameters (pending changes, activation at the end of an epoch)
 * and the genesis state has their leaves, so a version-1 directory cannot be resumed.
 */
export const SERVE_FORMAT = 'vigil-devnet-serve/2';
const OLDER_FORMATS = ['vigil-devnet-serve/1'];
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const port = z.number().int().min(1).max(65_535);
const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/);
const hex32 = z.string().regex(/^[0-9a-f]{64}$/);

const serveShape = z.strictObject({
  format: z.literal(SERVE_FORMAT),
  /** Names this network's keys in Redis. */
  id: z.string().regex(/^[0-9a-f]{8}$/),
  seed: z.number().int().positive(),
  epochs: z.number().int().positive(),
  ports: z.strictObject({ l2: port, bitcoinRpc: port, esplora: port }),
  l2: z.strictObject({
    chainId: z.number().int().positive(),
    startBlock: decimal,
    readyBlock: decimal,
    /** L2 block = workload block + offset, fixed at the first start so a resumed workload stays in step. */
    offset: decimal,
    addresses: z.strictObject({
      token: address,
      staking: address,
      governor: address,
      registry: address,
      epochManager: address,
      stateCommitment: address,
    }),
  }),
  createdAt: z.string(),
});
export type ServeRecord = z.infer<typeof serveShape>;

const controlShape = z.strictObject({
  /** A fault of the catalogue, or 'none'. */
  fault: z.string().min(1),
  /** The first epoch the fault applies to. */
  fromEpoch: z.number().int().nonnegative(),
  strategy: z.string().min(1),
  /** Bumped on every change, so the serving process tells each change once. */
  revision: z.number().int().nonnegative(),
});
export type ServeControl = z.infer<typeof controlShape>;

export const DEFAULT_CONTROL: ServeControl = { fault: 'none', fromEpoch: 0, strategy: 'assert', revision: 0 };

const claimShape = z.strictObject({
  epoch: decimal,
  fundingTxid: hex32,
  kickoffTxid: hex32,
  /** The funding and kick-off as broadcast: a restart rebroadcasts what the chain lost. */
  fundingHex: z.string().regex(/^([0-9a-f]{2})+$/),
  kickoffHex: z.string().regex(/^([0-9a-f]{2})+$/),
  stateRoot: hex32,
  l2BlockHash: hex32,
  referenceRoot: hex32,
  checkpoints: z.array(hex32),
  /** T_c of the claim's graph (the governed window in force during the epoch): a resume rebuilds it. */
  challengeWindow: z.number().int().positive(),
  /** The Bitcoin height the operator had scanned when it claimed (a resumed scan starts there). */
  scannedAt: z.number().int().nonnegative(),
  neverAssert: z.boolean(),
});
export type ServedClaim = z.infer<typeof claimShape>;
const claimsShape = z.strictObject({ format: z.literal(SERVE_FORMAT), claims: z.array(claimShape) });

const commitsShape = z.strictObject({
  format: z.literal(SERVE_FORMAT),
  /** Epoch (decimal) → the executor whose root the operator committed on the L2. */
  executors: z.record(decimal, z.string().min(1)),
});

export type ServeDirPaths = {
  root: string;
  serve: string;
  control: string;
  claims: string;
  commits: string;
  lock: string;
  anvilState: string;
  bitcoin: string;
  graphs: string;
  watchConfig: string;
  genesis: string;
  watcherKey: string;
};

export function serveDirPaths(root: string): ServeDirPaths {
  return {
    root,
    serve: join(root, 'serve.json'),
    control: join(root, 'control.json'),
    claims: join(root, 'claims.json'),
    commits: join(root, 'commits.json'),
    lock: join(root, 'lock'),
    anvilState: join(root, 'anvil-state.json'),
    bitcoin: join(root, 'bitcoin'),
    graphs: join(root, 'graphs'),
    watchConfig: join(root, 'watch.yaml'),
    genesis: join(root, 'genesis.json'),
    watcherKey: join(root, 'watcher.key'),
  };
}

function readJson<T>(path: string, shape: z.ZodType<T>, what: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ServeDirError(`${what} ${path} cannot be read`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ServeDirError(`${what} ${path} is not JSON`, { cause: err });
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (typeof format === 'string' && OLDER_FORMATS.includes(format)) {
    throw new ServeDirError(
      `${what} ${path} was written by an older Vigil (${format}); its L2 contracts predate governed rollup parameters and cannot be resumed`,
      { metaMessages: ['Serve a new directory (--dir), or delete this one to start over.'] },
    );
  }
  const parsed = shape.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ServeDirError(
      `${what} ${path} is not a ${SERVE_FORMAT} file: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

export function readServeRecord(paths: ServeDirPaths): ServeRecord | undefined {
  return readJson(paths.serve, serveShape, 'the devnet record');
}

export function writeServeRecord(paths: ServeDirPaths, r: Omit<ServeRecord, 'format'>): void {
  writeFileAtomic(paths.serve, `${JSON.stringify({ format: SERVE_FORMAT, ...r }, null, 2)}\n`);
}

export function readControl(paths: ServeDirPaths): ServeControl {
  return readJson(paths.control, controlShape, 'the operator control file') ?? DEFAULT_CONTROL;
}

/**
 * Changes the operator's control; `change` sees the current one. Returns the new control. Two changes at
 * once take turns (a lock file held for the read-change-write), so neither is lost.
 */
export function updateControl(
  paths: ServeDirPaths,
  change: (c: ServeControl) => Omit<ServeControl, 'revision'>,
): ServeControl {
  const lock = `${paths.control}.lock`;
  const until = Date.now() + 5_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o644));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new ServeDirError(`The operator control ${paths.control} cannot be changed`, { cause: err });
      }
      if (Date.now() > until) {
        throw new ServeDirBusyError(`Another change of ${paths.control} holds ${lock}`, {
          metaMessages: ['If no other vigil devnet fault/operator is running, delete the lock file.'],
        });
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    const current = readControl(paths);
    const next: ServeControl = { ...change(current), revision: current.revision + 1 };
    writeFileAtomic(paths.control, `${JSON.stringify(next, null, 2)}\n`);
    return next;
  } finally {
    rmSync(lock, { force: true });
  }
}

export function readClaims(paths: ServeDirPaths): ServedClaim[] {
  return readJson(paths.claims, claimsShape, 'the operator claims file')?.claims ?? [];
}

export function writeClaims(paths: ServeDirPaths, claims: readonly ServedClaim[]): void {
  writeFileAtomic(paths.claims, `${JSON.stringify({ format: SERVE_FORMAT, claims }, null, 2)}\n`);
}

/**
 * The operator's claims, read from the directory once and kept in memory: the serving process is the only
 * writer, so the L2 clock and the Bitcoin clock ask this instead of reading the file on every block.
 */
export class ClaimLedger {
  readonly #claims: ServedClaim[];
  readonly #epochs: Set<bigint>;

  constructor(private readonly paths: ServeDirPaths) {
    this.#claims = readClaims(paths);
    this.#epochs = new Set(this.#claims.map((c) => BigInt(c.epoch)));
  }

  all(): readonly ServedClaim[] {
    return this.#claims;
  }

  has(epoch: bigint): boolean {
    return this.#epochs.has(epoch);
  }

  /** Records a claim, on disk before it is in memory. */
  add(claim: ServedClaim): void {
    writeClaims(this.paths, [...this.#claims, claim]);
    this.#claims.push(claim);
    this.#epochs.add(BigInt(claim.epoch));
  }

  /** Records that the operator will never assert these epochs' claims (written only when it changes). */
  markNeverAssert(epochs: ReadonlySet<bigint>): void {
    if (!this.#claims.some((c) => !c.neverAssert && epochs.has(BigInt(c.epoch)))) return;
    const next = this.#claims.map((c) => ({
      ...c,
      neverAssert: c.neverAssert || epochs.has(BigInt(c.epoch)),
    }));
    writeClaims(this.paths, next);
    this.#claims.splice(0, this.#claims.length, ...next);
  }
}

/** The executor of every epoch the operator committed (written before the commitment is sent). */
export function readCommits(paths: ServeDirPaths): Map<bigint, string> {
  const r = readJson(paths.commits, commitsShape, 'the operator commits file');
  return new Map(Object.entries(r?.executors ?? {}).map(([e, name]) => [BigInt(e), name]));
}

export function writeCommits(paths: ServeDirPaths, executors: ReadonlyMap<bigint, string>): void {
  const record = Object.fromEntries([...executors].map(([e, name]) => [e.toString(), name]));
  writeFileAtomic(paths.commits, `${JSON.stringify({ format: SERVE_FORMAT, executors: record }, null, 2)}\n`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the directory for this process (created if needed). The lock file appears whole (written under
 * another name, then hard-linked), so a reader never sees it empty. A lock left by a process that is
 * gone is taken over; a live one is ServeDirBusyError.
 */
export function lockServeDir(paths: ServeDirPaths): () => void {
  const tmp = `${paths.lock}.${process.pid}.tmp`;
  try {
    mkdirSync(paths.root, { recursive: true });
    writeFileSync(tmp, `${process.pid}\n`, { mode: 0o644 });
  } catch (err) {
    throw new ServeDirError(`The devnet directory ${paths.root} cannot be written`, { cause: err });
  }
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(tmp, paths.lock);
        return () => rmSync(paths.lock, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new ServeDirError(`The devnet directory ${paths.root} cannot be locked`, { cause: err });
        }
      }
      const holder = lockHolder(paths);
      if (holder !== undefined && holder !== process.pid && alive(holder)) {
        throw new ServeDirBusyError(`The devnet in ${paths.root} is served by process ${holder}`, {
          metaMessages: ['Stop it first (Ctrl-C or SIGTERM), or serve another --dir.'],
        });
      }
      // Two processes taking over the same stale lock at once can both succeed here; serve's simnet
      // directory has a lock of its own behind this one.
      rmSync(paths.lock, { force: true });
    }
    throw new ServeDirBusyError(`The devnet directory ${paths.root} was locked by another process meanwhile`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

function lockHolder(paths: ServeDirPaths): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(paths.lock, 'utf8'), 10);
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid serving the directory, when one is alive. */
export function servingPid(paths: ServeDirPaths): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(paths.lock, 'utf8'), 10);
    return Number.isInteger(pid) && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}
