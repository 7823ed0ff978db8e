import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/exit-codes.ts';
import { SecretUnavailableError } from '../../src/config/errors.ts';
import { redactUrl, redactValue } from '../../src/config/redact.ts';
import { readSecret } from '../../src/config/secrets.ts';
import { runCli } from '../cli/run-cli.ts';

// A known key string: if it shows up in any output, redaction failed.
const SECRET = 'cN9spWsvaxA8taS7DFMxnk1yJD2gaF2PX1npuTpy3vuZFJdwavaw';

const dir = mkdtempSync(join(tmpdir(), 'vigil-secrets-'));
const keyFile = join(dir, 'watcher.key');
writeFileSync(keyFile, `${SECRET}\n`);
chmodSync(keyFile, 0o600);

describe('readSecret', () => {
  it('reads from a file, trimmed', () => {
    expect(readSecret({ file: keyFile }, 'keys.watcher')).toBe(SECRET);
  });

  it('reads from an env variable', () => {
    expect(readSecret({ env: 'WATCHER_KEY' }, 'keys.watcher', { WATCHER_KEY: ` ${SECRET} ` })).toBe(SECRET);
  });

  it.each([
    [{ env: 'UNSET_VAR' }, {}, 'UNSET_VAR is not set'],
    [{ env: 'EMPTY_VAR' }, { EMPTY_VAR: '  ' }, 'EMPTY_VAR is not set or empty'],
    [{ file: join(dir, 'nope') }, {}, 'ENOENT'],
  ])('names the source when it cannot read %j', (source, env, says) => {
    expect(() => readSecret(source, 'keys.watcher', env)).toThrow(SecretUnavailableError);
    expect(() => readSecret(source, 'keys.watcher', env)).toThrow(says);
  });
});

describe('redactUrl', () => {
  it.each([
    ['redis://:hunter2@127.0.0.1:6379', 'redis://:redacted@127.0.0.1:6379', 'hunter2'],
    ['redis://user:hunter2@h:1/0', 'redis://user:redacted@h:1/0', 'hunter2'],
    [
      'https://mainnet.infura.io/v3/9aa3d95b3bc440fa88ea12eaa4456161',
      'https://mainnet.infura.io/v3/redacted',
      '9aa3d95b',
    ],
    ['https://rpc.example/?apikey=abc123secret', 'https://rpc.example/?apikey=redacted', 'abc123secret'],
    ['http://127.0.0.1:8545', 'http://127.0.0.1:8545', undefined],
    // Values the URL parser refuses still lose their password: a configuration error quotes them.
    ['redis://:hunter2@h1:1,h2:2', 'redis://:redacted@h1:1,h2:2', 'hunter2'],
    ['redis+cluster://u:hunter2@h1:6379,h2:6379/', 'redis+cluster://u:redacted@h1:6379,h2:6379/', 'hunter2'],
    ['redis://:hunter2@h:99999', 'redis://:redacted@h:99999', 'hunter2'],
    ['/run/secrets/key', '/run/secrets/key', undefined],
  ])('%s', (input, output, hidden) => {
    expect(redactUrl(input)).toBe(output);
    if (hidden) expect(redactUrl(input)).not.toContain(hidden);
  });

  it('a configuration error quoting an unparsable Redis URL does not quote its password', async () => {
    const r = await runCli(['config', 'check'], {
      env: { VIGIL_REDIS_URL: 'redis://:hunter2xyz@h1:1,h2:2' },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('redis.url');
    expect(r.stderr + r.stdout).not.toContain('hunter2xyz');
  });

  it('redactValue scrubs nested URLs and secret-named keys', () => {
    expect(redactValue({ a: ['redis://:pw@h:1'], password: 'x', n: 3 })).toEqual({
      a: ['redis://:redacted@h:1'],
      password: '<redacted>',
      n: 3,
    });
  });
});

describe.concurrent('vigil config check never prints a secret', () => {
  const cases: { name: string; args: string[]; env: Record<string, string>; code: number; yaml?: string }[] =
    [
      {
        name: 'a Redis password in the URL, a key file, a key env variable, a password file',
        args: ['--bitcoin-auth-user', 'u', '--bitcoin-auth-password-file', keyFile, '--mode', 'dry-run'],
        env: {
          VIGIL_REDIS_URL: `redis://:${SECRET}@127.0.0.1:6379`,
          VIGIL_KEYS_WATCHER_ENV: 'WATCHER_KEY',
          WATCHER_KEY: SECRET,
          VIGIL_L2_RPC_URLS: `https://rpc.example/v2/${SECRET}`,
        },
        code: ExitCode.Ok,
      },
      {
        name: 'the key itself pasted where the env variable name belongs',
        args: [],
        env: { VIGIL_KEYS_WATCHER_ENV: SECRET },
        code: ExitCode.Config,
      },
      {
        name: 'key material inline in the file',
        args: [],
        env: {},
        code: ExitCode.Config,
        yaml: `keys:\n  watcher: ${SECRET}\n`,
      },
      {
        name: 'a password inline in the file',
        args: [],
        env: {},
        code: ExitCode.Config,
        yaml: `bitcoin:\n  auth:\n    user: u\n    password: "${SECRET}"\n`,
      },
      {
        name: 'a bad Redis URL carrying a password',
        args: [],
        env: { VIGIL_REDIS_URL: `http://:${SECRET}@127.0.0.1:1` },
        code: ExitCode.Config,
      },
    ];

  it.each(cases)('$name', async (c) => {
    const args = ['config', 'check', ...c.args];
    if (c.yaml !== undefined) {
      const file = join(dir, `${c.name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, c.yaml);
      args.push('--config', file);
    }
    // Both output formats for the valid case; an error prints the same text in either.
    for (const format of c.code === ExitCode.Ok ? ['yaml', 'json'] : ['yaml']) {
      const r = await runCli([...args, '--format', format], { env: c.env });
      expect(r.code).toBe(c.code);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
      if (c.code === ExitCode.Ok) expect(r.stdout).toContain('redacted');
    }
  });
});
