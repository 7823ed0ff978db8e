/**
 * `vigil devnet serve` and several `vigil watch` processes on one Redis Cluster, driven from the outside
 * (issue #21): what test/daemon/cluster-story.test.ts and cluster-failover.long.test.ts share. The
 * processes are real (bin/vigil.js), the cluster too (test/support/redis-cluster.ts); each watcher gets
 * its own HTTP port through VIGIL_HTTP_PORT and otherwise the config serve wrote.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { DisputeRecord, DisputeStore } from '../../src/dispute/records/store.ts';
import { freePort, type Proc, repoRun, startVigil, stopVigil, until } from '../cli/child-process.ts';
import { runCli } from '../cli/run-cli.ts';

export type ClusterDevnet = {
  dir: string;
  serve: Proc;
  watchers: Proc[];
  /** Each watcher's HTTP port (/healthz, /metrics), in the order of `watchers`. */
  ports: number[];
  /** The key prefix serve wrote into the watch config (`{vigil-devnet-<id>}`). */
  prefix: string;
  /** `vigil devnet fault <name>` on the served network. */
  fault(name: string): Promise<void>;
  /** The sum over every watcher of a metric's samples whose labels include each of `labels`. */
  metricSum(name: string, labels: string[]): Promise<number>;
  /** A call to the served Bitcoin chain, through the Core RPC front the watch config names. */
  bitcoinRpc<T>(method: string, params?: unknown[]): Promise<T>;
  /** Epochs the served operator committed wrong so far, from its story. */
  wrongEpochs(): bigint[];
  /**
   * SIGTERMs every process; the exit codes, watchers first. A process still running `killAfterMs`
   * later is SIGKILLed and shows as 'killed', so a hung shutdown fails an assertion instead of
   * leaving processes behind.
   */
  stop(killAfterMs?: number): Promise<(number | null | undefined | 'killed')[]>;
};

/** Starts serve on `redisUrl` and `watchers` watch processes, then switches fault `fault` on. */
export async function startClusterDevnet(o: {
  redisUrl: string;
  watchers: number;
  fault: string;
  bitcoinBlockMs: number;
}): Promise<ClusterDevnet> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cluster-devnet-'));
  const ports = await Promise.all(Array.from({ length: o.watchers }, () => freePort()));
  const configFile = join(dir, 'watch.yaml');
  const serve = startVigil(
    repoRun(),
    [
      'devnet',
      'serve',
      '--dir',
      dir,
      '--l2-block-ms',
      '150',
      '--bitcoin-block-ms',
      String(o.bitcoinBlockMs),
      '--redis-url',
      o.redisUrl,
      '--watch-http-port',
      String(ports[0]),
    ],
    { group: true },
  );
  const watchers: Proc[] = [];
  const stopOne = async (p: Proc, killAfterMs: number) => {
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<'killed'>((resolve) => {
      timer = setTimeout(() => {
        p.child.kill('SIGKILL');
        resolve('killed');
      }, killAfterMs);
    });
    try {
      return await Promise.race([stopVigil(p), killed]);
    } finally {
      clearTimeout(timer);
    }
  };
  const stop = async (killAfterMs = 60_000) => {
    const codes = await Promise.all(watchers.map((w) => stopOne(w, killAfterMs)));
    codes.push(await stopOne(serve, killAfterMs));
    rmSync(dir, { recursive: true, force: true });
    return codes;
  };
  const fault = async (name: string) => {
    const r = await runCli(['devnet', 'fault', name, '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
  };
  try {
    await until('serve to print the watch command', async () =>
      serve.out().includes('watch it from another terminal') ? true : undefined,
    );
    const config = readFileSync(configFile, 'utf8');
    expect(config).toContain(`url: ${o.redisUrl}`);
    const prefix = /keyPrefix: "?([^"\n]+)"?/.exec(config)?.[1] as string;
    expect(prefix).toMatch(/^\{vigil-devnet-[^}]+\}$/);
    for (const port of ports) {
      const how = repoRun();
      watchers.push(
        startVigil({ ...how, env: { ...how.env, VIGIL_HTTP_PORT: String(port) } }, [
          'watch',
          '--config',
          configFile,
        ]),
      );
    }
    for (const port of ports) {
      await until(`/healthz 200 on port ${port}`, async () =>
        (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200 ? true : undefined,
      );
    }
    // Only now: a fraudulent claim made before any watcher runs could see its challenge window close
    // on a loaded machine, which says nothing about the cluster.
    await fault(o.fault);
    return {
      dir,
      serve,
      watchers,
      ports,
      prefix,
      fault,
      async metricSum(name, labels) {
        let sum = 0;
        for (const port of ports) {
          const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          for (const line of body.split('\n')) {
            if (line.startsWith(`${name}{`) && labels.every((l) => line.includes(l)))
              sum += Number(line.split(' ').at(-1));
          }
        }
        return sum;
      },
      async bitcoinRpc<T>(method: string, params: unknown[] = []) {
        const url = /url: (http:\/\/127\.0\.0\.1:\d+)/.exec(readFileSync(configFile, 'utf8'))?.[1] as string;
        const password = readFileSync(join(dir, 'bitcoin-rpc.password'), 'utf8').trim();
        const res = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`vigil:${password}`).toString('base64')}` },
          body: JSON.stringify({ jsonrpc: '1.0', id: 1, method, params }),
        });
        const body = (await res.json()) as { result: T; error: unknown };
        if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
        return body.result;
      },
      wrongEpochs: () =>
        [
          ...serve.out().matchAll(/L2: epoch (\d+) ended at block \d+; the operator commits \S+ \(WRONG/g),
        ].map((m) => BigInt(m[1] as string)),
      stop,
    };
  } catch (err) {
    const said = serve.out().slice(-3000);
    await stop();
    throw new Error(`${(err as Error).message}\nserve said:\n${said}`);
  }
}

/** Waits until every fraudulent epoch serve printed has a dispute and every dispute is resolved. */
export function allResolved(
  net: ClusterDevnet,
  store: DisputeStore,
  timeoutMs: number,
): Promise<DisputeRecord[]> {
  return until(
    'a resolved dispute for every fraudulent epoch',
    async () => {
      const wrong = net.wrongEpochs();
      const list = await store.list();
      const done = wrong.every((e) => list.some((r) => r.epoch === e && r.state === 'resolved'));
      return done && list.every((r) => r.state === 'resolved') ? list : undefined;
    },
    timeoutMs,
  ).catch(async (err: Error) => {
    // Where each unresolved dispute stands, and its history: what a failed run must say.
    const all = await store.list();
    const open = all.filter((r) => r.state !== 'resolved');
    const told = await Promise.all(
      open.map(async (r) => {
        const events = (await store.events(r.id)).map((e) => `${e.seq}:${e.type}${e.to ? `→${e.to}` : ''}`);
        return `${r.id} ${r.state} (challenge ${r.challenge.txid ?? 'none'} by ${r.challenge.by ?? '?'}): ${events.join(' ')}`;
      }),
    );
    const missing = net.wrongEpochs().filter((e) => !all.some((r) => r.epoch === e));
    throw new Error(
      `${err.message}; unresolved: ${told.join('; ') || 'none'}; fraudulent epochs without a dispute: ${missing.join(', ')}`,
    );
  });
}

/**
 * What one process on one Redis gives: one dispute per fraudulent epoch, each resolved with the
 * operator slashed, a history numbered without a gap from `detected` to `resolved` with one
 * challenge built and that challenge confirmed on the chain; across the watchers each challenge sent
 * once and none refused.
 */
export async function expectEndsAsOnOneRedis(
  net: ClusterDevnet,
  store: DisputeStore,
  records: readonly DisputeRecord[],
): Promise<void> {
  expect(records.map((r) => r.epoch).sort((a, b) => Number(a - b))).toEqual(net.wrongEpochs());
  for (const rec of records) {
    expect(rec.outcome, rec.id).toBe('operator-slashed');
    const events = await store.events(rec.id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const moves = events.filter((e) => e.to !== undefined);
    expect(moves[0]?.to).toBe('detected');
    expect(moves.at(-1)?.to).toBe('resolved');
    for (let i = 1; i < moves.length; i++) expect(moves[i]?.from, rec.id).toBe(moves[i - 1]?.to);
    expect(moves.filter((e) => e.to === 'challenged')).toHaveLength(1);
    expect(
      events.filter((e) => e.type === 'challenge-built'),
      rec.id,
    ).toHaveLength(1);
    const txid = rec.challenge.txid as string;
    expect(txid).toMatch(/^[0-9a-f]{64}$/);
    const tx = await net.bitcoinRpc<{ confirmations?: number }>('getrawtransaction', [txid, true]);
    expect(tx.confirmations ?? 0).toBeGreaterThan(0);
  }
  expect(await net.metricSum('vigil_broadcasts_total', ['tx="challenge"', 'result="sent"'])).toBe(
    records.length,
  );
  expect(await net.metricSum('vigil_broadcasts_total', ['tx="challenge"', 'result="rejected"'])).toBe(0);
}
