/**
 * The operator may swap a graph file between the registry's lstat and its open: the registry judges the
 * file it actually opened. lstat is wrapped so that, for one file, the swap happens right after lstat
 * saw a plain small file: the swap then always falls in the window a real race would need luck to hit.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { graphToDocument } from '../../src/dispute/graph/document.ts';
import {
  createGraphRegistry,
  GRAPH_FILE_MAX_BYTES,
  graphFileName,
} from '../../src/watcher/graph-registry.ts';
import { makeGraph, secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';

/** What happens to a file right after lstat looked at it, by file name. */
const afterLstat = new Map<string, () => void>();

vi.mock('node:fs/promises', async (original) => {
  const real = await original<typeof FsPromises>();
  return {
    ...real,
    lstat: async (...args: Parameters<typeof real.lstat>) => {
      const st = await real.lstat(...args);
      const swap = afterLstat.get(basename(String(args[0])));
      if (swap) {
        afterLstat.delete(basename(String(args[0])));
        swap();
      }
      return st;
    },
  };
});

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const g1 = makeGraph({ epoch: 1n });
const text1 = JSON.stringify(graphToDocument(g1.graph, g1.sigs));
const g2 = makeGraph({ epoch: 2n });
const text2 = JSON.stringify(graphToDocument(g2.graph, g2.sigs));

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-graph-swap-'));
  dirs.push(dir);
  const lines: { msg: string; file?: string; reason?: string; err?: string }[] = [];
  const registry = new Registry();
  const reg = createGraphRegistry({
    dir,
    network: 'regtest',
    operator: xOnly(secretOf('operator')),
    committee: [xOnly(secretOf('committee 1'))],
    logger: pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) }),
    registry,
  });
  writeFileSync(join(dir, graphFileName(1n)), text1);
  writeFileSync(join(dir, graphFileName(2n)), text2);
  const refusals = () => lines.filter((l) => l.msg.startsWith('operator graph file refused'));
  return { dir, reg, refusals };
}

const epochs = (gs: { graph: { spec: { epoch: bigint } } }[]) => gs.map((g) => g.graph.spec.epoch);

describe('the graph registry judges the file it opened, not the one lstat saw', () => {
  it('a FIFO swapped in after lstat is opened without blocking and refused by fstat', async () => {
    const t = setup();
    const path = join(t.dir, graphFileName(2n));
    afterLstat.set(graphFileName(2n), () => {
      const fifo = `${path}.fifo`;
      execFileSync('mkfifo', [fifo]);
      renameSync(fifo, path);
    });
    // Without O_NONBLOCK this poll would wait forever for a writer.
    const t0 = performance.now();
    expect(epochs(await t.reg.graphs())).toEqual([1n]);
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(t.reg.refusedFiles().get('epoch-2.json')).toEqual({
      reason: 'fifo',
      message: 'a named pipe (FIFO), not a regular file',
    });
    expect(t.refusals()).toHaveLength(1);
  });

  it('a symbolic link swapped in after lstat is not followed', async () => {
    const t = setup();
    const path = join(t.dir, graphFileName(2n));
    const elsewhere = join(t.dir, 'elsewhere.json');
    writeFileSync(elsewhere, text2);
    afterLstat.set(graphFileName(2n), () => {
      unlinkSync(path);
      symlinkSync(elsewhere, path);
    });
    expect(epochs(await t.reg.graphs())).toEqual([1n]);
    expect(t.reg.refusedFiles().get('epoch-2.json')).toEqual({
      reason: 'symlink',
      message: 'a symbolic link; links are not followed, publish the file itself',
    });
  });

  it('a file grown past the cap after lstat is refused from fstat, without reading it', async () => {
    const t = setup();
    const path = join(t.dir, graphFileName(2n));
    afterLstat.set(graphFileName(2n), () => {
      writeFileSync(path, ' '.repeat(GRAPH_FILE_MAX_BYTES + 1));
    });
    expect(epochs(await t.reg.graphs())).toEqual([1n]);
    expect(t.reg.refusedFiles().get('epoch-2.json')).toEqual({
      reason: 'too_large',
      message: `${GRAPH_FILE_MAX_BYTES + 1} bytes; a graph document is at most ${GRAPH_FILE_MAX_BYTES} bytes`,
    });
  });

  it('a file that vanishes between listing and reading is not a graph yet, and no refusal', async () => {
    const t = setup();
    afterLstat.set(graphFileName(2n), () => {
      unlinkSync(join(t.dir, graphFileName(2n)));
    });
    expect(epochs(await t.reg.graphs())).toEqual([1n]);
    expect(t.reg.refusedFiles().size).toBe(0);
    expect(t.reg.refused().size).toBe(0);
    expect(t.refusals()).toHaveLength(0);
    // Published again: imported on the next poll.
    writeFileSync(join(t.dir, graphFileName(2n)), text2);
    expect(epochs(await t.reg.graphs())).toEqual([1n, 2n]);
  });
});
