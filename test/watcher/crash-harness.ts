/**
 * The crash harness: a dispute scenario on an in-process simnet (the operator never asserts), watch
 * daemons as child processes (watcher-child.ts) that the harness SIGKILLs at seeded moments of the
 * dispute and restarts like a supervisor would, a miner that keeps producing blocks, and a record of
 * every transaction that ever entered the simnet spending the graph's challenge connector or stake.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { hexOf } from '../../src/bitcoin/simnet/mempool.ts';
import { bytesToHex } from '../../src/core/bytes.ts';
import type { DisputeEvent, DisputeRecord } from '../../src/dispute/records/store.ts';
import { DisputeStore } from '../../src/dispute/records/store.ts';
import { reexecute } from '../../src/governance/index.ts';
import { createRng } from '../../src/governance/workload.ts';
import { DISPUTE_QUEUE } from '../../src/queue/dispute-queue.ts';
import { challengeJobId } from '../../src/queue/job-ids.ts';
import { probeRedis } from '../../src/store/redis.ts';
import { cleanup, type Scenario, scenarioWorkload, startScenario } from '../../testkit/queue/scenario.ts';
import type { ChildConfig } from './watcher-child.ts';

const CHILD = new URL('./watcher-child.ts', import.meta.url).pathname;
/** The label testkit/queue/scenario.ts derives WATCHER_KEY from. */
const WATCHER_LABEL = 'vigil queue test watcher';

/** Where a dispute is, in the order it gets there (a kill is aimed at one of these). */
export const PHASES = [
  'boot',
  'detected',
  'built',
  'challenged',
  'confirmed',
  'timed-out',
  'resolved',
] as const;
export type Phase = (typeof PHASES)[number];

export function phaseOf(rec: DisputeRecord | undefined): Phase {
  if (!rec) return 'boot';
  if (rec.state === 'detected') return rec.challenge.txid === undefined ? 'detected' : 'built';
  if (rec.state === 'challenged' || rec.state === 'confirmed' || rec.state === 'timed-out') return rec.state;
  if (rec.state === 'resolved') return 'resolved';
  throw new Error(`the scenario's operator never asserts, yet the dispute is ${rec.state}`);
}

const rank = (p: Phase): number => PHASES.indexOf(p);

/** One planned SIGKILL: once the dispute reaches `phase`, wait `delayMs`, kill, restart after `downMs`. */
export type Kill = { phase: Exclude<Phase, 'resolved'>; delayMs: number; downMs: number };

/**
 * A seeded plan of 1–3 kills in lifecycle order. Delays are short after `built` (between the
 * write-ahead and the broadcast), up to ~0.5 s after `detected` (challenge building and checks), longer
 * at boot (tsx start-up, the first polls), and within a phase's usual length while tracking.
 */
export function killPlan(seed: number): Kill[] {
  const rng = createRng(seed);
  const n = 1 + Math.floor(rng() * 3);
  const aimable = PHASES.slice(0, -1) as Kill['phase'][];
  // The first kill comes before the challenge confirms, so that every run has at least one: the later
  // phases can all pass within one block.
  const early = aimable.slice(0, rank('challenged') + 1);
  const phases = Array.from({ length: n }, (_, i) => {
    const from = i === 0 ? early : aimable;
    return from[Math.floor(rng() * from.length)] as Kill['phase'];
  });
  phases.sort((a, b) => rank(a) - rank(b));
  const maxDelay: Record<Kill['phase'], number> = {
    boot: 4000,
    detected: 500,
    built: 30,
    challenged: 600,
    confirmed: 250,
    'timed-out': 150,
  };
  return phases.map((phase, i) => ({
    phase,
    // A first kill in `challenged` must land before the next block can settle the whole dispute.
    delayMs: Math.floor(rng() * (i === 0 && phase === 'challenged' ? 100 : maxDelay[phase])),
    downMs: Math.floor(rng() * 500),
  }));
}

export type WatcherProcess = {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves once the child printed `started` (its watcher runs). */
  started: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The wallet address the child derived (compared with the scenario's). */
  address(): string | undefined;
  killedByUs: boolean;
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

/** Spawns one watch daemon; its stderr (JSON logs) goes to `logTail` (last lines, for failure reports). */
export function spawnWatcher(configPath: string, name: string, logTail: string[]): WatcherProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  });
  let out = '';
  let address: string | undefined;
  let onStarted: () => void = () => {};
  const started = new Promise<void>((res) => {
    onStarted = res;
  });
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
    const m = /started (\S+)/.exec(out);
    if (m && address === undefined) {
      address = m[1];
      onStarted();
    }
  });
  let partial = '';
  child.stderr?.on('data', (c: Buffer) => {
    const lines = (partial + c.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) logTail.push(`[${name} ${child.pid}] ${l}`);
    if (logTail.length > 400) logTail.splice(0, logTail.length - 400);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => res({ code, signal })),
  );
  const p: WatcherProcess = {
    name,
    child,
    started,
    exited,
    address: () => address,
    killedByUs: false,
    kill: async (signal) => {
      p.killedByUs = true;
      child.kill(signal);
      return exited;
    },
  };
  return p;
}

/** Every transaction that entered the simnet (mempool or block) spending the kick-off's outputs. */
export type SpendLog = { connector: Set<string>; stake: Set<string> };

function tapSpends(s: Scenario): SpendLog {
  const log: SpendLog = { connector: new Set(), stake: new Set() };
  const mempool = s.sim.chain.mempool;
  const add = mempool.add.bind(mempool);
  mempool.add = (entry, prevouts) => {
    for (const p of prevouts) {
      if (p.txid !== s.kickoff.txid) continue;
      if (p.vout === 0) log.connector.add(entry.txid);
      if (p.vout === 2) log.stake.add(entry.txid);
    }
    return add(entry, prevouts);
  };
  return log;
}

/** Adds the spends found in every block of the active chain (a block never built from the mempool). */
export function scanBlocks(s: Scenario, log: SpendLog): void {
  const chain = s.sim.chain;
  for (let h = s.kickoff.height; h <= chain.height; h++) {
    for (const t of chain.blockAt(h)?.txs ?? []) {
      for (const i of t.tx.inputs) {
        if (hexOf(i.prevTxid) !== s.kickoff.txid) continue;
        if (i.vout === 0) log.connector.add(t.txid);
        if (i.vout === 2) log.stake.add(t.txid);
      }
    }
  }
}

/** Mines a block every `everyMs` (± a third, seeded) until stopped. */
function startMiner(s: Scenario, everyMs: number, seed: number): { stop(): void; blocks(): number } {
  const rng = createRng(seed ^ 0x5eed);
  let timer: NodeJS.Timeout | undefined;
  let n = 0;
  const tick = () => {
    s.mine(1);
    n++;
    timer = setTimeout(tick, Math.floor(everyMs * (2 / 3 + (2 / 3) * rng())));
  };
  timer = setTimeout(tick, everyMs);
  return {
    stop: () => {
      clearTimeout(timer);
      timer = undefined;
    },
    blocks: () => n,
  };
}

export type Run = {
  s: Scenario;
  prefix: string;
  redisUrl: string;
  /** The parent's view of Redis (fails fast while Redis is down). */
  redis: Redis;
  store: DisputeStore;
  configPath: string;
  spends: SpendLog;
  logTail: string[];
  /** Children that exited without being told to (a daemon that did not survive). */
  unexpectedExits: { name: string; code: number | null; signal: NodeJS.Signals | null }[];
  /** Current phase; undefined when Redis does not answer. */
  phase(): Promise<Phase | undefined>;
  /** Spawns a supervised daemon: if it dies on its own it is recorded and restarted. */
  spawn(name: string): Supervised;
  startMining(everyMs: number, seed: number): void;
  close(): Promise<void>;
};

/** A daemon slot: the process currently in it, restarted by the harness after a kill or a crash. */
export type Supervised = {
  current(): WatcherProcess;
  /** SIGKILL the current process, wait `downMs`, start a new one. */
  crash(downMs: number): Promise<void>;
  /** SIGTERM (graceful); resolves with the exit code. */
  stop(): Promise<number | null>;
  kills: number;
};

export async function startRun(options: { redisUrl?: string; pollIntervalMs?: number } = {}): Promise<Run> {
  const s = await startScenario();
  const spends = tapSpends(s);
  const redisUrl = options.redisUrl ?? 'redis://127.0.0.1:6379';
  const prefix = `{vigil-crash-${Math.random().toString(36).slice(2)}}`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  redis.on('error', () => {});
  const store = new DisputeStore(redis, prefix);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-crash-'));
  const w = scenarioWorkload();
  const epoch = s.fixture.graph.spec.epoch;
  const model = reexecute(w.inputs, { genesis: w.genesis }).epochs.find((e) => e.epoch === epoch);
  if (!model) throw new Error(`the workload never ends epoch ${epoch}`);
  const config: ChildConfig = {
    rpcUrl: s.sim.rpcUrl,
    rpcAuth: s.sim.rpcAuth,
    redisUrl,
    prefix,
    pollIntervalMs: options.pollIntervalMs ?? 100,
    walletLabel: WATCHER_LABEL,
    graph: {
      document: s.graphDocument,
      epoch: epoch.toString(),
      operator: bytesToHex(s.fixture.graph.spec.operator),
      committee: s.fixture.graph.spec.committee.map(bytesToHex),
    },
    facts: { modelRoot: bytesToHex(model.root), l2: { inputsFinal: true, behind: false } },
  };
  const configPath = join(dir, 'watcher.json');
  writeFileSync(configPath, JSON.stringify(config));
  const logTail: string[] = [];
  const unexpectedExits: Run['unexpectedExits'] = [];
  const slots: Supervised[] = [];
  let miner: ReturnType<typeof startMiner> | undefined;
  let closing = false;

  const supervise = (name: string): Supervised => {
    let proc: WatcherProcess;
    const launch = () => {
      const p = spawnWatcher(configPath, name, logTail);
      proc = p;
      void p.exited.then((e) => {
        if (p.killedByUs || closing) return;
        unexpectedExits.push({ name, ...e });
        if (proc === p) launch(); // the supervisor restarts it
      });
    };
    launch();
    const slot: Supervised = {
      current: () => proc,
      kills: 0,
      crash: async (downMs) => {
        await proc.kill('SIGKILL');
        slot.kills++;
        await new Promise((r) => setTimeout(r, downMs));
        launch();
      },
      stop: async () => {
        // A process still loading its modules has no SIGTERM handler yet: let it start first.
        await startedBy(proc, Date.now() + 60_000);
        const e = await proc.kill('SIGTERM');
        return e.code;
      },
    };
    slots.push(slot);
    return slot;
  };

  return {
    s,
    prefix,
    redisUrl,
    redis,
    store,
    configPath,
    spends,
    logTail,
    unexpectedExits,
    phase: async () => {
      try {
        return phaseOf(await store.get(`${s.openData.disputeId}`));
      } catch {
        return undefined;
      }
    },
    spawn: supervise,
    startMining: (everyMs, seed) => {
      miner = startMiner(s, everyMs, seed);
    },
    close: async () => {
      closing = true;
      miner?.stop();
      for (const slot of slots) {
        const p = slot.current();
        if (p.child.exitCode === null && p.child.signalCode === null) await p.kill('SIGKILL');
      }
      try {
        await cleanup(redis, prefix);
      } catch {
        // A private Redis may already be gone; its directory goes below.
      }
      redis.disconnect();
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startedBy(p: WatcherProcess, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([p.started.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls BullMQ's keys until the dispute's challenge job is active (`rerun`: after a stall); false on timeout. */
async function waitChallengeJob(run: Run, how: 'active' | 'rerun', deadline: number): Promise<boolean> {
  const id = challengeJobId(run.s.openData.disputeId);
  for (;;) {
    try {
      const active = await run.redis.lrange(`${run.prefix}:${DISPUTE_QUEUE}:active`, 0, -1);
      const stalls = Number((await run.redis.hget(`${run.prefix}:${DISPUTE_QUEUE}:${id}`, 'stc')) ?? '0');
      if (active.includes(id) && (how === 'active' || stalls >= 1)) return true;
    } catch {
      // Redis restarting: poll again.
    }
    if (Date.now() > deadline) return false;
    await sleep(2);
  }
}

/** Polls until the dispute reaches `target` (or later); false on timeout. */
export async function waitPhase(run: Run, target: Phase, deadline: number): Promise<boolean> {
  for (;;) {
    const p = await run.phase();
    if (p !== undefined && rank(p) >= rank(target)) return true;
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
}

/** A disruption: once the dispute reaches `phase` (and the daemons run), wait `delayMs`, then act. */
export type Disruption = Kill & {
  /** SIGKILL daemon `target` (restarted after `downMs`), or restart the private Redis. */
  act: 'kill' | 'redis-shutdown' | 'redis-kill';
  target?: number;
  /**
   * Also wait until the dispute's challenge job is running (`active`), or running again after BullMQ
   * recovered it from a killed worker (`rerun`): a kill then lands inside processChallenge.
   */
  challengeJob?: 'active' | 'rerun';
};

export type DisruptOutcome = {
  done: { act: Disruption['act']; phase: Phase; at: Phase | undefined; target: number }[];
  finalPhase: Phase | undefined;
  /** Exit codes of the graceful SIGTERM that ends the run, per daemon. */
  stopCodes: (number | null)[];
  blocks: number;
  /** When each phase was first seen and each disruption made (ms from the start), for reports. */
  timeline: string[];
};

/**
 * Runs `daemons` supervised watch daemons on `run` while blocks are mined, applies `plan` in order,
 * and waits until the dispute resolves or `timeoutMs` passes; then stops every daemon with SIGTERM.
 */
export async function disruptRun(
  run: Run,
  plan: readonly Disruption[],
  options: { seed: number; timeoutMs: number; daemons?: number; redis?: PrivateRedis },
): Promise<DisruptOutcome> {
  const deadline = Date.now() + options.timeoutMs;
  const t0 = Date.now();
  const timeline: string[] = [];
  let last: Phase | undefined;
  let watching = true;
  const follow = (async () => {
    while (watching) {
      const p = await run.phase();
      if (p !== undefined && p !== last) {
        timeline.push(`${p}@${Date.now() - t0}`);
        last = p;
      }
      await sleep(20);
    }
  })();
  const slots = Array.from({ length: options.daemons ?? 1 }, (_, i) => run.spawn(`watcher-${i}`));
  // Blocks come once a daemon first runs: the kick-off is fresh when it is first seen, as for a
  // daemon that was up when it confirmed (a backend looks back a bounded number of blocks for spends).
  const mining = (async () => {
    while (watching && !slots.some((sl) => sl.current().address() !== undefined)) await sleep(20);
    if (watching) run.startMining(300, options.seed);
  })();
  const done: DisruptOutcome['done'] = [];
  for (const d of plan) {
    if (!(await waitPhase(run, d.phase, deadline))) break;
    // Past boot, a disruption is aimed at running watchers, not ones still loading their modules.
    if (d.phase !== 'boot') {
      const up = await Promise.all(slots.map((sl) => startedBy(sl.current(), deadline)));
      if (up.includes(false)) break;
    }
    if (d.challengeJob && !(await waitChallengeJob(run, d.challengeJob, deadline))) break;
    await sleep(d.delayMs);
    const at = await run.phase();
    if (at === 'resolved') break;
    const target = (d.target ?? 0) % slots.length;
    timeline.push(`${d.act}${d.act === 'kill' ? `#${target}` : ''}@${Date.now() - t0}`);
    if (d.act === 'kill') await (slots[target] as Supervised).crash(d.downMs);
    else {
      if (!options.redis) throw new Error('a Redis restart needs the private Redis');
      await options.redis.restart(d.act === 'redis-kill' ? 'kill' : 'shutdown', d.downMs);
      timeline.push(`redis-up@${Date.now() - t0}`);
    }
    done.push({ act: d.act, phase: d.phase, at, target });
  }
  await waitPhase(run, 'resolved', deadline);
  watching = false;
  await Promise.all([follow, mining]);
  const stopCodes = await Promise.all(slots.map((sl) => sl.stop()));
  return { done, finalPhase: await run.phase(), stopCodes, blocks: run.s.sim.chain.height, timeline };
}

/** One seeded crash run: a single daemon SIGKILLed and restarted per killPlan(seed). */
export function crashRun(run: Run, seed: number, timeoutMs: number): Promise<DisruptOutcome> {
  return disruptRun(
    run,
    killPlan(seed).map((k) => ({ ...k, act: 'kill' as const })),
    { seed, timeoutMs },
  );
}

/** The end state every run must reach, as data (the test asserts on it). */
export type EndState = {
  state: string | undefined;
  outcome: string | undefined;
  connectorSpends: string[];
  stakeSpends: string[];
  challengeTxid: string | undefined;
  timeoutTxid: string | undefined;
  challengeConfirmed: boolean;
  timeoutConfirmed: boolean;
  transitions: string[];
  firstEvent: string | undefined;
  built: number;
  timeoutBuilt: number;
};

export async function endState(run: Run): Promise<EndState> {
  scanBlocks(run.s, run.spends);
  const rec = await run.store.get(run.s.openData.disputeId);
  const events: DisputeEvent[] = rec ? await run.store.events(rec.id) : [];
  const chain = run.s.sim.chain;
  const confirmed = (txid: string | undefined) => {
    const b = txid === undefined ? undefined : chain.findTx(txid)?.block;
    return b !== undefined && chain.isActive(b);
  };
  return {
    state: rec?.state,
    outcome: rec?.outcome,
    connectorSpends: [...run.spends.connector],
    stakeSpends: [...run.spends.stake],
    challengeTxid: rec?.challenge.txid,
    timeoutTxid: rec?.timeout.txid,
    challengeConfirmed: confirmed(rec?.challenge.txid),
    timeoutConfirmed: confirmed(rec?.timeout.txid),
    transitions: events.filter((e) => e.type === 'transition').map((e) => `${e.from}->${e.to}`),
    firstEvent: events[0]?.type,
    built: events.filter((e) => e.type === 'challenge-built').length,
    timeoutBuilt: events.filter((e) => e.type === 'timeout-built').length,
  };
}

/** What every run must end with: one challenge, one slash, the whole history once and in order. */
export function expectedEndState(e: EndState): EndState {
  return {
    ...e,
    state: 'resolved',
    outcome: 'operator-slashed',
    connectorSpends: e.challengeTxid === undefined ? ['<none>'] : [e.challengeTxid],
    stakeSpends: e.timeoutTxid === undefined ? ['<none>'] : [e.timeoutTxid],
    challengeConfirmed: true,
    timeoutConfirmed: true,
    transitions: [
      'detected->challenged',
      'challenged->confirmed',
      'confirmed->timed-out',
      'timed-out->resolved',
    ],
    firstEvent: 'detected',
    built: 1,
    timeoutBuilt: 1,
  };
}

// ---------------------------------------------------------------------------------------------------
// A private redis-server (never the shared 6379), restartable with its append-only file.

export type PrivateRedis = {
  port: number;
  url: string;
  /** Stops it (`shutdown`: SHUTDOWN, fsynced; `kill`: SIGKILL), waits `downMs`, starts it again. */
  restart(how: 'shutdown' | 'kill', downMs: number): Promise<void>;
  stop(): Promise<void>;
};

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const launch = async () => {
    const p = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    );
    proc = p;
    exited = new Promise((res) => p.once('exit', () => res()));
    const end = Date.now() + 15_000;
    for (;;) {
      try {
        await probeRedis(url, 500);
        return;
      } catch (err) {
        if (Date.now() > end || p.exitCode !== null) throw err;
        await sleep(50);
      }
    }
  };
  await launch();
  const halt = async (how: 'shutdown' | 'kill') => {
    if (how === 'kill') proc?.kill('SIGKILL');
    else {
      const c = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
      c.on('error', () => {});
      await c.connect();
      await c.call('SHUTDOWN').catch(() => undefined); // the connection closes under the reply
      c.disconnect();
    }
    await exited;
  };
  return {
    port,
    url,
    restart: async (how, downMs) => {
      await halt(how);
      await sleep(downMs);
      await launch();
    },
    stop: async () => {
      await halt('kill');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
