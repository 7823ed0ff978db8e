/**
 * Watcher figures: detection latency on simnet (a fraudulent kick-off at depth → its challenge in the
 * mempool, through the lease-held poll, the judge, re-execution on the main thread, the BullMQ jobs,
 * the interpreter and testmempoolaccept), and epochs judged per second on a backlog, with re-execution
 * alone as the same-run baseline.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { graphToDocument } from '../src/dispute/graph/document.ts';
import { reexecute } from '../src/governance/index.ts';
import { generateWorkload } from '../src/governance/workload.ts';
import { judgeEpoch } from '../src/judge/verdict.ts';
import { HealthRegistry } from '../src/observability/health.ts';
import { defaultImportWorkers, GraphImportPool } from '../src/watcher/graph-import-pool.ts';
import { createGraphRegistry, graphFileName } from '../src/watcher/graph-registry.ts';
import { createWatcher } from '../src/watcher/watcher.ts';
import { fixtureExpectations, makeGraph } from '../testkit/dispute/graph-fixture.ts';
import {
  cleanup,
  REDIS_URL,
  scenarioExpectations,
  scenarioSource,
  startScenario,
  WATCHER_KEY,
} from '../testkit/queue/scenario.ts';
import { type Benchmark, timeBest, withRatio } from './harness.ts';

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? Number.NaN;
};

async function detectionLatencyMs(): Promise<number> {
  const s = await startScenario();
  const prefix = `{vigil-bench-${randomUUID()}}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const watcher = createWatcher({
    redis,
    prefix,
    connection: { host: '127.0.0.1', port: 6379 },
    backend: s.backend,
    network: 'regtest',
    mode: 'challenge',
    allowMainnetSpending: false,
    walletKey: WATCHER_KEY,
    expectations: scenarioExpectations(s),
    source: scenarioSource(s),
    fees: { targetBlocks: 2, maxFeeRateSatVb: 50 },
    bitcoinConfirmations: 1,
    l2Confirmations: 1,
    pollIntervalMs: 200,
    deadlineMarginBlocks: 2,
    registry: new Registry(),
    health: new HealthRegistry(),
    logger: pino({ level: 'silent' }),
  });
  // The kick-off is at depth already: the clock starts when the watcher starts looking.
  const t0 = performance.now();
  await watcher.start();
  let ms = Number.NaN;
  for (;;) {
    const rec = await watcher.store.get(s.openData.disputeId);
    const txid = rec?.challenge.txid;
    if (txid !== undefined && s.sim.chain.mempool.get(txid)) {
      ms = performance.now() - t0;
      break;
    }
    if (performance.now() - t0 > 30_000) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  await watcher.stop(new AbortController().signal);
  await cleanup(redis, prefix);
  await redis.quit();
  await s.stop();
  return ms;
}

/** Seconds for a fresh registry to import and verify every graph of `dir` (one `graphs()` call). */
async function registryImportSeconds(dir: string, pool: GraphImportPool | undefined, want: number) {
  const reg = createGraphRegistry({
    ...fixtureExpectations(),
    dir,
    ...(pool ? { importPool: pool } : {}),
  });
  const t0 = performance.now();
  const got = (await reg.graphs()).length;
  if (got !== want) throw new Error(`the registry imported ${got} of ${want} graphs`);
  return (performance.now() - t0) / 1000;
}

export const benchmarks: Benchmark[] = [
  {
    // A watcher started on a directory of published graphs (a backlog, or a restart) imports them all.
    name: 'watcher.graph-import',
    run: async () => {
      const n = 120;
      const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-graphs-'));
      try {
        for (let e = 1n; e <= BigInt(n); e++) {
          const g = makeGraph({ epoch: e });
          writeFileSync(join(dir, graphFileName(e)), JSON.stringify(graphToDocument(g.graph, g.sigs)));
        }
        const inPlace = await registryImportSeconds(dir, undefined, n);
        const figures = [];
        for (const size of [...new Set([defaultImportWorkers(), 2])]) {
          const pool = new GraphImportPool({ size });
          try {
            // The first job waits for the workers to load their sources: not part of the figure.
            await registryImportSeconds(dir, pool, n);
            const onPool = await registryImportSeconds(dir, pool, n);
            figures.push(
              withRatio({
                name: `watcher.graph-import.workers-${size}`,
                value: Math.round(n / onPool),
                unit: 'graphs/s',
                baseline: Math.round(n / inPlace),
              }),
            );
          } finally {
            await pool.close();
          }
        }
        return figures;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'watcher.detection',
    run: async () => {
      const runs: number[] = [];
      for (let i = 0; i < 10; i++) runs.push(await detectionLatencyMs());
      return [
        { name: 'watcher.detection.median', value: quantile(runs, 0.5), unit: 'ms', target: '≤ 1000 ms' },
        { name: 'watcher.detection.p99', value: quantile(runs, 0.99), unit: 'ms' },
      ];
    },
  },
  {
    name: 'watcher.backlog',
    run: async () => {
      const wl = generateWorkload({ seed: 99, inputs: 5000, epochLength: 25 });
      const epochs = reexecute(wl.inputs, { genesis: wl.genesis }).epochs.length;
      const reexecOnly = await timeBest(() => reexecute(wl.inputs, { genesis: wl.genesis }), 500, 2);
      const judged = await timeBest(
        () => {
          const r = reexecute(wl.inputs, { genesis: wl.genesis });
          for (const e of r.epochs) {
            judgeEpoch({
              epoch: e.epoch,
              reexecution: { complete: true, root: e.root },
              l2: {
                inputsFinal: true,
                behind: false,
                commitment: { status: 'committed', root: e.root, depth: 12 },
              },
              kickoff: {
                status: 'seen',
                txid: '00'.repeat(32),
                depth: 6,
                revealed: { epoch: e.epoch, stateRoot: e.root, l2BlockHash: e.root },
              },
              graphVerified: true,
              depth: { l2: 12, bitcoin: 6 },
            });
          }
        },
        500,
        2,
      );
      return [
        withRatio({
          name: 'watcher.backlog.epochs-judged',
          value: epochs / (judged / 1000),
          unit: 'epochs/s',
          baseline: epochs / (reexecOnly / 1000),
        }),
      ];
    },
  },
];
