/**
 * No Docker engine runs in CI, so the Docker files are checked the ways that do not need one: the
 * HEALTHCHECK command is run against a real operator server, and the compose file and the container
 * example config are read as data for the properties operators rely on: the user, the hardening, and a
 * mount for every path the config names.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ecc from 'tiny-secp256k1';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configLeaves } from '../../src/config/fields.ts';
import { loadConfig } from '../../src/config/load.ts';
import { insecureSecretFile } from '../../src/config/secret-file.ts';
import { secretFiles } from '../../src/config/secrets.ts';
import { hexToBytes } from '../../src/core/bytes.ts';
import { HealthRegistry } from '../../src/observability/health.ts';
import { type OperatorServer, startOperatorServer } from '../../src/observability/http-server.ts';
import { createMetricsRegistry } from '../../src/observability/metrics.ts';

const dockerfile = readFileSync('Dockerfile', 'utf8');

/** The runtime stage's `USER uid:gid`, by number (a name would leave the uid to the base image). */
function dockerfileUser(): { uid: number; gid: number } {
  const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1] as string);
  expect(users).toHaveLength(1);
  const match = /^([0-9]+):([0-9]+)$/.exec(users[0] as string);
  if (!match) throw new Error(`USER ${users[0]} is not numeric uid:gid`);
  return { uid: Number(match[1]), gid: Number(match[2]) };
}

/** The exec-form HEALTHCHECK command of the Dockerfile, as an argv array. */
function healthcheckArgv(): string[] {
  const match = /^HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])$/m.exec(dockerfile);
  if (!match?.[1]) throw new Error('no exec-form HEALTHCHECK in Dockerfile');
  return JSON.parse(match[1]) as string[];
}

function run(argv: string[], env: Record<string, string>): Promise<number | null> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd === 'node' ? process.execPath : (cmd as string), args, { env, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
}

const servers: OperatorServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('Dockerfile', () => {
  it('runs as a non-root user with vigil watch as the default command', () => {
    expect(dockerfile).toMatch(/^FROM node:22-slim AS deps$/m);
    expect(dockerfile).toMatch(/^RUN npm ci /m);
    expect(dockerfile).toMatch(/^USER [1-9][0-9]*:[1-9][0-9]*$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/app\/bin\/vigil\.js"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["watch"\]$/m);
  });

  it('HEALTHCHECK exits 0 on a healthy /healthz, 1 on 503 and 1 when nothing listens', async () => {
    const health = new HealthRegistry();
    let healthy = true;
    health.register('redis', () => (healthy ? { healthy: true } : { healthy: false, reason: 'down' }));
    const server = await startOperatorServer({
      host: '127.0.0.1',
      port: 0,
      health,
      metrics: createMetricsRegistry({ version: 'test' }),
    });
    servers.push(server);
    const argv = healthcheckArgv();
    expect(await run(argv, { VIGIL_HTTP_PORT: String(server.port) })).toBe(0);
    healthy = false;
    expect(await run(argv, { VIGIL_HTTP_PORT: String(server.port) })).toBe(1);
    await server.close();
    servers.length = 0;
    expect(await run(argv, { VIGIL_HTTP_PORT: String(server.port) })).toBe(1);
  });
});

describe('docker-compose.yml', () => {
  type Mount = { type: string; source: string; target: string; read_only?: boolean };
  type ServiceSecret = string | { source: string; target?: string };
  type Service = {
    command?: string[];
    user?: string;
    read_only?: boolean;
    tmpfs?: string[];
    cap_drop?: string[];
    security_opt?: string[];
    environment?: Record<string, string>;
    volumes?: (string | Mount)[];
    secrets?: ServiceSecret[];
    ports?: string[];
    depends_on?: Record<string, { condition: string }>;
    stop_grace_period?: string;
  };
  const composeText = readFileSync('docker-compose.yml', 'utf8');
  const compose = parse(composeText) as {
    services: Record<string, Service>;
    secrets: Record<string, { file?: string }>;
  };
  const redis = compose.services.redis as Service;
  const vigil = compose.services.vigil as Service;

  /** Every bind mount of the vigil service (long syntax: a missing host path is an error, not a new dir). */
  function binds(): Mount[] {
    return (vigil.volumes ?? []).map((v) => {
      if (typeof v === 'string')
        throw new Error(`short-syntax volume ${v}: Docker would create a missing source`);
      return v;
    });
  }

  /** Where each secret of the vigil service appears in the container. */
  function secretTargets(): Map<string, string> {
    const targets = new Map<string, string>();
    for (const s of vigil.secrets ?? []) {
      const name = typeof s === 'string' ? s : s.source;
      const target = typeof s === 'string' ? undefined : s.target;
      targets.set(target?.startsWith('/') ? target : `/run/secrets/${target ?? name}`, name);
    }
    return targets;
  }

  /** The host path of `${VAR:-default}`: its default. */
  function defaultOf(source: string): string {
    const match = /^\$\{[A-Z_]+:-([^}]+)\}$/.exec(source);
    return match?.[1] ?? source;
  }

  it('runs Redis with append-only persistence on a volume and maxmemory-policy noeviction', () => {
    const args = redis.command ?? [];
    const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
    expect(args[0]).toBe('redis-server');
    expect(flag('--appendonly')).toBe('yes');
    expect(flag('--maxmemory-policy')).toBe('noeviction');
    expect(redis.volumes?.some((v) => typeof v === 'string' && v.endsWith(':/data'))).toBe(true);
  });

  it("runs Vigil as the Dockerfile's numeric non-root uid:gid", () => {
    const { uid, gid } = dockerfileUser();
    expect(uid).toBeGreaterThan(0);
    expect(vigil.user).toBe(`${uid}:${gid}`);
    // The image creates that user and group, so the uid has a name and a home in /etc/passwd.
    expect(dockerfile).toMatch(new RegExp(`groupadd --gid ${gid} vigil`));
    expect(dockerfile).toMatch(new RegExp(`useradd --uid ${uid} --gid ${gid} `));
  });

  it('runs Vigil on a read-only root file system with a tmpfs /tmp, no capabilities, no new privileges', () => {
    expect(vigil.read_only).toBe(true);
    expect(vigil.tmpfs?.some((t) => t === '/tmp' || t.startsWith('/tmp:'))).toBe(true);
    expect(vigil.cap_drop).toEqual(['ALL']);
    expect(vigil.security_opt).toContain('no-new-privileges:true');
  });

  it('runs Vigil with a mounted config, a key file secret, VIGIL_* env, and the port on loopback only', () => {
    expect(vigil.environment?.VIGIL_CONFIG).toBe('/etc/vigil/vigil.yaml');
    expect(binds().find((m) => m.target === '/etc/vigil/vigil.yaml')).toMatchObject({
      type: 'bind',
      read_only: true,
    });
    expect(secretTargets().get('/run/secrets/vigil-watcher-key')).toBe('vigil-watcher-key');
    expect(vigil.environment?.VIGIL_KEYS_WATCHER_FILE).toBe('/run/secrets/vigil-watcher-key');
    expect(vigil.environment?.VIGIL_REDIS_URL).toBe('redis://redis:6379');
    expect(vigil.ports?.every((p) => p.startsWith('127.0.0.1:'))).toBe(true);
    expect(vigil.depends_on?.redis?.condition).toBe('service_healthy');
  });

  it('defines every secret the vigil service uses as a file', () => {
    for (const name of secretTargets().values()) {
      expect(compose.secrets[name]?.file, name).toMatch(/^\$\{VIGIL_[A-Z_]+_FILE:-\.\/secrets\/[^}]+\}$/);
    }
  });

  it('mounts by default the config the header tells to copy from config/container.example.yaml', () => {
    const config = binds().find((m) => m.target === vigil.environment?.VIGIL_CONFIG) as Mount;
    const copied = /cp config\/container\.example\.yaml (\S+)/.exec(composeText)?.[1];
    expect(copied).toBeDefined();
    expect(defaultOf(config.source)).toBe(`./${copied}`);
  });

  it('keeps the default host paths of secrets and graphs out of the build context', () => {
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n');
    const hostDirs = [
      ...Object.values(compose.secrets).map((s) => defaultOf(s.file ?? '')),
      ...binds()
        .filter((m) => m.target === '/var/lib/vigil/graphs')
        .map((m) => defaultOf(m.source)),
    ].map((p) => p.replace(/^\.\//, '').split('/')[0] as string);
    expect(hostDirs.length).toBeGreaterThan(0);
    for (const dir of hostDirs) expect(ignored, dir).toContain(dir);
  });

  it('sets only VIGIL_* variables that Vigil knows', () => {
    const known = new Set([...configLeaves().map((l) => l.env), 'VIGIL_CONFIG']);
    const unknown = Object.keys(vigil.environment ?? {}).filter(
      (k) => k.startsWith('VIGIL_') && !known.has(k),
    );
    expect(unknown).toEqual([]);
  });

  describe('with config/container.example.yaml', () => {
    const file = 'config/container.example.yaml';
    const { config, warnings } = loadConfig({ file, env: {} });

    it('is valid, listens on all interfaces, logs JSON and reaches Redis by its compose name', () => {
      expect(warnings).toEqual([]);
      expect(config.http.host).toBe('0.0.0.0');
      expect(vigil.ports).toContain(`127.0.0.1:${config.http.port}:${config.http.port}`);
      expect(config.log.format).toBe('json');
      expect(config.redis.url).toBe('redis://redis:6379');
      expect(config.mode).toBe('watch');
      expect(config.secrets.allowInsecureFiles).toBe(false);
      expect(config.shutdown.graceMs).toBeLessThan(
        Number.parseInt(vigil.stop_grace_period ?? '0', 10) * 1000,
      );
    });

    it("agrees with compose's VIGIL_* environment (which overrides it)", () => {
      const { VIGIL_CONFIG: _file, ...env } = vigil.environment ?? {};
      expect(loadConfig({ file, env }).config).toEqual(config);
    });

    it('takes every secret from a file under /run/secrets', () => {
      expect(config.keys.watcher).toEqual({ file: expect.stringMatching(/^\/run\/secrets\//) });
      expect(config.bitcoin.auth.passwordEnv).toBeUndefined();
      expect(config.redis.passwordEnv).toBeUndefined();
      expect(new URL(config.redis.url).password).toBe('');
      for (const { file: f } of secretFiles(config)) expect(f).toMatch(/^\/run\/secrets\//);
    });

    it('names only paths a mount or secret of the vigil service provides', () => {
      const paths: { what: string; path: string; kind: 'secret' | 'file' | 'dir' }[] = [
        { what: 'VIGIL_CONFIG', path: vigil.environment?.VIGIL_CONFIG ?? '', kind: 'file' },
        ...secretFiles(config).map((s) => ({ what: s.what, path: s.file, kind: 'secret' as const })),
      ];
      if (config.bitcoin.auth.cookieFile !== undefined) {
        paths.push({ what: 'bitcoin.auth.cookieFile', path: config.bitcoin.auth.cookieFile, kind: 'dir' });
      }
      if (config.l2.genesisFile !== undefined) {
        paths.push({ what: 'l2.genesisFile', path: config.l2.genesisFile, kind: 'file' });
      }
      if (config.dispute.graphDir !== undefined) {
        paths.push({ what: 'dispute.graphDir', path: config.dispute.graphDir, kind: 'dir' });
      }
      expect(paths.map((p) => p.what)).toEqual(
        expect.arrayContaining([
          'VIGIL_CONFIG',
          'keys.watcher.file',
          'bitcoin.auth.passwordFile',
          'l2.genesisFile',
          'dispute.graphDir',
        ]),
      );
      const secrets = secretTargets();
      for (const { what, path, kind } of paths) {
        if (kind === 'secret') {
          expect(secrets.has(path), `${what}: ${path} is no secret of the vigil service`).toBe(true);
          continue;
        }
        const mount = binds().find((m) =>
          kind === 'dir' ? path.startsWith(`${m.target}/`) || path === m.target : path === m.target,
        );
        expect(mount, `${what}: ${path} is mounted by no volume of the vigil service`).toBeDefined();
        expect(mount?.read_only, `${what}: ${path} mounted writable`).toBe(true);
      }
    });

    it('carries placeholder operator and committee keys that are no curve points', () => {
      const keys = [config.dispute.operatorKey, ...(config.dispute.committeeKeys ?? [])];
      expect(keys).toHaveLength(2);
      for (const k of keys) expect(ecc.isXOnlyPoint(hexToBytes(k ?? ''))).toBe(false);
    });
  });

  describe('secret files as compose mounts them (the host file, its owner and mode)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-compose-secret-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    // The documented host setup (chown 10001, chmod 0400 or 0600) passes Vigil's check unchanged; a
    // readable-by-all file, such as Swarm's default 0444, is refused unless secrets.allowInsecureFiles.
    it.each([
      ['0400', true],
      ['0600', true],
      ['0440', false],
      ['0444', false],
    ])('mode %s passes the secret-file check: %s', (mode, passes) => {
      const f = join(dir, `key-${mode}`);
      writeFileSync(f, 'x');
      chmodSync(f, Number.parseInt(mode, 8));
      expect(insecureSecretFile(f, 'keys.watcher.file') === undefined).toBe(passes);
    });
  });
});
