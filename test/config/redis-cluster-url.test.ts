/**
 * `redis.url` in its cluster form (issue #21): the schema takes `redis+cluster://` and
 * `rediss+cluster://` besides `redis://` and `rediss://`; redis.passwordFile and redis.passwordEnv join a
 * cluster URL as they join a single one; a malformed cluster URL is one config line that never quotes
 * the password.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { redisUrlFromConfig } from '../../src/config/secrets.ts';
import { parseClusterUrl, withClusterPassword } from '../../src/store/cluster-url.ts';
import { runCli } from '../cli/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-cluster-url-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const load = (flags: Record<string, string>, env: Record<string, string> = {}) =>
  loadConfig({ env, flags }).config;

describe('redis.url accepts every Redis URL form', () => {
  it.each([
    'redis://127.0.0.1:6379',
    'rediss://u:p@redis.example:6380/2',
    'redis+cluster://10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000',
    'rediss+cluster://vigil:pw@a.example:7000,[::1]:7001/',
  ])('%s', (url) => {
    expect(load({ 'redis.url': url }).redis.url).toBe(url);
  });

  it.each([
    ['http://127.0.0.1:6379', 'expected a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL'],
    ['redis+cluster://a:7000/1', 'expected a Redis Cluster URL that has a path or query'],
    ['redis+cluster://:s3cret@a:7000,,b', 'expected a Redis Cluster URL that has a bad node ""'],
  ])('refuses %s in one line without its password', (url, says) => {
    let message = '';
    try {
      load({ 'redis.url': url });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(`redis.url: ${says}`);
    expect(message).not.toContain('s3cret');
  });
});

it('a cluster needs the {hash tag} in redis.keyPrefix', () => {
  const url = 'redis+cluster://127.0.0.1:7000';
  expect(() => load({ 'redis.url': url, 'redis.keyPrefix': 'vigil' })).toThrow(
    'redis.keyPrefix: expected a prefix with a {hash tag} (e.g. "{vigil}"): redis.url is a Redis Cluster',
  );
  expect(load({ 'redis.url': url, 'redis.keyPrefix': 'x{mine}' }).redis.keyPrefix).toBe('x{mine}');
});

describe('the password sources apply to a cluster URL', () => {
  const pwFile = join(dir, 'redis.pw');
  writeFileSync(pwFile, 'p@ss:w0rd\n');
  chmodSync(pwFile, 0o600);
  const url = 'redis+cluster://vigil@127.0.0.1:7000,127.0.0.1:7001/';

  it('redis.passwordFile and redis.passwordEnv fill in the password, the user kept', () => {
    for (const [flags, env] of [
      [{ 'redis.url': url, 'redis.passwordFile': pwFile }, {}],
      [{ 'redis.url': url, 'redis.passwordEnv': 'REDIS_PW' }, { REDIS_PW: 'p@ss:w0rd' }],
    ] as const) {
      const full = redisUrlFromConfig(load(flags, env), env);
      expect(parseClusterUrl(full)).toEqual({
        nodes: [
          { host: '127.0.0.1', port: 7000 },
          { host: '127.0.0.1', port: 7001 },
        ],
        username: 'vigil',
        password: 'p@ss:w0rd',
        tls: false,
      });
    }
  });

  it('a password in the cluster URL and a source is refused, naming the key', () => {
    expect(() =>
      load(
        { 'redis.url': 'redis+cluster://:x@127.0.0.1:7000', 'redis.passwordEnv': 'REDIS_PW' },
        { REDIS_PW: 'y' },
      ),
    ).toThrow('redis.passwordEnv: expected no password source when redis.url already holds a password');
  });

  it('withClusterPassword replaces a password already there', () => {
    expect(withClusterPassword('rediss+cluster://u:old@h:1,h:2', 'n/w')).toBe(
      'rediss+cluster://u:n%2Fw@h:1,h:2',
    );
    expect(withClusterPassword('redis+cluster://h:1', 'pw')).toBe('redis+cluster://:pw@h:1');
  });
});

it('the one-shot vigil devnet refuses a cluster URL in one line, naming serve and watch', async () => {
  const r = await runCli(['devnet', '--redis-url', 'redis+cluster://:s3cret@127.0.0.1:7000,127.0.0.1:7001']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('vigil devnet runs on one Redis; for a Redis Cluster run `vigil devnet serve');
  expect(r.stderr).not.toContain('s3cret');
}, 30_000);
