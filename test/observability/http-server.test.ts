import { afterEach, describe, expect, it } from 'vitest';
import { HealthRegistry } from '../../src/observability/health.ts';
import { type OperatorServer, startOperatorServer } from '../../src/observability/http-server.ts';
import { createMetricsRegistry } from '../../src/observability/metrics.ts';

const servers: OperatorServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(health = new HealthRegistry()) {
  const server = await startOperatorServer({
    host: '127.0.0.1',
    port: 0,
    health,
    metrics: createMetricsRegistry({ version: '9.8.7', commit: 'abc1234' }),
  });
  servers.push(server);
  return { server, health };
}

describe('/healthz and /readyz', () => {
  it('200 with every component when all are healthy (also when none registered)', async () => {
    const { server, health } = await serve();
    let res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', unhealthy: [], components: {} });

    health.register('redis', () => ({ healthy: true }));
    health.register('l2', async () => ({ healthy: true, reason: 'at head' }));
    res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      status: 'ok',
      unhealthy: [],
      components: { redis: { healthy: true }, l2: { healthy: true, reason: 'at head' } },
    });
  });

  it('503 naming each unhealthy component: reported, throwing, or too slow', async () => {
    const health = new HealthRegistry({ checkTimeoutMs: 100 });
    const { server } = await serve(health);
    health.register('redis', () => ({ healthy: true }));
    health.register('l2', () => ({ healthy: false, reason: 'node 40 blocks behind' }));
    health.register('bitcoin', () => {
      throw new Error('ECONNREFUSED');
    });
    health.register('judge', () => new Promise(() => {}));
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as {
      status: string;
      unhealthy: string[];
      components: Record<string, unknown>;
    };
    expect(body.status).toBe('unhealthy');
    expect(body.unhealthy).toEqual(['bitcoin', 'judge', 'l2']);
    expect(body.components).toEqual({
      redis: { healthy: true },
      l2: { healthy: false, reason: 'node 40 blocks behind' },
      bitcoin: { healthy: false, reason: 'check failed: ECONNREFUSED' },
      judge: { healthy: false, reason: 'check did not answer within 100 ms' },
    });
  });

  it('a component that recovers makes /healthz 200 again; a removed check no longer counts', async () => {
    const { server, health } = await serve();
    let ok = false;
    health.register('l2', () => (ok ? { healthy: true } : { healthy: false, reason: 'syncing' }));
    const unregister = health.register('gone', () => ({ healthy: false, reason: 'stale' }));
    expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
    ok = true;
    unregister();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('/readyz is separate from /healthz', async () => {
    const { server, health } = await serve();
    health.register('redis', () => ({ healthy: true }));
    health.registerReadiness('daemon', () => ({ healthy: false, reason: 'starting' }));
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ unhealthy: ['daemon'] });
  });
});

describe('/metrics', () => {
  it('serves Prometheus text format with default metrics and vigil_build_info', async () => {
    const { server } = await serve();
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE vigil_build_info gauge');
    expect(text).toContain(`vigil_build_info{version="9.8.7",commit="abc1234",node="${process.version}"} 1`);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    // Every line is a comment (# HELP / # TYPE) or a sample: name, optional labels, a number. prom-client
    // writes NaN as "Nan"; Prometheus parses floats case-insensitively (Go's ParseFloat), so it is valid.
    const sample =
      /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.e+-]+|[Nn][Aa][Nn]|[+-]Inf)( \d+)?$/;
    const comment = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/;
    const bad = text
      .trimEnd()
      .split('\n')
      .filter((line) => line !== '' && !sample.test(line) && !comment.test(line));
    expect(bad).toEqual([]);
  });
});

describe('the operator server', () => {
  it('answers 404 on unknown paths and 405 on other methods', async () => {
    const { server } = await serve();
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    expect((await fetch(`${server.url}/healthz`, { method: 'POST' })).status).toBe(405);
    const head = await fetch(`${server.url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('binds where told and reports the port it got', async () => {
    const { server } = await serve();
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
  });

  it('a port in use is a clear error', async () => {
    const { server } = await serve();
    await expect(
      startOperatorServer({
        host: '127.0.0.1',
        port: server.port,
        health: new HealthRegistry(),
        metrics: createMetricsRegistry({ version: 'x' }),
      }),
    ).rejects.toThrow(`operator HTTP cannot listen on 127.0.0.1:${server.port}: EADDRINUSE`);
  });

  it('close() returns while a keep-alive client is still connected', async () => {
    const { server } = await serve();
    await fetch(`${server.url}/healthz`, { headers: { connection: 'keep-alive' } }).then((r) => r.text());
    await server.close();
    servers.length = 0;
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});
