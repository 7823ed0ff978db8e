/**
 * A real Redis Cluster for the tests (issue #21): three primaries and three replicas, each a
 * `redis-server --cluster-enabled yes` on free loopback ports with its own temporary directory, joined
 * with `redis-cli --cluster create`. No Docker. `stop()` kills every process and deletes every
 * directory; call it in `afterAll` so a failing test still leaves nothing behind (an `exit` hook kills
 * what is left if the test process ends first).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, until } from '../cli/child-process.ts';

export type ClusterNode = {
  port: number;
  busPort: number;
  dir: string;
  process: ChildProcess;
  /** Resolves once the process has exited. */
  exited: Promise<void>;
};

export type RedisCluster = {
  nodes: ClusterNode[];
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,...`: every node, the form Vigil's config takes. */
  url: string;
  /** A one-node connection (no cluster redirection) to the node on `port`, for CLUSTER commands. */
  nodeClient(port: number): Redis;
  /** The replicas `primary` feeds now (ROLE). */
  replicasOf(primary: ClusterNode): Promise<ClusterNode[]>;
  /** The node currently serving `key`'s slot as primary. */
  primaryFor(key: string): Promise<ClusterNode>;
  /**
   * SIGKILLs `primary` and waits until one of its replicas is promoted and every surviving node says
   * `cluster_state:ok`. Returns the promoted node.
   */
  killPrimary(primary: ClusterNode): Promise<ClusterNode>;
  /**
   * Starts a killed node again on its port and directory: its nodes.conf makes it rejoin, as a replica
   * of the node promoted in its place. Resolves once every primary has a connected replica again, so
   * the next killPrimary has one to promote.
   */
  restartNode(node: ClusterNode): Promise<void>;
  stop(): Promise<void>;
};

const NODE_TIMEOUT_MS = 2000;

function startNode(
  port: number,
  busPort: number,
  dir = mkdtempSync(join(tmpdir(), 'vigil-cluster-')),
): ClusterNode {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--cluster-port',
      String(busPort),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--cluster-node-timeout',
      String(NODE_TIMEOUT_MS),
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
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { port, dir, busPort, process: child, exited };
}

function isRunning(node: ClusterNode): boolean {
  return node.process.exitCode === null && node.process.signalCode === null;
}

async function runRedisCli(args: string[]): Promise<string> {
  const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`redis-cli ${args.join(' ')} exited ${code}: ${out}`);
  return out;
}

function nodeClient(port: number): Redis {
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => {});
  return client;
}

/** Runs `f` on a short-lived one-node connection to `port`. */
async function onNode<T>(port: number, f: (r: Redis) => Promise<T>): Promise<T> {
  const client = nodeClient(port);
  try {
    return await f(client);
  } finally {
    client.disconnect();
  }
}

async function clusterState(port: number): Promise<string | undefined> {
  const info = await onNode(port, (r) => r.cluster('INFO'));
  return /^cluster_state:(\S+)/m.exec(info)?.[1];
}

async function allOk(nodes: ClusterNode[]): Promise<true | undefined> {
  for (const node of nodes) {
    if ((await clusterState(node.port)) !== 'ok') return undefined;
  }
  return true;
}

async function role(port: number): Promise<string> {
  const reply = (await onNode(port, (r) => r.call('ROLE'))) as unknown[];
  return String(reply[0]);
}

/** Every primary lists a replica and every replica's link to its primary is up. */
async function replicasConnected(nodes: ClusterNode[]): Promise<true | undefined> {
  for (const node of nodes) {
    const reply = (await onNode(node.port, (r) => r.call('ROLE'))) as unknown[];
    if (reply[0] === 'master' && (reply[2] as unknown[]).length === 0) return undefined;
    if (reply[0] === 'slave' && reply[3] !== 'connected') return undefined;
  }
  return true;
}

/** Starts six nodes, creates the cluster (three primaries, one replica each) and waits until it is ok. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const nodes: ClusterNode[] = [];
  const killAll = (): void => {
    for (const node of nodes) if (isRunning(node)) node.process.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const stop = async (): Promise<void> => {
    process.off('exit', killAll);
    killAll();
    await Promise.all(nodes.map((n) => n.exited));
    for (const node of nodes) rmSync(node.dir, { recursive: true, force: true });
  };
  try {
    // Twelve ports: a client port and a cluster-bus port per node, all free when asked for.
    const ports = new Set<number>();
    while (ports.size < 12) ports.add(await freePort());
    const list = [...ports];
    for (let i = 0; i < 6; i++) nodes.push(startNode(list[i] as number, list[i + 6] as number));
    for (const node of nodes) {
      await until(`redis-server on port ${node.port}`, () => onNode(node.port, (r) => r.ping()), 10_000);
    }
    await runRedisCli([
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
    await until('cluster_state:ok on every node', () => allOk(nodes), 30_000);
    // cluster_state:ok comes before the replicas have synced: wait for every replication link too.
    await until('every replica connected to its primary', () => replicasConnected(nodes), 30_000);
  } catch (err) {
    await stop();
    throw err;
  }

  const byPort = (port: number): ClusterNode => {
    const node = nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no cluster node on port ${port}`);
    return node;
  };

  const replicasOf = (primary: ClusterNode): Promise<ClusterNode[]> =>
    onNode(primary.port, async (r) => {
      const reply = (await r.call('ROLE')) as [string, number, [string, string, string][]];
      if (reply[0] !== 'master') throw new Error(`node on port ${primary.port} is not a primary`);
      return reply[2].map(([, port]) => byPort(Number(port)));
    });

  return {
    nodes,
    url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    nodeClient,
    async primaryFor(key) {
      const alive = nodes.find(isRunning);
      if (!alive) throw new Error('no cluster node running');
      const slot = await onNode(alive.port, (r) => r.cluster('KEYSLOT', key));
      const shards = await onNode(alive.port, (r) => r.cluster('SLOTS'));
      const shard = shards.find(([from, to]) => slot >= from && slot <= to);
      const port = shard?.[2]?.[1];
      if (port === undefined) throw new Error(`slot ${slot} is not served`);
      return byPort(port);
    },
    replicasOf,
    async killPrimary(primary) {
      const replicas = await replicasOf(primary);
      if (replicas.length === 0) throw new Error(`primary on port ${primary.port} has no replica`);
      primary.process.kill('SIGKILL');
      await primary.exited;
      const survivors = nodes.filter(isRunning);
      const promoted = await until(
        `a replica of port ${primary.port} promoted`,
        async () => {
          for (const replica of replicas) if ((await role(replica.port)) === 'master') return replica;
          return undefined;
        },
        30_000,
      );
      await until('cluster_state:ok on every surviving node', () => allOk(survivors), 30_000);
      return promoted;
    },
    async restartNode(node) {
      if (isRunning(node)) throw new Error(`node on port ${node.port} is running`);
      const again = startNode(node.port, node.busPort, node.dir);
      nodes[nodes.indexOf(node)] = again;
      await until(
        `redis-server on port ${node.port} again`,
        () => onNode(node.port, (r) => r.ping()),
        10_000,
      );
      await until('cluster_state:ok on every node', () => allOk(nodes), 30_000);
      await until('every replica connected to its primary', () => replicasConnected(nodes), 30_000);
    },
    stop,
  };
}
