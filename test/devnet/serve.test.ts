/**
 * The operator's two-terminal flow (issue #19), asserted from the outside only: `vigil devnet serve` in
 * one process, `vigil watch --config <the generated file>` in another, the fault switched on and off with
 * `vigil devnet fault`. What the test reads is what an operator reads: `vigil disputes list`, /metrics,
 * /healthz, exit codes and the served directory. Real anvil, the simnet behind its Core-RPC front, real
 * Redis.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis } from '../../src/devnet/private-redis.ts';
import type { ReplayResult } from '../../src/replay/result.ts';
import { connectRedis, deleteKeysByPrefix } from '../../src/store/redis.ts';
import {
  freePort,
  type Proc,
  repoRun,
  startVigil,
  stopVigil,
  stopVigilWithin,
  until,
} from '../cli/child-process.ts';
import { runCli } from '../cli/run-cli.ts';

const REDIS_URL = process.env.VIGIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const FAULT = 'commission-not-taken';

let dir: string;
let port: number;
let serve: Proc | undefined;
let watch: Proc | undefined;

const configFile = () => join(dir, 'watch.yaml');
const serveArgs = () => [
  'devnet',
  'serve',
  '--dir',
  dir,
  // Slow enough to leave the other test files of a 2-core run their share of the machine.
  '--l2-block-ms',
  '150',
  // Six-block windows (regtest's graph parameters) must outlast a daemon restart, also on a loaded
  // 2-core machine: 12 s (at 1 s a block, one run under load restarted too slowly and the operator
  // was rightly vindicated by the timeout).
  '--bitcoin-block-ms',
  '2000',
  '--redis-url',
  REDIS_URL,
  '--watch-http-port',
  String(port),
];

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function get(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** The sum of a metric's samples whose labels include `labels` (0 when absent). */
async function metric(name: string, labels = ''): Promise<number> {
  const { body } = await get('/metrics');
  let sum = 0;
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

type DisputeRow = { id: string; epoch: string; state: string; outcome?: string };
/** The dispute the fault test saw resolved, replayed by the next test. */
let resolvedDispute: DisputeRow | undefined;

async function disputes(): Promise<DisputeRow[]> {
  const r = await runCli(['disputes', 'list', '--config', configFile(), '--json']);
  if (r.code !== 0) throw new Error(`vigil disputes list exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as DisputeRow[];
}

/** The served Bitcoin chain, through the Core RPC front the generated config names. */
async function bitcoinRpc<T>(method: string, params: unknown[] = []): Promise<T> {
  const config = readFileSync(configFile(), 'utf8');
  const url = /url: (http:\/\/127\.0\.0\.1:\d+)/.exec(config)?.[1] as string;
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

async function startServe(): Promise<Proc> {
  const p = startVigil(repoRun(), serveArgs(), { group: true });
  await until('serve to print the watch command', async () =>
    p.out().includes('watch it from another terminal') ? true : undefined,
  );
  return p;
}

async function startWatch(): Promise<Proc> {
  const p = startVigil(repoRun(), ['watch', '--config', configFile()]);
  await until('/healthz 200', async () => ((await get('/healthz')).status === 200 ? true : undefined));
  return p;
}

/** Epochs the served operator committed right, from its story. */
function rightEpochs(text: string): bigint[] {
  return [...text.matchAll(/L2: epoch (\d+) ended at block \d+; the operator commits \S+ \(right\)/g)].map(
    (m) => BigInt(m[1] as string),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-serve-'));
  port = await freePort();
});

afterAll(async () => {
  await stopVigilWithin(watch, 90_000);
  await stopVigilWithin(serve, 90_000);
  try {
    const record = JSON.parse(readFileSync(join(dir, 'serve.json'), 'utf8')) as { id: string };
    const redis = await connectRedis(REDIS_URL, { role: 'command', name: 'vigil:test' });
    await deleteKeysByPrefix(redis, `{vigil-devnet-${record.id}}`);
    redis.disconnect();
  } catch {
    // nothing was created
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('vigil devnet serve + vigil watch in two processes', () => {
  it('writes a watch config the daemon starts from, with its secrets in 0600 files', async () => {
    serve = await startServe();
    // The operator's seed is written when the operator starts, just after the watch command is printed.
    await until('the operator seed file', async () =>
      existsSync(join(dir, 'operator-wots.seed')) ? true : undefined,
    );
    for (const secret of ['watcher.key', 'bitcoin-rpc.password', 'operator-wots.seed']) {
      expect(statSync(join(dir, secret)).mode & 0o777, secret).toBe(0o600);
    }
    const check = await runCli(['config', 'check', '--config', configFile(), '--probe']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const address = await runCli(['wallet', 'balance', '--config', configFile(), '--json']);
    expect(address.code, address.stderr).toBe(0);
    expect(BigInt((JSON.parse(address.stdout) as { spendable: string }).spendable)).toBeGreaterThan(0n);
    watch = await startWatch();
  }, 120_000);

  it('judges the honest epochs valid and accuses no one', async () => {
    await until('two valid verdicts', async () =>
      (await metric('vigil_verdicts_total', 'outcome="valid"')) >= 2 ? true : undefined,
    );
    expect(await disputes()).toEqual([]);
  }, 150_000);

  it('a fault injected while it runs: the daemon challenges, and survives a restart mid-dispute', async () => {
    const on = await runCli(['devnet', 'fault', FAULT, '--dir', dir]);
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toContain(`fault ${FAULT}`);
    await until('a dispute', async () => (await disputes())[0]);
    // This process judged the epoch (a restarted one starts its counters at zero), and shows the
    // deadline an open dispute races (a resolved one leaves no deadline series behind).
    expect(await metric('vigil_verdicts_total', 'outcome="fraud"')).toBeGreaterThan(0);
    await until('an open dispute’s deadline on /metrics', async () =>
      /^vigil_dispute_deadline_blocks_left\{dispute="e\d+-/m.test((await get('/metrics')).body)
        ? true
        : undefined,
    );
    // SIGTERM mid-dispute: a clean exit, then a new process picks the dispute up. The fault bites every
    // epoch, so disputes keep opening; one early in its life is picked. A graceful stop lets in-flight
    // jobs finish, so it may still end before the stop does: then the next one is tried.
    const early = new Set(['detected', 'challenged', 'confirmed']);
    let target: DisputeRow | undefined;
    for (let attempt = 0; attempt < 3 && target === undefined; attempt++) {
      const picked = await until('a dispute early in its life', async () =>
        (await disputes()).find((d) => early.has(d.state)),
      );
      expect(await stopVigil(watch)).toBe(0);
      const atStop = (await disputes()).find((d) => d.id === picked.id);
      if (atStop?.state !== 'resolved') target = picked;
      watch = await startWatch();
    }
    if (target === undefined) throw new Error('every picked dispute ended before the daemon stopped');
    const id = target.id;
    const resolved = await until(
      `dispute ${id} resolved`,
      async () => (await disputes()).find((d) => d.id === id && d.state === 'resolved'),
      180_000,
    );
    expect(resolved.outcome).toBe('operator-slashed');
    resolvedDispute = resolved;
    // The new process exports the dispute counts once it has polled.
    await until('the dispute series on /metrics', async () =>
      /^vigil_disputes\{state="resolved"\} [1-9]/m.test((await get('/metrics')).body) ? true : undefined,
    );
  }, 400_000);

  it('a resolved dispute: exported from the records and fetched from the running chains, both bundles replay to the same result', async () => {
    const d = resolvedDispute;
    if (d === undefined) throw new Error('the previous test resolved no dispute');
    const exported = join(dir, 'bundle-exported.json');
    const fetched = join(dir, 'bundle-fetched.json');
    const ex = await runCli(['disputes', 'export', d.id, '--config', configFile(), '-o', exported]);
    expect(ex.code, ex.stderr).toBe(0);
    const fe = await runCli(['replay', 'fetch', '--config', configFile(), '--epoch', d.epoch, '-o', fetched]);
    expect(fe.code, fe.stderr).toBe(0);
    const replay = async (file: string) => {
      const r = await runCli(['replay', file, '--json']);
      // A fraudulent epoch is a negative answer: exit 1, with the whole result on stdout.
      expect(r.code, r.stderr).toBe(1);
      return JSON.parse(r.stdout) as ReplayResult;
    };
    const a = await replay(exported);
    const b = await replay(fetched);
    expect(a.verdict.outcome).toBe('fraud');
    // The diagnosis is written to the record after the open job; under load it may be missing (named, not compared).
    expect(a.agreement).toMatchObject({ compared: true, agrees: true, differences: [] });
    expect(a.chainChecksOk).toBe(true);
    expect(b.chainChecksOk).toBe(true);
    expect(b.verdict).toEqual(a.verdict);
    expect(b.divergence).toEqual(a.divergence);
    expect(b.checkpoints.disproveStep).toBe(a.checkpoints.disproveStep);
    expect(b.transactions.map((t) => t.txid)).toEqual(a.transactions.map((t) => t.txid));
    // Deterministic: a second run prints the same bytes.
    const again = await runCli(['replay', exported, '--json']);
    expect(again.stdout).toBe(`${JSON.stringify(a, null, 2)}\n`);
  }, 120_000);

  it('with the fault switched off, the following epochs are valid again', async () => {
    const switchedAt = serve?.out().length ?? 0;
    const off = await runCli(['devnet', 'fault', 'none', '--dir', dir]);
    expect(off.code, off.stderr).toBe(0);
    const right = await until('two epochs committed right after the switch', async () => {
      const epochs = rightEpochs(serve?.out().slice(switchedAt) ?? '');
      return epochs.length >= 2 ? epochs : undefined;
    });
    const valid = await metric('vigil_verdicts_total', 'outcome="valid"');
    await until('the daemon judged them', async () =>
      (await metric('vigil_verdicts_total', 'outcome="valid"')) >= valid + 1 ? true : undefined,
    );
    const disputed = new Set((await disputes()).map((d) => BigInt(d.epoch)));
    for (const e of right) expect(disputed.has(e), `epoch ${e} disputed`).toBe(false);
  }, 200_000);

  it('serve interrupted: /healthz names the L2; restarted on the same directory it resumes the same network', async () => {
    const record = readFileSync(join(dir, 'serve.json'), 'utf8');
    // Stopped in the middle of a dispute: the resumed operator must follow its earlier claim again.
    expect((await runCli(['devnet', 'fault', FAULT, '--dir', dir])).code).toBe(0);
    // Any dispute still open will do: 'detected' alone lasts a fraction of a second, shorter than one
    // `vigil disputes list` on a loaded machine, so a poll for it alone can miss every one.
    const open = await until('a dispute not resolved yet', async () =>
      (await disputes()).find((d) => d.state !== 'resolved'),
    );
    const before = await disputes();
    const height = await bitcoinRpc<number>('getblockcount');
    const hashes = await Promise.all(
      [1, Math.floor(height / 2), height].map((h) => bitcoinRpc<string>('getblockhash', [h])),
    );
    // Ctrl-C as a terminal sends it: SIGINT to the whole foreground process group.
    const l2Port = (JSON.parse(record) as { ports: { l2: number } }).ports.l2;
    const exited = serve?.exited;
    process.kill(-(serve?.child.pid as number), 'SIGINT');
    expect(await exited).toBe(0);
    // serve exits only once anvil has saved its state and let go of its port.
    expect(await listening(l2Port)).toBe(false);
    const down = await until('/healthz 503 naming l2', async () => {
      const h = await get('/healthz');
      return h.status === 503 && (JSON.parse(h.body) as { unhealthy: string[] }).unhealthy.includes('l2')
        ? h
        : undefined;
    });
    expect(down.body).toContain('"l2"');
    // Changed while nothing is served: it applies once serve is back.
    expect((await runCli(['devnet', 'fault', 'none', '--dir', dir])).code).toBe(0);
    serve = await startServe();
    expect(serve.out()).toContain(`resumed the devnet in ${dir}`);
    expect(readFileSync(join(dir, 'serve.json'), 'utf8')).toBe(record);
    // The same Bitcoin chain, block for block, growing on from where it stopped.
    const again = await Promise.all(
      [1, Math.floor(height / 2), height].map((h) => bitcoinRpc<string>('getblockhash', [h])),
    );
    expect(again).toEqual(hashes);
    await until('/healthz 200 again', async () =>
      (await get('/healthz')).status === 200 ? true : undefined,
    );
    // The same chains: the disputes the daemon knew are still there and all end resolved.
    const after = await until(
      'every dispute resolved',
      async () => {
        const rows = await disputes();
        return rows.every((d) => d.state === 'resolved') ? rows : undefined;
      },
      180_000,
    );
    for (const d of before) expect(after.map((a) => a.id)).toContain(d.id);
    // The dispute open at the stop ended with the operator slashed, and the resumed operator played it.
    expect(after.find((d) => d.id === open.id)?.outcome).toBe('operator-slashed');
    // The resumed operator replays its claims from the chain; its line for that epoch may come a block
    // after the watcher recorded the end (two processes), so it is waited for, not read at once.
    const line = new RegExp(`operator: epoch ${open.epoch}: `);
    await until(`the resumed operator's line for epoch ${open.epoch}`, async () =>
      line.test(serve?.out() ?? '') ? true : undefined,
    );
    const valid = await metric('vigil_verdicts_total', 'outcome="valid"');
    await until('a new epoch judged valid after the restart', async () =>
      (await metric('vigil_verdicts_total', 'outcome="valid"')) > valid ? true : undefined,
    );
  }, 500_000);

  it('a daemon whose Redis went away still exits on SIGTERM (it stayed alive, its work stopped)', async () => {
    const privateRedis = await startPrivateRedis();
    const httpPort = await freePort();
    const how = repoRun();
    const env = {
      ...how.env,
      VIGIL_REDIS_URL: privateRedis.url,
      VIGIL_HTTP_PORT: String(httpPort),
      VIGIL_SHUTDOWN_GRACE_MS: '2000',
    };
    const p = startVigil({ ...how, env }, ['watch', '--config', configFile()]);
    try {
      // Started (readiness), not only alive (health answers while the watcher's preflight runs): the
      // signal must reach a running daemon. A daemon that exits first fails the test with its output.
      const ready = until(
        'the second daemon /readyz 200',
        async () => {
          const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => undefined);
          return res?.status === 200 ? true : undefined;
        },
        100_000,
      );
      await Promise.race([
        ready,
        p.exited.then((code) => {
          throw new Error(`the second daemon exited (${code}) before it was ready:\n${p.out()}`);
        }),
      ]);
      await privateRedis.stop();
      // The daemon's grace period is 2 s: it must be gone well within 30 s.
      const code = await stopVigilWithin(p, 30_000);
      expect([0, 1], p.out()).toContain(code);
      expect(p.out()).toMatch(/shutting down/);
    } finally {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await privateRedis.stop();
    }
  }, 180_000);

  it('both processes exit 0 on SIGTERM', async () => {
    expect(await stopVigil(watch)).toBe(0);
    expect(await stopVigil(serve)).toBe(0);
  }, 120_000);
});
