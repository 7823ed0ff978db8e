/**
 * No Docker engine runs in CI, so the Docker files are checked the ways that do not need one: the
 * HEALTHCHECK command is run against a real operator server, and the compose file is read for the
 * properties operators rely on.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configLeaves } from '../../src/config/fields.ts';
import { HealthRegistry } from '../../src/observability/health.ts';
import { type OperatorServer, startOperatorServer } from '../../src/observability/http-server.ts';
import { createMetricsRegistry } from '../../src/observability/metrics.ts';

const dockerfile = readFileSync('Dockerfile', 'utf8');

/** The exec-form HEALTHCHECK command of the Dockerfile, as an argv array. */
function healthcheckArgv(): string[] {
  const match = /^HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])$/m.exec(dockerfile);
  if (!match?.[1]) throw new Error('no exec-form HEALTHCHECK in Dockerfile');
  return JSON.parse(match[1]) as string[];
}

function run(argv: string[], env: Record<string, string>): Promise<number | null> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd === 'node' ? process.execPath : (cmd as string), args, { env, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
}

const servers: OperatorServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('Dockerfile', () => {
  it('runs as a non-root user with vigil watch as the default command', () => {
    expect(dockerfile).toMatch(/^FROM node:22-slim AS deps$/m);
    expect(dockerfile).toMatch(/^RUN npm ci /m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/app\/bin\/vigil\.js"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["watch"\]$/m);
  });

  it('HEALTHCHECK exits 0 on a healthy /healthz, 1 on 503 and 1 when nothing listens', async () => {
    const health = new HealthRegistry();
    let healthy = true;
    health.register('redis', () => (healthy ? { healthy: true } : { healthy: false, reason: 'down' }));
    const server = await startOperatorServer({
      host: '127.0.0.1',
      port: 0,
      health,
      metrics: createMetricsRegistry({ version: 'test' }),
    });
    servers.push(server);
    const argv = healthcheckArgv();
    expect(await run(argv, { VIGIL_HTTP_PORT: String(server.port) })).toBe(0);
    healthy = false;
    expect(await run(argv, { VIGIL_HTTP_PORT: String(server.port) })).toBe(1);
    await server.close();
    servers.length = 0;
    expect(await run(argv, { VIGIL_HTTP_PORT: String(server.port) })).toBe(1);
  });
});

describe('docker-compose.yml', () => {
  type Service = {
    command?: string[];
    environment?: Record<string, string>;
    volumes?: string[];
    secrets?: string[];
    ports?: string[];
    depends_on?: Record<string, { condition: string }>;
  };
  const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, Service> };
  const redis = compose.services.redis as Service;
  const vigil = compose.services.vigil as Service;

  it('runs Redis with append-only persistence on a volume', () => {
    expect(redis.command?.join(' ')).toContain('--appendonly yes');
    expect(redis.volumes?.some((v) => v.endsWith(':/data'))).toBe(true);
  });

  it('runs Vigil with a mounted config, a key file secret, VIGIL_* env, and the port on loopback only', () => {
    expect(vigil.environment?.VIGIL_CONFIG).toBe('/etc/vigil/vigil.yaml');
    expect(vigil.volumes?.some((v) => v.endsWith(':/etc/vigil/vigil.yaml:ro'))).toBe(true);
    expect(vigil.secrets).toContain('vigil-watcher-key');
    expect(vigil.environment?.VIGIL_KEYS_WATCHER_FILE).toBe('/run/secrets/vigil-watcher-key');
    expect(vigil.environment?.VIGIL_REDIS_URL).toBe('redis://redis:6379');
    expect(vigil.ports?.every((p) => p.startsWith('127.0.0.1:'))).toBe(true);
    expect(vigil.depends_on?.redis?.condition).toBe('service_healthy');
  });

  it('sets only VIGIL_* variables that Vigil knows', () => {
    const known = new Set([...configLeaves().map((l) => l.env), 'VIGIL_CONFIG']);
    const unknown = Object.keys(vigil.environment ?? {}).filter(
      (k) => k.startsWith('VIGIL_') && !known.has(k),
    );
    expect(unknown).toEqual([]);
  });
});
