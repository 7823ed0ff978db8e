/**
 * How the dispute queue reaches Redis. BullMQ takes connection options for one Redis, but a Redis
 * Cluster only through an ioredis `Cluster` instance; the options here name either, built from the
 * configured URL, and `bullConnection` makes what BullMQ is given: the options as they are, or a new
 * `Cluster` the queue owns (and closes). Worker connections never give up on a command
 * (`maxRetriesPerRequest: null`, BullMQ's rule); on a cluster that setting lives in `redisOptions`.
 */
import type { ConnectionOptions } from 'bullmq';
import { Cluster, type RedisOptions } from 'ioredis';
import { closeRedis, reconnectDelay } from '../store/redis.ts';
import { isClusterUrl, parseClusterUrl } from '../store/redis-cluster.ts';

/** A cluster's seed nodes; the other fields (user, password, TLS) apply to every node. */
export type ClusterSeeds = { nodes: { host: string; port: number }[] };

/** Connection options for one Redis, or, with `cluster`, for a Redis Cluster (`host`/`port`: its first seed). */
export type QueueConnection = {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: object;
  cluster?: ClusterSeeds;
};

/** The queue's connection options for a `redis://`, `rediss://`, `redis+cluster://` or `rediss+cluster://` URL. */
export function queueConnectionFromUrl(url: string): QueueConnection {
  if (isClusterUrl(url)) {
    const c = parseClusterUrl(url);
    const first = c.nodes[0] as { host: string; port: number };
    return {
      host: first.host,
      port: first.port,
      ...(c.username ? { username: c.username } : {}),
      ...(c.password ? { password: c.password } : {}),
      ...(c.tls ? { tls: {} } : {}),
      cluster: { nodes: c.nodes },
    };
  }
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    host: u.hostname,
    port: u.port === '' ? 6379 : Number(u.port),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** The options name a cluster (they carry its seeds). */
export function isClusterConnection(
  c: ConnectionOptions | QueueConnection,
): c is QueueConnection & RedisOptions & { cluster: ClusterSeeds } {
  const seeds = (c as { cluster?: unknown }).cluster;
  return typeof seeds === 'object' && seeds !== null && Array.isArray((seeds as ClusterSeeds).nodes);
}

export type BullConnection = {
  connection: ConnectionOptions;
  /** Closes what was created here (a Cluster); nothing for plain options, which BullMQ connects itself. */
  close(): Promise<void>;
  /** For a log line: the Cluster's status and the commands it holds (queued offline, sent to each node). */
  describe(): string;
};

/** The parts of ioredis's internals a diagnostic reads; not in its public types. */
type Queued = { offlineQueue?: { length: number }; commandQueue?: { length: number } };

function describeCluster(client: Cluster): string {
  const offline = (client as unknown as Queued).offlineQueue?.length ?? 0;
  const nodes = client
    .nodes()
    .map((n) => `${n.options.port}:${n.status}/${(n as unknown as Queued).commandQueue?.length ?? 0}`);
  return `${client.status} offline=${offline} nodes=${nodes.join(',')}`;
}

/** How long a queue command on a Redis Cluster may take before it fails (and its caller retries). */
export const QUEUE_COMMAND_TIMEOUT_MS = 10_000;

/**
 * What BullMQ is given for `options`: plain options for one Redis (with `maxRetriesPerRequest: null`
 * for a worker), or a new `Cluster` over the seeds, which the caller closes after BullMQ let go of it.
 */
export function bullConnection(
  options: ConnectionOptions | QueueConnection,
  role: 'queue' | 'worker',
): BullConnection {
  if (!isClusterConnection(options)) {
    const connection =
      role === 'worker'
        ? ({ ...(options as object), maxRetriesPerRequest: null } as ConnectionOptions)
        : (options as ConnectionOptions);
    return { connection, close: async () => {}, describe: () => 'options' };
  }
  const { cluster, host: _host, port: _port, db: _db, ...rest } = options;
  const client = new Cluster(
    cluster.nodes.map((n) => ({ host: n.host, port: n.port })),
    {
      redisOptions: {
        ...rest,
        connectionName: `vigil:queue-${role}`,
        // BullMQ's rule for every connection it blocks on; the queue's own commands retry too, as before.
        maxRetriesPerRequest: null,
        // A queue command (never a blocking one) routed to a node that died in a failover could wait
        // for good, and the job that sent it with it: such a command fails after 10 s and is retried.
        ...(role === 'queue' ? { commandTimeout: QUEUE_COMMAND_TIMEOUT_MS } : {}),
      },
      clusterRetryStrategy: reconnectDelay,
    },
  );
  // BullMQ listens too; this keeps ioredis from printing a raw "Unhandled error event" meanwhile.
  client.on('error', () => {});
  return {
    connection: client,
    close: () => closeRedis(client),
    describe: () => describeCluster(client),
  };
}
