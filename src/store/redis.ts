/**
 * The Redis connection helper every durable component uses.
 *
 * Two roles, as BullMQ wants them: `command` connections fail a command fast when Redis is down (so an
 * API call or a CLI command reports the outage instead of hanging), `worker` connections retry forever
 * (`maxRetriesPerRequest: null`) because a blocking worker must ride out a Redis restart.
 *
 * Before handing out a connection the helper proves Redis answers, with a short timeout and no
 * reconnection, so an unreachable Redis becomes one clear line within seconds.
 */
import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { redactUrl } from '../config/redact.ts';
import { VigilError, type VigilErrorCategory } from '../core/errors.ts';

/** A connection to one Redis or to a Redis Cluster: what every durable component takes. */
export type RedisClient = Redis | Cluster;

export type RedisRole = 'command' | 'worker';

export type ConnectRedisOptions = {
  role: RedisRole;
  /** Connection name shown by CLIENT LIST, e.g. `vigil:l2-ingest`. */
  name?: string;
  /** How long the reachability probe may take (default 2 s). */
  probeTimeoutMs?: number;
  logger?: Logger | undefined;
};

export class RedisUnavailableError extends VigilError {
  override name = 'RedisUnavailableError';
  override readonly category: VigilErrorCategory = 'unavailable';
  readonly url: string;

  constructor(url: string, cause?: unknown) {
    // One exact line for the operator; the cause stays on the error for the log.
    super(`Redis not reachable at ${redactUrl(url)}: start redis-server or set VIGIL_REDIS_URL`, {
      cause,
      details: '',
    });
    this.url = redactUrl(url);
  }
}

/** Redis answers but refuses our credentials: a configuration problem (exit 3), not an outage. */
export class RedisAuthError extends VigilError {
  override name = 'RedisAuthError';
  override readonly category: VigilErrorCategory = 'config';

  constructor(url: string, cause: unknown) {
    const reply = cause instanceof Error ? (cause.message.split('\n')[0] ?? '') : '';
    super(
      `Redis at ${redactUrl(url)} refused to authenticate (${reply}): give its password in redis.url, redis.passwordFile or redis.passwordEnv`,
      { cause, details: '', docsPath: 'docs/configuration.md' },
    );
  }
}

function isAuthRefusal(err: unknown): boolean {
  return err instanceof Error && /^(NOAUTH|WRONGPASS)\b|invalid (username-)?password/i.test(err.message);
}

/** Redis evicts keys under memory pressure: BullMQ, and so Vigil, cannot run on it. */
export class RedisEvictionPolicyError extends VigilError {
  override name = 'RedisEvictionPolicyError';
  override readonly category: VigilErrorCategory = 'unavailable';
  readonly policy: string;

  constructor(url: string, policy: string) {
    super(
      `Redis at ${redactUrl(url)} has maxmemory-policy ${policy}; Vigil needs noeviction (BullMQ requires it: an evicted job or lock can lose a challenge)`,
      {
        metaMessages: [
          'Set `maxmemory-policy noeviction` in redis.conf (or run CONFIG SET maxmemory-policy noeviction),',
          'or give Vigil a Redis of its own. On a managed Redis, choose the noeviction policy in its settings.',
        ],
        docsPath: 'docs/operations.md',
        details: '',
      },
    );
    this.policy = policy;
  }
}

export type EvictionPolicy = {
  /** e.g. `noeviction`, `allkeys-lru`; undefined when Redis would tell neither way. */
  policy: string | undefined;
  /** Where it was read: CONFIG GET, or INFO memory when CONFIG is disabled (managed Redis). */
  source: 'config' | 'info' | undefined;
};

/**
 * Redis's maxmemory-policy: CONFIG GET first; managed services often disable or rename CONFIG, and then
 * INFO memory's `maxmemory_policy` line says the same. Neither answering is not an error here.
 */
export async function redisEvictionPolicy(client: Redis): Promise<EvictionPolicy> {
  try {
    const reply = (await client.config('GET', 'maxmemory-policy')) as unknown;
    // RESP2 answers [name, value]; RESP3 a map.
    const value = Array.isArray(reply)
      ? reply[1]
      : reply instanceof Map
        ? reply.get('maxmemory-policy')
        : (reply as Record<string, unknown> | null)?.['maxmemory-policy'];
    if (typeof value === 'string') return { policy: value, source: 'config' };
  } catch {
    // CONFIG disabled or not permitted: fall through to INFO.
  }
  try {
    const info = await client.info('memory');
    const match = /^maxmemory_policy:(\S+)/m.exec(info);
    if (match?.[1] !== undefined) return { policy: match[1], source: 'info' };
  } catch {
    // INFO refused too: the caller decides.
  }
  return { policy: undefined, source: undefined };
}

/**
 * Refuses a Redis whose maxmemory-policy is not `noeviction` (RedisEvictionPolicyError, exit 4). When
 * Redis will not say, warns and lets the daemon run: refusing would lock out managed Redis services
 * that hide both CONFIG and INFO, whose operator is told to check the policy instead.
 */
export async function requireNoEviction(client: RedisClient, url: string, logger?: Logger): Promise<void> {
  const { policy, source } = await clientEvictionPolicy(client);
  if (policy === undefined) {
    logger?.warn(
      { url: redactUrl(url) },
      'cannot read Redis maxmemory-policy (CONFIG and INFO refused); make sure it is noeviction, as BullMQ requires',
    );
    return;
  }
  if (policy !== 'noeviction') throw new RedisEvictionPolicyError(url, policy);
  logger?.debug({ policy, source }, 'Redis maxmemory-policy is noeviction');
}

/**
 * The policy of one Redis, or of a cluster: each primary holds its own slots and its own setting, so
 * every primary is read, and the first one that evicts (or will not say) is the answer.
 */
export async function clientEvictionPolicy(client: RedisClient): Promise<EvictionPolicy> {
  if (client instanceof Redis) return redisEvictionPolicy(client);
  let answer: EvictionPolicy = { policy: undefined, source: undefined };
  for (const node of client.nodes('master')) {
    answer = await redisEvictionPolicy(node);
    if (answer.policy !== 'noeviction') return answer;
  }
  return answer;
}

const DEFAULT_PROBE_TIMEOUT_MS = 2000;

/** Connects once, PINGs, disconnects. Throws RedisUnavailableError when Redis does not answer in time. */
export async function probeRedis(url: string, timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectionName: 'vigil:probe',
    // ioredis's default (2 s) keeps a timer alive after a refused connection, delaying the CLI's exit.
    disconnectTimeout: 50,
  });
  // Without a listener ioredis prints "Unhandled error event" on its own. A refused password shows
  // up only here (the ready check fails, then connect() rejects with "Connection is closed").
  let authRefusal: Error | undefined;
  client.on('error', (err: Error) => {
    if (isAuthRefusal(err)) authRefusal = err;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (cause) {
    if (isAuthRefusal(cause) || authRefusal) throw new RedisAuthError(url, authRefusal ?? cause);
    throw new RedisUnavailableError(url, cause);
  } finally {
    clearTimeout(timer);
    if (client.status !== 'end') client.disconnect();
  }
}

/** Retry delay after a dropped connection: exponential from 100 ms, capped at 5 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(100 * 2 ** Math.min(attempt, 10), 5000);
}

/**
 * A connection for `role`, after proving Redis answers. The returned client reconnects on its own after
 * a drop; errors are logged (at most once per outage) instead of printed by ioredis.
 */
export async function connectRedis(url: string, options: ConnectRedisOptions): Promise<Redis> {
  await probeRedis(url, options.probeTimeoutMs);
  const redisOptions: RedisOptions = {
    connectionName: options.name ?? `vigil:${options.role}`,
    retryStrategy: reconnectDelay,
    ...(options.role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: false }
      : { maxRetriesPerRequest: 2, connectTimeout: 5000 }),
  };
  const client = new Redis(url, redisOptions);
  let down = false;
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    options.logger?.warn({ err: err.message, url: redactUrl(url) }, 'Redis connection lost; reconnecting');
  });
  client.on('ready', () => {
    if (down) options.logger?.info({ url: redactUrl(url) }, 'Redis connection restored');
    down = false;
  });
  // Hand the connection out ready, so a health check right after start does not see it connecting.
  await waitReady(client, url, options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);
  return client;
}

async function waitReady(client: Redis, url: string, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onReady = resolve;
      client.once('ready', onReady);
      timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
    });
  } catch (cause) {
    client.disconnect();
    throw new RedisUnavailableError(url, cause);
  } finally {
    clearTimeout(timer);
    if (onReady) client.off('ready', onReady);
  }
}

/**
 * Closes a client: QUIT when connected (pending replies still arrive), otherwise a plain disconnect.
 * Resolves once the connection has ended, within `timeoutMs` at most.
 */
export async function closeRedis(client: RedisClient, timeoutMs = 2000): Promise<void> {
  if (client.status === 'end') return;
  const ended = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    client.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  if (client.status === 'ready') {
    // Raced with the deadline: a cluster's QUIT goes to every node, and after a failover one of them may
    // never answer, which left the promise (and the process's shutdown) pending for good.
    await Promise.race([client.quit().catch(() => client.disconnect()), ended]);
  } else {
    client.disconnect();
  }
  await ended;
  // The status changed while awaiting; TypeScript's narrowing from above does not know that.
  if ((client.status as string) !== 'end') client.disconnect();
}

/** A key under the configured prefix: `redisKey('{vigil}', 'l2', 'cursor')` → `{vigil}:l2:cursor`. */
export function redisKey(prefix: string, ...parts: string[]): string {
  return [prefix, ...parts].join(':');
}

/**
 * Deletes every key that starts with `prefix` (SCAN, never KEYS: a shared Redis must not stall). For
 * the devnet's and the tests' own prefixes only; a daemon never deletes what it wrote.
 */
export async function deleteKeysByPrefix(redis: RedisClient, prefix: string): Promise<void> {
  // A cluster's SCAN walks one node: walk every primary. DEL one key at a time there, because the keys
  // of a prefix without a hash tag may sit in different slots.
  const nodes = redis instanceof Redis ? [redis] : redis.nodes('master');
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      if (redis instanceof Redis) await redis.del(...keys);
      else await Promise.all(keys.map((key) => redis.del(key)));
    } while (cursor !== '0');
  }
}
