/**
 * `vigil verify` on inputs others control, without a chain: a `--root` that is huge, binary or a device
 * that never ends; a cache directory another process or a crash left behind (a lock that is garbage or a directory,
 * a state.json whose journalBytes lies, journal lines out of order, past the cursor or not blocks at all, a
 * commit that failed half-way); a proof whose index or leaf count is out of range.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hash } from 'viem';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlockRef, JournalBlock } from '../../src/l2/cursor-store.ts';
import { FileJournalStore, JournalCacheError } from '../../src/l2/file-journal-store.ts';
import { MemoryJournalStore } from '../../src/l2/memory-journal-store.ts';
import {
  PROOF_FILE_FORMAT,
  PROOF_FILE_VERSION,
  type ProofFile,
  ProofFileError,
  parseProofFile,
  verifyProofFile,
} from '../../src/verify/proof-file.ts';
import { parseRootArgument, VerifyUsageError } from '../../src/verify/run.ts';

type Entry = { kind: string; amount: bigint };
const hash = (n: number): Hash => `0x${n.toString(16).padStart(64, '0')}` as Hash;
const ref = (n: number): BlockRef => ({ number: BigInt(n), hash: hash(n) });
const block = (n: number, amount = 1n): JournalBlock<Entry> => ({
  number: BigInt(n),
  hash: hash(n),
  entries: [{ kind: 'stake', amount }],
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-adversarial-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const ROOT = 'ab'.repeat(32);

describe('--root', () => {
  it('takes 64 hex digits, 0x optional, any case, or a small file holding them', () => {
    expect(parseRootArgument(ROOT)).toHaveLength(32);
    expect(parseRootArgument(`0x${ROOT.toUpperCase()}`)).toEqual(parseRootArgument(ROOT));
    const file = join(dir, 'root');
    writeFileSync(file, `\uFEFF0x${ROOT}\r\n`);
    expect(parseRootArgument(file)).toEqual(parseRootArgument(ROOT));
  });

  it('reads a pipe, as `--root <(…)` gives it', () => {
    const path = join(dir, 'fifo');
    execFileSync('mkfifo', [path]);
    // The writer is another process: the open below waits for it, then the read ends at its EOF.
    const writer = spawn('sh', ['-c', `printf '0x%s\\n' ${ROOT} > ${path}`], { stdio: 'ignore' });
    try {
      expect(parseRootArgument(path)).toEqual(parseRootArgument(ROOT));
    } finally {
      writer.kill();
    }
  });

  it.each<[string, () => string]>([
    ['a missing file', () => join(dir, 'nope')],
    ['a directory', () => dir],
    ['a binary file', () => writeAndName('bin', Buffer.from([0, 0xff, 0xfe, 0x80, 0x0a]))],
    ['a 5 MB file of hex', () => writeAndName('big', `0x${ROOT}\n`.repeat(75_000))],
    ['a root repeated twice', () => writeAndName('two', `0x${ROOT}\n0x${ROOT}\n`)],
    ['/dev/zero (never ends)', () => '/dev/zero'],
    ['/dev/null (empty)', () => '/dev/null'],
    ['63 digits', () => ROOT.slice(1)],
    ['0X prefix', () => `0X${ROOT}`],
  ])('refuses %s as a usage error, at once', (_name, value) => {
    expect(() => parseRootArgument(value())).toThrow(VerifyUsageError);
  });
});

function writeAndName(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('a cache directory left by someone else', () => {
  const state = () => join(dir, 'state.json');
  const journal = () => join(dir, 'journal.jsonl');

  async function seeded(): Promise<void> {
    const s = FileJournalStore.open<Entry>(dir);
    await s.commit([block(3), block(5)], [], ref(6));
    s.close();
  }

  /** Opens the cache, expecting it to be started over for a reason matching `why`. */
  async function expectDiscarded(why: RegExp): Promise<void> {
    const reasons: string[] = [];
    const s = FileJournalStore.open<Entry>(dir, (r) => reasons.push(r));
    try {
      expect(reasons).toEqual([expect.stringMatching(why)]);
      expect(await s.cursor()).toBeUndefined();
      expect(await s.journal()).toEqual([]);
    } finally {
      s.close();
    }
  }

  it('a cache path that is a file is a JournalCacheError', () => {
    const file = writeAndName('file', 'x');
    expect(() => FileJournalStore.open(join(file))).toThrow(JournalCacheError);
    expect(() => FileJournalStore.open(join(file, 'sub'))).toThrow(JournalCacheError);
  });

  it.each([
    ['garbage', 'not a pid \u0000\u00ff'],
    ['a negative pid', '-1'],
    ['pid 0 (the process group)', '0'],
    ['a huge number', '99999999999999999999'],
    ['empty', ''],
  ])('a lock holding %s is taken over', (_name, content) => {
    writeFileSync(join(dir, 'lock'), content);
    const s = FileJournalStore.open(dir);
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe(String(process.pid));
    s.close();
  });

  it('a lock that is a directory is a JournalCacheError, not an internal error', () => {
    mkdirSync(join(dir, 'lock'));
    expect(() => FileJournalStore.open(dir)).toThrow(JournalCacheError);
  });

  it.each<[string, (s: Record<string, unknown>, journalLength: number) => void, RegExp]>([
    [
      'journalBytes past the end of the journal',
      (s, n) => {
        s.journalBytes = n + 1;
      },
      /holds \d+ bytes/,
    ],
    [
      'a negative journalBytes',
      (s) => {
        s.journalBytes = -1;
      },
      /not a vigil-l2-journal-cache/,
    ],
    [
      'a fractional journalBytes',
      (s) => {
        s.journalBytes = 1.5;
      },
      /not a vigil-l2-journal-cache/,
    ],
    [
      'a journalBytes of 1e300',
      (s) => {
        s.journalBytes = 1e300;
      },
      /not a vigil-l2-journal-cache/,
    ],
    [
      'journalBytes as a string',
      (s, n) => {
        s.journalBytes = String(n);
      },
      /not a vigil-l2-journal-cache/,
    ],
    [
      'journalBytes cutting a line',
      (s, n) => {
        s.journalBytes = n - 3;
      },
      /line 2 is not a journal block/,
    ],
    [
      'a cursor number of -2',
      (s) => {
        s.cursor = { number: '-2', hash: hash(1) };
      },
      /not a vigil/,
    ],
    [
      'another format',
      (s) => {
        s.format = 'vigil-l2-journal-cache/2';
      },
      /not a vigil/,
    ],
  ])('a state.json with %s is started over', async (_name, edit, why) => {
    await seeded();
    const s = JSON.parse(readFileSync(state(), 'utf8')) as Record<string, unknown>;
    edit(s, readFileSync(journal()).length);
    writeFileSync(state(), JSON.stringify(s));
    await expectDiscarded(why);
  });

  it('a state.json that is 4 MB of nesting or binary is started over', async () => {
    await seeded();
    writeFileSync(state(), `${'['.repeat(2_000_000)}${']'.repeat(2_000_000)}`);
    await expectDiscarded(/not a vigil-l2-journal-cache/);
    await seeded();
    writeFileSync(state(), Buffer.from([0xff, 0xfe, 0, 1, 2]));
    await expectDiscarded(/not JSON/);
  });

  /** Rewrites the journal to `lines` and state.json to count all of it, cursor at 6. */
  function forgeJournal(lines: string[]): void {
    const text = lines.map((l) => `${l}\n`).join('');
    writeFileSync(journal(), text);
    const s = JSON.parse(readFileSync(state(), 'utf8')) as Record<string, unknown>;
    s.journalBytes = Buffer.byteLength(text);
    writeFileSync(state(), JSON.stringify(s));
  }
  const line = (n: number): string =>
    JSON.stringify({ number: { $bigint: String(n) }, hash: hash(n), entries: [] });

  it.each<[string, string[], RegExp]>([
    ['blocks out of order', [line(5), line(3)], /line 2: block 3 is not above 5/],
    ['a block twice', [line(3), line(3)], /line 2: block 3 is not above 3/],
    ['a block past the cursor', [line(3), line(9)], /line 2: block 9 is past the cursor/],
    ['null', [line(3), 'null'], /line 2 is not a journal block/],
    ['a number for a block', [line(3), '7'], /line 2 is not a journal block/],
    ['a block number as a plain number', [line(3), '{"number":5,"hash":"0x","entries":[]}'], /line 2 is not/],
    [
      'a block without entries',
      [JSON.stringify({ number: { $bigint: '3' }, hash: hash(3) })],
      /line 1 is not/,
    ],
    ['a bad hash', [JSON.stringify({ number: { $bigint: '3' }, hash: 'zz', entries: [] })], /line 1 is not/],
  ])('a journal with %s is started over, not trusted', async (_name, lines, why) => {
    await seeded();
    forgeJournal(lines);
    await expectDiscarded(why);
  });

  it('a commit whose state file could not be written leaves no bytes that the next commit would inherit', async () => {
    const a = FileJournalStore.open<Entry>(dir);
    await a.commit([block(3)], [], ref(4));
    // The state file cannot be replaced (its temporary name is taken by a directory): the commit fails.
    mkdirSync(join(dir, 'state.json.tmp'));
    await expect(a.commit([block(5, 777n)], [], ref(6))).rejects.toThrow();
    expect(await a.journal()).toEqual([block(3)]);
    expect(await a.cursor()).toEqual(ref(4));
    rmSync(join(dir, 'state.json.tmp'), { recursive: true });
    // The ingester goes on from its cursor: block 5 is read again (its entry now differs, same length: the chain moved).
    await a.commit([block(5, 111n)], [], ref(6));
    a.close();
    const b = FileJournalStore.open<Entry>(dir);
    expect(await b.journal()).toEqual([block(3), block(5, 111n)]);
    expect(await b.cursor()).toEqual(ref(6));
    b.close();
  });

  it('a refused commit (a block not above the last) writes nothing and changes nothing', async () => {
    const a = FileJournalStore.open<Entry>(dir);
    await a.commit([block(5)], [], ref(5));
    await expect(a.commit([block(4)], [], ref(8))).rejects.toThrow(/not above/);
    expect(await a.journal()).toEqual([block(5)]);
    expect(await a.cursor()).toEqual(ref(5));
    await a.commit([block(8)], [], ref(9));
    a.close();
    const b = FileJournalStore.open<Entry>(dir);
    expect(await b.journal()).toEqual([block(5), block(8)]);
    b.close();
  });

  it('the memory store refuses blocks out of order the same way', async () => {
    const m = new MemoryJournalStore<Entry>();
    await m.commit([block(5)], [], ref(5));
    await expect(m.commit([block(4)], [], ref(6))).rejects.toThrow(/not above/);
  });
});

describe('proof indices out of range', () => {
  const file = (index: number, siblings = 25): ProofFile => ({
    format: PROOF_FILE_FORMAT,
    version: PROOF_FILE_VERSION,
    epoch: 1n,
    root: new Uint8Array(32),
    account: `0x${'00'.repeat(20)}`,
    leaves: [
      {
        id: '07',
        what: 'reward',
        leaf: new Uint8Array(53).fill(7, 0, 1),
        proof: { index, siblings: Array.from({ length: siblings }, () => new Uint8Array(32)) },
      },
    ],
  });

  it.each<[number, number]>([
    [2 ** 53 - 2, 25],
    [2 ** 32, 25],
    [2 ** 25, 25],
    [2 ** 31 - 1, 31],
    [0, 53],
    [-1, 25],
    [Number.NaN, 25],
    [1.5, 25],
    [Number.POSITIVE_INFINITY, 25],
  ])('index %d with %d siblings is refused, not thrown on, at once', (index, siblings) => {
    const verdict = verifyProofFile(file(index, siblings));
    expect(verdict.ok).toBe(false);
  });

  const text = (index: string): string =>
    `{"format":"${PROOF_FILE_FORMAT}","version":2,"epoch":"1","root":"0x${'00'.repeat(32)}",` +
    `"account":"0x${'00'.repeat(20)}","leaves":[{"id":"07","what":"r","leaf":"0x07",` +
    `"proof":{"index":${index},"siblings":[]}}]}`;

  it('the parser reads a well-formed single-leaf file', () => {
    expect(parseProofFile(text('0')).leaves[0]?.proof).toEqual({ index: 0, siblings: [] });
  });

  it.each([
    ['an index of 2^53', '9007199254740992'],
    ['a negative index', '-1'],
    ['a float index', '0.5'],
    ['an index of 1e400 (Infinity)', '1e400'],
    ['an index of -0', '-0'],
  ])('the parser refuses %s, or it verifies as nothing else', (_name, index) => {
    let parsed: ProofFile;
    try {
      parsed = parseProofFile(text(index));
    } catch (err) {
      expect(err).toBeInstanceOf(ProofFileError);
      return;
    }
    // -0 is 0 in JSON numbers: the same file as index 0.
    expect(parsed.leaves[0]?.proof.index === 0).toBe(true);
  });

  it('a version of another type, a top-level array, or __proto__ keys are ProofFileErrors', () => {
    for (const t of [
      '[]',
      'null',
      '"vigil"',
      '{"version": {"toString": 1}}',
      '{"__proto__": {"version": 1}, "format": "vigil-account-proofs"}',
      `{"format":"${PROOF_FILE_FORMAT}","version":2,"__proto__":{"leaves":[]}}`,
    ]) {
      expect(() => parseProofFile(t), t).toThrow(ProofFileError);
    }
    expect(({} as Record<string, unknown>).leaves).toBeUndefined();
  });
});
