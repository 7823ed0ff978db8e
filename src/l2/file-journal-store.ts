/**
 * The ingester's cursor and journal in a directory, so `vigil verify` needs no Redis and its next run
 * reads only new blocks:
 *   journal.jsonl  one journal block per line (journal-codec.ts), appended
 *   state.json     { format, cursor, hooked, journalBytes, hashes }, replaced atomically (write + rename)
 *   lock           the pid of the process using the directory
 * A commit appends the range's blocks and fsyncs them, then replaces state.json, whose `journalBytes`
 * says how much of the journal belongs to it: a crash between the two leaves bytes past that length,
 * which the next open cuts off. The chain is the source of truth, so a cache that cannot be read is
 * started over (and said so), never trusted in part.
 */
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Hash } from 'viem';
import { z } from 'zod';
import { VigilError, type VigilErrorCategory } from '../core/errors.ts';
import type { BlockRef, JournalBlock } from './cursor-store.ts';
import { decodeJournal, encodeJournal } from './journal-codec.ts';
import { type JournalSnapshot, MemoryJournalStore } from './memory-journal-store.ts';

const STATE_FORMAT = 'vigil-l2-journal-cache/1';
const HEX32 = /^0x[0-9a-f]{64}$/;
const decimal = z.string().regex(/^(0|-1|[1-9][0-9]*)$/);
const ref = z.object({ number: decimal, hash: z.string().regex(HEX32) });
const stateShape = z.object({
  format: z.literal(STATE_FORMAT),
  cursor: ref.nullable(),
  hooked: decimal,
  journalBytes: z.number().int().nonnegative(),
  hashes: z.array(ref),
});

/** The cache directory cannot be used at all (cannot be created or written). */
export class JournalCacheError extends VigilError {
  override name = 'JournalCacheError';
  override readonly category: VigilErrorCategory = 'config';
}

/** Another live process holds the cache directory: try again when it is done. */
export class JournalCacheBusyError extends VigilError {
  override name = 'JournalCacheBusyError';
  override readonly category: VigilErrorCategory = 'unavailable';
}

/** The frame of a journal block (its entries are the ingester's, checked where they are used). */
function isJournalBlock(b: unknown): b is JournalBlock<unknown> {
  if (typeof b !== 'object' || b === null) return false;
  const o = b as Record<string, unknown>;
  return (
    typeof o.number === 'bigint' &&
    o.number >= 0n &&
    typeof o.hash === 'string' &&
    HEX32.test(o.hash) &&
    Array.isArray(o.entries)
  );
}

const toRef = (r: z.infer<typeof ref>): BlockRef => ({ number: BigInt(r.number), hash: r.hash as Hash });
const fromRef = (r: BlockRef) => ({ number: r.number.toString(), hash: r.hash });

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lock files this process holds. */
const HELD_HERE = new Set<string>();

export class FileJournalStore<T> extends MemoryJournalStore<T> {
  private journalBytes = 0;
  private locked = false;
  private readonly journalPath: string;
  private readonly statePath: string;
  private readonly lockPath: string;

  private constructor(readonly dir: string) {
    super();
    this.journalPath = join(dir, 'journal.jsonl');
    this.statePath = join(dir, 'state.json');
    this.lockPath = join(dir, 'lock');
  }

  /**
   * Opens (creating it if needed) the cache in `dir` and takes its lock. `onDiscard` hears why a cache
   * that could not be read was started over.
   */
  static open<T>(dir: string, onDiscard?: (reason: string) => void): FileJournalStore<T> {
    const store = new FileJournalStore<T>(dir);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new JournalCacheError(`the cache directory ${dir} cannot be created`, { cause: err });
    }
    store.lock();
    try {
      const reason = store.load();
      if (reason !== undefined) {
        onDiscard?.(reason);
        store.reset();
      }
    } catch (err) {
      store.close();
      throw err;
    }
    return store;
  }

  /** Releases the lock. The store must not be used afterwards. */
  close(): void {
    if (!this.locked) return;
    rmSync(this.lockPath, { force: true });
    HELD_HERE.delete(this.lockPath);
    this.locked = false;
  }

  override async commit(
    blocks: readonly JournalBlock<T>[],
    checkpoints: readonly BlockRef[],
    cursor: BlockRef,
  ): Promise<void> {
    const text = blocks.map((b) => `${encodeJournal(b)}\n`).join('');
    const bytes = Buffer.from(text, 'utf8');
    const before = this.snapshot();
    try {
      // Checked (and applied in memory) before anything is written: refused blocks leave no bytes behind.
      this.apply(blocks, checkpoints, cursor);
      if (bytes.length > 0) {
        const fd = openSync(this.journalPath, 'a');
        try {
          // Bytes past journalBytes are an earlier commit that failed: cut them, or state.json would
          // count them in place of these.
          ftruncateSync(fd, this.journalBytes);
          writeSync(fd, bytes);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
      this.writeState(this.journalBytes + bytes.length);
    } catch (err) {
      this.restore(before);
      throw err;
    }
    this.journalBytes += bytes.length;
  }

  override async setHooked(number: bigint): Promise<void> {
    this.hookedAt = number;
    this.writeState(this.journalBytes);
  }

  /** Rare (a reorg below the cursor): the kept blocks are written out anew. */
  override async rewind(forkPoint: BlockRef): Promise<void> {
    this.applyRewind(forkPoint);
    const text = this.blocks.map((b) => `${encodeJournal(b)}\n`).join('');
    const tmp = `${this.journalPath}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, this.journalPath);
    this.journalBytes = Buffer.byteLength(text, 'utf8');
    this.writeState(this.journalBytes);
  }

  private writeState(journalBytes: number): void {
    const s = this.snapshot();
    const state = {
      format: STATE_FORMAT,
      cursor: s.cursor ? fromRef(s.cursor) : null,
      hooked: s.hooked.toString(),
      journalBytes,
      hashes: s.hashes.map(fromRef),
    };
    const tmp = `${this.statePath}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(state));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.statePath);
  }

  /** Reads the cache; returns why it was not usable, or undefined when it was (or did not exist). */
  private load(): string | undefined {
    let stateText: string;
    try {
      stateText = readFileSync(this.statePath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        rmSync(this.journalPath, { force: true });
        return undefined;
      }
      return `state.json cannot be read (${(err as Error).message})`;
    }
    let state: z.infer<typeof stateShape>;
    try {
      const parsed = stateShape.safeParse(JSON.parse(stateText));
      if (!parsed.success) return `state.json is not a ${STATE_FORMAT} file`;
      state = parsed.data;
    } catch {
      return 'state.json is not JSON';
    }
    let journal: Buffer;
    try {
      journal = readFileSync(this.journalPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || state.journalBytes > 0) {
        return `journal.jsonl cannot be read (${(err as Error).message})`;
      }
      journal = Buffer.alloc(0);
    }
    if (journal.length < state.journalBytes) {
      return `journal.jsonl holds ${journal.length} bytes, state.json says ${state.journalBytes}`;
    }
    // Bytes past journalBytes are a commit that never completed: they are not part of the cache.
    if (journal.length > state.journalBytes) truncateSync(this.journalPath, state.journalBytes);
    const blocks: JournalBlock<T>[] = [];
    const lines = journal.subarray(0, state.journalBytes).toString('utf8').split('\n');
    for (const [i, line] of lines.entries()) {
      if (line === '') continue;
      let b: unknown;
      try {
        b = decodeJournal(line);
      } catch {
        return `journal.jsonl line ${i + 1} is not a journal block`;
      }
      if (!isJournalBlock(b)) return `journal.jsonl line ${i + 1} is not a journal block`;
      const last = blocks.at(-1)?.number ?? -1n;
      if (b.number <= last) return `journal.jsonl line ${i + 1}: block ${b.number} is not above ${last}`;
      if (state.cursor === null || b.number > BigInt(state.cursor.number)) {
        return `journal.jsonl line ${i + 1}: block ${b.number} is past the cursor`;
      }
      blocks.push(b as JournalBlock<T>);
    }
    const snapshot: JournalSnapshot<T> = {
      cursor: state.cursor ? toRef(state.cursor) : undefined,
      hooked: BigInt(state.hooked),
      blocks,
      hashes: state.hashes.map(toRef),
    };
    this.restore(snapshot);
    this.journalBytes = state.journalBytes;
    return undefined;
  }

  private reset(): void {
    rmSync(this.journalPath, { force: true });
    rmSync(this.statePath, { force: true });
    this.restore({ cursor: undefined, hooked: -1n, blocks: [], hashes: [] });
    this.journalBytes = 0;
  }

  private lock(): void {
    // A lock with this process's pid is taken over (a restarted container often has the same pid), so
    // this process's own opens are told apart here.
    if (HELD_HERE.has(this.lockPath)) {
      throw new JournalCacheBusyError(`the cache ${this.dir} is already open in this process`);
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockPath, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        this.locked = true;
        HELD_HERE.add(this.lockPath);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST') {
          throw new JournalCacheError(`the cache directory ${this.dir} is not writable`, { cause: err });
        }
        let holder: number;
        try {
          holder = Number(readFileSync(this.lockPath, 'utf8').trim());
        } catch (cause) {
          throw new JournalCacheError(`the lock of the cache directory ${this.dir} cannot be read`, {
            cause,
          });
        }
        if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && pidAlive(holder)) {
          throw new JournalCacheBusyError(`the cache ${this.dir} is in use by process ${holder}`, {
            metaMessages: ['Wait for it to end, or give another --cache-dir.'],
          });
        }
        rmSync(this.lockPath, { force: true }); // left by a process that is gone
      }
    }
    throw new JournalCacheError(`the cache directory ${this.dir} cannot be locked`);
  }
}
