import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startSimnet } from '../../src/bitcoin/simnet/start.ts';
import { ExitCode, exitCodeFor } from '../../src/cli/exit-codes.ts';
import {
  closeRedis,
  connectRedis,
  probeRedis,
  RedisUnavailableError,
  redisKey,
} from '../../src/store/redis.ts';
import { runCli } from '../cli/run-cli.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A server that accepts connections and never answers: the "hangs forever" failure. */
const silent: Server = createServer(() => {});
const silentPort = await new Promise<number>((resolve) =>
  silent.listen(0, '127.0.0.1', () => resolve((silent.address() as { port: number }).port)),
);
afterAll(() => {
  silent.close();
});

describe('connectRedis', () => {
  it.each(['command', 'worker'] as const)('a %s connection talks to Redis and closes', async (role) => {
    const client = await connectRedis(REDIS_URL, { role });
    const key = redisKey(`vigil-test-${randomUUID()}`, 'probe');
    try {
      await client.set(key, 'v', 'EX', 30);
      expect(await client.get(key)).toBe('v');
      expect(client.options.maxRetriesPerRequest).toBe(role === 'worker' ? null : 2);
    } finally {
      await client.del(key);
      await closeRedis(client);
    }
    expect(['end', 'close']).toContain(client.status);
  });

  it('refuses an unreachable Redis with one exact line, the URL password redacted', async () => {
    const port = await closedPort();
    const err = await connectRedis(`redis://:hunter2@127.0.0.1:${port}`, { role: 'command' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect((err as Error).message).toBe(
      `Redis not reachable at redis://:redacted@127.0.0.1:${port}: start redis-server or set VIGIL_REDIS_URL`,
    );
    expect(exitCodeFor(err as RedisUnavailableError)).toBe(ExitCode.Unavailable);
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it('gives up on a server that accepts but never answers, within the probe timeout', async () => {
    await expect(probeRedis(`redis://127.0.0.1:${silentPort}`, 300)).rejects.toThrow(
      `Redis not reachable at redis://127.0.0.1:${silentPort}`,
    );
  });

  it('redisKey joins under the prefix', () => {
    expect(redisKey('{vigil}', 'l2', 'cursor')).toBe('{vigil}:l2:cursor');
  });
});

describe('the CLI when Redis is unreachable', () => {
  // The bound: the command fails within 5 s. The test timeout is that bound, process start included.
  it('closed port: exit 4 with exactly the one line, no stack', { timeout: 5000 }, async () => {
    const port = await closedPort();
    const url = `redis://127.0.0.1:${port}`;
    const r = await runCli(['config', 'check', '--probe'], { env: { VIGIL_REDIS_URL: url } });
    expect(r.code).toBe(ExitCode.Unavailable);
    expect(r.stderr).toBe(`Redis not reachable at ${url}: start redis-server or set VIGIL_REDIS_URL\n`);
  });

  // The probe gives up after 2 s (proved in-process above); process start on a loaded machine comes on top.
  it('silent server: exit 4 with the same line, no hang', { timeout: 20_000 }, async () => {
    const url = `redis://127.0.0.1:${silentPort}`;
    const r = await runCli(['config', 'check', '--probe', '--redis-url', url]);
    expect(r.code).toBe(ExitCode.Unavailable);
    expect(r.stderr).toBe(`Redis not reachable at ${url}: start redis-server or set VIGIL_REDIS_URL\n`);
  });

  it('reachable Redis and Bitcoin: --probe succeeds, one line per endpoint', async () => {
    const sim = await startSimnet();
    try {
      const r = await runCli(['config', 'check', '--probe', '--redis-url', REDIS_URL], {
        env: {
          VIGIL_BITCOIN_URL: sim.rpcUrl,
          VIGIL_BITCOIN_AUTH_USER: sim.rpcAuth.user,
          VIGIL_BITCOIN_AUTH_PASSWORD_ENV: 'SIM_BTC_PASSWORD',
          SIM_BTC_PASSWORD: sim.rpcAuth.password,
        },
      });
      expect(r.code, r.stderr).toBe(ExitCode.Ok);
      expect(r.stderr).toBe(
        [
          'probe: redis: answers; maxmemory-policy noeviction (CONFIG GET)',
          'probe: bitcoin.auth: readable',
          'probe: l2: not probed (no l2.contracts configured: vigil watch finds no kick-offs without them)',
          `probe: bitcoin: core-rpc at ${sim.rpcUrl} answers: network regtest`,
          '',
        ].join('\n'),
      );
    } finally {
      await sim.stop();
    }
  });

  it('an L2 or Bitcoin endpoint that does not answer: --probe exits 4 (it used to pass)', async () => {
    const port = await closedPort();
    const r = await runCli([
      'config',
      'check',
      '--probe',
      '--redis-url',
      REDIS_URL,
      '--bitcoin-url',
      `http://127.0.0.1:${port}`,
    ]);
    expect(r.code, r.stderr).toBe(ExitCode.Unavailable);
  }, 60_000);
});
