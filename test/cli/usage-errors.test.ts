/**
 * Every command's usage errors exit 2, as README's exit-code table says: an unknown flag, a bad flag
 * value, a missing argument, at every depth of the command tree. Run in-process through `main`, the
 * function bin/vigil.js calls: parsing fails before any command touches the network.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExitCode } from '../../src/cli/exit-codes.ts';
import { buildProgram, main } from '../../src/cli/main.ts';

let stderr: string[];
beforeEach(() => {
  stderr = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

const run = (...args: string[]) => main(['node', 'vigil', ...args]);

/** Every command path of the program: ['watch'], ['disputes', 'list'], … */
async function commandPaths(): Promise<string[][]> {
  const program = await buildProgram();
  const paths: string[][] = [];
  const walk = (cmd: typeof program, path: string[]) => {
    for (const sub of cmd.commands) {
      const p = [...path, sub.name()];
      paths.push(p);
      walk(sub, p);
    }
  };
  walk(program, []);
  return paths;
}

describe('usage errors exit 2 in every command', () => {
  it('README documents 2 as bad usage', () => {
    expect(readFileSync('README.md', 'utf8')).toMatch(/^\| 2 \| bad command-line usage \|$/m);
    expect(ExitCode.Usage).toBe(2);
  });

  it('an unknown flag, for every command at every depth', async () => {
    const paths = await commandPaths();
    expect(paths.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining([
        'watch',
        'devnet',
        'verify',
        'verify proof',
        'replay',
        'disputes list',
        'tx verify',
        'wallet address',
        'wallet balance',
        'config check',
      ]),
    );
    for (const path of paths) {
      stderr = [];
      const code = await run(...path, '--no-such-flag');
      expect(code, `vigil ${path.join(' ')} --no-such-flag: ${stderr.join('')}`).toBe(ExitCode.Usage);
      expect(stderr.join('')).toContain("unknown option '--no-such-flag'");
    }
  });

  it.each([
    [['frobnicate']],
    [['devnet', '--epochs', 'x']],
    [['devnet', '--seed', '0']],
    [['devnet', '--operator', 'no-such-strategy']],
    [['devnet', '--fault', 'no-such-fault', '--epochs', '1']],
    [['devnet', '--log-level', 'loud']],
    [['devnet', '--bitcoin-cookie-file', '/tmp/.cookie']],
    [['devnet', '--game', '--bitcoin-cookie-file', '/tmp/.cookie']],
    [['devnet', '--part2', '--bitcoin-cookie-file', '/tmp/.cookie']],
    [['devnet', '--part2', '--fault', 'no-such-fault', '--epochs', '1']],
    [['devnet', '--part2', '--operator', 'no-such-strategy']],
    [['devnet', '--game', '--part2']],
    [['config', 'check', '--format', 'xml']],
    [['verify']],
    [['verify', '--epoch', 'x']],
    [['verify', '--epoch', '1', '--latest']],
    [['verify', '--epoch', '1', '--proof-out', 'p.json']],
    [['verify', 'proof']],
    [['replay']],
    [['replay', '--inputs', 'x.json', '--fault', 'no-such-fault']],
    [['tx', 'verify']],
    [['disputes', 'show']],
  ])('vigil %j exits 2', async (args) => {
    const code = await run(...args);
    expect(code, stderr.join('')).toBe(ExitCode.Usage);
    expect(stderr.join('')).not.toMatch(/\bat .*\.ts:\d+/);
  });
});
