/**
 * The devnet story on a Redis Cluster (issue #21), from the outside: a real 3-primary/3-replica cluster
 * (test/support/redis-cluster.ts), `vigil devnet serve` with a faulty operator, and THREE `vigil watch`
 * processes on the same `redis+cluster://` URL and key prefix. One lease holder follows the chains; the
 * dispute jobs run in whichever process BullMQ hands them to. What must come out is what one process on
 * one Redis gives: every fraudulent epoch challenged once (one challenge built, one sent, across the
 * three processes; the one on the simnet's chain is the record's), the operator slashed, and each record
 * a complete history from `detected` to `resolved`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisputeStore } from '../../src/dispute/records/store.ts';
import { connectRedisAny } from '../../src/store/connect.ts';
import { closeRedis } from '../../src/store/redis.ts';
import { freePort, type Proc, repoRun, startVigil, stopVigil, until } from '../cli/child-process.ts';
import { runCli } from '../cli/run-cli.ts';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.ts';

const FAULT = 'commission-not-taken';
const WATCHERS = 3;

let cluster: RedisCluster;
let dir: string;
let ports: number[] = [];
let serve: Proc | undefined;
const watchers: Proc[] = [];

const configFile = () => join(dir, 'watch.yaml');

/** The sum over the three processes of a metric's samples whose labels include every one of `labels`. */
async function metricSum(name: string, labels: string[]): Promise<number> {
  let sum = 0;
  for (const port of ports) {
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const line of body.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      if (labels.every((l) => line.includes(l))) sum += Number(line.split(' ').at(-1));
    }
  }
  return sum;
}

/** The served Bitcoin chain, through the Core RPC front the generated config names. */
async function bitcoinRpc<T>(method: string, params: unknown[] = []): Promise<T> {
  const url = /url: (http:\/\/127\.0\.0\.1:\d+)/.exec(readFileSync(configFile(), 'utf8'))?.[1] as string;
  const password = readFileSync(join(dir, 'bitcoin-rpc.password'), 'utf8').trim();
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`vigil:${password}`).toString('base64')}` },
    body: JSON.stringify({ jsonrpc: '1.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result: T; error: unknown };
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

/** Epochs the served operator committed wrong, from its story. */
function wrongEpochs(text: string): bigint[] {
  return [...text.matchAll(/L2: epoch (\d+) ended at block \d+; the operator commits \S+ \(WRONG/g)].map(
    (m) => BigInt(m[1] as string),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-cluster-story-'));
  ports = await Promise.all(Array.from({ length: WATCHERS }, () => freePort()));
  cluster = await startRedisCluster();
}, 60_000);

afterAll(async () => {
  for (const w of watchers) await stopVigil(w);
  await stopVigil(serve);
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('three vigil watch processes on a Redis Cluster, a faulty operator', () => {
  it('challenge each fraudulent epoch once, and the operator ends slashed as on one Redis', async () => {
    serve = startVigil(
      repoRun(),
      [
        'devnet',
        'serve',
        '--dir',
        dir,
        '--l2-block-ms',
        '150',
        '--bitcoin-block-ms',
        '1000',
        '--redis-url',
        cluster.url,
        '--watch-http-port',
        String(ports[0]),
      ],
      { group: true },
    );
    await until('serve to print the watch command', async () =>
      serve?.out().includes('watch it from another terminal') ? true : undefined,
    );
    expect(readFileSync(configFile(), 'utf8')).toContain(`url: ${cluster.url}`);
    const on = await runCli(['devnet', 'fault', FAULT, '--dir', dir]);
    expect(on.code, on.stderr).toBe(0);

    for (const port of ports) {
      const how = repoRun();
      watchers.push(
        startVigil({ ...how, env: { ...how.env, VIGIL_HTTP_PORT: String(port) } }, [
          'watch',
          '--config',
          configFile(),
        ]),
      );
    }
    for (const port of ports) {
      await until(`/healthz 200 on port ${port}`, async () =>
        (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200 ? true : undefined,
      );
    }

    // Two fraudulent epochs are enough; then the operator is honest again, so the story has an end.
    const wrong = await until('two fraudulent epochs', async () => {
      const epochs = wrongEpochs(serve?.out() ?? '');
      return epochs.length >= 2 ? epochs : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\nserve said:\n${serve?.out().slice(-3000)}`);
    });
    const off = await runCli(['devnet', 'fault', 'none', '--dir', dir]);
    expect(off.code, off.stderr).toBe(0);

    const prefix = /keyPrefix: "?([^"\n]+)"?/.exec(readFileSync(configFile(), 'utf8'))?.[1] as string;
    expect(prefix).toMatch(/^\{vigil-devnet-[^}]+\}$/);
    const redis = await connectRedisAny(cluster.url, { role: 'command', name: 'vigil:test' });
    try {
      const store = new DisputeStore(redis, prefix);
      // Every epoch claimed wrong so far (the switch may leave one more than the two) is resolved.
      const records = await until(
        'a resolved dispute for every fraudulent epoch',
        async () => {
          const all = wrongEpochs(serve?.out() ?? '');
          const list = await store.list();
          const done = all.every((e) => list.some((r) => r.epoch === e && r.state === 'resolved'));
          return done && list.every((r) => r.state === 'resolved') ? list : undefined;
        },
        150_000,
      );
      const all = wrongEpochs(serve?.out() ?? '');
      expect(all.slice(0, wrong.length)).toEqual(wrong);
      // One dispute per fraudulent epoch, none for the others.
      expect(records.map((r) => r.epoch).sort((a, b) => Number(a - b))).toEqual(all);

      for (const rec of records) {
        expect(rec.outcome, rec.id).toBe('operator-slashed');
        const events = await store.events(rec.id);
        // A complete history: numbered from 1 without a gap, each state change leaving the state the
        // one before it entered, from detected to resolved.
        expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
        const moves = events.filter((e) => e.to !== undefined);
        expect(moves[0]?.to).toBe('detected');
        expect(moves.at(-1)?.to).toBe('resolved');
        for (let i = 1; i < moves.length; i++) expect(moves[i]?.from, rec.id).toBe(moves[i - 1]?.to);
        expect(moves.filter((e) => e.to === 'challenged')).toHaveLength(1);
        // One challenge built for it across the three processes, and that one is on the chain.
        expect(
          events.filter((e) => e.type === 'challenge-built'),
          rec.id,
        ).toHaveLength(1);
        const txid = rec.challenge.txid as string;
        expect(txid).toMatch(/^[0-9a-f]{64}$/);
        const tx = await bitcoinRpc<{ confirmations?: number }>('getrawtransaction', [txid, true]);
        expect(tx.confirmations ?? 0).toBeGreaterThan(0);
      }
      // From the processes' side: each challenge was sent once by one of them, and none was refused.
      expect(await metricSum('vigil_broadcasts_total', ['tx="challenge"', 'result="sent"'])).toBe(
        records.length,
      );
      expect(await metricSum('vigil_broadcasts_total', ['tx="challenge"', 'result="rejected"'])).toBe(0);
    } finally {
      await closeRedis(redis);
    }

    for (const w of watchers) expect(await stopVigil(w)).toBe(0);
    expect(await stopVigil(serve)).toBe(0);
  }, 240_000);
});
