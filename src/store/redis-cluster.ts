/**
 * Redis Cluster connections (issue #21). A cluster is named by one URL that lists its seed nodes:
 *
 *     redis+cluster://[user:password@]host1:port1,host2:port2,.../
 *     rediss+cluster://...            (TLS to every node)
 *
 * One scheme rather than several comma-separated `redis://` URLs, so a single config value says
 * "cluster" without guessing, and the user and password are given once for every node. A cluster has
 * only database 0, so the URL takes no path; ports default to 6379. The seeds only bootstrap: ioredis
 * `Cluster` learns the rest of the topology (and every failover) from CLUSTER SLOTS.
 *
 * The roles are those of `connectRedis`: `command` connections fail a command after two retries,
 * `worker` connections (BullMQ workers) retry forever (`maxRetriesPerRequest: null`). The single-node
 * path in `redis.ts` is untouched; a caller picks this one with `isClusterUrl`.
 */
import { Cluster, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import { type ClusterUrl, parseClusterUrl, redactClusterUrl } from './cluster-url.ts';
import { type ConnectRedisOptions, RedisAuthError, RedisUnavailableError, reconnectDelay } from './redis.ts';

// The URL form lives apart (no ioredis there), so the configuration schema can check it cheaply.
export {
  type ClusterUrl,
  isClusterUrl,
  parseClusterUrl,
  RedisClusterUrlError,
  redactClusterUrl,
  withClusterPassword,
} from './cluster-url.ts';

function isAuthRefusal(err: unknown): boolean {
  return err instanceof Error && /^(NOAUTH|WRONGPASS)\b|invalid (username-)?password/i.test(err.message);
}

function clusterOptions(
  parsed: ClusterUrl,
  redisOptions: RedisOptions,
  extra: ClusterOptions,
): ClusterOptions {
  return {
    ...extra,
    redisOptions: {
      ...redisOptions,
      ...(parsed.username ? { username: parsed.username } : {}),
      ...(parsed.password ? { password: parsed.password } : {}),
      ...(parsed.tls ? { tls: {} } : {}),
    },
  };
}

const seeds = (parsed: ClusterUrl): ClusterNode[] =>
  parsed.nodes.map((n) => ({ host: n.host, port: n.port }));

const DEFAULT_PROBE_TIMEOUT_MS = 2000;

/**
 * Connects to the cluster once (slots learned, one PING), disconnects. RedisUnavailableError when no
 * seed answers in time, RedisAuthError when the nodes refuse the credentials.
 */
export async function probeRedisCluster(url: string, timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): Promise<void> {
  const parsed = parseClusterUrl(url);
  const client = new Cluster(
    seeds(parsed),
    clusterOptions(
      parsed,
      {
        connectTimeout: timeoutMs,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        connectionName: 'vigil:probe',
        disconnectTimeout: 50,
      },
      { lazyConnect: true, enableOfflineQueue: false, clusterRetryStrategy: () => null },
    ),
  );
  let authRefusal: Error | undefined;
  client.on('error', (err: Error) => {
    if (isAuthRefusal(err)) authRefusal = err;
    const last = (err as { lastNodeError?: unknown }).lastNodeError;
    if (isAuthRefusal(last)) authRefusal = last as Error;
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
    if (isAuthRefusal(cause) || authRefusal)
      throw new RedisAuthError(redactClusterUrl(url), authRefusal ?? cause);
    throw new RedisUnavailableError(redactClusterUrl(url), cause);
  } finally {
    clearTimeout(timer);
    if (client.status !== 'end') client.disconnect();
  }
}

/**
 * A cluster connection for `role`, after proving the cluster answers; handed out ready. It follows
 * MOVED/ASK redirections and failovers on its own; errors are logged at most once per outage.
 */
export async function connectRedisCluster(url: string, options: ConnectRedisOptions): Promise<Cluster> {
  const timeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  await probeRedisCluster(url, timeoutMs);
  const parsed = parseClusterUrl(url);
  const client = new Cluster(
    seeds(parsed),
    clusterOptions(
      parsed,
      {
        connectionName: options.name ?? `vigil:${options.role}`,
        ...(options.role === 'worker'
          ? { maxRetriesPerRequest: null, enableReadyCheck: false }
          : { maxRetriesPerRequest: 2, connectTimeout: 5000 }),
      },
      { clusterRetryStrategy: reconnectDelay },
    ),
  );
  let down = false;
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    options.logger?.warn(
      { err: err.message, url: redactClusterUrl(url) },
      'Redis Cluster connection lost; reconnecting',
    );
  });
  client.on('ready', () => {
    if (down) options.logger?.info({ url: redactClusterUrl(url) }, 'Redis Cluster connection restored');
    down = false;
  });
  if (client.status !== 'ready') {
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
      throw new RedisUnavailableError(redactClusterUrl(url), cause);
    } finally {
      clearTimeout(timer);
      if (onReady) client.off('ready', onReady);
    }
  }
  return client;
}

/** Closes a cluster connection: QUIT when ready, otherwise a plain disconnect; resolves once it ended. */
export async function closeRedisCluster(client: Cluster, timeoutMs = 2000): Promise<void> {
  if (client.status === 'end') return;
  const ended = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    client.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
  await ended;
  if ((client.status as string) !== 'end') client.disconnect();
}
