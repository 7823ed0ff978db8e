/**
 * The served devnet's directory: what it refuses to read, who may hold it, how the control file changes,
 * and that the generated watch config has config/devnet.yaml's shape and loads.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { changeControl, NoServedDevnetError } from '../../src/devnet/serve-control.ts';
import {
  DEFAULT_CONTROL,
  lockServeDir,
  readClaims,
  readControl,
  readServeRecord,
  ServeDirBusyError,
  ServeDirError,
  serveDirPaths,
  updateControl,
  writeServeRecord,
} from '../../src/devnet/serve-dir.ts';
import { ControlWatch } from '../../src/devnet/serve-operator-control.ts';
import { watchConfigTree, writeWatchConfig, writeWatcherKey } from '../../src/devnet/serve-watch-config.ts';
import { devnetWorkload } from '../../src/l2/devnet.ts';

let dir: string;
const paths = () => serveDirPaths(dir);
const A = '0x00000000000000000000000000000000000000a1' as const;

const RECORD = {
  id: '0a1b2c3d',
  seed: 1,
  epochs: 5,
  ports: { l2: 8545, bitcoinRpc: 18443, esplora: 3002 },
  l2: {
    chainId: 31337,
    startBlock: '1',
    readyBlock: '9',
    offset: '10',
    addresses: { token: A, staking: A, governor: A, registry: A, epochManager: A, stateCommitment: A },
  },
  createdAt: '2026-12-04T00:00:00.000Z',
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-serve-dir-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Every key path of a YAML tree (arrays as leaves). */
function keyPaths(tree: unknown, prefix = ''): string[] {
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) return [prefix];
  return Object.entries(tree).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}

describe('the served devnet directory', () => {
  it('round-trips its record, and refuses a record it cannot use, naming the file and the field', () => {
    expect(readServeRecord(paths())).toBeUndefined();
    writeServeRecord(paths(), RECORD);
    expect(readServeRecord(paths())).toEqual({ format: 'vigil-devnet-serve/2', ...RECORD });
    writeFileSync(paths().serve, '{"format":"vigil-devnet-serve/2","seed":1');
    expect(() => readServeRecord(paths())).toThrow(ServeDirError);
    expect(() => readServeRecord(paths())).toThrow(/serve\.json is not JSON/);
    writeFileSync(paths().serve, JSON.stringify({ format: 'vigil-devnet-serve/2', ...RECORD, seed: -1 }));
    expect(() => readServeRecord(paths())).toThrow(/serve\.json is not a vigil-devnet-serve\/2 file: seed/);
    writeFileSync(paths().serve, JSON.stringify({ ...RECORD, format: 'vigil-devnet-serve/1' }));
    expect(() => readServeRecord(paths())).toThrow(/written by an older Vigil \(vigil-devnet-serve\/1\)/);
    writeFileSync(paths().serve, JSON.stringify({ ...RECORD, format: 'vigil-devnet-serve/9' }));
    expect(() => readServeRecord(paths())).toThrow(/format/);
  });

  it('a claims file that does not parse is an error, never an empty list', () => {
    expect(readClaims(paths())).toEqual([]);
    writeFileSync(paths().claims, '{"format":"vigil-devnet-serve/2","claims":[{"epoch":"x"}]}');
    expect(() => readClaims(paths())).toThrow(/claims\.json is not a vigil-devnet-serve\/2 file: claims\.0/);
  });

  it('one live process holds the directory; a lock left by a dead one is taken over', async () => {
    const release = lockServeDir(paths());
    expect(readFileSync(paths().lock, 'utf8').trim()).toBe(String(process.pid));
    release();
    // A process that has exited: its pid is free.
    const dead = spawn(process.execPath, ['-e', '0']);
    const pid = dead.pid as number;
    await new Promise((r) => dead.once('exit', r));
    writeFileSync(paths().lock, `${pid}\n`);
    lockServeDir(paths())();
    // A live one: a sleeping child.
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(paths().lock, `${live.pid}\n`);
      expect(() => lockServeDir(paths())).toThrow(ServeDirBusyError);
      expect(() => lockServeDir(paths())).toThrow(new RegExp(`served by process ${live.pid}`));
    } finally {
      live.kill();
    }
  });

  it('the control starts honest and each change bumps its revision', () => {
    expect(readControl(paths())).toEqual(DEFAULT_CONTROL);
    const a = updateControl(paths(), (c) => ({ ...c, fault: 'quorum-not-checked', fromEpoch: 4 }));
    expect(a).toEqual({ fault: 'quorum-not-checked', fromEpoch: 4, strategy: 'assert', revision: 1 });
    const b = updateControl(paths(), (c) => ({ ...c, strategy: 'never-assert' }));
    expect(b.revision).toBe(2);
    expect(readControl(paths())).toEqual(b);
  });

  it('changes from two processes at once take turns: none is lost', async () => {
    const script = [
      "const { serveDirPaths, updateControl } = await import('./src/devnet/serve-dir.ts');",
      `const paths = serveDirPaths(${JSON.stringify(dir)});`,
      'for (let i = 0; i < 25; i++) updateControl(paths, (c) => ({ ...c, fromEpoch: c.fromEpoch + 1 }));',
    ].join('\n');
    const runs = [0, 1].map(
      () =>
        new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
            stdio: 'inherit',
          });
          child.once('exit', resolve);
        }),
    );
    expect(await Promise.all(runs)).toEqual([0, 0]);
    expect(readControl(paths())).toMatchObject({ fromEpoch: 50, revision: 50 });
  }, 60_000);

  it('the serving process keeps the last good control while the file is wrong, and says so once', () => {
    const said: string[] = [];
    const watch = new ControlWatch(paths(), (l) => said.push(l));
    const first = watch.current();
    expect(first).toEqual(DEFAULT_CONTROL);
    writeFileSync(paths().control, '{"fault": ');
    expect(watch.current()).toBe(first);
    expect(watch.current()).toBe(first);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/control\.json refused .*not JSON.*keeps strategy assert, fault none/s);
    writeFileSync(
      paths().control,
      JSON.stringify({ fault: 'no-such-fault', fromEpoch: 0, strategy: 'assert', revision: 5 }),
    );
    expect(watch.current()).toBe(first);
    expect(said[1]).toMatch(/no-such-fault/);
    const good = updateControl(paths(), (c) => ({ ...c, fault: 'rewards-rounded-up', fromEpoch: 2 }));
    expect(watch.current()).toEqual(good);
    expect(said).toHaveLength(2);
    // At start a wrong control is an error: nothing runs yet.
    writeFileSync(paths().control, JSON.stringify({ ...good, strategy: 'lying-backend-garbage' }));
    expect(() => new ControlWatch(paths(), () => {})).toThrow(/separate process/);
  });

  it('vigil devnet fault / operator: no devnet, an unknown or unservable strategy change nothing', async () => {
    await expect(changeControl(dir, (c) => c)).rejects.toThrow(NoServedDevnetError);
    writeServeRecord(paths(), RECORD);
    await expect(changeControl(dir, (c) => ({ ...c, strategy: 'no-such-strategy' }))).rejects.toThrow(
      /Unknown operator strategy/,
    );
    // The lying backend needs the watcher in the same process: a served watcher is not.
    await expect(
      changeControl(dir, (c) => ({ ...c, strategy: 'lying-backend-hide-spends' })),
    ).rejects.toThrow(/separate process/);
    expect(readControl(paths())).toEqual(DEFAULT_CONTROL);
    const line = await changeControl(dir, (c) => ({ ...c, strategy: 'never-assert' }));
    expect(line).toContain('strategy never-assert');
    expect(line).toContain('not served now');
  });

  it('writes a watch config with config/devnet.yaml’s shape that loads, secrets in 0600 files', () => {
    const genesis = devnetWorkload({ seed: 1, epochs: 1 }).genesis;
    const values = {
      l2Url: 'http://127.0.0.1:8545',
      chainId: 31337,
      startBlock: 1n,
      addresses: RECORD.l2.addresses,
      genesis,
      bitcoinRpcUrl: 'http://127.0.0.1:18443',
      bitcoinRpcUser: 'vigil',
      bitcoinRpcPassword: 'secret-password',
      redisUrl: 'redis://127.0.0.1:6379',
      keyPrefix: '{vigil-devnet-0a1b2c3d}',
      httpPort: 9464,
    };
    const shipped = parse(readFileSync('config/devnet.yaml', 'utf8')) as unknown;
    expect(keyPaths(watchConfigTree(paths(), values)).sort()).toEqual(keyPaths(shipped).sort());
    writeWatchConfig(paths(), values);
    writeWatcherKey(paths(), new Uint8Array(32).fill(7));
    for (const f of [paths().watcherKey, join(dir, 'bitcoin-rpc.password')]) {
      expect(statSync(f).mode & 0o777, f).toBe(0o600);
    }
    expect(readFileSync(paths().watchConfig, 'utf8')).not.toContain('secret-password');
    const { config } = loadConfig({ file: paths().watchConfig, env: {} });
    expect(config.l2.contracts.staking).toBe(A);
    expect(config.keys.watcher?.file).toBe(paths().watcherKey);
    // A password in the Redis URL goes to a 0600 file, not into watch.yaml.
    writeWatchConfig(paths(), { ...values, redisUrl: 'redis://:hunter2%21@127.0.0.1:6379' });
    const text = readFileSync(paths().watchConfig, 'utf8');
    expect(text).not.toContain('hunter2');
    const passwordFile = join(dir, 'redis.password');
    expect(readFileSync(passwordFile, 'utf8')).toBe('hunter2!\n');
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
    const withPassword = loadConfig({ file: paths().watchConfig, env: {} }).config;
    expect(withPassword.redis.passwordFile).toBe(passwordFile);
    expect(new URL(withPassword.redis.url).password).toBe('');
  });
});
