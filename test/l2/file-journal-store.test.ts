/**
 * The ingester's journal in a directory (vigil verify's cache): what a commit leaves behind, a crash
 * between the journal append and the state file, a rewind, a cache that cannot be read, and the lock.
 * The same ingestion on anvil through the file store and through memory gives the same derivation.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hash } from 'viem';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateWorkload } from '../../src/governance/workload.ts';
import type { BlockRef, JournalBlock } from '../../src/l2/cursor-store.ts';
import type { L2Entry } from '../../src/l2/decode.ts';
import { FileJournalStore, JournalCacheBusyError } from '../../src/l2/file-journal-store.ts';
import { createGovernanceIngester } from '../../src/l2/governance-ingester.ts';
import { MemoryJournalStore } from '../../src/l2/memory-journal-store.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { startChain } from './helpers.ts';

type Entry = { kind: string; amount: bigint };

const hash = (n: number): Hash => `0x${n.toString(16).padStart(64, '0')}` as Hash;
const ref = (n: number): BlockRef => ({ number: BigInt(n), hash: hash(n) });
const block = (n: number, amount: bigint): JournalBlock<Entry> => ({
  number: BigInt(n),
  hash: hash(n),
  entries: [{ kind: 'stake', amount }],
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-journal-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the file journal store', () => {
  it('keeps the cursor, the hooked mark, the journal (bigints included) and the checkpoints across opens', async () => {
    const a = FileJournalStore.open<Entry>(dir);
    await a.commit([block(3, 10n ** 30n), block(5, 7n)], [ref(1)], ref(6));
    await a.setHooked(6n);
    await a.commit([block(8, 1n)], [ref(7)], ref(9));
    a.close();
    const b = FileJournalStore.open<Entry>(dir);
    expect(await b.cursor()).toEqual(ref(9));
    expect(await b.hooked()).toBe(6n);
    expect(await b.journal()).toEqual([block(3, 10n ** 30n), block(5, 7n), block(8, 1n)]);
    expect((await b.checkpoints(9n)).map((c) => Number(c.number))).toEqual([9, 8, 7, 6, 5, 3, 1]);
    expect((await b.checkpoints(6n, 2)).map((c) => Number(c.number))).toEqual([6, 5]);
    b.close();
  });

  it('a crash after the journal append but before the state file: the extra bytes are not the cache', async () => {
    const a = FileJournalStore.open<Entry>(dir);
    await a.commit([block(3, 1n)], [], ref(4));
    a.close();
    // What a commit that died half-way leaves: a journal line the state file does not count (and a torn one).
    const journal = join(dir, 'journal.jsonl');
    appendFileSync(journal, '{"number":{"$bigint":"5"},"hash":"0x');
    const b = FileJournalStore.open<Entry>(dir);
    expect(await b.cursor()).toEqual(ref(4));
    expect(await b.journal()).toEqual([block(3, 1n)]);
    await b.commit([block(6, 2n)], [], ref(6));
    b.close();
    const c = FileJournalStore.open<Entry>(dir);
    expect(await c.journal()).toEqual([block(3, 1n), block(6, 2n)]);
    expect(readFileSync(journal, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
    c.close();
  });

  it('a rewind drops the blocks above the fork point, on disk too', async () => {
    const a = FileJournalStore.open<Entry>(dir);
    await a.commit([block(3, 1n), block(5, 2n), block(8, 3n)], [], ref(9));
    await a.setHooked(9n);
    await a.rewind(ref(5));
    expect(await a.hooked()).toBe(5n);
    a.close();
    const b = FileJournalStore.open<Entry>(dir);
    expect(await b.cursor()).toEqual(ref(5));
    expect(await b.journal()).toEqual([block(3, 1n), block(5, 2n)]);
    expect((await b.checkpoints(100n)).map((c) => Number(c.number))).toEqual([5, 3]);
    b.close();
  });

  it.each([
    ['state.json is not JSON', 'not json'],
    ['state.json is not a vigil-l2-journal-cache/1 file', JSON.stringify({ format: 'other' })],
    [
      'journal.jsonl holds 0 bytes, state.json says 999',
      JSON.stringify({
        format: 'vigil-l2-journal-cache/1',
        cursor: null,
        hooked: '-1',
        journalBytes: 999,
        hashes: [],
      }),
    ],
  ])('a cache that cannot be read (%s) starts over, and says why', async (reason, state) => {
    const a = FileJournalStore.open<Entry>(dir);
    await a.commit([block(3, 1n)], [], ref(4));
    a.close();
    writeFileSync(join(dir, 'journal.jsonl'), '');
    writeFileSync(join(dir, 'state.json'), state);
    const heard: string[] = [];
    const b = FileJournalStore.open<Entry>(dir, (r) => heard.push(r));
    expect(heard).toEqual([reason]);
    expect(await b.cursor()).toBeUndefined();
    expect(await b.journal()).toEqual([]);
    b.close();
  });

  it('a journal line that is not a block is a cache started over, not a half-trusted one', async () => {
    const a = FileJournalStore.open<Entry>(dir);
    await a.commit([block(3, 1n), block(4, 2n)], [], ref(4));
    a.close();
    const path = join(dir, 'journal.jsonl');
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, `${'x'.repeat(text.indexOf('\n'))}${text.slice(text.indexOf('\n'))}`);
    const heard: string[] = [];
    const b = FileJournalStore.open<Entry>(dir, (r) => heard.push(r));
    expect(heard).toEqual(['journal.jsonl line 1 is not a journal block']);
    expect(await b.journal()).toEqual([]);
    b.close();
  });

  it('a batch out of order is refused whole, in memory as on disk', async () => {
    const memory = new MemoryJournalStore<Entry>();
    await memory.commit([block(3, 1n)], [], ref(3));
    await expect(memory.commit([block(7, 1n), block(6, 1n)], [], ref(7))).rejects.toThrow(
      'journal block 6 is not above 7',
    );
    expect(await memory.journal()).toEqual([block(3, 1n)]);
    expect(await memory.cursor()).toEqual(ref(3));
  });

  it('the same cache opened twice in one process: the second open is refused, not handed the lock', () => {
    const a = FileJournalStore.open<Entry>(dir);
    expect(() => FileJournalStore.open<Entry>(dir)).toThrow('already open in this process');
    a.close();
    // A lock file that names this pid but is not held here (a restarted container reuses pids): taken.
    writeFileSync(join(dir, 'lock'), String(process.pid));
    const b = FileJournalStore.open<Entry>(dir);
    b.close();
  });

  it('one user at a time: a live holder is refused with its pid, a dead one is taken over', async () => {
    const a = FileJournalStore.open<Entry>(dir);
    // Another live process holds it.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      a.close();
      writeFileSync(join(dir, 'lock'), String(child.pid));
      expect(() => FileJournalStore.open<Entry>(dir)).toThrow(JournalCacheBusyError);
      expect(() => FileJournalStore.open<Entry>(dir)).toThrow(`in use by process ${child.pid}`);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    // The holder is gone: its lock is stale.
    const b = FileJournalStore.open<Entry>(dir);
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe(String(process.pid));
    b.close();
  });
});

describe('ingestion through the file store', () => {
  it('gives the same derivation as memory, and a reopened cache resumes without reading a block again', async () => {
    const w = generateWorkload({ seed: 31, inputs: 120, epochLength: 20 });
    const chain = await startChain(w.genesis);
    try {
      await chain.driver.replay(w.inputs);
      const rpc = new L2Rpc({ urls: [chain.anvil.rpcUrl] });
      const deployment = {
        addresses: chain.deployment.addresses,
        startBlock: chain.deployment.startBlock,
        genesis: w.genesis,
      };
      const ingest = async (store: MemoryJournalStore<L2Entry> | FileJournalStore<L2Entry>) => {
        const g = createGovernanceIngester({ rpc, store, deployment, crossCheck: false, maxRange: 16n });
        await g.ingester.init();
        let steps = 0;
        while ((await g.ingester.step()) !== 'idle') steps++;
        return { g, steps };
      };
      const memory = await ingest(new MemoryJournalStore<L2Entry>());
      const file = FileJournalStore.open<L2Entry>(dir);
      const first = await ingest(file);
      file.close();
      expect(first.g.derivation.epochEnds).toEqual(memory.g.derivation.epochEnds);
      expect(first.g.derivation.inputs).toEqual(memory.g.derivation.inputs);
      expect(first.g.derivation.epochEnds.length).toBeGreaterThan(2);
      expect(first.steps).toBeGreaterThan(1);
      const reopened = FileJournalStore.open<L2Entry>(dir);
      const second = await ingest(reopened);
      reopened.close();
      expect(second.steps).toBe(0);
      expect(second.g.derivation.epochEnds).toEqual(memory.g.derivation.epochEnds);
    } finally {
      await chain.stop();
    }
  }, 60_000);
});
