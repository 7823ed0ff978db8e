/**
 * An RPC that misbehaves for a while — HTTP 500s, timeouts, malformed JSON, JSON-RPC errors, dropped
 * connections, rate limits, headers missing fields, a getLogs range cap — is survived: ingestion catches up to the same state as on a healthy
 * RPC, and the trouble shows in the logs and in vigil_l2_rpc_errors_total.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorkload } from '../../src/governance/workload.ts';
import { createGovernanceIngester } from '../../src/l2/governance-ingester.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { inputBody } from './differential-run.ts';
import { type FaultMode, type FaultyProxy, startFaultyProxy } from './faulty-proxy.ts';
import { type Chain, memoryLogger, metricValue, startChain, testMetrics, testRedis } from './helpers.ts';

describe('ingestion through a faulty RPC', () => {
  let chain: Chain;
  let r: ReturnType<typeof testRedis>;
  let head: bigint;
  let expected: string[];
  const proxies: FaultyProxy[] = [];

  beforeAll(async () => {
    const w = generateWorkload({ seed: 11, inputs: 150, epochLength: 20 });
    chain = await startChain(w.genesis);
    head = (await chain.driver.replay(w.inputs)).lastBlock;
    r = testRedis();
    const healthy = createGovernanceIngester({
      rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl] }),
      redis: r.redis,
      prefix: `${r.prefix}:healthy`,
      deployment: chain.deployment,
    });
    await healthy.ingester.syncTo(head);
    expected = healthy.derivation.inputs.map(inputBody);
    expect(expected.length).toBe(w.inputs.length);
  });
  afterAll(async () => {
    for (const p of proxies) await p.close();
    await r?.cleanup();
    await chain?.stop();
  });

  async function ingestThrough(urls: string[], tag: string) {
    const m = testMetrics();
    const log = memoryLogger();
    const gi = createGovernanceIngester({
      rpc: new L2Rpc({
        urls,
        timeoutMs: 300,
        retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 60 },
        metrics: m.metrics,
        logger: log.logger,
      }),
      redis: r.redis,
      prefix: `${r.prefix}:${tag}`,
      deployment: chain.deployment,
      maxRange: 40n,
      metrics: m.metrics,
      logger: log.logger,
      pollIntervalMs: 20,
    });
    const running = gi.ingester.run();
    const deadline = Date.now() + 45_000;
    while (((gi.ingester.cursor?.number ?? -1n) < head || !gi.ingester.synced) && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 50));
    gi.ingester.stop();
    await running;
    return { gi, ...m, log };
  }

  // 'bad-header': a header without its gasLimit is a failed call, retried, never a header-check fault;
  // 'rate-limit': retried with backoff, never taken for a range cap (which is not retried).
  const TROUBLE: FaultMode[] = [
    'http-500',
    'timeout',
    'malformed',
    'rpc-error',
    'reset',
    'rate-limit',
    'bad-header',
  ];

  it.each(TROUBLE)('%s for a while, then healthy: catches up, counts and logs the errors', async (fault) => {
    const proxy = await startFaultyProxy(chain.anvil.rpcUrl);
    proxies.push(proxy);
    // Every second request fails for the first 1.5 s, then all is well.
    let n = 0;
    const until = Date.now() + 1_500;
    proxy.setMode(() => (Date.now() < until && n++ % 2 === 0 ? fault : 'ok'));
    const { gi, registry, log } = await ingestThrough([proxy.url], `trouble-${fault}`);
    expect(gi.ingester.cursor?.number).toBe(head);
    expect(gi.derivation.inputs.map(inputBody)).toEqual(expected);
    expect(gi.faults).toEqual([]);
    // No epoch-end cross-check was lost to the outage.
    expect(gi.checks.map((c) => c.block)).toEqual(gi.derivation.epochEnds.map((e) => e.block));
    expect(gi.checks.every((c) => c.ok)).toBe(true);
    expect(proxy.counts[fault] ?? 0).toBeGreaterThan(0);
    expect(await metricValue(registry, 'vigil_l2_rpc_errors_total')).toBeGreaterThan(0);
    expect(log.records.some((x) => x.msg === 'L2 RPC call failed')).toBe(true);
    const kinds = ((await registry.getSingleMetric('vigil_l2_rpc_errors_total')?.get())?.values ?? []).map(
      (v) => v.labels.kind,
    );
    expect(kinds).not.toContain('range');
    if (fault === 'rate-limit') expect(kinds).toContain('rate-limit');
    if (fault === 'bad-header') expect(kinds).toContain('header');
  });

  it('a dead primary: the fallback URL carries ingestion', async () => {
    const dead = await startFaultyProxy(chain.anvil.rpcUrl);
    proxies.push(dead);
    dead.setMode('http-500');
    const { gi, registry } = await ingestThrough([dead.url, chain.anvil.rpcUrl], 'fallback');
    expect(gi.ingester.cursor?.number).toBe(head);
    expect(gi.derivation.inputs.map(inputBody)).toEqual(expected);
    expect(await metricValue(registry, 'vigil_l2_rpc_errors_total')).toBeGreaterThan(0);
  });

  it('a getLogs range cap: the range shrinks to fit and nothing is lost', async () => {
    const capped = await startFaultyProxy(chain.anvil.rpcUrl);
    proxies.push(capped);
    capped.setLogRangeCap(7);
    const { gi, registry } = await ingestThrough([capped.url], 'range-cap');
    expect(gi.ingester.cursor?.number).toBe(head);
    expect(gi.derivation.inputs.map(inputBody)).toEqual(expected);
    expect(capped.counts.range ?? 0).toBeGreaterThan(0);
    const rangeErrors = (await registry.getSingleMetric('vigil_l2_rpc_errors_total')?.get())?.values.find(
      (v) => v.labels.kind === 'range',
    );
    expect(rangeErrors?.value ?? 0).toBeGreaterThan(0);
  });
});
