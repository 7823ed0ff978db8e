/**
 * The governed challenge window at graph import (#18, docs/protocol.md §20): a graph's
 * `timelocks.challengeWindow` must equal the `challengeWindow` governance has in force during its epoch,
 * which replaces the network's default in the rebuild; the registry defers a graph whose epoch's value
 * is not known yet, and never accepts it on the default meanwhile.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { identityStepCircuit } from '../../circuits/identity.ts';
import { type GraphDocument, graphToDocument } from '../../src/dispute/graph/document.ts';
import { GraphImportError } from '../../src/dispute/graph/errors.ts';
import { type GraphExpectations, importGraph } from '../../src/dispute/graph/import.ts';
import { defaultGraphParameters, type GraphParameters } from '../../src/dispute/graph/parameters.ts';
import { createGraphRegistry, type GovernedWindow, graphFileName } from '../../src/watcher/graph-registry.ts';
import { recordedChallengeWindow } from '../../src/watcher/watcher.ts';
import { makeGraph, secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';

// Every open of the registry goes through this spy (passed through), so a test can tell a file was not read.
const opened = vi.hoisted(() => [] as string[]);
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    open: (path: Parameters<typeof real.open>[0], ...rest: [number?, number?]) => {
      opened.push(String(path));
      return real.open(path, ...rest);
    },
  };
});

const regtest = defaultGraphParameters.regtest;
const withWindow = (challengeWindow: number): GraphParameters => ({
  ...regtest,
  timelocks: { ...regtest.timelocks, challengeWindow },
});

const OPERATOR = xOnly(secretOf('operator'));
const COMMITTEE = [xOnly(secretOf('committee 1'))];
const base: GraphExpectations = {
  network: 'regtest',
  params: regtest,
  circuit: identityStepCircuit,
  operator: OPERATOR,
  committee: COMMITTEE,
  epoch: 42n,
};

/** A genuine graph of epoch 42, built and signed by the covenant under `challengeWindow`. */
const docUnder = (challengeWindow: number, epoch = 42n): GraphDocument => {
  const g = makeGraph({ params: withWindow(challengeWindow), epoch });
  return graphToDocument(g.graph, g.sigs);
};
const six = docUnder(6);
const eight = docUnder(8);

function refusal(doc: unknown, exp: GraphExpectations): GraphImportError {
  try {
    importGraph(doc, exp);
  } catch (err) {
    if (err instanceof GraphImportError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('the governed challenge window at import', () => {
  it('a graph carrying the governed window is accepted', () => {
    const imported = importGraph(six, { ...base, governedChallengeWindow: 6 });
    expect(imported.graph.spec.params.timelocks.challengeWindow).toBe(6);
  });

  it('a graph whose window differs from the governed one is refused, naming both', () => {
    const err = refusal(six, { ...base, governedChallengeWindow: 8 });
    expect(err.defect).toBe('PARAMETER_MISMATCH');
    expect(err.where).toBe('parameters.timelocks.challengeWindow');
    expect(err.shortMessage).toContain('6 blocks, the governed challengeWindow in force at epoch 42 is 8');
  });

  it('the governed window replaces the network default: a graph built on it imports, and is rebuilt on it', () => {
    // Without governance the network's 6 blocks are the rule, and the graph's 8 is refused.
    expect(refusal(eight, base).defect).toBe('TIMELOCK_MISMATCH');
    const imported = importGraph(eight, { ...base, governedChallengeWindow: 8 });
    expect(imported.graph.spec.params.timelocks.challengeWindow).toBe(8);
    expect(imported.graph.spec.params.timelocks.assertWindow).toBe(regtest.timelocks.assertWindow);
    // A document that only claims the governed window but was signed under another one is still refused.
    const claimed: GraphDocument = JSON.parse(JSON.stringify(six));
    claimed.parameters.timelocks.challengeWindow = 8;
    expect(() => importGraph(claimed, { ...base, governedChallengeWindow: 8 })).toThrow(GraphImportError);
  });

  it('a governed window the network cannot build (not shorter than its assert window) is refused', () => {
    const doc: GraphDocument = JSON.parse(JSON.stringify(six));
    doc.parameters.timelocks.challengeWindow = 12;
    const err = refusal(doc, { ...base, governedChallengeWindow: 12 });
    expect(err.defect).toBe('PARAMETER_MISMATCH');
    expect(err.shortMessage).toContain("not shorter than the protocol's assertWindow 12");
  });
});

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the graph registry under a governed challenge window', () => {
  function setup(lookup?: (epoch: bigint) => GovernedWindow, registry?: Registry) {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-graphs-governed-'));
    dirs.push(dir);
    const lines: { msg: string; reason?: string; defect?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    const reg = createGraphRegistry({
      dir,
      network: 'regtest',
      operator: OPERATOR,
      committee: COMMITTEE,
      logger,
      ...(registry ? { registry } : {}),
      ...(lookup ? { governedWindow: lookup } : {}),
    });
    return { dir, reg, lines };
  }

  it('defers a graph while its epoch is not known, then judges it on the governed value', async () => {
    let window: GovernedWindow = {
      known: false,
      reason: 'epoch 42 has not started on the L2 ingested so far',
    };
    const asked: bigint[] = [];
    const t = setup((epoch) => {
      asked.push(epoch);
      return window;
    });
    writeFileSync(join(t.dir, graphFileName(42n)), JSON.stringify(eight));
    // Not known: neither imported nor refused (never accepted on the network's 6 blocks).
    expect(await t.reg.graphs()).toEqual([]);
    expect(await t.reg.graphs()).toEqual([]);
    expect(t.reg.refused().size).toBe(0);
    expect(t.reg.deferred?.().get(graphFileName(42n))).toContain('has not started');
    expect(asked).toEqual([42n, 42n]);
    // Logged once while the reason stays the same.
    expect(t.lines.filter((l) => l.msg.startsWith('operator graph deferred'))).toHaveLength(1);

    window = { known: true, value: 8 };
    const graphs = await t.reg.graphs();
    expect(graphs.map((g) => g.graph.spec.params.timelocks.challengeWindow)).toEqual([8]);
    expect(t.reg.deferred?.().size).toBe(0);
  });

  it('a deferred file is not read until its window is known, logged once per reason, and gauged', async () => {
    let window: GovernedWindow = {
      known: false,
      reason: 'epoch 42 has not started on the L2 ingested so far',
    };
    const registry = new Registry();
    const gauge = async () =>
      (await registry.getSingleMetric('vigil_graphs_deferred')?.get())?.values[0]?.value;
    const t = setup(() => window, registry);
    const file = join(t.dir, graphFileName(42n));
    writeFileSync(file, JSON.stringify(eight));
    opened.length = 0;
    for (let i = 0; i < 5; i++) expect(await t.reg.graphs()).toEqual([]);
    expect(opened.filter((p) => p === file)).toEqual([]);
    expect(await gauge()).toBe(1);
    // The file changing while deferred changes nothing either.
    writeFileSync(file, JSON.stringify(six));
    writeFileSync(file, JSON.stringify(eight));
    expect(await t.reg.graphs()).toEqual([]);
    expect(opened.filter((p) => p === file)).toEqual([]);
    const deferredLines = () => t.lines.filter((l) => l.msg.startsWith('operator graph deferred'));
    expect(deferredLines().map((l) => l.reason)).toEqual([
      'epoch 42 has not started on the L2 ingested so far',
    ]);
    // Another reason is logged once more.
    window = { known: false, reason: 'the end of epoch 41 that started epoch 42 is not 2 blocks deep yet' };
    for (let i = 0; i < 3; i++) await t.reg.graphs();
    expect(deferredLines()).toHaveLength(2);
    expect(opened.filter((p) => p === file)).toEqual([]);

    window = { known: true, value: 8 };
    expect((await t.reg.graphs()).map((g) => g.graph.spec.epoch)).toEqual([42n]);
    expect(opened.filter((p) => p === file)).toHaveLength(1);
    expect(await gauge()).toBe(0);
    // Judged: not read again while the file stays the same.
    await t.reg.graphs();
    expect(opened.filter((p) => p === file)).toHaveLength(1);
  });

  it('a deferred file removed leaves the deferred list and the gauge', async () => {
    const registry = new Registry();
    const t = setup(
      () => ({ known: false, reason: 'epoch 42 has not started on the L2 ingested so far' }),
      registry,
    );
    const file = join(t.dir, graphFileName(42n));
    writeFileSync(file, JSON.stringify(eight));
    await t.reg.graphs();
    expect(t.reg.deferred?.().size).toBe(1);
    rmSync(file);
    await t.reg.graphs();
    expect(t.reg.deferred?.().size).toBe(0);
    expect((await registry.getSingleMetric('vigil_graphs_deferred')?.get())?.values[0]?.value).toBe(0);
  });

  it('refuses a graph whose window is not the governed one, with the specific error', async () => {
    const t = setup(() => ({ known: true, value: 7 }));
    writeFileSync(join(t.dir, graphFileName(42n)), JSON.stringify(six));
    expect(await t.reg.graphs()).toEqual([]);
    const err = t.reg.refused().get(graphFileName(42n));
    expect(err?.defect).toBe('PARAMETER_MISMATCH');
    expect(err?.where).toBe('parameters.timelocks.challengeWindow');
    expect(err?.shortMessage).toContain('the governed challengeWindow in force at epoch 42 is 7');
  });

  it('governWith on a registry built without a lookup (the epoch source passes its own)', async () => {
    const t = setup();
    t.reg.governWith?.(() => ({ known: true, value: 8 }));
    writeFileSync(join(t.dir, graphFileName(42n)), JSON.stringify(eight));
    expect((await t.reg.graphs()).map((g) => g.graph.spec.epoch)).toEqual([42n]);
  });
});

describe('a dispute record re-imports its graph under the window it stored', () => {
  it('the window comes from the deadline the record stored (challengeBy), not from the document', () => {
    // challengeBy = kickoffHeight + challengeWindow - 1 (records/deadlines.ts).
    const rec = { kickoffHeight: 100, opened: { graph: JSON.stringify(six), challengeBy: 107 } };
    expect(recordedChallengeWindow(rec)).toBe(8);
    // The document says 6; the record says 8: the re-import refuses the document, it does not believe it.
    const err = refusal(six, { ...base, governedChallengeWindow: recordedChallengeWindow(rec) as number });
    expect(err.defect).toBe('PARAMETER_MISMATCH');
    expect(importGraph(eight, { ...base, governedChallengeWindow: 8 }).graph.spec.epoch).toBe(42n);
  });

  it('no stored deadline, or a nonsensical one: no governed window (the network parameters hold)', () => {
    expect(recordedChallengeWindow({ kickoffHeight: 100, opened: {} })).toBeUndefined();
    expect(recordedChallengeWindow({ kickoffHeight: 100, opened: { challengeBy: 99 } })).toBeUndefined();
    expect(recordedChallengeWindow({ kickoffHeight: 100, opened: { challengeBy: 100 } })).toBe(1);
  });
});
