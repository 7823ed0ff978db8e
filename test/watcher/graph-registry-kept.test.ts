/**
 * A graph that verified stays Vigil's graph for its epoch. A dishonest operator could publish its
 * graph, claim, then delete or corrupt the file so that Vigil loses the graph it needs to challenge:
 * the registry keeps the verified graph, logs the change once, and counts it.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { type GraphDocument, graphToDocument } from '../../src/dispute/graph/document.ts';
import { createGraphRegistry, graphFileName } from '../../src/watcher/graph-registry.ts';
import { makeGraph, secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const OPERATOR = xOnly(secretOf('operator'));
const COMMITTEE = [xOnly(secretOf('committee 1'))];
const g1 = makeGraph({ epoch: 1n });
const doc1 = graphToDocument(g1.graph, g1.sigs);
const g2 = makeGraph({ epoch: 2n });
const doc2 = graphToDocument(g2.graph, g2.sigs);

const CHANGED = "the operator's published graph file changed after its graph was verified";

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-graphs-kept-'));
  dirs.push(dir);
  const lines: { msg: string; file?: string; change?: string; epoch?: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  const registry = new Registry();
  const reg = createGraphRegistry({
    dir,
    network: 'regtest',
    operator: OPERATOR,
    committee: COMMITTEE,
    logger,
    registry,
  });
  const path = (epoch: bigint) => join(dir, graphFileName(epoch));
  const write = (epoch: bigint, doc: GraphDocument | string) =>
    writeFileSync(path(epoch), typeof doc === 'string' ? doc : JSON.stringify(doc));
  const changes = () => lines.filter((l) => l.msg.startsWith(CHANGED));
  const changedCount = async () =>
    (await registry.getSingleMetric('vigil_graph_files_changed_after_verification_total')?.get())?.values[0]
      ?.value ?? 0;
  const imported = async () =>
    (await registry.getSingleMetric('vigil_graphs_imported')?.get())?.values[0]?.value;
  const epochs = async () => (await reg.graphs()).map((g) => g.graph.spec.epoch);
  return { dir, reg, lines, path, write, changes, changedCount, imported, epochs };
}

describe('a verified graph is kept for its epoch', () => {
  it('when its file is replaced with garbage: the same graph is returned, the change logged once', async () => {
    const t = setup();
    t.write(1n, doc1);
    t.write(2n, doc2);
    const [before] = await t.reg.graphs();
    expect(before?.document).toEqual(doc1);

    t.write(1n, '{ garbage');
    for (let i = 0; i < 3; i++) {
      const graphs = await t.reg.graphs();
      expect(graphs.map((g) => g.graph.spec.epoch)).toEqual([1n, 2n]);
      expect(graphs[0]).toBe(before);
    }
    expect(t.reg.refused().get('epoch-1.json')?.defect).toBe('MALFORMED');
    expect(t.changes()).toHaveLength(1);
    expect(t.changes()[0]).toMatchObject({
      file: 'epoch-1.json',
      epoch: '1',
      change: 'new content refused (MALFORMED)',
    });
    expect(await t.changedCount()).toBe(1);
    expect(await t.imported()).toBe(2);
  });

  it('when its file is deleted, and again when it comes back changed', async () => {
    const t = setup();
    t.write(1n, doc1);
    expect(await t.epochs()).toEqual([1n]);
    unlinkSync(t.path(1n));
    for (let i = 0; i < 3; i++) expect(await t.epochs()).toEqual([1n]);
    expect(t.changes()).toHaveLength(1);
    expect(t.changes()[0]).toMatchObject({ file: 'epoch-1.json', change: 'the file was removed' });

    // A forgery in its place: a new change, logged once; the verified graph still stands.
    const forged: GraphDocument = JSON.parse(JSON.stringify(doc1));
    const key = Object.keys(forged.signatures)[0] as string;
    const sig = (forged.signatures[key] as string[])[0] as string;
    (forged.signatures[key] as string[])[0] = `${sig.slice(0, -2)}${sig.endsWith('00') ? '01' : '00'}`;
    t.write(1n, forged);
    for (let i = 0; i < 3; i++) expect((await t.reg.graphs())[0]?.document).toEqual(doc1);
    expect(t.changes().map((l) => l.change)).toEqual([
      'the file was removed',
      // A copy of the verified graph with one signature changed: its Winternitz keys are the verified
      // graph's, which is reason enough before any signature is checked.
      'new content refused (WOTS_KEY_REUSE)',
    ]);
    expect(await t.changedCount()).toBe(2);
  });

  it('when a directory takes the file’s place', async () => {
    const t = setup();
    t.write(1n, doc1);
    expect(await t.epochs()).toEqual([1n]);
    unlinkSync(t.path(1n));
    mkdirSync(t.path(1n));
    for (let i = 0; i < 2; i++) expect(await t.epochs()).toEqual([1n]);
    expect(t.reg.refusedFiles().get('epoch-1.json')?.reason).toBe('directory');
    // Removed (gone) on the first poll or refused as a directory: each change is logged once.
    expect(t.changes().at(-1)).toMatchObject({ change: 'now a directory, not a graph document' });
    const n = t.changes().length;
    await t.reg.graphs();
    expect(t.changes()).toHaveLength(n);
  });

  it('the verified document put back is no change; corrupting it again is a new one', async () => {
    const t = setup();
    t.write(1n, doc1);
    await t.reg.graphs();
    t.write(1n, 'not json');
    await t.reg.graphs();
    t.write(1n, doc1);
    expect(await t.epochs()).toEqual([1n]);
    expect(t.reg.refused().size).toBe(0);
    // Imported once: the document put back is the version already verified.
    expect(t.lines.filter((l) => l.msg === 'operator graph imported and verified')).toHaveLength(1);
    expect(t.changes()).toHaveLength(1);
    t.write(1n, 'not json');
    await t.reg.graphs();
    expect(t.changes()).toHaveLength(2);
  });

  it('a new version that verifies too is watched beside the first', async () => {
    const t = setup();
    t.write(1n, doc1);
    await t.reg.graphs();
    const other = makeGraph({
      epoch: 1n,
      wotsSeed: new TextEncoder().encode('a second graph for epoch 1, another seed'),
    });
    const doc = graphToDocument(other.graph, other.sigs);
    t.write(1n, doc);
    const graphs = await t.reg.graphs();
    expect(graphs.map((g) => g.document)).toEqual([doc1, doc]);
    expect(t.lines.filter((l) => l.msg.includes('the new version verifies too'))).toHaveLength(1);
    // Another file version reusing a verified version's Winternitz keys (here: the first document with
    // a trailing newline) is refused, as for any other graph; both verified graphs stay.
    t.write(1n, `${JSON.stringify(doc1)}\n`);
    expect((await t.reg.graphs()).map((g) => g.document)).toEqual([doc1, doc]);
    expect(t.reg.refused().get('epoch-1.json')?.defect).toBe('WOTS_KEY_REUSE');
  });
});
