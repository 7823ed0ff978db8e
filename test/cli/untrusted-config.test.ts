import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/exit-codes.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { loadConfig, MAX_CONFIG_BYTES } from '../../src/config/load.ts';
import { runCli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-untrusted-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** "Billion laughs": nine levels of nine aliases each, 9^9 (387 million) strings once expanded. */
const BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((k, i) => {
    const prev = 'abcdefgh'[i] as string;
    return `${k}: &${k} [${Array(9).fill(`*${prev}`).join(',')}]`;
  }),
  '',
].join('\n');

const BOMB_MESSAGE =
  "invalid configuration: expected YAML whose aliases (*name) expand to at most 100 nodes; this file's expand far beyond (an alias bomb?)";

describe('a hostile configuration file', () => {
  it('an alias bomb is refused in milliseconds, without the memory its expansion would take', () => {
    const bomb = file('bomb-inproc.yaml', BOMB);
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    let err: unknown;
    try {
      loadConfig({ file: bomb, env: {} });
    } catch (e) {
      err = e;
    }
    expect(performance.now() - started).toBeLessThan(2000);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).shortMessage).toBe(`${BOMB_MESSAGE} (${bomb})`);
  });

  it('a few honest aliases still work', () => {
    const ok = file(
      'aliases.yaml',
      'l2:\n  rpcUrls: &urls\n    - http://127.0.0.1:8545\nfees: &f\n  targetBlocks: 3\n',
    );
    expect(loadConfig({ file: ok, env: {} }).config.fees.targetBlocks).toBe(3);
  });

  it('a file over 1 MiB is refused before it is parsed', () => {
    const big = file('big.yaml', `# ${'x'.repeat(MAX_CONFIG_BYTES)}\nmode: watch\n`);
    expect(() => loadConfig({ file: big, env: {} })).toThrow(
      `invalid configuration: expected a YAML file of at most ${MAX_CONFIG_BYTES} bytes (${big})`,
    );
  });
});

describe.concurrent('vigil CLI on hostile or negative configuration', () => {
  it('config check and watch: an alias bomb exits 3 with the message, no stack', async () => {
    const bomb = file('bomb.yaml', BOMB);
    const [check, watch] = await Promise.all([
      runCli(['config', 'check', '--config', bomb]),
      runCli(['watch', '--config', bomb]),
    ]);
    for (const r of [check, watch]) {
      expect(r.code).toBe(ExitCode.Config);
      expect(r.stderr.split('\n')[0]).toBe(`${BOMB_MESSAGE} (${bomb})`);
      expect(r.stderr).not.toMatch(/\bat .*\.(ts|js):\d+/);
      expect(r.stderr).not.toContain('internal error');
      expect(r.stdout).toBe('');
    }
  });

  it.each([
    ['fees:\n  walletReserveSats: -5\n', 'fees.walletReserveSats: expected a number >= 0, got -5', ':2:22'],
    ['fees:\n  maxFeeRateSatVb: -1\n', 'fees.maxFeeRateSatVb: expected a number > 0, got -1', ':2:20'],
    ['fees:\n  bumpStepSatVb: -0.5\n', 'fees.bumpStepSatVb: expected a number > 0, got -0.5', ':2:18'],
    ['fees:\n  targetBlocks: -2\n', 'fees.targetBlocks: expected a number > 0, got -2', ':2:17'],
    ['fees:\n  bumpAfterBlocks: -1\n', 'fees.bumpAfterBlocks: expected a number > 0, got -1', ':2:20'],
    ['l2:\n  startBlock: -1\n', 'l2.startBlock: expected a number >= 0, got -1', ':2:15'],
    ['bitcoin:\n  confirmations: -6\n', 'bitcoin.confirmations: expected a number >= 0, got -6', ':2:18'],
    [
      'fees:\n  walletReserveSats: 2100000000000001\n',
      'fees.walletReserveSats: expected a number <= 2100000000000000, got 2100000000000001',
      ':2:22',
    ],
  ])('%j exits 3 naming the key', async (yaml, says, at) => {
    const path = file(`neg-${says.replace(/\W+/g, '-')}.yaml`, yaml);
    const r = await runCli(['config', 'check', '--config', path]);
    expect(r.code).toBe(ExitCode.Config);
    expect(r.stderr.split('\n')[0]).toContain(`invalid configuration: ${says}`);
    expect(r.stderr.split('\n')[0]).toContain(`${path}${at}`);
  });

  it('a negative amount from the environment or a flag is refused the same way', async () => {
    const [env, flag] = await Promise.all([
      runCli(['config', 'check'], { env: { VIGIL_FEES_WALLET_RESERVE_SATS: '-1000' } }),
      runCli(['config', 'check', '--fees-max-fee-rate-sat-vb', '-3']),
    ]);
    expect(env.code).toBe(ExitCode.Config);
    expect(env.stderr.split('\n')[0]).toBe(
      'invalid configuration: fees.walletReserveSats: expected a number >= 0, got -1000 (env VIGIL_FEES_WALLET_RESERVE_SATS)',
    );
    expect(flag.code).toBe(ExitCode.Config);
    expect(flag.stderr.split('\n')[0]).toBe(
      'invalid configuration: fees.maxFeeRateSatVb: expected a number > 0, got -3 (flag --fees-max-fee-rate-sat-vb)',
    );
  });
});
