/**
 * Vigil commands as long-running child processes, for the tests that drive the CLI from the outside
 * (`vigil devnet serve` and `vigil watch` side by side): start one, wait for what it shows, stop it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from './run-cli.ts';

/** Where a command runs from: its bin/vigil.js, working directory and whole environment. */
export type How = { bin: string; cwd: string; env: Record<string, string> };

/** How an operator runs a command from the clone. */
export const repoRun = (): How => ({
  bin: join(REPO_ROOT, 'bin/vigil.js'),
  cwd: REPO_ROOT,
  env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
});

export type Proc = {
  child: ChildProcess;
  /** stdout and stderr, interleaved. */
  out: () => string;
  stdout: () => string;
  /** The exit code, once its output is all read. */
  exited: Promise<number | null>;
};

/**
 * `vigil <args>` as a child process, its output kept. `group`: in a process group of its own, as a
 * command in a terminal is (a terminal's Ctrl-C reaches the whole group).
 */
export function startVigil(how: How, args: string[], options: { group?: boolean } = {}): Proc {
  const child = spawn(process.execPath, [how.bin, ...args], {
    cwd: how.cwd,
    env: how.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.group ?? false,
  });
  let out = '';
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, out: () => out, stdout: () => stdout, exited };
}

/** SIGTERM, and its exit code (the code it already exited with, if it has). */
export async function stopVigil(p: Proc | undefined): Promise<number | null | undefined> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return p?.child.exitCode;
  p.child.kill('SIGTERM');
  return p.exited;
}

/**
 * SIGTERM, and its exit code within `ms`; past that, SIGKILL and `'killed'` (a test must not hang on a
 * process that does not exit, and says so instead).
 */
export async function stopVigilWithin(
  p: Proc | undefined,
  ms: number,
): Promise<number | null | undefined | 'killed'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  const code = await Promise.race([stopVigil(p), late]);
  clearTimeout(timer);
  if (code !== 'late') return code;
  p?.child.kill('SIGKILL');
  await p?.exited;
  return 'killed';
}

/** Polls `probe` every 250 ms until it gives a value; the last error it threw is in the timeout's message. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise<void>((r) => server.close(() => r()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}
