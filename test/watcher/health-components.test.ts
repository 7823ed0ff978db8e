/**
 * /healthz of a running watcher names `l2`, `graphs` and `queue` (issue #19), asked over HTTP from its
 * operator server, with real parts: anvil with the governance contracts behind an RPC URL (a small
 * forwarding proxy lets a test swap the node behind that URL, as a load balancer or a DNS change would),
 * a second anvil on another chain id, the simnet's Esplora front, Redis and BullMQ. Then
 * `promtool check metrics` on the same watcher's live /metrics.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { encodeFunctionData, type Hex } from 'viem';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EsploraBackend } from '../../src/bitcoin/backends/esplora.ts';
import { type Simnet, startSimnet } from '../../src/bitcoin/simnet/start.ts';
import type { GovernanceInput } from '../../src/governance/index.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { type AnvilInstance, startAnvil } from '../../src/l2/anvil.ts';
import { stateCommitmentAbi } from '../../src/l2/contracts/artifacts/abis.ts';
import { createL2Metrics } from '../../src/l2/metrics.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { HealthRegistry, type HealthReport } from '../../src/observability/health.ts';
import { type OperatorServer, startOperatorServer } from '../../src/observability/http-server.ts';
import { buildInfo, createMetricsRegistry } from '../../src/observability/metrics.ts';
import { createL2EpochSource } from '../../src/watcher/epoch-source.ts';
import { createWatcher, type Watcher } from '../../src/watcher/watcher.ts';
import { secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';
import { cleanup, until } from '../../testkit/queue/scenario.ts';
import { type Chain, OPERATOR, startChain } from '../l2/helpers.ts';

const CHAIN_ID = 31337;
const OTHER_CHAIN_ID = 7777;
/** An API key in the path, as RPC providers take it: it must never reach /healthz. */
const API_KEY = 'k3y0123456789abcdefSECRET';

let chain: Chain;
let other: AnvilInstance;
let sim: Simnet;
let graphDir: string;

/**
 * The RPC URL Vigil is given: it forwards each JSON-RPC request to whichever node `target` names now,
 * and drops the connection when that node does not answer (as a load balancer with no backend does).
 */
type Proxy = { url: string; target: string; close(): Promise<void> };
async function startProxy(target: string): Promise<Proxy> {
  const proxy: Partial<Proxy> & { target: string } = { target };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      fetch(proxy.target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
      })
        .then(async (r) => {
          res.writeHead(r.status, { 'content-type': 'application/json' });
          res.end(Buffer.from(await r.arrayBuffer()));
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  proxy.url = `http://127.0.0.1:${port}/v2/${API_KEY}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy as Proxy;
}

type Stack = {
  watcher: Watcher;
  server: OperatorServer;
  healthz(): Promise<{ status: number; body: HealthReport }>;
  metrics(): Promise<string>;
};

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of open.splice(0).reverse()) await stop();
});

/** A watcher on the L2 behind `rpcUrl`, served on a real operator HTTP server, as `vigil watch` runs it. */
async function startStack(
  rpcUrl: string,
  o: { l2MaxHeadAgeMs?: number; graphGraceMs?: number } = {},
): Promise<Stack> {
  const prefix = `{vigil-test-${randomUUID()}}`;
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  const registry = createMetricsRegistry(buildInfo());
  const l2Metrics = createL2Metrics(registry);
  const health = new HealthRegistry();
  const logger = pino({ level: 'silent' });
  const source = createL2EpochSource({
    // Two attempts per call, quickly: each failed sync is a failure /healthz counts.
    rpc: new L2Rpc({
      urls: [rpcUrl],
      timeoutMs: 2_000,
      retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
      metrics: l2Metrics,
    }),
    redis,
    prefix: `${prefix}:l2`,
    deployment: chain.deployment,
    confirmations: 1,
    chainId: CHAIN_ID,
    traceSteps: 4,
    graphs: {
      dir: graphDir,
      network: 'regtest',
      operator: xOnly(secretOf('operator')),
      committee: [xOnly(secretOf('committee 1'))],
    },
    metrics: l2Metrics,
    registry,
    logger,
  });
  const watcher = createWatcher({
    redis,
    prefix,
    connection: { host: '127.0.0.1', port: 6379 },
    backend: new EsploraBackend({ baseUrl: sim.esploraUrl }),
    network: 'regtest',
    mode: 'watch',
    allowMainnetSpending: false,
    walletKey: undefined,
    expectations: undefined,
    source,
    fees: { targetBlocks: 2, maxFeeRateSatVb: 50 },
    bitcoinConfirmations: 1,
    l2Confirmations: 1,
    pollIntervalMs: 100,
    pollMaxAgeMs: 60_000,
    l2MaxHeadAgeMs: o.l2MaxHeadAgeMs ?? 60_000,
    graphGraceMs: o.graphGraceMs ?? 60_000,
    deadlineMarginBlocks: 2,
    registry,
    health,
    logger,
  });
  await watcher.start();
  const server = await startOperatorServer({ host: '127.0.0.1', port: 0, health, metrics: registry });
  open.push(async () => {
    await server.close();
    await watcher.stop(new AbortController().signal);
    await cleanup(redis, prefix);
    await redis.quit();
  });
  return {
    watcher,
    server,
    healthz: async () => {
      const r = await fetch(`${server.url}/healthz`);
      return { status: r.status, body: (await r.json()) as HealthReport };
    },
    metrics: async () => (await fetch(`${server.url}/metrics`)).text(),
  };
}

/** Waits for /healthz to answer as `want` says (no deadline asserted: `until`'s bound is a safety net). */
const healthzUntil = (s: Stack, want: (r: { status: number; body: HealthReport }) => boolean, ms = 30_000) =>
  until(async () => {
    const r = await s.healthz();
    return want(r) ? r : undefined;
  }, ms);

const reasonOf = (r: { body: HealthReport }, name: string): string =>
  r.body.components[name]?.reason ?? '(none)';

beforeAll(async () => {
  graphDir = mkdtempSync(join(tmpdir(), 'vigil-health-components-'));
  const w = generateWorkload({ seed: 11, inputs: 40, epochLength: 10 });
  chain = await startChain(w.genesis);
  // One epoch on the chain, ended: the graphs test has the operator commit it.
  const inputs: GovernanceInput[] = [];
  for (const i of w.inputs) {
    inputs.push(i);
    if (i.kind === 'endEpoch') break;
  }
  await chain.driver.replay(inputs);
  other = await startAnvil({ chainId: OTHER_CHAIN_ID });
  sim = await startSimnet();
}, 120_000);

afterAll(async () => {
  await chain?.stop();
  await other?.stop();
  await sim?.stop();
  if (graphDir) rmSync(graphDir, { recursive: true, force: true });
});

describe('/healthz names the component', () => {
  it('l2: another chain behind the URL, then the node gone, is 503 naming l2; 200 once the right node answers again', async () => {
    const proxy = await startProxy(chain.anvil.rpcUrl);
    open.push(() => proxy.close());
    const s = await startStack(proxy.url);
    const green = await healthzUntil(s, (r) => r.status === 200);
    expect(green.body.components.l2).toMatchObject({ healthy: true });
    expect(Object.keys(green.body.components).sort()).toEqual([
      'bitcoin-follow',
      'dispute-deadlines',
      'graphs',
      'l2',
      'queue',
    ]);

    // A node of another chain now answers behind the same URL.
    proxy.target = other.rpcUrl;
    const swapped = await healthzUntil(s, (r) => r.body.unhealthy.includes('l2'));
    expect(swapped.status).toBe(503);
    expect(reasonOf(swapped, 'l2')).toMatch(
      new RegExp(
        `^the L2 node answers chain id ${OTHER_CHAIN_ID}, not the configured l2.chainId ${CHAIN_ID} \\(since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\): nothing it says is used$`,
      ),
    );

    proxy.target = chain.anvil.rpcUrl;
    const back = await healthzUntil(s, (r) => r.status === 200);
    expect(back.body.components.l2).toMatchObject({ healthy: true });

    // The node stops: every read fails.
    await other.stop();
    proxy.target = other.rpcUrl;
    const down = await healthzUntil(s, (r) => reasonOf(r, 'l2').startsWith('L2 reads keep failing'));
    expect(down.status).toBe(503);
    expect(down.body.unhealthy).toContain('l2');
    expect(reasonOf(down, 'l2')).toMatch(
      /^L2 reads keep failing: \d+ syncs in a row since \S+Z \(last failure: L2 RPC eth_chainId failed 2 times: HTTP request failed\.\)$/,
    );
    const text = JSON.stringify(down.body);
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain('127.0.0.1');

    proxy.target = chain.anvil.rpcUrl;
    const recovered = await healthzUntil(s, (r) => r.status === 200);
    expect(recovered.body.unhealthy).toEqual([]);
    // The scrape now holds the labelled series of failures (RPC errors by kind, poll failures by step).
    const scrape = await s.metrics();
    expect(scrape).toMatch(/^vigil_l2_rpc_errors_total\{/m);
    expect(scrape).toMatch(/^vigil_watcher_poll_failures_total\{step="sync"\}/m);
    expect(promtoolCheckMetrics(scrape)).toEqual({ status: 0, output: '' });
  }, 120_000);

  it('l2: a head that stops advancing is 503 naming l2, the block and since when; 200 once a block comes', async () => {
    const s = await startStack(chain.anvil.rpcUrl, { l2MaxHeadAgeMs: 1_500 });
    await chain.rpc.mine(1);
    const head = await chain.rpc.blockNumber();
    await healthzUntil(s, (r) => reasonOf(r, 'l2') === `L2 head ${head}`);
    // Nothing is mined from here on: anvil makes blocks only for transactions.
    const stalled = await healthzUntil(s, (r) => reasonOf(r, 'l2').startsWith('the L2 head stalled'));
    expect(stalled.status).toBe(503);
    expect(stalled.body.unhealthy).toEqual(['l2']);
    expect(reasonOf(stalled, 'l2')).toMatch(
      new RegExp(
        `^the L2 head stalled: block ${head} since \\S+Z \\(\\d+ s ago, more than l2.maxHeadAgeMs 2 s\\): the L2 node or the L2 makes no new blocks$`,
      ),
    );
    await chain.rpc.mine(1);
    const moving = await healthzUntil(s, (r) => r.body.components.l2?.healthy === true);
    expect(reasonOf(moving, 'l2')).toBe(`L2 head ${head + 1n}`);
  }, 60_000);

  it('graphs: an epoch committed on the L2 with no operator graph past the grace is 503 naming the epoch', async () => {
    const s = await startStack(chain.anvil.rpcUrl, { graphGraceMs: 1 });
    const before = await healthzUntil(s, (r) => r.status === 200);
    expect(before.body.components.graphs).toEqual({
      healthy: true,
      reason: '0 graphs imported, 0 epochs committed',
    });
    // The operator commits epoch 0 and publishes no graph for it.
    await chain.rpc.request('eth_sendTransaction', [
      {
        from: OPERATOR,
        to: chain.deployment.addresses.stateCommitment,
        data: encodeFunctionData({
          abi: stateCommitmentAbi,
          functionName: 'commit',
          args: [0n, `0x${'cd'.repeat(32)}` as Hex, `0x${'00'.repeat(32)}` as Hex],
        }),
        gas: '0x1e8480',
      },
    ]);
    await chain.rpc.mine(1);
    const red = await healthzUntil(s, (r) => r.body.unhealthy.includes('graphs'));
    expect(red.status).toBe(503);
    expect(red.body.unhealthy).toEqual(['graphs']);
    expect(reasonOf(red, 'graphs')).toMatch(
      /^no operator graph imported for epoch 0, committed on the L2 more than dispute.graphGraceMs 0 s ago \(first seen \S+Z\): a kick-off on it would go unseen$/,
    );
  }, 60_000);

  it('queue: a job failed for good, then a closed worker, is 503 naming the queue and the problem', async () => {
    const s = await startStack(chain.anvil.rpcUrl, { graphGraceMs: 3_600_000 });
    await healthzUntil(s, (r) => r.status === 200);
    const q = s.watcher.queue();
    // A job the worker refuses for good (no such job): BullMQ fails it without retrying.
    await q.queue.add('no-such-job', { disputeId: 'dispute-x' }, { jobId: 'bogus-1' });
    const failed = await healthzUntil(s, (r) => r.body.unhealthy.includes('queue'));
    expect(failed.status).toBe(503);
    expect(reasonOf(failed, 'queue')).toMatch(
      /^queue disputes: job bogus-1 \(no-such-job of dispute dispute-x\) failed permanently at \S+Z: Unknown job no-such-job$/,
    );
    // Removed by a human: green again.
    await (await q.queue.getJob('bogus-1'))?.remove();
    await healthzUntil(s, (r) => r.status === 200);

    const scrape = await s.metrics();
    expect(scrape).toMatch(/^vigil_job_failures_total\{.*kind="permanent"\} 1$/m);
    expect(promtoolCheckMetrics(scrape)).toEqual({ status: 0, output: '' });

    await q.activeWorker?.close();
    const closed = await s.healthz();
    expect(closed.status).toBe(503);
    expect(closed.body.unhealthy).toEqual(['queue']);
    expect(reasonOf(closed, 'queue')).toBe(
      'queue disputes: its worker is closed: no dispute job runs in this process',
    );
  }, 60_000);
});

/** `promtool check metrics` over a scrape: what it complains about (names, help, types), or ''. */
function promtoolCheckMetrics(scrape: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: scrape, encoding: 'utf8', timeout: 60_000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(
      'promtool is not installed: install it with `sudo apt-get install -y prometheus` (Debian and Ubuntu; .ci/run does this) and put it on PATH.',
    );
  }
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('promtool check metrics', () => {
  it('passes on a live /metrics scrape of a running watcher', async () => {
    const s = await startStack(chain.anvil.rpcUrl, { graphGraceMs: 3_600_000 });
    await healthzUntil(s, (r) => r.status === 200);
    const scrape = await s.metrics();
    for (const name of [
      'vigil_build_info',
      'vigil_l2_processed_block',
      'vigil_l2_last_committed_epoch',
      'vigil_watcher_last_poll_success_timestamp_seconds',
      'vigil_queue_jobs',
      'nodejs_active_handles',
    ]) {
      expect(scrape).toContain(`# TYPE ${name} `);
    }
    expect(promtoolCheckMetrics(scrape)).toEqual({ status: 0, output: '' });
  }, 60_000);
});
