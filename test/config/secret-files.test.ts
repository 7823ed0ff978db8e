import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simnet, startSimnet } from '../../src/bitcoin/simnet/start.ts';
import { ExitCode, exitCodeFor } from '../../src/cli/exit-codes.ts';
import { InsecureSecretFileError, SecretUnavailableError } from '../../src/config/errors.ts';
import { loadConfig } from '../../src/config/load.ts';
import {
  checkSecretFileMode,
  checkSecretFiles,
  readSecret,
  redisUrlFromConfig,
} from '../../src/config/secrets.ts';
import { closeRedis, connectRedis, RedisAuthError, RedisUnavailableError } from '../../src/store/redis.ts';
import { runCli } from '../cli/run-cli.ts';

// Known secrets: if one shows up in any output, redaction failed.
const KEY = 'cN9spWsvaxA8taS7DFMxnk1yJD2gaF2PX1npuTpy3vuZFJdwavaw';
const REDIS_PASSWORD = 'r3dis-pw:with@odd/chars%41';

const dir = mkdtempSync(join(tmpdir(), 'vigil-secret-files-'));
function secretFile(name: string, text: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, `${text}\n`);
  chmodSync(path, mode);
  return path;
}
const privateKey = secretFile('private.key', KEY, 0o600);
const groupKey = secretFile('group.key', KEY, 0o640);
const worldKey = secretFile('world.key', KEY, 0o644);
const redisPasswordFile = secretFile('redis.pw', REDIS_PASSWORD, 0o600);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// A private Redis with a password (the shared one has none), policy noeviction like a daemon needs.
let redis: ChildProcess | undefined;
let redisUrl = '';
beforeAll(async () => {
  const port = await freePort();
  redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--requirepass', REDIS_PASSWORD],
    { stdio: 'ignore' },
  );
  redisUrl = `redis://127.0.0.1:${port}`;
  const authed = `redis://:${encodeURIComponent(REDIS_PASSWORD)}@127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await closeRedis(await connectRedis(authed, { role: 'command', probeTimeoutMs: 200 }));
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('private redis-server did not start');
}, 20_000);
afterAll(() => {
  redis?.kill();
});

describe('secret files readable by others are refused, as ssh does', () => {
  it.each([
    [groupKey, '0640'],
    [worldKey, '0644'],
  ])('%s: names the file, its mode and the fix', (file, mode) => {
    const err = (() => {
      try {
        checkSecretFileMode(file, 'keys.watcher.file', false);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(InsecureSecretFileError);
    expect(err).toBeInstanceOf(SecretUnavailableError);
    const e = err as InsecureSecretFileError;
    expect(exitCodeFor(e)).toBe(ExitCode.Config);
    expect(e.shortMessage).toBe(
      `keys.watcher.file: ${file} is accessible by group or others (mode ${mode}); run \`chmod 600 ${file}\``,
    );
    expect(e.message).toContain('secrets.allowInsecureFiles: true');
    expect(e.message).not.toContain(KEY);
  });

  it('a private file passes; allowInsecure accepts the others; readSecret checks when told', () => {
    expect(() => checkSecretFileMode(privateKey, 'k', false)).not.toThrow();
    expect(() => checkSecretFileMode(worldKey, 'k', true)).not.toThrow();
    expect(() => readSecret({ file: worldKey }, 'k', {}, { allowInsecureFiles: false })).toThrow(
      InsecureSecretFileError,
    );
    expect(readSecret({ file: worldKey }, 'k', {}, { allowInsecureFiles: true })).toBe(KEY);
    expect(readSecret({ file: privateKey }, 'k', {}, { allowInsecureFiles: false })).toBe(KEY);
  });

  it('checkSecretFiles covers the watcher key, the Core and Redis password files, not the cookie', () => {
    const config = (flags: Record<string, string>) => loadConfig({ env: {}, flags }).config;
    expect(() => checkSecretFiles(config({ 'keys.watcher.file': worldKey }))).toThrow(
      `keys.watcher.file: ${worldKey} is accessible`,
    );
    expect(() =>
      checkSecretFiles(config({ 'bitcoin.auth.user': 'u', 'bitcoin.auth.passwordFile': groupKey })),
    ).toThrow(`bitcoin.auth.passwordFile: ${groupKey} is accessible`);
    expect(() => checkSecretFiles(config({ 'redis.passwordFile': worldKey }))).toThrow(
      `redis.passwordFile: ${worldKey} is accessible`,
    );
    expect(() => checkSecretFiles(config({ 'bitcoin.auth.cookieFile': worldKey }))).not.toThrow();
    expect(() =>
      checkSecretFiles(config({ 'keys.watcher.file': worldKey, 'secrets.allowInsecureFiles': 'true' })),
    ).not.toThrow();
  });
});

describe('the Redis password from a file or an env variable', () => {
  it('connects with the password from redis.passwordFile or redis.passwordEnv', async () => {
    for (const [flags, env] of [
      [{ 'redis.url': redisUrl, 'redis.passwordFile': redisPasswordFile }, {}],
      [{ 'redis.url': redisUrl, 'redis.passwordEnv': 'REDIS_PW' }, { REDIS_PW: REDIS_PASSWORD }],
    ] as const) {
      const { config } = loadConfig({ env: {}, flags });
      const client = await connectRedis(redisUrlFromConfig(config, env), { role: 'command' });
      try {
        expect(await client.ping()).toBe('PONG');
      } finally {
        await closeRedis(client);
      }
    }
  });

  it('without it Redis refuses, and the error does not carry the password', async () => {
    const url = redisUrlFromConfig(loadConfig({ env: {}, flags: { 'redis.url': redisUrl } }).config);
    const refused = await connectRedis(url, { role: 'command' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RedisAuthError);
    expect(exitCodeFor(refused as RedisAuthError)).toBe(ExitCode.Config);
    expect((refused as RedisAuthError).shortMessage).toMatch(
      new RegExp(
        `^Redis at ${redisUrl} refused to authenticate \\(NOAUTH .*\\): give its password in redis.url`,
      ),
    );
    const wrongPassword = `redis://:${encodeURIComponent(`${REDIS_PASSWORD}x`)}@${redisUrl.slice(8)}`;
    const wrongErr = await connectRedis(wrongPassword, { role: 'command' }).catch((e: unknown) => e);
    expect(wrongErr).toBeInstanceOf(RedisAuthError);
    expect(String((wrongErr as Error).message)).not.toContain('r3dis-pw');
    const wrong = `redis://:${encodeURIComponent(REDIS_PASSWORD)}@127.0.0.1:${await freePort()}`;
    const err = await connectRedis(wrong, { role: 'command' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect(String((err as Error).message)).not.toContain('r3dis-pw');
  });

  it('a password both in the URL and from a source is a config error naming the key', () => {
    expect(() =>
      loadConfig({
        env: {},
        flags: { 'redis.url': 'redis://:x@127.0.0.1:6379', 'redis.passwordEnv': 'REDIS_PW' },
      }),
    ).toThrow('redis.passwordEnv: expected no password source when redis.url already holds a password');
  });
});

describe.concurrent('the CLI refuses insecure secret files and never prints a secret', () => {
  // --probe also reaches the Bitcoin backend: the simnet's Core-RPC front stands in for bitcoind.
  let sim: Simnet;
  let bitcoin: Record<string, string> = {};
  beforeAll(async () => {
    sim = await startSimnet();
    bitcoin = {
      VIGIL_BITCOIN_URL: sim.rpcUrl,
      VIGIL_BITCOIN_AUTH_USER: sim.rpcAuth.user,
      VIGIL_BITCOIN_AUTH_PASSWORD_ENV: 'SIM_BTC_PASSWORD',
      SIM_BTC_PASSWORD: sim.rpcAuth.password,
    };
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('config check --probe: a 0644 key file exits 3 naming the file and chmod 600', async () => {
    const r = await runCli([
      'config',
      'check',
      '--probe',
      '--mode',
      'dry-run',
      '--keys-watcher-file',
      worldKey,
    ]);
    expect(r.code).toBe(ExitCode.Config);
    expect(r.stderr.split('\n')[0]).toBe(
      `keys.watcher.file: ${worldKey} is accessible by group or others (mode 0644); run \`chmod 600 ${worldKey}\``,
    );
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it('config check --probe with secrets.allowInsecureFiles: the same file passes', async () => {
    const r = await runCli(
      ['config', 'check', '--probe', '--mode', 'dry-run', '--keys-watcher-file', worldKey],
      {
        env: { VIGIL_SECRETS_ALLOW_INSECURE_FILES: 'true', ...bitcoin },
      },
    );
    expect(r.code).toBe(ExitCode.Ok);
    expect(r.stderr).toContain('probe: keys.watcher: readable');
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it('config check --probe reads the Redis password from its file and never prints it', async () => {
    const r = await runCli(
      [
        'config',
        'check',
        '--probe',
        '--format',
        'json',
        '--redis-url',
        redisUrl,
        '--redis-password-file',
        redisPasswordFile,
      ],
      { env: bitcoin },
    );
    expect(r.stderr).toContain('probe: redis: answers; maxmemory-policy noeviction (CONFIG GET)');
    expect(r.stderr).toContain('probe: redis password: readable');
    expect(r.stderr).toContain('probe: bitcoin.auth: readable');
    expect(r.stderr).toContain(`probe: bitcoin: core-rpc at ${sim.rpcUrl} answers: network regtest`);
    expect(r.code, r.stderr).toBe(ExitCode.Ok);
    expect(r.stdout + r.stderr).not.toContain('r3dis-pw');
  });
});
