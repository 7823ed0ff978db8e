import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { reexecute } from '../../src/governance/reexecute.ts';
import { diagnoseFraud } from '../../src/judge/diagnose.ts';
import type { Verdict } from '../../src/judge/verdict.ts';
import { HealthRegistry } from '../../src/observability/health.ts';
import { createWatcher, type EpochSource, type WatcherOptions } from '../../src/watcher/watcher.ts';
import {
  cleanup,
  REDIS_URL,
  type Scenario,
  scenarioExpectations,
  scenarioSource,
  scenarioWorkload,
  startScenario,
  until,
  WATCHER_KEY,
} from '../../testkit/queue/scenario.ts';

const open: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.stop();
});

async function startWatcher(
  s: Scenario,
  prefix: string,
  mode: 'challenge' | 'watch' = 'challenge',
  extra: { source?: EpochSource; onVerdict?: WatcherOptions['onVerdict'] } = {},
) {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const registry = new Registry();
  const health = new HealthRegistry();
  const watcher = createWatcher({
    redis,
    prefix,
    connection: { host: '127.0.0.1', port: 6379 },
    backend: s.backend,
    network: 'regtest',
    mode,
    allowMainnetSpending: false,
    walletKey: mode === 'watch' ? undefined : WATCHER_KEY,
    expectations: scenarioExpectations(s),
    source: extra.source ?? scenarioSource(s),
    ...(extra.onVerdict ? { onVerdict: extra.onVerdict } : {}),
    fees: { targetBlocks: 2, maxFeeRateSatVb: 50 },
    bitcoinConfirmations: 1,
    l2Confirmations: 1,
    pollIntervalMs: 100,
    deadlineMarginBlocks: 2,
    registry,
    health,
    logger: pino({ level: 'silent' }),
  });
  await watcher.start();
  const handle = {
    watcher,
    registry,
    health,
    redis,
    stop: async () => {
      await watcher.stop(new AbortController().signal);
      await redis.quit();
    },
  };
  open.push(handle);
  return handle;
}

async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

describe('the watch daemon on simnet', () => {
  it('two daemons on one Redis: the fraudulent kick-off is judged, one challenge confirms, metrics and health follow', async () => {
    const s = await startScenario();
    open.push({ stop: () => s.stop() });
    const prefix = `{vigil-test-${randomUUID()}}`;
    const a = await startWatcher(s, prefix);
    const b = await startWatcher(s, prefix);
    open.push({
      stop: async () => {
        const r = new Redis(REDIS_URL);
        await cleanup(r, prefix);
        await r.quit();
      },
    });
    const rec = await until(
      async () => {
        const r = await a.watcher.store.get(s.openData.disputeId);
        return r?.state === 'confirmed' ? r : undefined;
      },
      // A bound on waiting, not a speed claim: a loaded 2-core machine running the suite needs more than 20 s.
      45_000,
      () => s.mine(1),
    );
    const spender = s.sim.chain.spenderOf(s.kickoff.txid, 0);
    expect(spender?.txid).toBe(rec.challenge.txid);
    const built = (await a.watcher.store.events(rec.id)).filter((e) => e.type === 'challenge-built');
    expect(built).toHaveLength(1);
    // Exactly one of the two daemons followed the chain and judged the epoch.
    const judged =
      (await metricValue(a.registry, 'vigil_epochs_judged_total')) +
      (await metricValue(b.registry, 'vigil_epochs_judged_total'));
    expect(judged).toBe(1);
    const fraud =
      (await metricValue(a.registry, 'vigil_verdicts_total', { outcome: 'fraud' })) +
      (await metricValue(b.registry, 'vigil_verdicts_total', { outcome: 'fraud' }));
    expect(fraud).toBe(1);
    // One detection-to-broadcast latency observed across both daemons.
    const counts = await Promise.all(
      [a, b].map(async (h) => {
        const text = await h.registry.metrics();
        return Number(/^vigil_challenge_latency_seconds_count (\d+)$/m.exec(text)?.[1] ?? '0');
      }),
    );
    expect(counts.reduce((x, y) => x + y, 0)).toBe(1);
    const report = await a.health.health();
    expect(report).toMatchObject({ status: 'ok', unhealthy: [] });
    expect(Object.keys(report.components)).toEqual(
      expect.arrayContaining(['bitcoin-follow', 'dispute-deadlines', 'watcher-wallet']),
    );
    // Both processes completed polls; whichever holds the lease says when its last one did.
    const lastPolls = await Promise.all(
      [a, b].map((h) => metricValue(h.registry, 'vigil_watcher_last_poll_success_timestamp_seconds')),
    );
    expect(Math.max(...lastPolls)).toBeGreaterThan(Date.now() / 1000 - 10);
  }, 60_000);

  it('an honest operator: the epoch is judged valid, no dispute, no spend', async () => {
    const s = await startScenario({ honest: true });
    open.push({ stop: () => s.stop() });
    const prefix = `{vigil-test-${randomUUID()}}`;
    const a = await startWatcher(s, prefix);
    open.push({
      stop: async () => {
        const r = new Redis(REDIS_URL);
        await cleanup(r, prefix);
        await r.quit();
      },
    });
    await until(async () =>
      (await metricValue(a.registry, 'vigil_epochs_judged_total')) === 1 ? true : undefined,
    );
    expect(await metricValue(a.registry, 'vigil_verdicts_total', { outcome: 'valid' })).toBe(1);
    expect(await metricValue(a.registry, 'vigil_verdicts_total', { outcome: 'fraud' })).toBe(0);
    s.mine(3);
    await new Promise((r) => setTimeout(r, 300));
    expect(await a.watcher.store.list()).toEqual([]);
    expect(s.sim.chain.spenderOf(s.kickoff.txid, 0)).toBeUndefined();
  }, 30_000);

  it('syncs its source before judging, and opens the dispute with the expected trace and the diagnosis', async () => {
    const s = await startScenario();
    open.push({ stop: () => s.stop() });
    const prefix = `{vigil-test-${randomUUID()}}`;
    const w = scenarioWorkload();
    const base = scenarioSource(s);
    const calls: string[] = [];
    const source: EpochSource = {
      graphs: async () => {
        calls.push('graphs');
        return base.graphs();
      },
      facts: async (epoch) => {
        calls.push('facts');
        const f = await base.facts(epoch);
        if (!f.reexecution.complete) return f;
        return { ...f, reexecution: { ...f.reexecution, checkpoints: s.expectedTrace } };
      },
      sync: async () => {
        calls.push('sync');
      },
      diagnose: async (_epoch, claimedRoot) => {
        const end = reexecute(w.inputs, { genesis: w.genesis }).epochs[0];
        return diagnoseFraud({
          genesis: w.genesis,
          priorInputs: [],
          epochInputs: w.inputs.slice(0, (end?.stepIndex ?? 0) + 1),
          claimedRoot,
        });
      },
    };
    const reported: { verdict: Verdict; diagnosis: unknown }[] = [];
    const a = await startWatcher(s, prefix, 'watch', {
      source,
      onVerdict: (verdict, extra) => reported.push({ verdict, diagnosis: extra.diagnosis }),
    });
    open.push({
      stop: async () => {
        const r = new Redis(REDIS_URL);
        await cleanup(r, prefix);
        await r.quit();
      },
    });
    // The dispute is opened first; the diagnosis joins its record right after (it never delays a challenge),
    // and the verdict is told once the record has it: wait for both.
    const rec = await until(async () => {
      const r = await a.watcher.store.get(s.openData.disputeId);
      return r?.opened.diagnosis !== undefined && reported.length > 0 ? r : undefined;
    }, 20_000);
    // Graphs are imported beside the sync (ingestion waits on the node, import computes), then once more
    // after it for what it made final; the claim is judged only after the sync.
    expect(calls.slice(0, 4)).toEqual(['graphs', 'sync', 'graphs', 'facts']);
    expect(rec.opened.expectedTrace ?? []).toEqual(s.expectedTrace.map(bytesToHex));
    const diagnosis = JSON.parse(rec.opened.diagnosis ?? '{}');
    // The scenario's kick-off reveals a root no single broken rule produces.
    expect(diagnosis).toMatchObject({ reason: expect.stringMatching(/no executor of the fault catalogue/) });
    expect(reported).toHaveLength(1);
    expect(reported[0]?.verdict).toMatchObject({ outcome: 'fraud', challengeable: true });
    expect(reported[0]?.diagnosis).toEqual(diagnosis);
    expect(a.watcher.lastPolledTip()).toBe(await s.backend.getTipHeight());
    // Mode watch sends no challenge: its wallet is nobody's health concern.
    expect(Object.keys((await a.health.health()).components)).not.toContain('watcher-wallet');
  }, 60_000);
});
