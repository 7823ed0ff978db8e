/**
 * The image's file set, built without a Docker engine exactly as the Dockerfile and .dockerignore select
 * it (issue #19): the build context minus .dockerignore, the runtime stage's COPY lines, and production
 * dependencies only (`npm ci --omit=dev`, from npm's cache). From it, as the image's user would:
 * `vigil watch --help`, `vigil config check`, and every module the commands load lazily (the daemon,
 * verify, devnet) imports. Before this test, `vigil watch` died with ERR_MODULE_NOT_FOUND on circuits/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = process.cwd();
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

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

function vigil(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(app, 'bin/vigil.js'), ...args], {
    cwd: app,
    env: { PATH: process.env.PATH ?? '', HOME: app, NODE_ENV: 'production' },
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

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
