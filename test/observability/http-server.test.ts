import { get as httpGet } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthRegistry } from '../../src/observability/health.ts';
import {
  hostOfHeader,
  hostPolicy,
  type OperatorServer,
  startOperatorServer,
} from '../../src/observability/http-server.ts';
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

/** A raw TCP client: sends `text`, collects what comes back, resolves when the server closes. */
function rawClient(port: number, text = '') {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (d: Buffer) => {
    received += d.toString();
  });
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => {
    const opened = performance.now();
    socket.on('close', () => resolve(performance.now() - opened));
  });
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  if (text !== '') socket.write(text);
  return { socket, closed, connected, received: () => received };
}

async function limited(options: Partial<Parameters<typeof startOperatorServer>[0]> = {}) {
  const server = await startOperatorServer({
    host: '127.0.0.1',
    port: 0,
    health: new HealthRegistry(),
    metrics: createMetricsRegistry({ version: 'x' }),
    ...options,
  });
  servers.push(server);
  return server;
}

const get = (port: number, host: string) =>
  new Promise<number>((resolve, reject) => {
    // fetch sets Host from the URL; node:http lets the test send any Host.
    httpGet({ host: '127.0.0.1', port, path: '/healthz', headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });

describe('the operator server bounds untrusted clients', () => {
  it('a foreign Host (DNS rebinding) gets 421; loopback names and allowed names are served', async () => {
    const server = await limited({ allowedHosts: ['vigil.internal'] });
    expect(await get(server.port, 'evil.example')).toBe(421);
    expect(await get(server.port, `evil.example:${server.port}`)).toBe(421);
    expect(await get(server.port, '10.0.0.7')).toBe(421);
    for (const ok of [
      '127.0.0.1',
      `127.0.0.1:${server.port}`,
      'localhost',
      `[::1]:${server.port}`,
      'VIGIL.internal:9464',
    ]) {
      expect(await get(server.port, ok)).toBe(200);
    }
    const refused = await new Promise<string>((resolve) => {
      httpGet(
        { host: '127.0.0.1', port: server.port, path: '/metrics', headers: { host: 'evil.example' } },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => {
            body += d.toString();
          });
          res.on('end', () => resolve(body));
        },
      );
    });
    expect(JSON.parse(refused)).toEqual({
      error: 'host not allowed: add it to http.allowedHosts if it is this server',
    });
    expect(refused).not.toContain('evil.example');
  });

  it('hostPolicy: a wildcard bind accepts IP literals but not names; a named bind its own name', () => {
    const wildcard = hostPolicy('0.0.0.0');
    expect(wildcard('172.18.0.3:9464')).toBe(true);
    expect(wildcard('[fe80::1]:9464')).toBe(true);
    expect(wildcard('localhost')).toBe(true);
    expect(wildcard('attacker.example')).toBe(false);
    expect(wildcard(undefined)).toBe(true);
    const named = hostPolicy('vigil.lan', ['metrics.lan']);
    expect(named('vigil.lan:9464')).toBe(true);
    expect(named('metrics.lan.')).toBe(true);
    expect(named('127.0.0.1')).toBe(false);
    expect(hostOfHeader('[::1]:80')).toBe('::1');
  });

  it('a client that never finishes its headers (slowloris) is cut; others are served meanwhile', async () => {
    const server = await limited({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const memoryBefore = process.memoryUsage().rss;
    const slow = rawClient(server.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a');
    // Keep trickling bytes, as slowloris does, so only the headers timeout can end it.
    const trickle = setInterval(() => slow.socket.write('a'), 50);
    try {
      expect(await get(server.port, '127.0.0.1')).toBe(200);
      const lasted = await slow.closed;
      expect(lasted).toBeGreaterThanOrEqual(250);
      expect(lasted).toBeLessThan(3000);
      expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(trickle);
    }
    expect(await get(server.port, '127.0.0.1')).toBe(200);
    expect(process.memoryUsage().rss - memoryBefore).toBeLessThan(50 * 1024 * 1024);
  });

  it('connections past maxConnections are closed at once; served again once some close', async () => {
    const server = await limited({ maxConnections: 3 });
    const held = [rawClient(server.port), rawClient(server.port), rawClient(server.port)];
    await Promise.all(held.map((c) => c.connected));
    // Give the server the time to count them before the extra one arrives.
    await new Promise((r) => setTimeout(r, 50));
    const extra = rawClient(server.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(await extra.closed).toBeLessThan(1000);
    expect(extra.received()).toBe('');
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    await new Promise((r) => setTimeout(r, 50));
    expect(await get(server.port, '127.0.0.1')).toBe(200);
  });
});
