/**
 * The served devnet's directory: what it refuses to read, who may hold it, how the control file changes,
 * how the claims and commits journals grow and survive a torn last line, and that the generated watch
 * config has config/devnet.yaml's shape and loads.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { changeControl, NoServedDevnetError } from '../../src/devnet/serve-control.ts';
import {
  ClaimLedger,
  CommitLog,
  DEFAULT_CONTROL,
  lockServeDir,
  readClaims,
  readControl,
  readServeRecord,
  ServeDirBusyError,
  ServeDirError,
  type ServedClaim,
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
  epochLength: 30,
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

const hex = (n: number, byte: number) => n.toString(16).padStart(2, '0').repeat(byte);

/** A claim of `epoch` with fixed-size made-up values. */
function claim(epoch: number): ServedClaim {
  return {
    epoch: String(epoch),
    fundingTxid: hex(epoch % 256, 32),
    kickoffTxid: hex((epoch + 1) % 256, 32),
    fundingHex: hex(1, 150),
    kickoffHex: hex(2, 400),
    stateRoot: hex(3, 32),
    l2BlockHash: hex(4, 32),
    referenceRoot: hex(3, 32),
    checkpoints: [hex(5, 32), hex(6, 32), hex(7, 32), hex(3, 32)],
    challengeWindow: 6,
    scannedAt: 100,
    neverAssert: false,
  };
}

/** Every key path of a YAML tree (arrays as leaves). */
function keyPaths(tree: unknown, prefix = ''): string[] {
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) return [prefix];
  return Object.entries(tree).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}

describe('the served devnet directory', () => {
  it('round-trips its record, and refuses a record it cannot use, naming the file and the field', () => {
    expect(readServeRecord(paths())).toBeUndefined();
    writeServeRecord(paths(), RECORD);
    expect(readServeRecord(paths())).toEqual({ format: 'vigil-devnet-serve/3', ...RECORD });
    writeFileSync(paths().serve, '{"format":"vigil-devnet-serve/3","seed":1');
    expect(() => readServeRecord(paths())).toThrow(ServeDirError);
    expect(() => readServeRecord(paths())).toThrow(/serve\.json is not JSON/);
    writeFileSync(paths().serve, JSON.stringify({ format: 'vigil-devnet-serve/3', ...RECORD, seed: -1 }));
    expect(() => readServeRecord(paths())).toThrow(/serve\.json is not a vigil-devnet-serve\/3 file: seed/);
    const { epochLength: _, ...withoutLength } = RECORD;
    writeFileSync(paths().serve, JSON.stringify({ format: 'vigil-devnet-serve/3', ...withoutLength }));
    expect(() => readServeRecord(paths())).toThrow(/file: epochLength/);
    writeFileSync(paths().serve, JSON.stringify({ ...RECORD, format: 'vigil-devnet-serve/1' }));
    expect(() => readServeRecord(paths())).toThrow(/written by an older Vigil \(vigil-devnet-serve\/1\)/);
    writeFileSync(paths().serve, JSON.stringify({ ...withoutLength, format: 'vigil-devnet-serve/2' }));
    expect(() => readServeRecord(paths())).toThrow(
      /written by an older Vigil \(vigil-devnet-serve\/2\); it keeps its claims in one claims\.json/,
    );
    writeFileSync(paths().serve, JSON.stringify({ ...RECORD, format: 'vigil-devnet-serve/9' }));
    expect(() => readServeRecord(paths())).toThrow(/format/);
  });

  it('a claims file that does not parse is an error, never an empty list', () => {
    expect(readClaims(paths())).toEqual([]);
    writeFileSync(
      paths().claims,
      '{"format":"vigil-devnet-serve/3"}\n{"claim":{"epoch":"x"}}\n{"settled":["1"]}\n',
    );
    expect(() => readClaims(paths())).toThrow(/claims\.jsonl is not a vigil-devnet-serve\/3 file: line 2/);
    writeFileSync(paths().claims, '{"format":"vigil-devnet-serve/3"}\n{"claim":\n{"settled":["1"]}\n');
    expect(() => readClaims(paths())).toThrow(/claims\.jsonl is damaged at line 2: not JSON/);
    writeFileSync(paths().claims, '{"format":"vigil-devnet-serve/2"}\n');
    expect(() => readClaims(paths())).toThrow(/written by an older Vigil \(vigil-devnet-serve\/2\)/);
  });

  it('claims are appended a line each: a record costs its own bytes, whatever came before', () => {
    const ledger = new ClaimLedger(paths());
    ledger.add(claim(10));
    const one = statSync(paths().claims).size;
    ledger.add(claim(11));
    const two = statSync(paths().claims).size;
    for (let e = 12; e < 60; e++) ledger.add(claim(e));
    const fifty = statSync(paths().claims).size;
    // Every claim line has the same length here: the file grows by it and nothing else.
    expect(fifty - two).toBe(48 * (two - one));
    ledger.markNeverAssert([13n, 14n]);
    const marked = statSync(paths().claims).size;
    ledger.markNeverAssert([13n, 14n]);
    expect(statSync(paths().claims).size, 'nothing new: nothing written').toBe(marked);
    ledger.markSettled([10n, 11n, 13n]);
    ledger.close();
    const again = new ClaimLedger(paths());
    expect(again.size).toBe(50);
    expect(again.has(10n)).toBe(true);
    const open = again.open().map((c) => Number(c.epoch));
    expect(open).toEqual([12, ...Array.from({ length: 46 }, (_, i) => i + 14)]);
    expect(again.open().find((c) => c.epoch === '14')?.neverAssert).toBe(true);
    expect(again.latest()?.epoch).toBe('59');
    again.close();
  });

  it('a torn last line (a crash mid-write) is dropped, cut off, and the next claim starts a line of its own', () => {
    const ledger = new ClaimLedger(paths());
    ledger.add(claim(0));
    ledger.close();
    const whole = readFileSync(paths().claims, 'utf8');
    // The crash: half of the next claim's line, no newline.
    appendFileSync(paths().claims, JSON.stringify({ claim: claim(1) }).slice(0, 700));
    const resumed = new ClaimLedger(paths());
    // On disk before in memory: the torn claim was never made, so the resume makes it again.
    expect(resumed.has(1n)).toBe(false);
    expect(readFileSync(paths().claims, 'utf8')).toBe(whole);
    resumed.add(claim(1));
    resumed.close();
    expect(readClaims(paths()).map((c) => c.epoch)).toEqual(['0', '1']);
    // A torn header alone: an empty journal.
    writeFileSync(paths().claims, '{"format":"vigil-');
    expect(readClaims(paths())).toEqual([]);
    expect(readFileSync(paths().claims, 'utf8')).toBe('');
  });

  it('commits are appended a line each; a torn last one was never sent and is dropped', () => {
    const log = new CommitLog(paths());
    log.set(0n, 'reference');
    log.set(1n, 'quorum-not-checked');
    log.close();
    appendFileSync(paths().commits, '{"epoch":"2","exec');
    const again = new CommitLog(paths());
    expect([again.get(0n), again.get(1n), again.get(2n)]).toEqual([
      'reference',
      'quorum-not-checked',
      undefined,
    ]);
    again.set(2n, 'reference');
    again.close();
    expect(readFileSync(paths().commits, 'utf8').trim().split('\n')).toHaveLength(4);
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
    const ranged = updateControl(paths(), (c) => ({ ...c, toEpoch: 9 }));
    expect(ranged).toMatchObject({ fromEpoch: 4, toEpoch: 9, revision: 2 });
    updateControl(paths(), ({ toEpoch: _, ...c }) => c);
    const b = updateControl(paths(), (c) => ({ ...c, strategy: 'never-assert' }));
    expect(b.revision).toBe(4);
    expect(b.toEpoch).toBeUndefined();
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
    const watch = new ControlWatch(paths(), (l) => said.push(l), false);
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
    expect(() => new ControlWatch(paths(), () => {}, false)).toThrow(/separate process/);
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
