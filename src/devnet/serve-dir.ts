/**
 * The directory a served devnet lives in (`vigil devnet serve --dir`), so that a restarted `serve`
 * resumes the same network and other commands (`vigil devnet fault`, `vigil devnet operator`) can change
 * the operator while it runs:
 *   serve.json            what was created once: seed, epochs and epoch length, ports, contracts, the
 *                         workload's block offset
 *   control.json          the operator's fault and strategy, rewritten by `fault` / `operator`
 *   claims.jsonl          the epochs the operator claimed on Bitcoin (enough to rebuild each graph), and
 *                         which of them it will never assert and which are settled: one line each
 *   commits.jsonl         the executor of each epoch the operator committed on the L2, one line each
 *   lock                  the pid of the serving process
 *   anvil-state.json      anvil's own state (--state)
 *   bitcoin/              the simnet's recorded chain and mempool
 *   graphs/               the operator's published graph documents
 *   watch.yaml, genesis.json, watcher.key   the generated `vigil watch` configuration
 * Every JSON file is replaced atomically (write, fsync, rename) and checked with a schema when read: a
 * file that does not parse is an error naming it, never a fresh start over a network that exists. The
 * two `.jsonl` files grow by one fsynced line per record (serve-journal.ts), so an epoch costs the same
 * to record at epoch 5 and at epoch 5,000.
 */
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../store/atomic-file.ts';
import { ServeDirBusyError, ServeDirError } from './serve-dir-errors.ts';
import { type JournalFile, type OlderFormats, openJournal } from './serve-journal.ts';

export { ServeDirBusyError, ServeDirError };

/**
 * Version 3: claims and commits are append-only journals (claims.jsonl, commits.jsonl), and the record
 * names the workload's epoch length. Version 2 rewrote claims.json whole on every claim.
 */
export const SERVE_FORMAT = 'vigil-devnet-serve/3';
const OLDER_FORMATS: OlderFormats = {
  'vigil-devnet-serve/1': 'its L2 contracts predate governed rollup parameters and cannot be resumed',
  'vigil-devnet-serve/2':
    'it keeps its claims in one claims.json rewritten per claim, which this version no longer reads',
};
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
  /** Inputs per epoch of the workload (a resume regenerates the same workload). */
  epochLength: z.number().int().min(2),
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
  /**
   * A network whose operator plays the narrowing game (`serve --game`): the challenger registry and its
   * windows (L2 blocks), scaled to the L2's pace at creation. Absent: Part II's graph.
   */
  game: z.strictObject({ registry: address, bundleWindow: decimal, commitWindow: decimal }).optional(),
  createdAt: z.string(),
});
export type ServeRecord = z.infer<typeof serveShape>;

const controlShape = z.strictObject({
  /** A fault of the catalogue, or 'none'. */
  fault: z.string().min(1),
  /** The first epoch the fault applies to. */
  fromEpoch: z.number().int().nonnegative(),
  /** The last epoch the fault applies to (absent: every epoch from `fromEpoch` on). */
  toEpoch: z.number().int().nonnegative().optional(),
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
  fundingHex: z.string().regex(/^(?:[0-9a-f]{2})+$/),
  kickoffHex: z.string().regex(/^(?:[0-9a-f]{2})+$/),
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
/** One line of claims.jsonl: a claim, or epochs the operator will never assert, or epochs now settled. */
const claimLineShape = z.union([
  z.strictObject({ claim: claimShape }),
  z.strictObject({ neverAssert: z.array(decimal).min(1) }),
  z.strictObject({ settled: z.array(decimal).min(1) }),
]);
type ClaimLine = z.infer<typeof claimLineShape>;

/** One line of commits.jsonl: the executor whose root the operator committed for an epoch. */
const commitLineShape = z.strictObject({ epoch: decimal, executor: z.string().min(1) });
type CommitLine = z.infer<typeof commitLineShape>;

export type ServeDirPaths = {
  root: string;
  serve: string;
  control: string;
  claims: string;
  /** The game operator's claims (`serve --game`). */
  gameClaims: string;
  commits: string;
  lock: string;
  anvilState: string;
  bitcoin: string;
  graphs: string;
  watchConfig: string;
  genesis: string;
  watcherKey: string;
  /** Vigil's L2 account key in a game network (`keys.l2`), mode 0600. */
  l2Key: string;
};

export function serveDirPaths(root: string): ServeDirPaths {
  return {
    root,
    serve: join(root, 'serve.json'),
    control: join(root, 'control.json'),
    claims: join(root, 'claims.jsonl'),
    gameClaims: join(root, 'game-claims.jsonl'),
    commits: join(root, 'commits.jsonl'),
    lock: join(root, 'lock'),
    anvilState: join(root, 'anvil-state.json'),
    bitcoin: join(root, 'bitcoin'),
    graphs: join(root, 'graphs'),
    watchConfig: join(root, 'watch.yaml'),
    genesis: join(root, 'genesis.json'),
    watcherKey: join(root, 'watcher.key'),
    l2Key: join(root, 'vigil-l2.key'),
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
  if (typeof format === 'string' && OLDER_FORMATS[format] !== undefined) {
    throw new ServeDirError(
      `${what} ${path} was written by an older Vigil (${format}); ${OLDER_FORMATS[format]}`,
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

/**
 * The operator's claims: claims.jsonl read once when serving starts, then appended to. The serving
 * process is the only writer, so the L2 clock and the Bitcoin clock ask this instead of the file. Only
 * the claims not settled yet are kept whole in memory: a settled claim needs nothing more than its
 * epoch (so it is never claimed again).
 */
export class ClaimLedger {
  readonly #journal: JournalFile<ClaimLine>;
  readonly #epochs = new Set<bigint>();
  /** Unsettled claims by epoch, in the order they were made. */
  readonly #open = new Map<bigint, ServedClaim>();
  #latest: ServedClaim | undefined;

  constructor(paths: ServeDirPaths) {
    this.#journal = openJournal(
      paths.claims,
      SERVE_FORMAT,
      OLDER_FORMATS,
      claimLineShape,
      'the operator claims file',
    );
    for (const line of this.#journal.records) this.#apply(line);
  }

  #apply(line: ClaimLine): void {
    if ('claim' in line) {
      const epoch = BigInt(line.claim.epoch);
      this.#epochs.add(epoch);
      this.#open.set(epoch, line.claim);
      this.#latest = line.claim;
    } else if ('neverAssert' in line) {
      for (const e of line.neverAssert) {
        const c = this.#open.get(BigInt(e));
        if (c) this.#open.set(BigInt(e), { ...c, neverAssert: true });
      }
    } else {
      for (const e of line.settled) this.#open.delete(BigInt(e));
    }
  }

  /** The claims not settled yet, in the order they were made. */
  open(): readonly ServedClaim[] {
    return [...this.#open.values()];
  }

  /** The last claim made, settled or not. */
  latest(): ServedClaim | undefined {
    return this.#latest;
  }

  /** Claims ever made. */
  get size(): number {
    return this.#epochs.size;
  }

  has(epoch: bigint): boolean {
    return this.#epochs.has(epoch);
  }

  /**
   * Records a claim, on disk before it is in memory. A crash in the middle of the write leaves a torn
   * line that the next start drops: the claim is then made again, as after a crash just before it.
   */
  add(claim: ServedClaim): void {
    this.#record({ claim });
  }

  /** Records that the operator will never assert these epochs' claims (only those not recorded yet). */
  markNeverAssert(epochs: Iterable<bigint>): void {
    const fresh = [...epochs].filter((e) => this.#open.get(e)?.neverAssert === false);
    if (fresh.length > 0) this.#record({ neverAssert: fresh.map(String) });
  }

  /** Records that these epochs' claims are over on Bitcoin: a restart follows them no more. */
  markSettled(epochs: Iterable<bigint>): void {
    const fresh = [...epochs].filter((e) => this.#open.has(e));
    if (fresh.length > 0) this.#record({ settled: fresh.map(String) });
  }

  close(): void {
    this.#journal.close();
  }

  #record(line: ClaimLine): void {
    this.#journal.append(line);
    this.#apply(line);
  }
}

/** The unsettled claims of a directory (what a restart follows again). */
export function readClaims(paths: ServeDirPaths): ServedClaim[] {
  const ledger = new ClaimLedger(paths);
  ledger.close();
  return [...ledger.open()];
}

/**
 * The executor of every epoch the operator committed: each is appended before the commitment is sent,
 * so a restart in between knows what was committed (a torn line was never followed by its commitment).
 */
export class CommitLog {
  readonly #journal: JournalFile<CommitLine>;
  readonly #executors = new Map<bigint, string>();

  constructor(paths: ServeDirPaths) {
    this.#journal = openJournal(
      paths.commits,
      SERVE_FORMAT,
      OLDER_FORMATS,
      commitLineShape,
      'the operator commits file',
    );
    for (const l of this.#journal.records) this.#executors.set(BigInt(l.epoch), l.executor);
  }

  get(epoch: bigint): string | undefined {
    return this.#executors.get(epoch);
  }

  /** Records the executor of `epoch`, on disk before it is in memory. */
  set(epoch: bigint, executor: string): void {
    this.#journal.append({ epoch: epoch.toString(), executor });
    this.#executors.set(epoch, executor);
  }

  close(): void {
    this.#journal.close();
  }
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
