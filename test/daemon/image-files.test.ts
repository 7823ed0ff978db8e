/**
 * The image's file set, built without a Docker engine exactly as the Dockerfile and .dockerignore select
 * it (issue #19): the build context minus .dockerignore, the runtime stage's COPY lines, and production
 * dependencies only (`npm ci --omit=dev`, from npm's cache). From it, as the image's user would:
 * `vigil watch --help`, `vigil config check`, and every module the commands load lazily (the daemon,
 * verify, devnet) imports. Before this test, `vigil watch` died with ERR_MODULE_NOT_FOUND on circuits/.
 * Then the two-terminal flow with the daemon run from it: `vigil devnet serve` from the clone (the devnet
 * needs dev tools and is not in the image), `vigil watch` and `vigil disputes list` from the file set,
 * asserted from the outside as test/devnet/serve.test.ts does.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, deleteKeysByPrefix } from '../../src/store/redis.ts';
import {
  freePort,
  type How,
  type Proc,
  repoRun,
  startVigil,
  stopVigil,
  until,
} from '../cli/child-process.ts';

const ROOT = process.cwd();
const REDIS_URL = process.env.VIGIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
let app: string;

/** .dockerignore's patterns (this file uses plain names and `*.ext` / `.env.*` globs only). */
function ignored(): (path: string) => boolean {
  const patterns = readFileSync('.dockerignore', 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  expect(patterns.every((p) => !p.startsWith('!') && !p.includes('/'))).toBe(true);
  const regexes = patterns.map((p) => new RegExp(`^${p.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`));
  return (path) => path.split('/').some((part, i) => i === 0 && regexes.some((r) => r.test(part)));
}

/** The runtime stage's `COPY <src…> <dst>` lines that copy from the build context. */
function contextCopies(): { sources: string[]; dest: string }[] {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
  const copies: { sources: string[]; dest: string }[] = [];
  for (const line of runtime.split('\n')) {
    if (!line.startsWith('COPY ') || line.includes('--from=')) continue;
    const words = line
      .split(/\s+/)
      .slice(1)
      .filter((w) => !w.startsWith('--'));
    copies.push({ sources: words.slice(0, -1), dest: words.at(-1) as string });
  }
  return copies;
}

function copyFiltered(from: string, to: string, isIgnored: (p: string) => boolean): void {
  const rel = relative(ROOT, from);
  if (isIgnored(rel)) return;
  if (statSync(from).isDirectory()) {
    for (const name of readdirSync(from)) copyFiltered(join(from, name), join(to, name), isIgnored);
  } else {
    cpSync(from, to);
  }
}

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'vigil-image-'));
  const isIgnored = ignored();
  const copies = contextCopies();
  expect(copies.length).toBeGreaterThanOrEqual(4);
  for (const { sources, dest } of copies) {
    for (const source of sources) {
      const target = dest.endsWith('/') || sources.length > 1 ? join(app, dest, source) : join(app, dest);
      copyFiltered(join(ROOT, source), target, isIgnored);
    }
  }
  // The deps stage: production dependencies from the lockfile; npm's cache has them after the clone's own
  // install, so this reads no network where the cache is warm.
  execFileSync(
    'npm',
    ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'],
    {
      cwd: app,
      stdio: 'ignore',
    },
  );
}, 240_000);

afterAll(async () => {
  await stopVigil(watch);
  await stopVigil(serve);
  if (served) {
    try {
      const record = JSON.parse(readFileSync(join(served, 'serve.json'), 'utf8')) as { id: string };
      const redis = await connectRedis(REDIS_URL, { role: 'command', name: 'vigil:test' });
      await deleteKeysByPrefix(redis, `{vigil-devnet-${record.id}}`);
      redis.disconnect();
    } catch {
      // serve never wrote its record: nothing was created
    }
    rmSync(served, { recursive: true, force: true });
  }
  if (app) rmSync(app, { recursive: true, force: true });
}, 60_000);

/** How the image runs a command: its own files, its own HOME, production, no other environment. */
const imageRun = (): How => ({
  bin: join(app, 'bin/vigil.js'),
  cwd: app,
  env: { PATH: process.env.PATH ?? '', HOME: app, NODE_ENV: 'production' },
});
function vigil(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const how = imageRun();
  const r = spawnSync(process.execPath, [how.bin, ...args], { cwd: how.cwd, env: how.env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A command run to its end (without blocking the event loop that drains the running processes). */
async function run(how: How, args: string[]): Promise<{ code: number | null; stdout: string; out: string }> {
  const p = startVigil(how, args);
  const code = await p.exited;
  return { code, stdout: p.stdout(), out: p.out() };
}

let served: string | undefined;
let port: number;
let serve: Proc | undefined;
let watch: Proc | undefined;

describe("the image's file set", () => {
  it('holds what the commands need and nothing the build context leaves out', () => {
    for (const path of ['bin/vigil.js', 'src/cli/main.ts', 'circuits/index.ts', 'config/default.yaml']) {
      expect(existsSync(join(app, path)), path).toBe(true);
    }
    for (const path of [
      'test',
      'bench',
      'testkit',
      'docs',
      '.git',
      'node_modules/vitest',
      'node_modules/solc',
    ]) {
      expect(existsSync(join(app, path)), path).toBe(false);
    }
  });

  it('vigil watch --help and vigil config check run from it', () => {
    const help = vigil(['watch', '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: vigil watch');
    const check = vigil(['config', 'check', '--config', 'config/default.yaml']);
    expect(check.code, check.stderr).toBe(0);
  });

  it('every module a command loads lazily imports with production dependencies only', () => {
    const modules = [
      'src/daemon/watch.ts',
      'src/verify/run.ts',
      'src/devnet/run.ts',
      'src/cli/commands/disputes.ts',
      'src/cli/commands/tx.ts',
      'src/cli/commands/wallet.ts',
      'src/cli/commands/replay.ts',
    ];
    const script = `for (const m of ${JSON.stringify(modules)}) await import('./' + m);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', HOME: app },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
  }, 60_000);
});

describe("the two-terminal flow with the daemon run from the image's file set", () => {
  const FAULT = 'commission-not-taken';
  const dir = () => served as string;
  const configFile = () => join(dir(), 'watch.yaml');

  async function get(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: await res.text() };
  }

  /** The sum of a metric's samples whose labels include `labels`. */
  async function metric(name: string, labels: string): Promise<number> {
    let sum = 0;
    for (const line of (await get('/metrics')).body.split('\n')) {
      if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.split(' ').at(-1));
    }
    return sum;
  }

  type DisputeRow = { id: string; state: string; outcome?: string };

  async function disputes(): Promise<DisputeRow[]> {
    const r = await run(imageRun(), ['disputes', 'list', '--config', configFile(), '--json']);
    if (r.code !== 0) throw new Error(`vigil disputes list exited ${r.code}: ${r.out}`);
    return JSON.parse(r.stdout) as DisputeRow[];
  }

  it('vigil watch from the file set starts on the served config and judges honest epochs valid', async () => {
    served = mkdtempSync(join(tmpdir(), 'vigil-image-serve-'));
    port = await freePort();
    serve = startVigil(repoRun(), [
      'devnet',
      'serve',
      '--dir',
      dir(),
      '--l2-block-ms',
      '150',
      '--bitcoin-block-ms',
      '1000',
      '--watch-http-port',
      String(port),
      '--redis-url',
      REDIS_URL,
    ]);
    const s = serve;
    await until('serve to print the watch command', async () => {
      if (s.child.exitCode !== null) throw new Error(`serve exited ${s.child.exitCode}: ${s.out()}`);
      return s.out().includes('watch it from another terminal') ? true : undefined;
    });
    watch = startVigil(imageRun(), ['watch', '--config', configFile()]);
    const w = watch;
    const running = () => {
      if (w.child.exitCode !== null) throw new Error(`vigil watch exited ${w.child.exitCode}: ${w.out()}`);
    };
    await until('/healthz 200', async () => {
      running();
      return (await get('/healthz')).status === 200 ? true : undefined;
    });
    await until('a valid verdict', async () => {
      running();
      return (await metric('vigil_verdicts_total', 'outcome="valid"')) >= 1 ? true : undefined;
    });
    expect(await disputes()).toEqual([]);
  }, 300_000);

  it('a fault injected from the clone: the daemon from the file set challenges and the operator ends slashed', async () => {
    const on = await run(repoRun(), ['devnet', 'fault', FAULT, '--dir', dir()]);
    expect(on.code, on.out).toBe(0);
    const resolved = await until(
      'a dispute resolved',
      async () => (await disputes()).find((d) => d.state === 'resolved'),
      300_000,
    );
    expect(resolved.outcome).toBe('operator-slashed');
  }, 360_000);

  it('both exit 0 on SIGTERM', async () => {
    expect(await stopVigil(watch)).toBe(0);
    expect(await stopVigil(serve)).toBe(0);
  }, 120_000);
});
