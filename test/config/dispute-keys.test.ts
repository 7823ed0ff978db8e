import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { EsploraBackend } from '../../src/bitcoin/backends/esplora.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { configLeaves } from '../../src/config/fields.ts';
import { defaultConfig, loadConfig } from '../../src/config/load.ts';
import { InputsFileError } from '../../src/governance/errors.ts';
import {
  epochSourceConfigured,
  epochSourceFromConfig,
  genesisFromConfig,
} from '../../src/watcher/from-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-config-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(name: string, text: string): string {
  const path = join(dir, `${n++}-${name}`);
  writeFileSync(path, text);
  return path;
}

const OP = '4f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa';
const C1 = '466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f27';
const C2 = '3c72addb4fdf09af94f0c94d7fe92a386a7e70cf8a1d85916386bb2535c7b1b1';
const ADDR = (b: string) => `0x${b.repeat(40)}`;

function problems(sources: Parameters<typeof loadConfig>[0]): ConfigError['problems'] {
  try {
    loadConfig(sources);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config keys of the epoch source', () => {
  it('follow the naming rule in the environment and on the command line', () => {
    const byKey = new Map(configLeaves().map((l) => [l.key, l]));
    expect(byKey.get('dispute.graphDir')).toMatchObject({
      env: 'VIGIL_DISPUTE_GRAPH_DIR',
      flag: 'dispute-graph-dir',
      kind: 'string',
    });
    expect(byKey.get('dispute.operatorKey')?.env).toBe('VIGIL_DISPUTE_OPERATOR_KEY');
    expect(byKey.get('dispute.committeeKeys')).toMatchObject({
      env: 'VIGIL_DISPUTE_COMMITTEE_KEYS',
      flag: 'dispute-committee-keys',
      kind: 'list',
    });
    expect(byKey.get('l2.genesisFile')).toMatchObject({
      env: 'VIGIL_L2_GENESIS_FILE',
      flag: 'l2-genesis-file',
    });
  });

  it('are unset by default, and load from YAML, env and flags', () => {
    const d = defaultConfig();
    expect(d.dispute.graphDir).toBeUndefined();
    expect(d.dispute.operatorKey).toBeUndefined();
    expect(d.dispute.committeeKeys).toBeUndefined();
    expect(d.l2.genesisFile).toBeUndefined();
    const yaml = file(
      'c.yaml',
      `dispute:\n  graphDir: /var/graphs\n  operatorKey: "${OP}"\n  committeeKeys:\n    - "${C1}"\n`,
    );
    expect(loadConfig({ file: yaml, env: {} }).config.dispute).toMatchObject({
      graphDir: '/var/graphs',
      operatorKey: OP,
      committeeKeys: [C1],
    });
    const env = loadConfig({
      env: {
        VIGIL_DISPUTE_GRAPH_DIR: '/g',
        VIGIL_DISPUTE_OPERATOR_KEY: OP,
        VIGIL_DISPUTE_COMMITTEE_KEYS: `${C1},${C2}`,
        VIGIL_L2_GENESIS_FILE: '/etc/genesis.json',
      },
    }).config;
    expect(env.dispute.committeeKeys).toEqual([C1, C2]);
    expect(env.l2.genesisFile).toBe('/etc/genesis.json');
    const flags = loadConfig({
      env: {},
      flags: { 'dispute.graphDir': '/f', 'dispute.operatorKey': OP, 'dispute.committeeKeys': C2 },
    }).config;
    expect(flags.dispute).toMatchObject({ graphDir: '/f', committeeKeys: [C2] });
  });

  it.each([
    ['a 0x prefix', `0x${OP.slice(2)}`],
    ['a compressed (33-byte) key', `02${OP}`],
    ['too short', OP.slice(1)],
    ['not hex', `${OP.slice(0, 63)}g`],
  ])('refuse an operator key with %s, naming the key and the shape', (_name, key) => {
    const p = problems({
      env: {
        VIGIL_DISPUTE_GRAPH_DIR: '/g',
        VIGIL_DISPUTE_OPERATOR_KEY: key,
        VIGIL_DISPUTE_COMMITTEE_KEYS: C1,
      },
    });
    expect(p[0]).toMatchObject({ key: 'dispute.operatorKey', origin: 'env VIGIL_DISPUTE_OPERATOR_KEY' });
    expect(p[0]?.expected).toContain('x-only public key (64 hex digits');
  });

  it('refuse a bad committee key at its index, and an empty committee', () => {
    const p = problems({
      env: {},
      flags: { 'dispute.graphDir': '/g', 'dispute.operatorKey': OP, 'dispute.committeeKeys': `${C1},zz` },
    });
    expect(p[0]).toMatchObject({ key: 'dispute.committeeKeys[1]', origin: 'flag --dispute-committee-keys' });
    const yaml = file('e.yaml', `dispute:\n  graphDir: /g\n  operatorKey: "${OP}"\n  committeeKeys: []\n`);
    expect(problems({ file: yaml, env: {} })[0]).toMatchObject({
      key: 'dispute.committeeKeys',
      expected: expect.stringMatching(/at least (1|one)/),
    });
  });

  it('need the graph directory and both key settings together', () => {
    const p = problems({ env: { VIGIL_DISPUTE_GRAPH_DIR: '/g' } });
    expect(p.map((x) => x.key).sort()).toEqual(['dispute.committeeKeys', 'dispute.operatorKey']);
    expect(p[0]?.expected).toContain('are set together');
  });

  it('refuse a committee key listed twice or equal to the operator key', () => {
    const p = problems({
      env: {
        VIGIL_DISPUTE_GRAPH_DIR: '/g',
        VIGIL_DISPUTE_OPERATOR_KEY: OP,
        VIGIL_DISPUTE_COMMITTEE_KEYS: `${C1},${C1.toUpperCase()},${OP}`,
      },
    });
    expect(p.map((x) => x.key)).toEqual(['dispute.committeeKeys[1]', 'dispute.committeeKeys[2]']);
  });
});

describe('l2.genesisFile', () => {
  const withGenesis = (path: string | undefined) =>
    loadConfig({ env: path === undefined ? {} : { VIGIL_L2_GENESIS_FILE: path } }).config;

  it('absent: the protocol defaults', () => {
    expect(genesisFromConfig(withGenesis(undefined))).toEqual({});
  });

  it('reads a bare genesis object or a whole inputs file without inputs', () => {
    const bare = file('g.json', JSON.stringify({ params: { quorumBps: '3000', timelock: '3' } }));
    expect(genesisFromConfig(withGenesis(bare))).toEqual({ params: { quorumBps: 3000n, timelock: 3n } });
    const whole = file(
      'w.json',
      JSON.stringify({
        format: 'vigil-governance-inputs/1',
        genesis: { params: { minStake: '1000' } },
        inputs: [],
      }),
    );
    expect(genesisFromConfig(withGenesis(whole))).toEqual({ params: { minStake: 1000n } });
  });

  it('refuses an unknown parameter, a file with inputs, a file that is not there', () => {
    const bad = file('b.json', JSON.stringify({ params: { quorum: '1' } }));
    expect(() => genesisFromConfig(withGenesis(bad))).toThrow(/l2\.genesisFile .*genesis\.params/);
    const withInputs = file(
      'i.json',
      JSON.stringify({
        format: 'vigil-governance-inputs/1',
        inputs: [{ kind: 'endEpoch', block: '1', txIndex: 0, logIndex: 0, sender: `0x${'9'.repeat(40)}` }],
      }),
    );
    expect(() => genesisFromConfig(withGenesis(withInputs))).toThrow(/holds 1 inputs/);
    expect(() => genesisFromConfig(withGenesis(join(dir, 'missing.json')))).toThrow(InputsFileError);
  });
});

describe('the epoch source from the configuration', () => {
  const contracts = {
    VIGIL_L2_CONTRACTS_TOKEN: ADDR('1'),
    VIGIL_L2_CONTRACTS_STAKING: ADDR('2'),
    VIGIL_L2_CONTRACTS_GOVERNOR: ADDR('3'),
    VIGIL_L2_CONTRACTS_PARAM_REGISTRY: ADDR('4'),
    VIGIL_L2_CONTRACTS_EPOCH_MANAGER: ADDR('5'),
    VIGIL_L2_CONTRACTS_STATE_COMMITMENT: ADDR('6'),
  };
  const keys = {
    VIGIL_DISPUTE_GRAPH_DIR: dir,
    VIGIL_DISPUTE_OPERATOR_KEY: OP,
    VIGIL_DISPUTE_COMMITTEE_KEYS: C1,
  };

  it('is built only when the contracts, the graph directory and the keys are all set', async () => {
    const backend = new EsploraBackend({ baseUrl: 'http://127.0.0.1:1' });
    const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
    try {
      for (const env of [{}, contracts, keys]) {
        const c = loadConfig({ env }).config;
        expect(epochSourceConfigured(c)).toBe(false);
        expect(epochSourceFromConfig(c, { redis, backend })).toBeUndefined();
      }
      const c = loadConfig({ env: { ...contracts, ...keys } }).config;
      expect(epochSourceConfigured(c)).toBe(true);
      const parts = epochSourceFromConfig(c, { redis, backend });
      expect(parts?.expectations).toMatchObject({ network: 'regtest' });
      expect(Buffer.from(parts?.expectations.operator ?? []).toString('hex')).toBe(OP);
      expect(parts?.expectations.committee.map((k) => Buffer.from(k).toString('hex'))).toEqual([C1]);
      // The graph directory holds no graph documents: no graphs, and nothing was ingested yet.
      expect(await parts?.source.graphs()).toEqual([]);
      const facts = await parts?.source.facts(0n);
      expect(facts?.reexecution.complete).toBe(false);
    } finally {
      redis.disconnect();
    }
  });
});
