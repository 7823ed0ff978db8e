import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { defaultConfig, loadConfig } from '../../src/config/load.ts';
import { watcherFeesFromConfig } from '../../src/watcher/from-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-fees-'));
let n = 0;
function yamlFile(text: string): string {
  const path = join(dir, `f${n++}.yaml`);
  writeFileSync(path, text);
  return path;
}

function configError(sources: Parameters<typeof loadConfig>[0]): ConfigError {
  try {
    loadConfig(sources);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('fees.maxFeeSat and fees.minRelaySatVb', () => {
  it('default to 0.05 BTC and 1 sat/vB', () => {
    const c = defaultConfig();
    expect(c.fees.maxFeeSat).toBe(5_000_000);
    expect(c.fees.minRelaySatVb).toBe(1);
  });

  it('come from the file, the environment and flags', () => {
    const file = yamlFile('fees:\n  maxFeeSat: 123456\n  minRelaySatVb: 2.5\n');
    expect(loadConfig({ file, env: {} }).config.fees).toMatchObject({
      maxFeeSat: 123456,
      minRelaySatVb: 2.5,
    });
    const env = { VIGIL_FEES_MAX_FEE_SAT: '250000', VIGIL_FEES_MIN_RELAY_SAT_VB: '3' };
    expect(loadConfig({ file, env }).config.fees).toMatchObject({ maxFeeSat: 250_000, minRelaySatVb: 3 });
    const flags = { 'fees.maxFeeSat': '99', 'fees.minRelaySatVb': '4' };
    expect(loadConfig({ file, env, flags }).config.fees).toMatchObject({ maxFeeSat: 99, minRelaySatVb: 4 });
  });

  it('a zero cap is accepted (nothing may be paid: every send is refused, deliberately)', () => {
    expect(loadConfig({ env: { VIGIL_FEES_MAX_FEE_SAT: '0' } }).config.fees.maxFeeSat).toBe(0);
  });

  it.each([
    ['a negative cap in the file', { yaml: 'fees:\n  maxFeeSat: -5\n' }, 'fees.maxFeeSat', '>= 0', '-5'],
    [
      'a negative cap from the environment',
      { env: { VIGIL_FEES_MAX_FEE_SAT: '-1' } },
      'fees.maxFeeSat',
      '>= 0',
      'env VIGIL_FEES_MAX_FEE_SAT',
    ],
    ['a fractional cap', { env: { VIGIL_FEES_MAX_FEE_SAT: '1.5' } }, 'fees.maxFeeSat', 'integer', '1.5'],
    [
      'a cap above every bitcoin there is',
      { yaml: 'fees:\n  maxFeeSat: 2100000000000001\n' },
      'fees.maxFeeSat',
      '2100000000000000',
      '',
    ],
    ['a zero floor', { env: { VIGIL_FEES_MIN_RELAY_SAT_VB: '0' } }, 'fees.minRelaySatVb', '> 0', '0'],
    ['a negative floor', { yaml: 'fees:\n  minRelaySatVb: -1\n' }, 'fees.minRelaySatVb', '> 0', '-1'],
    [
      'a floor above the rate cap',
      { yaml: 'fees:\n  maxFeeRateSatVb: 10\n  minRelaySatVb: 11\n' },
      'fees.minRelaySatVb',
      'at most fees.maxFeeRateSatVb',
      '11',
    ],
  ] as const)('refuses %s, naming the key (exit 3)', (_name, src, key, says, got) => {
    const file = 'yaml' in src ? yamlFile(src.yaml) : undefined;
    const err = configError({ ...(file ? { file } : {}), env: 'env' in src ? src.env : {} });
    expect(exitCodeFor(err)).toBe(3);
    expect(err.problems[0]?.key).toBe(key);
    const line = err.message.split('\n')[0] ?? '';
    expect(line).toContain(`invalid configuration: ${key}: expected`);
    expect(line).toContain(says);
    expect(line).toContain(got);
  });
});

describe('watcherFeesFromConfig: what the dispute jobs get', () => {
  it('carries every fee setting the configuration has, amounts as bigint', () => {
    const { config } = loadConfig({
      env: {
        VIGIL_FEES_TARGET_BLOCKS: '3',
        VIGIL_FEES_MAX_FEE_RATE_SAT_VB: '300',
        VIGIL_FEES_BUMP_STEP_SAT_VB: '7',
        VIGIL_FEES_BUMP_AFTER_BLOCKS: '4',
        VIGIL_FEES_MAX_FEE_SAT: '1234567',
        VIGIL_FEES_MIN_RELAY_SAT_VB: '2',
      },
    });
    expect(watcherFeesFromConfig(config)).toEqual({
      targetBlocks: 3,
      maxFeeRateSatVb: 300,
      bumpStepSatVb: 7,
      bumpAfterBlocks: 4,
      maxFeeSat: 1_234_567n,
      minRelaySatVb: 2,
    });
  });

  it('has the defaults when nothing is set', () => {
    expect(watcherFeesFromConfig(defaultConfig())).toMatchObject({ maxFeeSat: 5_000_000n, minRelaySatVb: 1 });
  });
});
