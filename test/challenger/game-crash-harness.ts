/**
 * The game crash harness: a false claim on an in-process simnet, Vigil as a child process
 * (game-child.ts) that plays challenger 0's game through BullMQ and the simnet's Esplora front, SIGKILLed
 * at seeded moments (just after a write-ahead, mid-round, at boot) and restarted like a supervisor would;
 * an operator that answers every round from its own trace and sweeps any pot Vigil leaves for t blocks;
 * and a tap on the simnet's mempool that records every version (wtxid) of every transaction that entered.
 *
 * Blocks come every `blockMs` while a Vigil process is up (a restart takes seconds, a block ten minutes:
 * the harness keeps that order), so a deadline missed is Vigil's fault, not the harness's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import type { GameRecord } from '../../src/dispute/records/game-types.ts';
import { createRng } from '../../src/governance/workload.ts';
import { REDIS_URL } from '../../testkit/queue/scenario.ts';
import type { GameChildConfig } from './game-child.ts';
import { type GameSetup, gameSetup, operatorActs } from './game-play-setup.ts';

const CHILD = new URL('./game-child.ts', import.meta.url).pathname;

/** One planned SIGKILL: once Vigil has written `sent` transactions (or at boot), wait `delayMs`, kill, restart after `downMs`. */
export type GameKill = { sent: number | 'boot'; delayMs: number; downMs: number };

/** Vigil's transactions in the game the harness plays: the challenge, four choices and the slash. */
export const VIGIL_TXS = 6;

/**
 * A seeded plan of 1–3 kills in the order they come. Half land within 40 ms of a write-ahead (between
 * the record and the broadcast, or just after it), the rest anywhere up to 600 ms later.
 */
export function gameKillPlan(seed: number): GameKill[] {
  const rng = createRng(seed);
  const n = 1 + Math.floor(rng() * 3);
  const kills: GameKill[] = Array.from({ length: n }, () => {
    const at = Math.floor(rng() * (VIGIL_TXS + 1)) - 1;
    const close = rng() < 0.5;
    return {
      sent: at < 0 ? 'boot' : at,
      delayMs: Math.floor(rng() * (close ? 40 : 600)),
      downMs: Math.floor(rng() * 400),
    };
  });
  const rank = (k: GameKill) => (k.sent === 'boot' ? -1 : k.sent);
  return kills.sort((a, b) => rank(a) - rank(b));
}

type Child = { proc: ChildProcess; started: Promise<boolean>; exited: Promise<void> };

function spawnChild(configPath: string, logTail: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  });
  const started = new Promise<boolean>((resolve) => {
    proc.stdout?.on('data', (c: Buffer) => {
      if (c.toString().includes('started')) resolve(true);
    });
    proc.once('exit', () => resolve(false));
  });
  proc.stderr?.on('data', (c: Buffer) => {
    logTail.push(...c.toString().split('\n').filter(Boolean));
    if (logTail.length > 200) logTail.splice(0, logTail.length - 200);
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return { proc, started, exited };
}

export type CrashOutcome = {
  readonly record: GameRecord;
  /** Every version (wtxid) of each transaction that entered the simnet, by txid. */
  readonly versions: ReadonlyMap<string, ReadonlySet<string>>;
  readonly kills: number;
  readonly blocks: number;
  readonly timeline: readonly string[];
  readonly logTail: readonly string[];
  readonly transitions: readonly string[];
  readonly written: number;
};

/** Plays one seeded crash run to the game's end (or `maxBlocks`). */
export async function gameCrashRun(
  seed: number,
  options: { blockMs?: number; maxBlocks?: number } = {},
): Promise<CrashOutcome> {
  const blockMs = options.blockMs ?? 600;
  const maxBlocks = options.maxBlocks ?? 150;
  const g: GameSetup = await gameSetup();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-game-crash-'));
  const versions = new Map<string, Set<string>>();
  const mempool = g.sim.chain.mempool;
  const add = mempool.add.bind(mempool);
  mempool.add = (entry, prevouts) => {
    const set = versions.get(entry.txid) ?? new Set<string>();
    versions.set(entry.txid, set);
    set.add(entry.wtxid);
    return add(entry, prevouts);
  };
  const documentPath = join(dir, 'claim.json');
  writeFileSync(documentPath, g.c.document);
  const config: GameChildConfig = {
    esploraUrl: g.sim.esploraUrl,
    redisUrl: REDIS_URL,
    prefix: g.prefix,
    documentPath,
    fundingTxid: bytesToHex(g.c.operatorCoin.txid),
    challengers: 1,
    trackEveryMs: 100,
  };
  const configPath = join(dir, 'child.json');
  writeFileSync(configPath, JSON.stringify(config));
  const logTail: string[] = [];
  const timeline: string[] = [];
  const plan = gameKillPlan(seed);
  let child = spawnChild(configPath, logTail);
  let upSince: number | undefined;
  void child.started.then((ok) => {
    if (ok) upSince = Date.now();
  });
  let kills = 0;
  let blocks = 0;
  const t0 = Date.now();
  try {
    for (;;) {
      const rec = await g.store.require(g.id);
      if (rec.state === 'resolved' || blocks >= maxBlocks) break;
      const next = plan[0];
      const due = next !== undefined && (next.sent === 'boot' || rec.sent.size >= next.sent);
      if (due && next !== undefined) {
        plan.shift();
        await new Promise((r) => setTimeout(r, next.delayMs));
        timeline.push(
          `${Date.now() - t0}ms kill at ${next.sent}+${next.delayMs}ms (sent ${(await g.store.require(g.id)).sent.size})`,
        );
        child.proc.kill('SIGKILL');
        await child.exited;
        kills++;
        upSince = undefined;
        await new Promise((r) => setTimeout(r, next.downMs));
        child = spawnChild(configPath, logTail);
        const c = child;
        void c.started.then((ok) => {
          if (ok && child === c) upSince = Date.now();
        });
        continue;
      }
      if (upSince !== undefined && Date.now() - upSince >= blockMs) {
        const op = await operatorActs(g);
        if (op !== undefined) timeline.push(`${Date.now() - t0}ms operator ${op}`);
        g.mine();
        blocks++;
        upSince = Date.now();
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const record = await g.store.require(g.id);
    const events = await g.store.events(g.id);
    return {
      record,
      versions,
      kills,
      blocks,
      timeline,
      logTail,
      transitions: events.filter((e) => e.type === 'transition').map((e) => e.to as string),
      written: events.filter((e) => e.type === 'tx-written').length,
    };
  } finally {
    child.proc.kill('SIGKILL');
    await child.exited;
    await g.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The seeds the default suite runs (the long suite runs others). */
export const SHORT_SEEDS = [3];

/** What every crash run must end with: the operator slashed, one version of each move, a complete history. */
export function expectSound(out: CrashOutcome): void {
  const why = `${out.timeline.join('\n')}\n${out.logTail.slice(-40).join('\n')}`;
  expect(out.record.state, why).toBe('resolved');
  expect(out.record.outcome, why).toBe('operator-slashed');
  expect(out.record.end, why).toMatchObject({ site: 'reveal', by: 'slash:reveal' });
  expect(out.record.sent.size, why).toBe(VIGIL_TXS);
  for (const [id, t] of out.record.sent) expect(out.versions.get(t.txid)?.size, `${id}\n${why}`).toBe(1);
  expect(out.written, why).toBe(VIGIL_TXS);
  expect(out.transitions, why).toEqual(['challenged', 'confirmed', 'playing', 'resolved']);
}
