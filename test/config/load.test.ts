import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { configLeaves, envNameOf, flagNameOf } from '../../src/config/fields.ts';
import { defaultConfig, loadConfig } from '../../src/config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
let n = 0;
function yamlFile(text: string): string {
  const path = join(dir, `c${n++}.yaml`);
  writeFileSync(path, text);
  return path;
}

/** Loads and returns the ConfigError (fails the test when loading succeeds). */
function configError(sources: Parameters<typeof loadConfig>[0]): ConfigError {
  try {
    loadConfig(sources);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const SECRET = 'cVt4o7BGAig1UXywgGSmARhxMdzP5qvQsxKkSsc1XEkw3tDTQFpy';

describe('shipped configuration files', () => {
  it('config/default.yaml sets exactly the defaults', () => {
    expect(loadConfig({ file: 'config/default.yaml', env: {} }).config).toEqual(defaultConfig());
  });

  it('config/default.yaml mentions every key, so every key is documented there', () => {
    const text = readFileSync('config/default.yaml', 'utf8');
    const missing = configLeaves().filter((l) => !new RegExp(`^\\s*#?\\s*${l.path.at(-1)}:`, 'm').test(text));
    expect(missing.map((l) => l.key)).toEqual([]);
  });

  it('docs/configuration.md lists every key with its environment variable', () => {
    const text = readFileSync('docs/configuration.md', 'utf8');
    const missing = configLeaves().filter((l) => !text.includes(`| \`${l.key}\` | \`${l.env}\` |`));
    expect(missing.map((l) => l.key)).toEqual([]);
  });

  it.each(['config/devnet.yaml', 'config/mainnet.example.yaml'])('%s is valid', (file) => {
    const { config, warnings } = loadConfig({ file, env: {} });
    expect(warnings).toEqual([]);
    expect(config.http.host).toBe('127.0.0.1');
  });

  it('the example for mainnet does not spend', () => {
    const { config } = loadConfig({ file: 'config/mainnet.example.yaml', env: {} });
    expect(config.bitcoin.network).toBe('mainnet');
    expect(config.mode).toBe('watch');
    expect(config.allowMainnetSpending).toBe(false);
  });
});

describe('defaults', () => {
  it('are safe: watch mode, loopback HTTP, a hash-tagged Redis prefix', () => {
    const c = defaultConfig();
    expect(c.mode).toBe('watch');
    expect(c.allowMainnetSpending).toBe(false);
    expect(c.http.host).toBe('127.0.0.1');
    expect(c.redis.keyPrefix).toMatch(/^\{[^}]+\}$/);
  });
});

type InvalidCase = {
  name: string;
  yaml: string;
  env?: Record<string, string>;
  /** The key path the first problem must name. */
  key: string;
  /** Text the first problem must contain. */
  says: string | RegExp;
  /** `line:col` in the file, when the value came from the file. */
  at?: string;
  /** Text that must never appear in the message (a secret). */
  never?: string;
};

const invalid: InvalidCase[] = [
  {
    name: 'wrong type',
    yaml: 'l2:\n  chainId: "abc"\n',
    key: 'l2.chainId',
    says: 'expected a number, got "abc"',
    at: '2:12',
  },
  {
    name: 'not an integer',
    yaml: 'l2:\n  startBlock: 1.5\n',
    key: 'l2.startBlock',
    says: 'expected an integer, got 1.5',
    at: '2:15',
  },
  {
    name: 'out of range',
    yaml: 'http:\n  port: 70000\n',
    key: 'http.port',
    says: 'a number <= 65535',
    at: '2:9',
  },
  {
    name: 'zero where positive',
    yaml: 'fees:\n  maxFeeRateSatVb: 0\n',
    key: 'fees.maxFeeRateSatVb',
    says: 'a number > 0',
    at: '2:20',
  },
  {
    name: 'not in the enum',
    yaml: 'mode: attack\n',
    key: 'mode',
    says: 'one of "watch" | "challenge" | "dry-run"',
    at: '1:7',
  },
  {
    name: 'a URL of the wrong scheme',
    yaml: 'l2:\n  rpcUrls: [http://a:1, "ftp://b"]\n',
    key: 'l2.rpcUrls[1]',
    says: 'an http(s) URL',
    at: '2:25',
  },
  {
    name: 'an empty list',
    yaml: 'l2:\n  rpcUrls: []\n',
    key: 'l2.rpcUrls',
    says: 'at least 1 item',
    at: '2:12',
  },
  {
    name: 'a malformed address',
    yaml: 'l2:\n  contracts:\n    governor: "0x1234"\n',
    key: 'l2.contracts.governor',
    says: '20-byte hex address',
    at: '3:15',
  },
  {
    name: 'an unknown key, with a suggestion',
    yaml: 'redis:\n  urll: redis://x:1\n',
    key: 'redis.urll',
    says: 'did you mean redis.url?',
    at: '2:3',
  },
  {
    name: 'an unknown top-level section',
    yaml: 'bitcon:\n  url: http://x\n',
    key: 'bitcon',
    says: 'did you mean bitcoin?',
    at: '1:1',
  },
  {
    name: 'a wrong Redis scheme',
    yaml: 'redis:\n  url: http://127.0.0.1:6379\n',
    key: 'redis.url',
    says: 'a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL',
    at: '2:8',
  },
  {
    name: 'a prefix with spaces',
    yaml: 'redis:\n  keyPrefix: "a b"\n',
    key: 'redis.keyPrefix',
    says: 'without spaces',
    at: '2:14',
  },
  {
    name: 'a section that is not a mapping',
    yaml: 'log: loud\n',
    key: 'log',
    says: 'expected an object, got "loud"',
    at: '1:6',
  },
  {
    name: 'an inline password',
    yaml: `bitcoin:\n  auth:\n    user: u\n    password: ${SECRET}\n`,
    key: 'bitcoin.auth.password',
    says: 'secrets never go inline',
    at: '4:5',
    never: SECRET,
  },
  {
    name: 'key material instead of a key source',
    yaml: `keys:\n  watcher: ${SECRET}\n`,
    key: 'keys.watcher',
    says: 'key material never goes in the config, got <redacted>',
    at: '2:12',
    never: SECRET,
  },
  {
    name: 'an inline private key inside the source',
    yaml: `keys:\n  watcher:\n    privateKey: ${SECRET}\n`,
    key: 'keys.watcher.privateKey',
    says: 'secrets never go inline',
    never: SECRET,
  },
  {
    name: 'a value where an env variable NAME belongs',
    yaml: `keys:\n  watcher:\n    env: ${SECRET}\n`,
    key: 'keys.watcher.env',
    says: 'the NAME of an environment variable',
    at: '3:10',
    never: SECRET,
  },
  {
    name: 'a password where the password env NAME belongs',
    yaml: `bitcoin:\n  auth:\n    user: u\n    passwordEnv: "${SECRET.toLowerCase()}"\n`,
    key: 'bitcoin.auth.passwordEnv',
    says: 'got <redacted>',
    never: SECRET.toLowerCase(),
  },
  {
    name: 'both file and env for one key',
    yaml: 'keys:\n  watcher:\n    file: /k\n    env: K\n',
    key: 'keys.watcher',
    says: 'exactly one of file or env',
  },
  {
    name: 'a password without a user',
    yaml: 'bitcoin:\n  auth:\n    passwordFile: /p\n',
    key: 'bitcoin.auth.user',
    says: 'a user name',
  },
  {
    name: 'a cookie and a user',
    yaml: 'bitcoin:\n  auth:\n    user: u\n    cookieFile: /c\n',
    key: 'bitcoin.auth.cookieFile',
    says: 'either cookieFile or user/password',
  },
  { name: 'challenge without a key', yaml: 'mode: challenge\n', key: 'keys.watcher', says: 'a key source' },
  {
    name: 'mainnet spending without the switch',
    yaml: 'mode: challenge\nbitcoin:\n  network: mainnet\nkeys:\n  watcher:\n    file: /k\n',
    key: 'allowMainnetSpending',
    says: 'true to spend on Bitcoin mainnet',
  },
  {
    name: 'critical alert farther than warn',
    yaml: 'dispute:\n  alertWarnBlocks: 5\n  alertCriticalBlocks: 9\n',
    key: 'dispute.alertCriticalBlocks',
    says: 'at most alertWarnBlocks',
  },
  { name: 'a leaf left empty', yaml: 'l2:\n  chainId:\n', key: 'l2.chainId', says: 'got null' },
  {
    name: 'a YAML syntax error',
    yaml: 'l2:\n  rpcUrls: [http://a:1\n',
    key: '',
    says: 'valid YAML',
    at: '3:1',
  },
  {
    name: 'a duplicate key',
    yaml: 'mode: watch\nmode: challenge\n',
    key: '',
    says: 'valid YAML: Map keys must be unique',
    at: '2:1',
  },
  {
    name: 'a top level that is not a mapping',
    yaml: '- a\n- b\n',
    key: '',
    says: 'a YAML mapping at the top level',
    at: '1:1',
  },
  {
    name: 'a bad value from the environment',
    yaml: '',
    env: { VIGIL_L2_CONFIRMATIONS: '-1' },
    key: 'l2.confirmations',
    says: '(env VIGIL_L2_CONFIRMATIONS)',
  },
  {
    name: 'a section made invalid by two env variables names both',
    yaml: '',
    env: { VIGIL_KEYS_WATCHER_FILE: '/k', VIGIL_KEYS_WATCHER_ENV: 'K' },
    key: 'keys.watcher',
    says: '(env VIGIL_KEYS_WATCHER_FILE, VIGIL_KEYS_WATCHER_ENV)',
  },
  {
    name: 'a heap growth below what V8 can work with',
    yaml: 'memory:\n  heapGrowthPercent: 5\n',
    key: 'memory.heapGrowthPercent',
    says: 'expected a number >= 10, got 5',
  },
  {
    name: 'a bad boolean from the environment',
    yaml: '',
    env: { VIGIL_ALLOW_MAINNET_SPENDING: 'sure' },
    key: 'allowMainnetSpending',
    says: 'expected a boolean, got "sure"',
  },
];

describe('invalid configuration', () => {
  it.each(invalid)('$name', (c) => {
    const file = yamlFile(c.yaml);
    const err = configError({ file, env: c.env ?? {} });
    const first = err.problems[0];
    expect(first?.key).toBe(c.key);
    const line = err.message.split('\n')[0] ?? '';
    expect(line).toContain(
      c.key === '' ? 'invalid configuration: expected' : `invalid configuration: ${c.key}: `,
    );
    if (typeof c.says === 'string') expect(line).toContain(c.says);
    else expect(line).toMatch(c.says);
    if (c.at !== undefined) expect(line).toContain(`(${file}:${c.at})`);
    if (c.never !== undefined) expect(err.message).not.toContain(c.never);
    expect(exitCodeFor(err)).toBe(3);
  });

  it('reports every problem, not just the first', () => {
    const err = configError({ file: yamlFile('mode: x\nl2:\n  chainId: y\nhttp:\n  port: -1\n'), env: {} });
    expect(err.problems.map((p) => p.key).sort()).toEqual(['http.port', 'l2.chainId', 'mode']);
    expect(err.message).toContain('(and 2 more)');
  });

  it('names a file that cannot be read', () => {
    const err = configError({ file: join(dir, 'missing.yaml'), env: {} });
    expect(err.message).toContain('ENOENT');
    expect(err.message).toContain('missing.yaml');
  });

  it('refuses a flag for a key that does not exist', () => {
    expect(configError({ env: {}, flags: { 'l2.nope': '1' } }).problems[0]?.key).toBe('l2.nope');
  });
});

describe('precedence: defaults < file < env < flags', () => {
  const rows = [
    {
      key: 'l2.maxRange',
      file: 'l2:\n  maxRange: 100\n',
      env: '200',
      flag: '300',
      read: (c: ReturnType<typeof defaultConfig>) => c.l2.maxRange,
      values: [2000, 100, 200, 300],
    },
    {
      key: 'l2.rpcUrls',
      file: 'l2:\n  rpcUrls: [http://file:1]\n',
      env: 'http://env:1, http://env:2',
      flag: 'http://flag:1',
      read: (c: ReturnType<typeof defaultConfig>) => c.l2.rpcUrls,
      values: [
        ['http://127.0.0.1:8545'],
        ['http://file:1'],
        ['http://env:1', 'http://env:2'],
        ['http://flag:1'],
      ],
    },
    {
      key: 'allowMainnetSpending',
      file: 'allowMainnetSpending: true\n',
      env: 'false',
      flag: 'true',
      read: (c: ReturnType<typeof defaultConfig>) => c.allowMainnetSpending,
      values: [false, true, false, true],
    },
    {
      key: 'log.format',
      file: 'log:\n  format: pretty\n',
      env: 'json',
      flag: 'pretty',
      read: (c: ReturnType<typeof defaultConfig>) => c.log.format,
      values: ['json', 'pretty', 'json', 'pretty'],
    },
  ];

  it.each(rows)('$key', (row) => {
    const leaf = configLeaves().find((l) => l.key === row.key);
    if (!leaf) throw new Error(`no leaf ${row.key}`);
    const file = yamlFile(row.file);
    const env = { [leaf.env]: row.env };
    const flags = { [row.key]: row.flag };
    expect(row.read(loadConfig({ env: {} }).config)).toEqual(row.values[0]);
    expect(row.read(loadConfig({ file, env: {} }).config)).toEqual(row.values[1]);
    expect(row.read(loadConfig({ file, env }).config)).toEqual(row.values[2]);
    expect(row.read(loadConfig({ file, env, flags }).config)).toEqual(row.values[3]);
  });

  it('a layer overrides single keys and keeps the rest of a section', () => {
    const file = yamlFile('redis:\n  url: redis://file:1\n  keyPrefix: "{mine}"\n');
    const { config } = loadConfig({ file, env: { VIGIL_REDIS_URL: 'redis://env:2' } });
    expect(config.redis).toEqual({ url: 'redis://env:2', keyPrefix: '{mine}' });
  });

  it('VIGIL_CONFIG names the file when --config is absent', () => {
    const file = yamlFile('l2:\n  chainId: 77\n');
    expect(loadConfig({ env: { VIGIL_CONFIG: file } }).config.l2.chainId).toBe(77);
  });
});

describe('the naming rule', () => {
  it('gives every key a distinct env variable and flag', () => {
    const leaves = configLeaves();
    expect(new Set(leaves.map((l) => l.env)).size).toBe(leaves.length);
    expect(new Set(leaves.map((l) => l.flag)).size).toBe(leaves.length);
  });

  it.each([
    [['redis', 'url'], 'VIGIL_REDIS_URL', 'redis-url'],
    [['l2', 'rpcUrls'], 'VIGIL_L2_RPC_URLS', 'l2-rpc-urls'],
    [['bitcoin', 'auth', 'cookieFile'], 'VIGIL_BITCOIN_AUTH_COOKIE_FILE', 'bitcoin-auth-cookie-file'],
    [['fees', 'maxFeeRateSatVb'], 'VIGIL_FEES_MAX_FEE_RATE_SAT_VB', 'fees-max-fee-rate-sat-vb'],
  ])('%j → %s, --%s', (path, env, flag) => {
    expect(envNameOf(path)).toBe(env);
    expect(flagNameOf(path)).toBe(flag);
    expect(configLeaves().some((l) => l.env === env)).toBe(true);
  });

  it('warns about unknown VIGIL_* variables but not about the ones named as secret sources', () => {
    const { warnings } = loadConfig({
      env: {
        VIGIL_LOG_LEVLE: 'debug',
        VIGIL_KEYS_WATCHER_ENV: 'VIGIL_WATCHER_KEY',
        VIGIL_WATCHER_KEY: SECRET,
        VIGIL_LONG: '1',
      },
    });
    expect(warnings).toEqual([
      'VIGIL_LOG_LEVLE is not a Vigil setting and is ignored (did you mean VIGIL_LOG_LEVEL?)',
    ]);
  });
});
