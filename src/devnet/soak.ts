/**
 * The soak (issue #21): Vigil's daemon run for thousands of epochs against a served devnet, its memory
 * and Redis's sampled as it goes, judged flat or not (soak-analysis.ts).
 *
 * Everything runs as it would for a user, as separate processes: `vigil devnet serve` (anvil, the simnet
 * behind its Core-RPC front, the operator) and `vigil watch --config <the generated file>` in mode
 * challenge, on a Redis of the soak's own (a private `redis-server` unless one is named), so Redis's
 * memory and key count are the daemon's alone. A seeded schedule makes about one epoch in `faultEvery`
 * faulty through `vigil devnet fault --from-epoch e --to-epoch e`: the operator claims a wrong root for
 * that epoch alone, and the daemon must challenge it and see it slashed, while every other epoch is
 * claimed right and must never be accused.
 *
 * Every `sampleEvery` judged epochs it reads the daemon's VmRSS (/proc), its V8 heap (/metrics), Redis's
 * `used_memory` and key count. At the end: every claimed epoch judged, one dispute per faulty epoch
 * resolved with the operator slashed, none for an honest one, no L2 execution fault reported against the
 * served L2 (it runs the rules), and the memory series flat after warm-up.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startPrivateRedis } from './private-redis.ts';
import {
  faultyEpochs,
  formatSample,
  judgeSoak,
  type SoakBounds,
  type SoakSample,
  type SoakVerdict,
} from './soak-analysis.ts';

export type SoakOptions = {
  epochs: number;
  seed?: number;
  /** Inputs per epoch of the served workload (default 6: short epochs, so thousands fit in minutes). */
  epochLength?: number;
  /** About one epoch in this many is faulty (default 25). */
  faultEvery?: number;
  /** The catalogue fault a faulty epoch is claimed with (default commission-not-taken). */
  fault?: string;
  /** Sample every this many judged epochs (default 100). */
  sampleEvery?: number;
  /** Time between two L2 blocks (default 5 ms). */
  l2BlockMs?: number;
  /**
   * Time between two Bitcoin blocks (default 2000 ms). Regtest's dispute windows are six blocks: the
   * daemon must judge and challenge inside six of these, and serve claims up to 20 epochs a block.
   */
  bitcoinBlockMs?: number;
  /** A Redis for the soak alone (default: a private redis-server). Its whole database is measured. */
  redisUrl?: string;
  bounds?: Partial<SoakBounds>;
  /** Give up after this long (default: 3 s per epoch + 10 min). */
  timeoutMs?: number;
  say?: (line: string) => void;
};

export type SoakReport = {
  ok: boolean;
  problems: string[];
  epochs: number;
  judged: number;
  faultyPlanned: number[];
  /** Epochs the operator actually claimed wrong (from serve's story). */
  faultyClaimed: number[];
  disputes: { epoch: string; state: string; outcome?: string }[];
  samples: SoakSample[];
  /** Redis's keys at the end by shape, largest first. */
  keyGroups: { pattern: string; keys: number; bytes: number }[];
  verdict: SoakVerdict;
  seconds: number;
};

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const VIGIL = join(REPO, 'bin', 'vigil.js');
const MIB = 1024 * 1024;

/** Default bounds: a leak of 8 KiB per epoch of RSS, or 1 KiB per epoch in Redis, fails the soak. */
export const DEFAULT_SOAK_BOUNDS = (epochs: number, sampleEvery: number): SoakBounds => ({
  warmupEpochs: Math.max(3 * sampleEvery, Math.floor(epochs / 5)),
  maxRssSlope: 8 * MIB,
  maxRedisSlope: 1 * MIB,
  maxKeySlope: 100,
});

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

type Proc = {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  pid(): number | undefined;
};

/**
 * Runs `node bin/vigil.js …` under a shell guard that holds a pipe from this process: when the soak
 * ends in any way (an exit, a crash, SIGKILL of its test runner) the pipe closes and the guard stops the
 * vigil process, so no served devnet or daemon outlives the soak. The guard tells the vigil pid first.
 */
const GUARD = [
  'node="$1"; shift',
  '"$node" "$@" </dev/null &',
  'pid=$!',
  'echo "vigil-pid $pid"',
  // A background list's stdin is /dev/null in sh: read our pipe through a saved descriptor.
  'exec 3<&0',
  '{ cat <&3 >/dev/null; kill -TERM $pid 2>/dev/null; } &',
  "trap 'kill -TERM $pid 2>/dev/null' TERM INT HUP",
  'code=0',
  'while kill -0 $pid 2>/dev/null; do wait $pid; code=$?; done',
  'exit $code',
].join('\n');

/** A vigil process whose every output line goes to `logFile`; the last few hundred are kept in memory. */
function startVigil(args: string[], logFile: string, onLine: (line: string) => void): Proc {
  const child = spawn('/bin/sh', ['-c', GUARD, 'vigil-guard', process.execPath, VIGIL, ...args], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  // A full disk must not end the soak (it did, once, at epoch 1,500 of 2,000, leaving the daemon behind):
  // the log stops, the run goes on, and the last lines stay in memory.
  let logFailed = false;
  log.on('error', (err) => {
    if (!logFailed) onLine(`soak: writing ${logFile} failed (${err.message}); its log stops here`);
    logFailed = true;
  });
  const lines: string[] = [];
  let vigilPid: number | undefined;
  let partial = '';
  const feed = (chunk: Buffer) => {
    if (!logFailed) log.write(chunk);
    partial += chunk.toString('utf8');
    for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      const pid = /^vigil-pid (\d+)$/.exec(line);
      if (pid && vigilPid === undefined) {
        vigilPid = Number(pid[1]);
        continue;
      }
      lines.push(line);
      if (lines.length > 400) lines.shift();
      onLine(line);
    }
  };
  child.stdout?.on('data', feed);
  child.stderr?.on('data', feed);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      log.end();
      resolve(code);
    }),
  );
  return { child, lines, exited, pid: () => vigilPid };
}

async function stopProc(p: Proc | undefined, timeoutMs = 60_000): Promise<void> {
  if (p === undefined || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    const pid = p.pid();
    try {
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }, timeoutMs);
  await p.exited;
  clearTimeout(timer);
  p.child.stdin?.end();
}

function runVigil(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VIGIL, ...args], { cwd: REPO, env: process.env });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.once('exit', (code) => resolve({ code, out }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sum of a Prometheus metric's samples whose label set contains `labels`. */
function metricValue(body: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

function rssOf(pid: number): number {
  if (!Number.isInteger(pid)) throw new Error('the daemon process did not tell its pid');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

type RedisMemory = {
  used: number;
  keys: number;
  historyBytes: number;
  historyKeys: number;
  journalBytes: number;
};

/** A dispute record and its lists (src/dispute/records/store.ts): `<p>:dispute:<id>[:events|:applied]`. */
const HISTORY_KEY = /:dispute:[^:]+(:events|:applied)?$/;
const JOURNAL_KEY = /:l2:journal$/;

/** Every key of the soak's own database (a SCAN: a few hundred keys). */
async function* everyKey(redis: Redis): AsyncGenerator<string> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    yield* keys;
  } while (cursor !== '0');
}

/** A key's exact memory (SAMPLES 0: the default samples five fields of a hash and extrapolates). */
async function usage(redis: Redis, key: string): Promise<number> {
  return Number((await redis.memory('USAGE', key, 'SAMPLES', 0)) ?? 0);
}

/**
 * Redis's memory and keys, and how much of it is the dispute history and the L2 journal. The soak owns
 * its database, so a SCAN over it is a few hundred keys; MEMORY USAGE with SAMPLES 0 is exact (its
 * default samples five fields of a hash and extrapolates, which for a dispute record is off 7×).
 */
async function redisMemory(redis: Redis): Promise<RedisMemory> {
  const info = await redis.info('memory');
  const m = /^used_memory:(\d+)/m.exec(info);
  const out: RedisMemory = {
    used: Number(m?.[1] ?? Number.NaN),
    keys: await redis.dbsize(),
    historyBytes: 0,
    historyKeys: 0,
    journalBytes: 0,
  };
  for await (const key of everyKey(redis)) {
    const history = HISTORY_KEY.test(key);
    if (!history && !JOURNAL_KEY.test(key)) continue;
    const bytes = await usage(redis, key);
    if (history) {
      out.historyBytes += bytes;
      out.historyKeys++;
    } else {
      out.journalBytes += bytes;
    }
  }
  return out;
}

/** Redis's keys at the end, grouped by shape (ids and numbers as `*`): what a growing key count is. */
async function keyGroups(redis: Redis): Promise<{ pattern: string; keys: number; bytes: number }[]> {
  const groups = new Map<string, { keys: number; bytes: number }>();
  for await (const key of everyKey(redis)) {
    const pattern = key.replace(/[0-9a-f]{8,}|\d+/g, '*');
    const g = groups.get(pattern) ?? { keys: 0, bytes: 0 };
    g.keys++;
    g.bytes += await usage(redis, key);
    groups.set(pattern, g);
  }
  return [...groups].map(([pattern, g]) => ({ pattern, ...g })).sort((a, b) => b.bytes - a.bytes);
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const say = o.say ?? (() => {});
  const started = Date.now();
  const seed = o.seed ?? 1;
  const sampleEvery = o.sampleEvery ?? 100;
  const fault = o.fault ?? 'commission-not-taken';
  const bounds = { ...DEFAULT_SOAK_BOUNDS(o.epochs, sampleEvery), ...o.bounds };
  const timeoutMs = o.timeoutMs ?? o.epochs * 3000 + 600_000;
  // Epoch 0 has no rewards yet for most faults to bite on: start the schedule at 2.
  const planned = faultyEpochs({ seed, epochs: o.epochs, every: o.faultEvery ?? 25, gap: 3, from: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'vigil-soak-'));
  // The processes' logs outlive a failed soak: they are what explains it.
  const logs = mkdtempSync(join(tmpdir(), 'vigil-soak-logs-'));
  let keepLogs = true;
  const privateRedis = o.redisUrl === undefined ? await startPrivateRedis() : undefined;
  const redisUrl = o.redisUrl ?? (privateRedis?.url as string);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  let serve: Proc | undefined;
  let watch: Proc | undefined;
  const samples: SoakSample[] = [];
  const problems: string[] = [];
  const ended = new Set<number>();
  const claimedWrong = new Set<number>();
  /** Epochs the operator claimed on Bitcoin: what the daemon must judge. */
  const claimed = new Set<number>();
  try {
    await redis.connect();
    const port = await freePort();
    say(
      `soak: ${o.epochs} epochs, seed ${seed}, ${planned.length} faulty (${fault}), samples every ${sampleEvery}`,
    );
    serve = startVigil(
      [
        'devnet',
        'serve',
        '--dir',
        dir,
        '--epochs',
        String(o.epochs),
        '--seed',
        String(seed),
        '--epoch-length',
        String(o.epochLength ?? 6),
        '--l2-block-ms',
        String(o.l2BlockMs ?? 5),
        '--bitcoin-block-ms',
        String(o.bitcoinBlockMs ?? 2000),
        // A soak never resumes: anvil's saves need only the newest state, and seldom.
        '--l2-saved-states',
        'last',
        '--l2-state-interval',
        '120',
        '--redis-url',
        redisUrl,
        '--watch-http-port',
        String(port),
      ],
      join(logs, 'serve.log'),
      (line) => {
        const c = /^bitcoin: epoch (\d+) claimed/.exec(line);
        if (c) claimed.add(Number(c[1]));
        const e = /^L2: epoch (\d+) ended at block \d+; the operator commits \S+ \((WRONG|right)/.exec(line);
        if (e) {
          ended.add(Number(e[1]));
          if (e[2] === 'WRONG') claimedWrong.add(Number(e[1]));
        }
      },
    );
    const config = join(dir, 'watch.yaml');
    const deadline = started + timeoutMs;
    const until = async <T>(what: string, probe: () => Promise<T | undefined>, everyMs = 500): Promise<T> => {
      for (;;) {
        const v = await probe();
        if (v !== undefined) return v;
        if (serve?.child.exitCode !== null)
          throw new Error(`vigil devnet serve exited while waiting for ${what}`);
        if (watch !== undefined && watch.child.exitCode !== null)
          throw new Error(`vigil watch exited while waiting for ${what}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(everyMs);
      }
    };
    await until('the served devnet', async () =>
      serve?.lines.some((l) => l.startsWith('watch it from another terminal')) ? true : undefined,
    );
    // The fault control names one epoch at a time, set before the L2 ends it.
    let nextFault = 0;
    const armNext = async () => {
      const e = planned[nextFault];
      if (e === undefined) return;
      const r = await runVigil([
        'devnet',
        'fault',
        fault,
        '--dir',
        dir,
        '--from-epoch',
        String(e),
        '--to-epoch',
        String(e),
      ]);
      if (r.code !== 0) throw new Error(`vigil devnet fault exited ${r.code}: ${r.out.trim()}`);
    };
    await armNext();
    watch = startVigil(['watch', '--config', config], join(logs, 'watch.log'), () => {});
    const metrics = async (): Promise<string | undefined> => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`);
        return res.ok ? await res.text() : undefined;
      } catch {
        return undefined;
      }
    };
    await until('the daemon', metrics);
    let nextSample = sampleEvery;
    /** The lowest RSS read since the last sample: one read per turn of this loop (every half second). */
    let rssFloor = Number.POSITIVE_INFINITY;
    let judged = 0;
    let l2Faults = 0;
    for (;;) {
      while (planned[nextFault] !== undefined && ended.has(planned[nextFault] as number)) {
        nextFault++;
        await armNext();
      }
      const body = await until('the daemon metrics', metrics);
      judged = metricValue(body, 'vigil_epochs_judged_total');
      l2Faults = metricValue(body, 'vigil_l2_execution_faults_total');
      const rssBytes = rssOf(watch.pid() ?? Number.NaN);
      rssFloor = Math.min(rssFloor, rssBytes);
      if (judged >= nextSample) {
        const mem = await redisMemory(redis);
        const s: SoakSample = {
          epoch: judged,
          atMs: Date.now() - started,
          rssBytes,
          rssFloorBytes: rssFloor,
          heapLiveBytes: metricValue(body, 'vigil_heap_live_bytes'),
          heapUsedBytes: metricValue(body, 'nodejs_heap_size_used_bytes'),
          heapTotalBytes: metricValue(body, 'nodejs_heap_size_total_bytes'),
          externalBytes: metricValue(body, 'nodejs_external_memory_bytes'),
          settledWotsBytes: metricValue(body, 'vigil_graph_settled_wots_bytes'),
          redisUsedBytes: mem.used,
          redisKeys: mem.keys,
          historyBytes: mem.historyBytes,
          historyKeys: mem.historyKeys,
          journalBytes: mem.journalBytes,
        };
        samples.push(s);
        rssFloor = Number.POSITIVE_INFINITY;
        say(`soak: ${formatSample(s)}`);
        nextSample = (Math.floor(judged / sampleEvery) + 1) * sampleEvery;
      }
      const open =
        metricValue(body, 'vigil_disputes') - metricValue(body, 'vigil_disputes', 'state="resolved"');
      if (ended.size >= o.epochs && judged >= claimed.size && open === 0) break;
      if (Date.now() > deadline) {
        problems.push(
          `timed out: ${ended.size} of ${o.epochs} epochs ended, ${judged} of ${claimed.size} claims judged, ${open} disputes open`,
        );
        break;
      }
      if (serve.child.exitCode !== null)
        throw new Error(`vigil devnet serve exited (${serve.child.exitCode})`);
      if (watch.child.exitCode !== null) throw new Error(`vigil watch exited (${watch.child.exitCode})`);
      await sleep(500);
    }
    const list = await runVigil(['disputes', 'list', '--config', config, '--json']);
    if (list.code !== 0) throw new Error(`vigil disputes list exited ${list.code}: ${list.out.trim()}`);
    const disputes = (JSON.parse(list.out) as { epoch: string; state: string; outcome?: string }[]).map(
      (d) => ({ epoch: d.epoch, state: d.state, ...(d.outcome !== undefined ? { outcome: d.outcome } : {}) }),
    );
    const wrong = [...claimedWrong].sort((a, b) => a - b);
    const disputed = new Map<string, number>();
    for (const d of disputes) disputed.set(d.epoch, (disputed.get(d.epoch) ?? 0) + 1);
    for (const e of wrong) {
      const n = disputed.get(String(e)) ?? 0;
      if (n !== 1) problems.push(`epoch ${e} was claimed wrong and has ${n} disputes (expected 1)`);
    }
    for (const d of disputes) {
      if (!claimedWrong.has(Number(d.epoch)))
        problems.push(`epoch ${d.epoch} was claimed right and was disputed`);
      else if (d.state !== 'resolved' || d.outcome !== 'operator-slashed')
        problems.push(
          `epoch ${d.epoch}'s dispute ended ${d.state}/${d.outcome ?? '-'}, not resolved/operator-slashed`,
        );
    }
    if (wrong.length === 0) problems.push('no epoch was claimed wrong: the fault schedule never bit');
    // The served L2 runs the rules: an execution fault reported against it is a false accusation.
    if (l2Faults > 0)
      problems.push(`${l2Faults} L2 execution faults reported against an L2 that ran the rules`);
    const groups = await keyGroups(redis);
    say(
      `soak: Redis keys at the end: ${groups.map((g) => `${g.pattern} ×${g.keys} ${(g.bytes / 1024).toFixed(0)} KiB`).join(', ')}`,
    );
    const verdict = judgeSoak(samples, bounds);
    problems.push(...verdict.problems);
    keepLogs = problems.length > 0;
    if (keepLogs) say(`soak: the processes' logs are in ${logs}`);
    return {
      ok: problems.length === 0,
      problems,
      epochs: o.epochs,
      judged,
      faultyPlanned: planned,
      faultyClaimed: wrong,
      disputes,
      samples,
      keyGroups: groups,
      verdict,
      seconds: (Date.now() - started) / 1000,
    };
  } catch (err) {
    const tail = (p: Proc | undefined, name: string) =>
      p === undefined ? [] : [`--- last lines of ${name} ---`, ...p.lines.slice(-30)];
    say([...tail(serve, 'vigil devnet serve'), ...tail(watch, 'vigil watch')].join('\n'));
    say(`soak: the processes' logs are in ${logs}`);
    throw err;
  } finally {
    await stopProc(watch);
    await stopProc(serve);
    redis.disconnect();
    await privateRedis?.stop();
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    if (!keepLogs) rmSync(logs, { recursive: true, force: true });
  }
}
