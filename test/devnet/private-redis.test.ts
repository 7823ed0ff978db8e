/**
 * `vigil devnet` with nothing running (issue #21): a private redis-server on a free loopback port, with
 * BullMQ's eviction policy, gone with its files when stopped or when its parent is SIGKILLed; started only
 * for the default URL nobody chose; a clear one-line hint when redis-server is not installed.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  findRedisServer,
  RedisServerMissingError,
  redisForDevnet,
  startPrivateRedis,
} from '../../src/devnet/private-redis.ts';
import { probeRedis, RedisUnavailableError } from '../../src/store/redis.ts';

const CLOSED = 'redis://127.0.0.1:1';

async function answers(url: string): Promise<boolean> {
  try {
    await probeRedis(url, 1000);
    return true;
  } catch {
    return false;
  }
}

async function gone(url: string, dir: string): Promise<void> {
  for (let i = 0; i < 100 && ((await answers(url)) || existsSync(dir)); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a private redis-server for the devnet', () => {
  it('answers on loopback with noeviction, and stop() leaves no process and no directory', async () => {
    const own = await startPrivateRedis();
    expect(own.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const client = new Redis(own.url);
    try {
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(await client.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
    } finally {
      client.disconnect();
    }
    expect(existsSync(own.dir)).toBe(true);
    await own.stop();
    expect(await answers(own.url)).toBe(false);
    expect(existsSync(own.dir)).toBe(false);
  });

  it('a parent killed with SIGKILL takes it and its directory along', async () => {
    const script = [
      "const { startPrivateRedis } = await import('./src/devnet/private-redis.ts');",
      'const own = await startPrivateRedis();',
      'console.log(JSON.stringify({ url: own.url, dir: own.dir }));',
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve) =>
      child.stdout.once('data', (d: Buffer) => resolve(String(d))),
    );
    const { url, dir } = JSON.parse(line) as { url: string; dir: string };
    expect(await answers(url)).toBe(true);
    child.kill('SIGKILL');
    await gone(url, dir);
    expect(await answers(url)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  }, 30_000);

  it('only for the default URL nobody chose; a Redis that answers is used as it is', async () => {
    const said: string[] = [];
    const live = 'redis://127.0.0.1:6379';
    const used = await redisForDevnet(live, true, (l) => said.push(l));
    expect(used.url).toBe(live);
    expect(said).toEqual([]);
    await used.stop();
    await expect(redisForDevnet(CLOSED, false, (l) => said.push(l))).rejects.toThrow(RedisUnavailableError);
    const own = await redisForDevnet(CLOSED, true, (l) => said.push(l));
    try {
      expect(own.url).not.toBe(CLOSED);
      expect(await answers(own.url)).toBe(true);
      expect(said).toEqual([
        `redis: none answers at ${CLOSED}; started a private redis-server at ${own.url} (stopped at exit)`,
      ]);
    } finally {
      await own.stop();
    }
  });

  it('says in one line how to install redis-server when it is missing', () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => findRedisServer()).toThrow(RedisServerMissingError);
      expect(() => findRedisServer()).toThrow(/apt-get install redis-server.*brew install redis.*docker run/);
    } finally {
      process.env.PATH = path;
    }
  });
});
