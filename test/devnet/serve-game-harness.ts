/**
 * Two processes as a person runs them: `vigil devnet serve --game` and `vigil watch --config <its
 * watch.yaml>`, read from the outside only (their output, `vigil disputes list`, /metrics, the served
 * directory), for serve-game.long.test.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRedis, deleteKeysByPrefix } from '../../src/store/redis.ts';
import { freePort, type Proc, repoRun, startVigil, stopVigilWithin, until } from '../cli/child-process.ts';
import { runCli } from '../cli/run-cli.ts';

const REDIS_URL = process.env.VIGIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export type GameRow = { id: string; epoch: string; state: string; outcome: string | null; moves?: number };

export type ServedGame = {
  readonly dir: string;
  readonly configFile: string;
  serve: Proc | undefined;
  watch: Proc | undefined;
  /** Starts `serve` (creating the network with `--game` the first time) and waits for its watch command. */
  startServe(create: boolean): Promise<Proc>;
  startWatch(): Promise<Proc>;
  get(path: string): Promise<{ status: number; body: string }>;
  disputes(): Promise<GameRow[]>;
  cleanUp(): Promise<void>;
};

/**
 * A served game network in a temp directory. Short epochs by default: the governance program's run of an
 * epoch grows with the state (about 365 steps a record), and regtest's search covers 2^20 steps, which
 * the served workload's state outgrows near 2,500 records (300-input epochs by epoch 5).
 */
export async function servedGame(
  shape: { epochs: number; epochLength: number } = { epochs: 120, epochLength: 6 },
): Promise<ServedGame> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-serve-game-'));
  const port = await freePort();
  const configFile = join(dir, 'watch.yaml');
  const args = (create: boolean) => [
    'devnet',
    'serve',
    '--dir',
    dir,
    ...(create
      ? ['--game', '--epochs', String(shape.epochs), '--epoch-length', String(shape.epochLength)]
      : []),
    // About one epoch per Bitcoin block: the operator claims about as fast as the L2 ends epochs.
    '--l2-block-ms',
    '300',
    // t is 3 blocks on regtest: 9 s for the daemon to answer, also right after serve comes back.
    '--bitcoin-block-ms',
    '3000',
    '--redis-url',
    REDIS_URL,
    '--watch-http-port',
    String(port),
  ];
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: await res.text() };
  };
  let earlierServe = '';
  const s: ServedGame = {
    dir,
    configFile,
    serve: undefined,
    watch: undefined,
    async startServe(create) {
      const p = startVigil(repoRun(), args(create), { group: true });
      await until('serve to print the watch command', async () =>
        p.out().includes('watch it from another terminal') ? true : undefined,
      );
      if (s.serve !== undefined) earlierServe += s.serve.out();
      s.serve = p;
      return p;
    },
    async startWatch() {
      const p = startVigil(repoRun(), ['watch', '--config', configFile]);
      s.watch = p;
      await until('/healthz 200', async () => ((await get('/healthz')).status === 200 ? true : undefined));
      return p;
    },
    get,
    async disputes() {
      const r = await runCli(['disputes', 'list', '--config', configFile, '--json']);
      if (r.code !== 0) throw new Error(`vigil disputes list exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout) as GameRow[];
    },
    async cleanUp() {
      await stopVigilWithin(s.watch, 90_000);
      await stopVigilWithin(s.serve, 90_000);
      // The two processes' output outlives the run, for whoever reads a failure.
      const kept = join(tmpdir(), 'vigil-serve-game-last');
      mkdirSync(kept, { recursive: true });
      writeFileSync(join(kept, 'serve.log'), earlierServe + (s.serve?.out() ?? ''));
      writeFileSync(join(kept, 'watch.log'), s.watch?.out() ?? '');
      try {
        const record = JSON.parse(readFileSync(join(dir, 'serve.json'), 'utf8')) as { id: string };
        const redis = await connectRedis(REDIS_URL, { role: 'command', name: 'vigil:test' });
        await deleteKeysByPrefix(redis, `{vigil-devnet-${record.id}}`);
        redis.disconnect();
      } catch {
        // nothing was created
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return s;
}

/** Epochs whose claims the served operator saw end `end`, from its story. */
export const endedEpochs = (text: string, end: string): bigint[] =>
  [...text.matchAll(new RegExp(`operator: epoch (\\d+): the claim ended ${end} `, 'g'))].map((m) =>
    BigInt(m[1] as string),
  );

/**
 * Makes the operator claim a false root for one epoch `ahead` epochs ahead of the L2 (the fault must be
 * in the control before that epoch ends, and starting a CLI takes seconds on a loaded machine: 6 short
 * epochs; long epochs need fewer); returns the epoch the operator committed wrong, waiting `waitMs` for it.
 */
export async function faultOneEpoch(
  s: ServedGame,
  fault: string,
  { ahead, waitMs }: { ahead: number; waitMs: number } = { ahead: 6, waitMs: 200_000 },
): Promise<number> {
  const ended = [...(s.serve?.out() ?? '').matchAll(/L2: epoch (\d+) ended/g)].map((m) => Number(m[1]));
  const target = Math.max(0, ...ended) + ahead;
  const from = s.serve?.out().length ?? 0;
  const on = await runCli([
    'devnet',
    'fault',
    fault,
    '--from-epoch',
    String(target),
    '--to-epoch',
    String(target),
    '--dir',
    s.dir,
  ]);
  if (on.code !== 0) throw new Error(`vigil devnet fault exited ${on.code}: ${on.stderr}`);
  const wrong = new RegExp(
    `L2: epoch (\\d+) ended at block \\d+; the operator commits \\S+ \\(WRONG — ${fault}\\)`,
  );
  return until(
    'the operator to commit a wrong root',
    async () => {
      const m = wrong.exec(s.serve?.out().slice(from) ?? '');
      return m === null ? undefined : Number(m[1]);
    },
    waitMs,
  );
}

/**
 * Waits for the daemon's game of `target` to resolve (`vigil disputes list`) and for the operator to see
 * its claim end `end`; returns the daemon's outcome.
 */
export async function gameEnded(s: ServedGame, target: number, end: string): Promise<string | null> {
  const resolved = await until(
    `epoch ${target}'s game resolved`,
    async () => (await s.disputes()).find((g) => g.epoch === String(target) && g.state === 'resolved'),
    400_000,
  );
  await until(`the operator's end of epoch ${target}`, async () =>
    endedEpochs(s.serve?.out() ?? '', end).includes(BigInt(target)) ? true : undefined,
  );
  return resolved.outcome;
}
