import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { identityStepCircuit } from '../../circuits/identity.ts';
import { loadConfig } from '../../src/config/load.ts';
import { graphToDocument } from '../../src/dispute/graph/document.ts';
import { GraphImportError } from '../../src/dispute/graph/errors.ts';
import { type GraphExpectations, importGraph } from '../../src/dispute/graph/import.ts';
import { adoptGraphImportReply, graphImportJob } from '../../src/dispute/graph/import-job.ts';
import { importPoolFromConfig } from '../../src/watcher/from-config.ts';
import { defaultImportWorkers, GraphImportPool } from '../../src/watcher/graph-import-pool.ts';
import { fixtureExpectations, makeGraph } from '../../testkit/dispute/graph-fixture.ts';

const expectations: GraphExpectations = fixtureExpectations();
const docs = [1n, 2n, 3n, 4n].map((epoch) => {
  const g = makeGraph({ epoch });
  return { epoch, text: JSON.stringify(graphToDocument(g.graph, g.sigs)) };
});

const pools: GraphImportPool[] = [];
afterAll(async () => {
  for (const p of pools) await p.close();
});
function pool(size: number, idleMs?: number): GraphImportPool {
  const p = new GraphImportPool({ size, ...(idleMs !== undefined ? { idleMs } : {}) });
  pools.push(p);
  return p;
}

/** The pool's worker threads (private: a test kills one as a crash would). */
const workersOf = (p: GraphImportPool): Worker[] =>
  (p as unknown as { slots: { worker: Worker }[] }).slots.map((s) => s.worker);

describe('graph import on worker threads', () => {
  it('imports on its threads exactly what an import in place gives, several at once', async () => {
    const p = pool(2);
    expect(p.running).toBe(0);
    const replies = await Promise.all(
      docs.map((d) => p.run(graphImportJob(d.text, { ...expectations, epoch: d.epoch }))),
    );
    replies.forEach((reply, i) => {
      const d = docs[i] as (typeof docs)[number];
      const got = adoptGraphImportReply(reply, identityStepCircuit, undefined);
      expect(got).toEqual(importGraph(d.text, { ...expectations, epoch: d.epoch }));
      expect(got.graph.spec.circuit).toBe(identityStepCircuit);
    });
  });

  it('refuses on its threads what import refuses, with the same defect and place', async () => {
    const p = pool(1);
    const d = docs[0] as (typeof docs)[number];
    const reply = await p.run(graphImportJob(d.text, { ...expectations, epoch: 7n }));
    expect(reply.kind).toBe('refused');
    let err: unknown;
    try {
      adoptGraphImportReply(reply, identityStepCircuit, undefined);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GraphImportError);
    expect((err as GraphImportError).defect).toBe('PARAMETER_MISMATCH');
    expect((err as GraphImportError).where).toBe('epoch');
    expect((err as GraphImportError).message).toMatch(/1, expected 7/);
  });

  it('fails the jobs of a worker that dies, and imports the next job on a new one', async () => {
    const p = pool(1);
    const d = docs[1] as (typeof docs)[number];
    const job = graphImportJob(d.text, { ...expectations, epoch: d.epoch });
    // A new worker is still loading its sources (~0.5 s): the job is held when the thread dies.
    const held = p.run(job);
    await (workersOf(p)[0] as Worker).terminate();
    await expect(held).rejects.toThrow(/graph import worker exited/);
    expect(p.running).toBe(0);
    const again = await p.run(job);
    expect(again.kind).toBe('imported');
    expect(p.running).toBe(1);
  });

  it('starts workers for work and stops them when idle', async () => {
    const p = pool(2, 100);
    const d = docs[2] as (typeof docs)[number];
    const job = graphImportJob(d.text, { ...expectations, epoch: d.epoch });
    // Two jobs at once start two workers. Counted while both are busy: once the first is done it may
    // retire (100 ms idle) before a slow second one finishes on a loaded machine.
    const both = Promise.all([p.run(job), p.run(job)]);
    expect(p.running).toBe(2);
    for (const reply of await both) expect(reply.kind).toBe('imported');
    for (let i = 0; i < 100 && p.running > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(p.running).toBe(0);
    expect((await p.run(job)).kind).toBe('imported');
    expect(p.running).toBe(1);
  });

  it('is sized by dispute.importWorkers: one per core (1 to 4) when unset, none for 0', async () => {
    const sized = (env: Record<string, string>) => {
      const p = importPoolFromConfig(loadConfig({ env }).config);
      if (p) pools.push(p);
      return p?.size;
    };
    expect(sized({})).toBe(defaultImportWorkers());
    expect(defaultImportWorkers()).toBeGreaterThanOrEqual(1);
    expect(defaultImportWorkers()).toBeLessThanOrEqual(4);
    expect(sized({ VIGIL_DISPUTE_IMPORT_WORKERS: '3' })).toBe(3);
    expect(sized({ VIGIL_DISPUTE_IMPORT_WORKERS: '0' })).toBeUndefined();
  });

  it('refuses work once closed', async () => {
    const p = pool(1);
    await p.close();
    expect(p.running).toBe(0);
    await expect(p.run(graphImportJob('{}', expectations))).rejects.toThrow(/closed/);
    expect(() => new GraphImportPool({ size: 0 })).toThrow(/at least one worker/);
  });
});
