import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { Daemon } from '../../src/daemon/runtime.ts';
import { createDaemonBase } from '../../src/daemon/vigil-daemon.ts';

describe('the daemon base (Redis + operator HTTP)', () => {
  it('reports Redis in /healthz, build info in /metrics, and closes both on shutdown', async () => {
    const { config } = loadConfig({ env: {}, flags: { 'http.port': '0', 'log.level': 'silent' } });
    const base = createDaemonBase(config);
    const daemon = new Daemon({
      components: [base.redis, base.http],
      graceMs: 2000,
      logger: base.logger,
      health: base.health,
    });
    await daemon.start();
    const url = base.http.server()?.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ components: { redis: { healthy: true } } });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^vigil_build_info\{version="0\.1\.0",/m);
    const client = base.redis.client();
    expect(await daemon.shutdown('test')).toBe('clean');
    expect(client.status).toBe('end');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
