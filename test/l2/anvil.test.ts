/**
 * The anvil launcher never leaves an orphan: whether its parent exits cleanly, is told to stop (SIGTERM,
 * SIGINT) or is SIGKILLed, the anvil it started stops answering, its process is gone and its own HOME
 * (where anvil keeps on-disk states) is deleted.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveAnvilBinary, startAnvil } from '../../src/l2/anvil.ts';

const CHILD = new URL('./anvil-child.ts', import.meta.url).pathname;

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1_000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, url: string, withinMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!alive(pid) && !(await answers(url))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Waits up to 5 s for a directory to be deleted. */
async function homeGone(dir: string): Promise<boolean> {
  for (let i = 0; i < 50 && existsSync(dir); i++) await new Promise((r) => setTimeout(r, 100));
  return !existsSync(dir);
}

describe('anvil launcher', () => {
  it('resolves the binary through the npm package of this platform', () => {
    expect(resolveAnvilBinary()).toMatch(/@foundry-rs\/anvil-[a-z0-9]+-[a-z0-9]+\/bin\/anvil(\.exe)?$/);
  });

  it('starts on a free loopback port, answers, and stop() ends it', async () => {
    const [a, b] = await Promise.all([startAnvil(), startAnvil()]);
    if (!a || !b) throw new Error('unreachable');
    expect(a.port).not.toBe(b.port);
    expect(a.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await answers(a.rpcUrl)).toBe(true);
    expect(existsSync(a.home)).toBe(true);
    await Promise.all([a.stop(), b.stop()]);
    expect(await gone(a.pid, a.rpcUrl)).toBe(true);
    expect(await gone(b.pid, b.rpcUrl)).toBe(true);
    // Its on-disk states go with it.
    expect(await homeGone(a.home)).toBe(true);
    expect(await homeGone(b.home)).toBe(true);
  });

  it.each(['SIGKILL', 'SIGTERM', 'SIGINT'] as const)(
    'parent ended by %s: no orphaned anvil',
    async (signal) => {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) resolve(out.trim());
        });
        child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
      const [url, pidText, home] = line.split(' ');
      const pid = Number(pidText);
      expect(await answers(url as string)).toBe(true);
      child.kill(signal);
      expect(await gone(pid, url as string)).toBe(true);
      expect(await homeGone(home as string)).toBe(true);
    },
  );
});
