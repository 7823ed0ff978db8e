/**
 * simnet's state directory: what lets a simnet stop and start again with the same chain (same blocks,
 * hashes, UTXO set and mempool), the same RPC credentials and the same ports.
 *
 * The directory holds:
 * - `simnet.json`: the format (`vigil-simnet-state`) and its version, the genesis hash, the RPC
 *   credentials and the two ports; written last on a fresh start (it marks the directory as holding a
 *   chain), always atomically (temp file + rename), mode 0600 (it holds the RPC password).
 * - `blocks.log`: the active chain above genesis, one block per line, `<height> <hash> <raw hex>\n`,
 *   appended and fsynced as each block connects; a disconnected block (invalidateblock, a reorg)
 *   truncates the file back to its line. A last line without its newline is a torn write: ignored on
 *   load and cut off; anything else malformed is a SimnetStateError naming the file and line.
 * - `mempool.json`: the mempool's transactions in acceptance order, written atomically on `close()`
 *   (and `saveMempool()`); on load re-accepted in that order without the fee floor, and whatever is no
 *   longer valid is dropped and reported.
 * - `simnet.lock`: the pid of the process using the directory.
 *
 * The chain logic knows nothing of this: the journal follows it through `SimChain.subscribe` and
 * restores through `SimChain.restoreBlock`. Stale branches and invalidity marks are not kept.
 */
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { bytesToHex, hexToBytes } from '../../core/bytes.ts';
import { VigilError } from '../../core/errors.ts';
import { hash256 } from '../../core/hashes.ts';
import { writeFileAtomic } from '../../store/atomic-file.ts';
import { decodeTx, hashToHex, txidHex } from '../codec/codec.ts';
import type { Tx } from '../tx/types.ts';
import type { SimChain } from './chain.ts';
import { TxReject } from './rules.ts';
import type { ChainBlock } from './types.ts';

export const SIMNET_STATE_FORMAT = 'vigil-simnet-state';
export const SIMNET_STATE_VERSION = 1;
export const STATE_FILE = 'simnet.json';
export const BLOCKS_FILE = 'blocks.log';
export const MEMPOOL_FILE = 'mempool.json';
export const LOCK_FILE = 'simnet.lock';

/** What `simnet.json` records. */
export type SimnetStateRecord = {
  format: typeof SIMNET_STATE_FORMAT;
  version: typeof SIMNET_STATE_VERSION;
  genesis: string;
  rpcUser: string;
  rpcPassword: string;
  rpcPort: number;
  esploraPort: number;
};

/** What a start from a recorded directory restored, and what it had to leave out. */
export type SimnetRestoreReport = {
  blocks: number;
  /** Mempool transactions re-accepted. */
  mempool: number;
  /** Mempool transactions no longer valid on the restored chain, with Core's reason. */
  dropped: { txid: string; reason: string }[];
  /** The blocks file ended in a torn line (a crash during an append); it was cut off. */
  tornTail: boolean;
};

/** The state directory cannot be used: corrupt, of another format version or chain, or in use. */
export class SimnetStateError extends VigilError {
  override name = 'SimnetStateError';
}

/** The directories this process holds, so a second open in the same process is refused. */
const held = new Set<string>();

export type OpenedSimnetState = {
  journal: SimnetJournal;
  /** The recorded settings; undefined when the directory held no chain (a fresh start). */
  recorded: Omit<SimnetStateRecord, 'format' | 'version' | 'genesis'> | undefined;
  /** Undefined on a fresh start. */
  restored: SimnetRestoreReport | undefined;
};

/**
 * Opens `dir` for `chain` (a new chain, at genesis): takes the directory's lock, restores the recorded
 * chain and mempool when there is one, and from then on records every block the chain connects or
 * disconnects. Call `journal.record(...)` once the settings are known, and `journal.close()` at stop.
 */
export function openSimnetState(dir: string, chain: SimChain): OpenedSimnetState {
  const root = resolve(dir);
  if (chain.height !== 0)
    throw new SimnetStateError('a simnet state directory restores into a new chain only');
  mkdirSync(root, { recursive: true, mode: 0o700 });
  lock(root);
  try {
    const stateFile = join(root, STATE_FILE);
    const text = readIfExists(stateFile);
    const genesis = (chain.blockAt(0) as ChainBlock).hash;
    if (text === undefined) {
      // A fresh start: an empty blocks file first, the state file (the marker) at record().
      writeFileAtomic(join(root, BLOCKS_FILE), '');
      removeIfExists(join(root, MEMPOOL_FILE));
      return { journal: new SimnetJournal(root, chain, [0], 0), recorded: undefined, restored: undefined };
    }
    const record = parseRecord(stateFile, text, genesis);
    const { offsets, size, tornTail } = restoreBlocks(root, chain);
    const journal = new SimnetJournal(root, chain, offsets, size);
    const { accepted, dropped } = restoreMempool(join(root, MEMPOOL_FILE), chain);
    const { format: _f, version: _v, genesis: _g, ...recorded } = record;
    return {
      journal,
      recorded,
      restored: { blocks: chain.height, mempool: accepted, dropped, tornTail },
    };
  } catch (err) {
    unlock(root);
    throw err;
  }
}

/** Follows the chain into `blocks.log`; saves the mempool; writes `simnet.json`. */
export class SimnetJournal {
  readonly dir: string;
  private readonly chain: SimChain;
  private readonly blocksFile: string;
  /** offsets[h]: where block h's line starts (h ≥ 1). */
  private offsets: number[];
  private size: number;
  private fd: number;
  private broken = false;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(dir: string, chain: SimChain, offsets: number[], size: number) {
    this.dir = dir;
    this.chain = chain;
    this.blocksFile = join(dir, BLOCKS_FILE);
    this.offsets = offsets;
    this.size = size;
    this.fd = openSync(this.blocksFile, 'r+');
    this.unsubscribe = chain.subscribe({
      connected: (block) => this.connected(block),
      disconnected: (block) => this.disconnected(block),
    });
  }

  /** Writes `simnet.json` (atomically, mode 0600). */
  record(settings: { rpcUser: string; rpcPassword: string; rpcPort: number; esploraPort: number }): void {
    const record: SimnetStateRecord = {
      format: SIMNET_STATE_FORMAT,
      version: SIMNET_STATE_VERSION,
      genesis: (this.chain.blockAt(0) as ChainBlock).hash,
      ...settings,
    };
    writeFileAtomic(join(this.dir, STATE_FILE), `${JSON.stringify(record, null, 2)}\n`, 0o600);
  }

  /** Writes `mempool.json`: the mempool's transactions in acceptance order (atomically). */
  saveMempool(): void {
    const txs = this.chain.mempool.ordered().map((e) => bytesToHex(e.raw));
    const body = { version: SIMNET_STATE_VERSION, tip: this.chain.tip.hash, txs };
    writeFileAtomic(join(this.dir, MEMPOOL_FILE), `${JSON.stringify(body)}\n`);
  }

  /** Saves the mempool, stops following the chain, releases the directory. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.saveMempool();
    } finally {
      this.unsubscribe();
      closeSync(this.fd);
      unlock(this.dir);
    }
  }

  private connected(block: ChainBlock): void {
    if (this.broken || block.height !== this.offsets.length) {
      this.rewrite();
      return;
    }
    const line = blockLine(block);
    try {
      writeSync(this.fd, line, this.size);
      fsyncSync(this.fd);
    } catch (err) {
      this.broken = true;
      throw this.writeError(`cannot record block ${block.hash} (height ${block.height})`, err);
    }
    this.offsets.push(this.size);
    this.size += line.length;
  }

  private disconnected(block: ChainBlock): void {
    const at = this.offsets[block.height];
    if (this.broken || at === undefined || block.height !== this.offsets.length - 1) {
      this.rewrite();
      return;
    }
    try {
      ftruncateSync(this.fd, at);
      fsyncSync(this.fd);
    } catch (err) {
      this.broken = true;
      throw this.writeError(`cannot remove disconnected block ${block.hash}`, err);
    }
    this.offsets.length = block.height;
    this.size = at;
  }

  /** The whole file again from the active chain: after a failed write, or a change out of order. */
  private rewrite(): void {
    try {
      const lines: string[] = [];
      const offsets = [0];
      let size = 0;
      for (let h = 1; h <= this.chain.height; h++) {
        const line = blockLine(this.chain.blockAt(h) as ChainBlock);
        offsets.push(size);
        size += line.length;
        lines.push(line);
      }
      closeSync(this.fd);
      writeFileAtomic(this.blocksFile, lines.join(''));
      this.fd = openSync(this.blocksFile, 'r+');
      this.offsets = offsets;
      this.size = size;
      this.broken = false;
    } catch (err) {
      this.broken = true;
      throw this.writeError('cannot rewrite the chain', err);
    }
  }

  private writeError(what: string, cause: unknown): SimnetStateError {
    return new SimnetStateError(`simnet state: ${what} in ${this.blocksFile}`, { cause });
  }
}

function blockLine(block: ChainBlock): string {
  return `${block.height} ${block.hash} ${bytesToHex(block.raw)}\n`;
}

function parseRecord(file: string, text: string, genesis: string): SimnetStateRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SimnetStateError(`simnet state: ${file} is not valid JSON`, { cause: err });
  }
  const r = (parsed ?? {}) as Partial<Record<keyof SimnetStateRecord, unknown>>;
  if (r.format !== SIMNET_STATE_FORMAT) {
    throw new SimnetStateError(
      `simnet state: ${file} is not a simnet state file (format ${String(r.format)})`,
    );
  }
  if (r.version !== SIMNET_STATE_VERSION) {
    throw new SimnetStateError(
      `simnet state: ${file} has format version ${String(r.version)}; this Vigil reads version ${SIMNET_STATE_VERSION} only`,
      { metaMessages: ['Start with a new state directory (or delete this one) to begin a new chain.'] },
    );
  }
  if (r.genesis !== genesis) {
    throw new SimnetStateError(`simnet state: ${file} records another chain (genesis ${String(r.genesis)})`);
  }
  const port = (p: unknown): p is number =>
    Number.isInteger(p) && (p as number) >= 0 && (p as number) <= 65535;
  if (
    typeof r.rpcUser !== 'string' ||
    typeof r.rpcPassword !== 'string' ||
    !port(r.rpcPort) ||
    !port(r.esploraPort)
  ) {
    throw new SimnetStateError(`simnet state: ${file} lacks rpcUser, rpcPassword, rpcPort or esploraPort`);
  }
  return r as SimnetStateRecord;
}

/** Restores `blocks.log` into the chain; cuts off a torn last line. */
function restoreBlocks(
  root: string,
  chain: SimChain,
): { offsets: number[]; size: number; tornTail: boolean } {
  const file = join(root, BLOCKS_FILE);
  const text = readIfExists(file);
  if (text === undefined)
    throw new SimnetStateError(`simnet state: ${file} is missing (${STATE_FILE} is there)`);
  const end = text.lastIndexOf('\n') + 1;
  const tornTail = end < text.length;
  const offsets = [0];
  let at = 0;
  let lineNo = 0;
  while (at < end) {
    lineNo++;
    const next = text.indexOf('\n', at) + 1;
    const line = text.slice(at, next - 1);
    const bad = (what: string, cause?: unknown): SimnetStateError =>
      new SimnetStateError(`simnet state: ${file} line ${lineNo}: ${what}`, {
        ...(cause === undefined ? {} : { cause }),
      });
    const m = /^(\d+) ([0-9a-f]{64}) ((?:[0-9a-f]{2})+)$/.exec(line);
    if (!m) throw bad('not `<height> <hash> <raw block hex>`');
    const height = Number(m[1]);
    if (height !== chain.height + 1) throw bad(`height ${height} where ${chain.height + 1} was expected`);
    const raw = hexToBytes(m[3] as string);
    const hash = hashToHex(hash256(raw.slice(0, 80)));
    if (hash !== m[2]) throw bad(`the block's header hashes to ${hash}, not the recorded ${m[2]}`);
    try {
      chain.restoreBlock(raw);
    } catch (err) {
      throw bad(err instanceof VigilError ? err.shortMessage : String(err), err);
    }
    offsets.push(at);
    at = next;
  }
  if (tornTail) {
    const fd = openSync(file, 'r+');
    try {
      ftruncateSync(fd, end);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  return { offsets, size: end, tornTail };
}

function restoreMempool(
  file: string,
  chain: SimChain,
): { accepted: number; dropped: { txid: string; reason: string }[] } {
  const text = readIfExists(file);
  if (text === undefined) return { accepted: 0, dropped: [] };
  let parsed: { version?: unknown; txs?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (err) {
    throw new SimnetStateError(`simnet state: ${file} is not valid JSON`, { cause: err });
  }
  if (parsed.version !== SIMNET_STATE_VERSION) {
    throw new SimnetStateError(
      `simnet state: ${file} has format version ${String(parsed.version)}; this Vigil reads version ${SIMNET_STATE_VERSION} only`,
    );
  }
  const list = parsed.txs;
  if (!Array.isArray(list) || !list.every((t) => typeof t === 'string' && /^(?:[0-9a-f]{2})+$/.test(t))) {
    throw new SimnetStateError(`simnet state: ${file}: txs is not a list of raw transactions in hex`);
  }
  let accepted = 0;
  const dropped: { txid: string; reason: string }[] = [];
  list.forEach((hex: string, i) => {
    let tx: Tx;
    try {
      tx = decodeTx(hexToBytes(hex));
    } catch (err) {
      throw new SimnetStateError(`simnet state: ${file}: transaction ${i} does not decode`, { cause: err });
    }
    try {
      chain.acceptTx(tx, { bypassLimits: true });
      accepted++;
    } catch (err) {
      if (!(err instanceof TxReject)) throw err;
      dropped.push({ txid: txidHex(tx), reason: err.message });
    }
  });
  return { accepted, dropped };
}

// ---------------------------------------------------------------------------------------------
// Files

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SimnetStateError(`simnet state: cannot read ${file}`, { cause: err });
  }
}

function removeIfExists(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// The directory lock

function lock(root: string): void {
  const file = join(root, LOCK_FILE);
  if (held.has(root)) throw new SimnetStateError(`simnet state: ${root} is already open in this process`);
  try {
    writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new SimnetStateError(`simnet state: cannot lock ${root}`, { cause: err });
    }
    const pid = Number.parseInt(readIfExists(file) ?? '', 10);
    if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) {
      throw new SimnetStateError(`simnet state: ${root} is in use by process ${pid} (${file})`);
    }
    // A lock left by a process that is gone (or by this pid in an earlier life, a restarted container).
    writeFileSync(file, `${process.pid}\n`);
  }
  held.add(root);
}

function unlock(root: string): void {
  held.delete(root);
  removeIfExists(join(root, LOCK_FILE));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
