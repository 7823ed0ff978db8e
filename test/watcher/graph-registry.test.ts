import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGraph } from '../../src/dispute/graph/build.ts';
import { type GraphDocument, graphToDocument } from '../../src/dispute/graph/document.ts';
import { collectSignatures, presignGraph } from '../../src/dispute/graph/sign.ts';
import { GraphImportPool, type GraphImportRunner } from '../../src/watcher/graph-import-pool.ts';
import { createGraphRegistry, graphFileName, IMPORT_POOL_FROM } from '../../src/watcher/graph-registry.ts';
import { makeGraph, makeGraphSpec, secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';
import { startScenario } from '../../testkit/queue/scenario.ts';

const dirs: string[] = [];
// Every case runs twice: graphs imported in place, and on worker threads (as `vigil watch` does), where
// several files are imported at once and adopted in file order.
const pool = new GraphImportPool({ size: 2 });
const MODES: [string, GraphImportRunner | undefined][] = [
  ['in place', undefined],
  ['on worker threads', pool],
];
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await pool.close();
});

function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vigil-graphs-'));
  dirs.push(d);
  return d;
}

const OPERATOR = xOnly(secretOf('operator'));
const COMMITTEE = [xOnly(secretOf('committee 1'))];

const g1 = makeGraph({ epoch: 1n });
const doc1 = graphToDocument(g1.graph, g1.sigs);
const g2 = makeGraph({ epoch: 2n });
const doc2 = graphToDocument(g2.graph, g2.sigs);

/** Epoch 1's document with one presigned signature changed: refused as BAD_SIGNATURE. */
function forgedDoc1(): GraphDocument {
  const forged: GraphDocument = JSON.parse(JSON.stringify(doc1));
  const key = Object.keys(forged.signatures)[0] as string;
  const sig = (forged.signatures[key] as string[])[0] as string;
  (forged.signatures[key] as string[])[0] = `${sig.slice(0, -2)}${sig.endsWith('00') ? '01' : '00'}`;
  return forged;
}

/** A valid, signed graph for epoch 2 that reuses epoch 1's Winternitz keys. */
function reusingKeysOfEpoch1(): GraphDocument {
  const { spec } = makeGraphSpec({ epoch: 2n });
  const reuse = buildGraph({ ...spec, wots: g1.graph.spec.wots });
  const sigs = collectSignatures(
    reuse,
    [secretOf('operator'), secretOf('committee 1')].map((s) => presignGraph(reuse, s)),
  );
  return graphToDocument(reuse, sigs);
}

const write = (dir: string, epoch: bigint, doc: GraphDocument | string) =>
  writeFileSync(join(dir, graphFileName(epoch)), typeof doc === 'string' ? doc : JSON.stringify(doc));

function setup(operator = OPERATOR, importPool?: GraphImportRunner) {
  const dir = freshDir();
  const lines: { msg: string; defect?: string; file?: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  const registry = new Registry();
  const reg = createGraphRegistry({
    dir,
    network: 'regtest',
    operator,
    committee: COMMITTEE,
    logger,
    registry,
    // On the pool for any batch (by default only from IMPORT_POOL_FROM new files on).
    ...(importPool ? { importPool, importPoolFrom: 1 } : {}),
  });
  const refusedCount = async () => {
    const m = await registry.getSingleMetric('vigil_graphs_refused_total')?.get();
    return (m?.values ?? []).reduce((n, v) => n + v.value, 0);
  };
  const refusals = () => lines.filter((l) => l.msg.startsWith('operator graph refused'));
  const gauge = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value;
  return { dir, reg, lines, refusedCount, refusals, gauge };
}

describe.each(MODES)('the operator graph registry, importing %s', (_mode, importPool) => {
  it('imports the valid documents of the directory, by epoch; a file not there yet is not a graph yet', async () => {
    const t = setup(OPERATOR, importPool);
    expect(await t.reg.graphs()).toEqual([]);
    write(t.dir, 2n, doc2);
    writeFileSync(join(t.dir, 'README.txt'), 'not a graph');
    let graphs = await t.reg.graphs();
    expect(graphs.map((g) => g.graph.spec.epoch)).toEqual([2n]);
    write(t.dir, 1n, doc1);
    graphs = await t.reg.graphs();
    expect(graphs.map((g) => g.graph.spec.epoch)).toEqual([1n, 2n]);
    expect(graphs[0]?.document).toEqual(doc1);
    // Re-reading the same files neither refuses a graph for reusing its own Winternitz keys nor re-imports.
    expect((await t.reg.graphs()).map((g) => g.graph.spec.epoch)).toEqual([1n, 2n]);
    expect(t.lines.filter((l) => l.msg === 'operator graph imported and verified')).toHaveLength(2);
    expect(await t.refusedCount()).toBe(0);
  });

  it('a directory that does not exist yet holds no graphs', async () => {
    const reg = createGraphRegistry({
      dir: join(freshDir(), 'not-yet'),
      network: 'regtest',
      operator: OPERATOR,
      committee: COMMITTEE,
      ...(importPool ? { importPool, importPoolFrom: 1 } : {}),
    });
    expect(await reg.graphs()).toEqual([]);
  });

  it('refuses a forged document with its defect, once, and reads it again only when the file changes', async () => {
    const t = setup(OPERATOR, importPool);
    const forged = forgedDoc1();
    write(t.dir, 1n, forged);
    expect(await t.reg.graphs()).toEqual([]);
    expect(t.reg.refused().get('epoch-1.json')?.defect).toBe('BAD_SIGNATURE');
    for (let i = 0; i < 3; i++) expect(await t.reg.graphs()).toEqual([]);
    expect(t.refusals()).toHaveLength(1);
    expect(t.refusals()[0]).toMatchObject({ defect: 'BAD_SIGNATURE', file: 'epoch-1.json' });
    expect(await t.refusedCount()).toBe(1);

    // Another forgery: a mutated timelock is a new file version, refused (and counted) once more.
    const mutated: GraphDocument = JSON.parse(JSON.stringify(doc1));
    mutated.parameters.timelocks.challengeWindow -= 1;
    write(t.dir, 1n, mutated);
    expect(await t.reg.graphs()).toEqual([]);
    expect(t.reg.refused().get('epoch-1.json')?.defect).toBe('TIMELOCK_MISMATCH');
    expect(await t.refusedCount()).toBe(2);

    // The operator publishes the real graph: imported, and no longer refused.
    write(t.dir, 1n, doc1);
    expect((await t.reg.graphs()).map((g) => g.graph.spec.epoch)).toEqual([1n]);
    expect(t.reg.refused().size).toBe(0);
    expect(t.refusals()).toHaveLength(2);
  });

  it('refuses a document under another operator key, and a document for another epoch than its file', async () => {
    const t = setup(xOnly(secretOf('someone else')), importPool);
    write(t.dir, 1n, doc1);
    expect(await t.reg.graphs()).toEqual([]);
    expect(t.reg.refused().get('epoch-1.json')).toMatchObject({ defect: 'KEY_MISMATCH', where: 'operator' });

    const u = setup(OPERATOR, importPool);
    write(u.dir, 3n, doc1);
    expect(await u.reg.graphs()).toEqual([]);
    expect(u.reg.refused().get('epoch-3.json')).toMatchObject({
      defect: 'PARAMETER_MISMATCH',
      where: 'epoch',
    });
  });

  it('refuses a later graph that reuses Winternitz keys of a graph already imported', async () => {
    const t = setup(OPERATOR, importPool);
    const reusing = reusingKeysOfEpoch1();
    write(t.dir, 1n, doc1);
    write(t.dir, 2n, reusing);
    expect((await t.reg.graphs()).map((g) => g.graph.spec.epoch)).toEqual([1n]);
    expect(t.reg.refused().get('epoch-2.json')?.defect).toBe('WOTS_KEY_REUSE');
  });

  it('judges a backlog in file order: a graph refused for its signatures leaves its Winternitz keys free for the next', async () => {
    const t = setup(OPERATOR, importPool);
    const forged = forgedDoc1();
    const reusing = reusingKeysOfEpoch1();
    // Epochs 1 (forged) and 2 (its keys) come together, with more behind them, as in a backlog.
    write(t.dir, 1n, forged);
    write(t.dir, 2n, reusing);
    const later = [3n, 4n, 5n, 6n, 7n].map((epoch) => makeGraph({ epoch }));
    for (const g of later) write(t.dir, g.graph.spec.epoch, graphToDocument(g.graph, g.sigs));
    expect((await t.reg.graphs()).map((g) => g.graph.spec.epoch)).toEqual([2n, 3n, 4n, 5n, 6n, 7n]);
    expect(t.reg.refused().get('epoch-1.json')?.defect).toBe('BAD_SIGNATURE');
    // The real epoch 1 comes later: its keys are epoch 2's now, so it is the one refused.
    write(t.dir, 1n, doc1);
    expect((await t.reg.graphs()).map((g) => g.graph.spec.epoch)).toEqual([2n, 3n, 4n, 5n, 6n, 7n]);
    expect(t.reg.refused().get('epoch-1.json')?.defect).toBe('WOTS_KEY_REUSE');
  });

  it('lets go of a settled graph: not returned or imported again, its epoch kept, its Winternitz keys still refused to a later graph', async () => {
    const t = setup(OPERATOR, importPool);
    write(t.dir, 1n, doc1);
    const [first] = await t.reg.graphs();
    if (first === undefined) throw new Error('epoch 1 was not imported');
    expect(await t.gauge('vigil_graph_settled_wots_bytes')).toBe(0);
    t.reg.settle?.(first);
    expect(await t.reg.graphs()).toEqual([]);
    expect([...(t.reg.settledEpochs?.() ?? [])]).toEqual([1n]);
    // What the kept hashes cost is a gauge (the soak tells it apart from the rest of the RSS).
    const hashes = first.document.wots;
    const count = [...hashes.epoch, ...hashes.stateRoot, ...hashes.l2BlockHash, ...hashes.trace.flat()]
      .length;
    const held = (await t.gauge('vigil_graph_settled_wots_bytes')) ?? 0;
    expect(held).toBeGreaterThanOrEqual(count * 20);
    // The same document, read again (touched, or put back), is known: not imported a second time.
    write(t.dir, 1n, doc1);
    expect(await t.reg.graphs()).toEqual([]);
    expect(t.lines.filter((l) => l.msg === 'operator graph imported and verified')).toHaveLength(1);
    // A later graph reusing its keys is refused as if it were still held.
    const reusing = reusingKeysOfEpoch1();
    write(t.dir, 2n, reusing);
    expect(await t.reg.graphs()).toEqual([]);
    expect(t.reg.refused().get('epoch-2.json')?.defect).toBe('WOTS_KEY_REUSE');
  });

  it('refuses a file that is not JSON as MALFORMED', async () => {
    const t = setup(OPERATOR, importPool);
    write(t.dir, 1n, '{ not json');
    expect(await t.reg.graphs()).toEqual([]);
    expect(t.reg.refused().get('epoch-1.json')?.defect).toBe('MALFORMED');
  });

  it('checks the claim output on chain when the backend knows the claim transaction', async () => {
    const s = await startScenario();
    try {
      const fx = s.fixture.graph.spec;
      const dir = freshDir();
      const reg = createGraphRegistry({
        dir,
        network: 'regtest',
        operator: OPERATOR,
        committee: COMMITTEE,
        backend: s.backend,
        ...(importPool ? { importPool, importPoolFrom: 1 } : {}),
      });
      // The operator's real graph: its claim output on chain commits to its Winternitz keys.
      write(dir, fx.epoch, s.graphDocument);
      expect((await reg.graphs()).map((g) => g.graph.spec.epoch)).toEqual([fx.epoch]);
      const real = (await reg.graphs())[0];
      // A graph on the same claim outpoint with other Winternitz keys: consistent on paper, refused
      // against the chain. Written over the real one, it does not take the verified graph away.
      const other = makeGraph({
        epoch: fx.epoch,
        claimTxid: fx.claim.txid,
        claimVout: fx.claim.vout,
        wotsSeed: new TextEncoder().encode('another wots seed, another claim script'),
      });
      write(dir, fx.epoch, graphToDocument(other.graph, other.sigs));
      expect(await reg.graphs()).toEqual([real]);
      expect(reg.refused().get(graphFileName(fx.epoch))).toMatchObject({
        defect: 'SCRIPT_MISMATCH',
        where: 'claim (on chain)',
      });
    } finally {
      await s.stop();
    }
  }, 60_000);
});

describe('the operator graph registry on worker threads', () => {
  it('imports a lone new graph in place and a batch of IMPORT_POOL_FROM on the workers', async () => {
    const jobs: bigint[] = [];
    const counting: GraphImportRunner = {
      size: pool.size,
      run: (job) => {
        jobs.push(job.epoch ?? -1n);
        return pool.run(job);
      },
    };
    const dir = freshDir();
    const reg = createGraphRegistry({
      dir,
      network: 'regtest',
      operator: OPERATOR,
      committee: COMMITTEE,
      importPool: counting,
    });
    write(dir, 1n, doc1);
    expect((await reg.graphs()).map((g) => g.graph.spec.epoch)).toEqual([1n]);
    expect(jobs).toEqual([]);
    const batch = Array.from({ length: IMPORT_POOL_FROM }, (_, i) => makeGraph({ epoch: BigInt(i + 2) }));
    for (const g of batch) write(dir, g.graph.spec.epoch, graphToDocument(g.graph, g.sigs));
    const epochs = batch.map((g) => g.graph.spec.epoch);
    expect((await reg.graphs()).map((g) => g.graph.spec.epoch)).toEqual([1n, ...epochs]);
    expect(jobs).toEqual(epochs);
  });

  it('imports again on the next poll a graph whose worker died, and says so', async () => {
    let failures = 1;
    const dying: GraphImportRunner = {
      size: 1,
      run: (job) =>
        failures-- > 0 ? Promise.reject(new Error('the graph import worker exited')) : pool.run(job),
    };
    const t = setup(OPERATOR, dying);
    // setup() has the registry use the pool from one new file on.
    write(t.dir, 1n, doc1);
    write(t.dir, 2n, doc2);
    expect((await t.reg.graphs()).map((g) => g.graph.spec.epoch)).toEqual([2n]);
    expect(t.reg.refused().size).toBe(0);
    expect(
      t.lines.some((l) => l.msg === 'operator graph not imported yet' && l.file === 'epoch-1.json'),
    ).toBe(true);
    expect((await t.reg.graphs()).map((g) => g.graph.spec.epoch)).toEqual([1n, 2n]);
    expect(await t.refusedCount()).toBe(0);
  });
});
