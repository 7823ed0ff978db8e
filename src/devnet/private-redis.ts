/**
 * A private `redis-server` for `vigil devnet` when none answers at the default URL: on a free loopback
 * port, with its files in a temporary directory, `maxmemory-policy noeviction` (BullMQ needs it) and no
 * persistence. It never outlives the process that started it: it runs under a shell guard that holds a
 * pipe from this process and stops it when the pipe closes (an exit, a crash or SIGKILL), and `stop()`
 * shuts it down and deletes the directory. `vigil watch` never does this: a daemon's Redis is the
 * operator's choice.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { VigilError, type VigilErrorCategory } from '../core/errors.ts';
import { probeRedis, RedisUnavailableError } from '../store/redis.ts';

/** No `redis-server` on PATH: what to install, in one line. */
export class RedisServerMissingError extends VigilError {
  override name = 'RedisServerMissingError';
  override readonly category: VigilErrorCategory = 'unavailable';
}

export type PrivateRedis = {
  url: string;
  port: number;
  /** Its files, deleted when it stops. */
  dir: string;
  stop(): Promise<void>;
};

export const INSTALL_REDIS =
  'Install Redis: `sudo apt-get install redis-server` (Debian, Ubuntu), `brew install redis` (macOS), or `docker run -d -p 6379:6379 redis:7`';

// redis-server in the background with stdin from /dev/null; a reader on *our* pipe (saved as fd 3)
// stops it at EOF, i.e. when the parent is gone, and its directory goes with it. SIGTERM makes
// redis-server shut down cleanly.
const GUARD = [
  'dir="$1"; bin="$2"; shift 2',
  '"$bin" "$@" </dev/null &',
  'pid=$!',
  // Once the parent is gone our pipes are closed, and dash reports a job killed by a signal on stderr:
  // that write would end the guard by SIGPIPE before it deletes the directory.
  "trap '' PIPE",
  'exec 2>/dev/null',
  'exec 3<&0',
  '{ cat <&3 >/dev/null; kill $pid 2>/dev/null; } &',
  "trap 'kill $pid 2>/dev/null' TERM INT HUP",
  // A trapped signal ends `wait` at once: wait until redis-server has really exited.
  'while kill -0 $pid 2>/dev/null; do wait $pid; done',
  'rm -rf "$dir"',
].join('\n');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** `redis-server` from PATH, or RedisServerMissingError. */
export function findRedisServer(): string {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new RedisServerMissingError(`No Redis answers and redis-server is not installed. ${INSTALL_REDIS}`);
  }
  return 'redis-server';
}

export async function startPrivateRedis(
  o: { startTimeoutMs?: number /** A fixed port (default: a free one). */; port?: number } = {},
): Promise<PrivateRedis> {
  const bin = findRedisServer();
  let lastError: unknown;
  // The port is free when probed and taken when redis binds: another process may win it in between.
  for (let attempt = 0; attempt < (o.port === undefined ? 3 : 1); attempt++) {
    // The guard deletes the directory when redis-server ends: each attempt has its own.
    const dir = mkdtempSync(join(tmpdir(), 'vigil-redis-'));
    const port = o.port ?? (await freePort());
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ];
    // Its own process group: a Ctrl-C in a terminal reaches Vigil, which stops redis-server once it is
    // done with it (the pipe still ends it when Vigil dies).
    const guard: ChildProcess = spawn('/bin/sh', ['-c', GUARD, 'redis-guard', dir, bin, ...args], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    const exited = new Promise<void>((resolve) => guard.once('exit', () => resolve()));
    const url = `redis://127.0.0.1:${port}`;
    try {
      await waitForPing(url, dir, exited, o.startTimeoutMs ?? 10_000);
      let stopping: Promise<void> | undefined;
      return {
        url,
        port,
        dir,
        stop: () => {
          stopping ??= (async () => {
            guard.kill('SIGTERM');
            guard.stdin?.end();
            await exited;
            rmSync(dir, { recursive: true, force: true });
          })();
          return stopping;
        },
      };
    } catch (err) {
      lastError = err;
      guard.kill('SIGTERM');
      guard.stdin?.end();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  }
  throw new VigilError('A private redis-server did not start', { cause: lastError });
}

async function waitForPing(
  url: string,
  dir: string,
  exited: Promise<void>,
  timeoutMs: number,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  for (;;) {
    try {
      await probeRedis(url, 500);
      if (await servesDir(url, dir)) return;
      // Another Redis answers on the port: ours did not bind it.
      throw new VigilError(`Another Redis answers at ${url}`);
    } catch (err) {
      if (gone || Date.now() > end) throw err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The Redis a devnet run uses: the one at `url` when it answers; otherwise, only when `url` is the
 * default nobody chose, a private redis-server (told with `say`). `stop` stops what was started.
 */
export async function redisForDevnet(
  url: string,
  urlIsDefault: boolean,
  say: (line: string) => void,
): Promise<{ url: string; stop(): Promise<void> }> {
  try {
    await probeRedis(url);
    return { url, stop: async () => {} };
  } catch (err) {
    if (!urlIsDefault || !(err instanceof RedisUnavailableError)) throw err;
  }
  const own = await startPrivateRedis();
  say(`redis: none answers at ${url}; started a private redis-server at ${own.url} (stopped at exit)`);
  return own;
}

/** The Redis at `url` keeps its files in `dir`: it is the one this module started. */
async function servesDir(url: string, dir: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    const answer = (await client.config('GET', 'dir')) as string[];
    return answer[1] !== undefined && realpathSync(answer[1]) === realpathSync(dir);
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
