import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, exitCodeFor } from '../../src/cli/exit-codes.ts';
import { redisComponent } from '../../src/daemon/components.ts';
import { HealthRegistry } from '../../src/observability/health.ts';
import { createLogger } from '../../src/observability/logger.ts';
import {
  closeRedis,
  connectRedis,
  RedisEvictionPolicyError,
  redisEvictionPolicy,
} from '../../src/store/redis.ts';
import { runCli } from '../cli/run-cli.ts';

const SHARED_URL = 'redis://127.0.0.1:6379';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A private redis-server (no persistence) with the extra arguments; resolves once it answers. */
async function startRedis(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--save', '', '--bind', '127.0.0.1', ...args],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const c = await connectRedis(url, { role: 'command', probeTimeoutMs: 200 });
      await closeRedis(c);
      return { url, child };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill();
  throw new Error(`redis-server ${args.join(' ')} did not start`);
}

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      out
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const servers: ChildProcess[] = [];
let lru: string;
let lruNoConfig: string;
let lruNoConfigNoInfo: string;

beforeAll(async () => {
  const started = await Promise.all([
    startRedis(['--maxmemory-policy', 'allkeys-lru']),
    // A managed Redis that disables CONFIG: the policy is still read from INFO memory.
    startRedis(['--maxmemory-policy', 'volatile-lru', '--rename-command', 'CONFIG', '']),
    // One whose ACL refuses both (NOPERM): Vigil cannot tell, warns and runs. (Renaming INFO away would
    // also break ioredis's ready check, which tolerates NOPERM only.)
    startRedis([
      '--maxmemory-policy',
      'allkeys-lru',
      '--user',
      'default',
      'on',
      'nopass',
      '~*',
      '&*',
      '+@all',
      '-config',
      '-info',
    ]),
  ]);
  servers.push(...started.map((s) => s.child));
  [lru, lruNoConfig, lruNoConfigNoInfo] = started.map((s) => s.url) as [string, string, string];
}, 20_000);

afterAll(() => {
  for (const child of servers) child.kill();
});

function component(url: string, logger = createLogger({ level: 'silent', format: 'json' })) {
  return redisComponent({
    url,
    role: 'command',
    health: new HealthRegistry(),
    logger,
    requireNoEviction: true,
  });
}

describe('the daemon refuses a Redis that evicts keys', () => {
  it('reads the policy by CONFIG GET, or by INFO memory when CONFIG is disabled', async () => {
    for (const [url, expected] of [
      [SHARED_URL, { policy: 'noeviction', source: 'config' }],
      [lru, { policy: 'allkeys-lru', source: 'config' }],
      [lruNoConfig, { policy: 'volatile-lru', source: 'info' }],
      [lruNoConfigNoInfo, { policy: undefined, source: undefined }],
    ] as const) {
      const client = await connectRedis(url, { role: 'command' });
      try {
        expect(await redisEvictionPolicy(client)).toEqual(expected);
      } finally {
        await closeRedis(client);
      }
    }
  });

  it('allkeys-lru: start fails with exit 4 and the fix; its connection is closed, the shared Redis untouched', async () => {
    const c = component(`redis://:s3cret-pw@${lru.slice('redis://'.length)}`);
    const err = await Promise.resolve(c.start()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisEvictionPolicyError);
    const e = err as RedisEvictionPolicyError;
    expect(exitCodeFor(e)).toBe(ExitCode.Unavailable);
    expect(e.shortMessage).toBe(
      `Redis at redis://:redacted@${lru.slice('redis://'.length)} has maxmemory-policy allkeys-lru; Vigil needs noeviction (BullMQ requires it: an evicted job or lock can lose a challenge)`,
    );
    expect(e.message).toContain('maxmemory-policy noeviction');
    expect(e.message).not.toContain('s3cret-pw');
    expect(() => c.client()).toThrow('before start');
    // The private server still answers and lists no client of ours left open.
    const check = await connectRedis(lru, { role: 'command' });
    try {
      const clients = (await check.client('LIST')) as string;
      expect(clients).not.toContain('name=vigil:daemon');
    } finally {
      await closeRedis(check);
    }
  });

  it('CONFIG disabled, INFO says volatile-lru: refused the same way', async () => {
    const err = await Promise.resolve(component(lruNoConfig).start()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisEvictionPolicyError);
    expect((err as RedisEvictionPolicyError).policy).toBe('volatile-lru');
  });

  it('neither CONFIG nor INFO answers: a warning, and the daemon starts', async () => {
    const out = capture();
    const c = component(
      lruNoConfigNoInfo,
      createLogger({ level: 'info', format: 'json', destination: out.stream }),
    );
    await c.start();
    try {
      expect(await c.client().ping()).toBe('PONG');
      const warn = out.lines().find((l) => l.level === 'warn');
      expect(warn?.msg).toBe(
        'cannot read Redis maxmemory-policy (CONFIG and INFO refused); make sure it is noeviction, as BullMQ requires',
      );
    } finally {
      await c.stop(new AbortController().signal);
    }
  });

  it('noeviction (the shared Redis): starts', async () => {
    const c = component(SHARED_URL);
    await c.start();
    expect(await c.client().ping()).toBe('PONG');
    await c.stop(new AbortController().signal);
  });

  it('vigil watch exits 4 with one clear line, vigil config check --probe too', async () => {
    const env = { VIGIL_REDIS_URL: lru, VIGIL_HTTP_PORT: '0', VIGIL_LOG_LEVEL: 'silent' };
    const [watch, probe] = await Promise.all([
      runCli(['watch'], { env }),
      runCli(['config', 'check', '--probe'], { env }),
    ]);
    for (const r of [watch, probe]) {
      expect(r.code).toBe(ExitCode.Unavailable);
      expect(r.stderr).toContain(`Redis at ${lru} has maxmemory-policy allkeys-lru; Vigil needs noeviction`);
      expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    }
  }, 30_000);
});
