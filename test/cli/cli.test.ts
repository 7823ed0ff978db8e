import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ExitCode } from '../../src/cli/exit-codes.ts';
import { runCli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

// One process per case: each takes about a second to load TypeScript, so the cases run concurrently.
describe.concurrent('vigil CLI', () => {
  it('--help lists every command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(ExitCode.Ok);
    for (const cmd of ['watch', 'devnet', 'verify', 'replay', 'disputes', 'tx', 'wallet', 'config']) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
    }
  });

  it('a command missing what it needs exits 2 with a clear message and no stack', async () => {
    const r = await runCli(['verify']);
    expect(r.code).toBe(ExitCode.Usage);
    expect(r.stderr).toMatch(/^vigil verify needs --epoch <n> or --latest$/m);
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('an unknown command is a usage error (2)', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(ExitCode.Usage);
  });

  it('config check --config config/default.yaml exits 0 and prints the effective config as YAML', async () => {
    const r = await runCli(['config', 'check', '--config', 'config/default.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitCode.Ok);
    const printed = parse(r.stdout) as { mode: string; redis: { keyPrefix: string }; http: { host: string } };
    expect(printed.mode).toBe('watch');
    expect(printed.redis.keyPrefix).toBe('{vigil}');
    expect(printed.http.host).toBe('127.0.0.1');
  });

  it('config check applies env then flags over the file, and prints JSON on request', async () => {
    const r = await runCli(
      ['config', 'check', '--config', 'config/devnet.yaml', '--format', 'json', '--l2-max-range', '77'],
      { env: { VIGIL_L2_MAX_RANGE: '55', VIGIL_LOG_LEVEL: 'debug' } },
    );
    expect(r.code).toBe(ExitCode.Ok);
    const printed = JSON.parse(r.stdout) as {
      l2: { maxRange: number; chainId: number };
      log: { level: string };
    };
    expect(printed.l2.maxRange).toBe(77);
    expect(printed.log.level).toBe('debug');
    expect(printed.l2.chainId).toBe(31337);
  });

  it('a broken config exits 3 with a first line naming the key, the value and the YAML position', async () => {
    const bad = file('bad.yaml', 'l2:\n  chainId: forty-two\n');
    const r = await runCli(['config', 'check', '--config', bad]);
    expect(r.code).toBe(ExitCode.Config);
    expect(r.stderr.split('\n')[0]).toBe(
      `invalid configuration: l2.chainId: expected a number, got "forty-two" (${bad}:2:12)`,
    );
    expect(r.stdout).toBe('');
  });

  it('a bad flag value exits 3 naming the key and the flag', async () => {
    const r = await runCli(['config', 'check', '--mode', 'attack']);
    expect(r.code).toBe(ExitCode.Config);
    expect(r.stderr).toMatch(/^invalid configuration: mode: expected one of .* got "attack" \(flag --mode\)/);
  });

  it('an unknown VIGIL_* variable is a warning with a suggestion, not an error', async () => {
    const r = await runCli(['config', 'check'], { env: { VIGIL_REDIS_URI: 'redis://127.0.0.1:6379' } });
    expect(r.code).toBe(ExitCode.Ok);
    expect(r.stderr).toContain(
      'warning: VIGIL_REDIS_URI is not a Vigil setting and is ignored (did you mean VIGIL_REDIS_URL?)',
    );
  });
});
