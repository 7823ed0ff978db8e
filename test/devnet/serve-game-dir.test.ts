/**
 * A game network's directory (`vigil devnet serve --game`): the game claims journal (each step written
 * before it is acted on, a torn last line dropped, steps out of order refused), the registry windows
 * scaled to the L2's pace, the control a game network accepts, and the watch config naming the registry
 * and Vigil's L2 key in a 0600 file that loads.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { BUNDLE_WINDOW, COMMIT_WINDOW } from '../../src/devnet/game-operator.ts';
import { changeControl } from '../../src/devnet/serve-control.ts';
import { readControl, serveDirPaths, writeServeRecord } from '../../src/devnet/serve-dir.ts';
import { ServeDirError } from '../../src/devnet/serve-dir-errors.ts';
import { registryWindows, writeVigilL2Key } from '../../src/devnet/serve-game.ts';
import { GAME_CLAIMS_FORMAT, GameClaimLedger } from '../../src/devnet/serve-game-ledger.ts';
import { ControlWatch, checkControl } from '../../src/devnet/serve-operator-control.ts';
import { writeWatchConfig } from '../../src/devnet/serve-watch-config.ts';
import { devnetWorkload } from '../../src/l2/devnet.ts';

let dir: string;
const paths = () => serveDirPaths(dir);
const A = '0x00000000000000000000000000000000000000a1' as const;
const REGISTRY = '0x00000000000000000000000000000000000000b2';

const RECORD = {
  id: '0a1b2c3d',
  seed: 1,
  epochs: 5,
  epochLength: 6,
  ports: { l2: 8545, bitcoinRpc: 18443, esplora: 3002 },
  l2: {
    chainId: 31337,
    startBlock: '1',
    readyBlock: '9',
    offset: '10',
    addresses: { token: A, staking: A, governor: A, registry: A, epochManager: A, stateCommitment: A },
  },
  game: { registry: REGISTRY, bundleWindow: '100', commitWindow: '400' },
  createdAt: '2026-12-07T00:00:00.000Z',
};

const TX_A = '02000000000101aa';
const TX_B = '02000000000101bb';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-serve-game-dir-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the game claims journal', () => {
  it('each step of a claim is a line; a reopened journal resumes every claim not over where it stood', () => {
    const ledger = new GameClaimLedger(paths().gameClaims);
    ledger.funded(3n, 'none', TX_A);
    ledger.opened(3n, 120n);
    ledger.kickedOff(3n, TX_B);
    ledger.funded(4n, 'commission-not-taken', TX_B);
    ledger.funded(5n, 'none', TX_A);
    ledger.opened(5n, 130n);
    ledger.ended(3n, 'taken');
    ledger.lapsed(5n, 'none of its 1 listed challengers posted a bundle');
    ledger.close();
    const lines = readFileSync(paths().gameClaims, 'utf8').trim().split('\n');
    expect(JSON.parse(lines[0] as string)).toEqual({ format: GAME_CLAIMS_FORMAT });
    expect(lines).toHaveLength(9);
    const again = new GameClaimLedger(paths().gameClaims);
    expect(again.openClaims()).toEqual([{ epoch: 4n, fault: 'commission-not-taken', funded: TX_B }]);
    expect(again.isOver(3n)).toBe(true);
    expect(again.isOver(5n)).toBe(true);
    expect(again.has(4n)).toBe(true);
    expect(again.has(6n)).toBe(false);
    // The purse a restart resumes from: the last funding written.
    expect(again.lastFunding()).toBe(TX_A);
    again.close();
  });

  it('an epoch passed over before its funding is over for good, also after a restart; a funded one cannot be', () => {
    const ledger = new GameClaimLedger(paths().gameClaims);
    ledger.passedOver(19n, "Epoch 19's run is longer than the search's 1048576 steps");
    ledger.funded(20n, 'commission-not-taken', TX_A);
    expect(() => ledger.passedOver(20n, 'too long')).toThrow(/funded already/);
    expect(() => ledger.passedOver(19n, 'again')).toThrow(/over already/);
    expect(() => ledger.funded(19n, 'none', TX_B)).toThrow(/over already/);
    ledger.close();
    const again = new GameClaimLedger(paths().gameClaims);
    expect(again.isOver(19n)).toBe(true);
    expect(again.has(19n)).toBe(true);
    expect(again.openClaims().map((c) => c.epoch)).toEqual([20n]);
    again.close();
  });

  it('a torn last line (a crash mid-append) is dropped: the step was never acted on', () => {
    const ledger = new GameClaimLedger(paths().gameClaims);
    ledger.funded(7n, 'none', TX_A);
    ledger.close();
    appendFileSync(paths().gameClaims, '{"epoch":"7","openedA');
    const again = new GameClaimLedger(paths().gameClaims);
    expect(again.open(7n)).toEqual({ epoch: 7n, fault: 'none', funded: TX_A });
    again.opened(7n, 99n);
    again.close();
    expect(new GameClaimLedger(paths().gameClaims).open(7n)?.openedAt).toBe(99n);
  });

  it('refuses a step of a claim never funded, one after its end, and a journal that says so', () => {
    const ledger = new GameClaimLedger(paths().gameClaims);
    expect(() => ledger.opened(1n, 5n)).toThrow(ServeDirError);
    ledger.funded(1n, 'none', TX_A);
    ledger.ended(1n, 'paid-out');
    expect(() => ledger.kickedOff(1n, TX_B)).toThrow(/over already/);
    ledger.close();
    appendFileSync(paths().gameClaims, '{"epoch":"2","openedAt":"8"}\n');
    expect(() => new GameClaimLedger(paths().gameClaims)).toThrow(/epoch 2 before its funding/);
  });

  it('a line of another shape is an error naming the file and the line', () => {
    const ledger = new GameClaimLedger(paths().gameClaims);
    ledger.funded(1n, 'none', TX_A);
    ledger.close();
    appendFileSync(paths().gameClaims, '{"epoch":"1","ended":"won"}\n{"epoch":"1","ended":"taken"}\n');
    expect(() => new GameClaimLedger(paths().gameClaims)).toThrow(/line 3/);
  });
});

describe('registry windows', () => {
  it('never shorter than the game devnet’s, and at least 30 s and 120 s of the L2’s blocks', () => {
    expect(registryWindows(250)).toEqual({ bundleWindow: 120n, commitWindow: 480n });
    expect(registryWindows(5)).toEqual({ bundleWindow: 6_000n, commitWindow: 24_000n });
    expect(registryWindows(10_000)).toEqual({ bundleWindow: BUNDLE_WINDOW, commitWindow: COMMIT_WINDOW });
  });
});

describe('a game network’s control', () => {
  const control = { fault: 'none', fromEpoch: 0, strategy: 'assert', revision: 0 };

  it('takes the program’s faults and the game strategies a served devnet can play', () => {
    for (const strategy of [
      'assert',
      'never-assert',
      'late',
      'silent-at:answer2',
      'equivocate-at:reveal',
      'document-withheld',
    ])
      expect(() => checkControl({ ...control, strategy }, true), strategy).not.toThrow();
    expect(() => checkControl({ ...control, fault: 'vote-counted-twice' }, true)).not.toThrow();
  });

  it('refuses a fault outside the program, Part II’s strategies, and those it cannot serve', () => {
    expect(() => checkControl({ ...control, fault: 'no-such-fault' }, true)).toThrow(
      /faults compiled into the governance program/,
    );
    expect(() => checkControl({ ...control, strategy: 'strip-and-steal' }, true)).toThrow(
      /not a game strategy/,
    );
    expect(() => checkControl({ ...control, strategy: 'lying-backend-garbage' }, true)).toThrow(
      /separate process/,
    );
    for (const strategy of ['fee-spike', 'stall-at:answer2', 'pin-at:reveal'])
      expect(() => checkControl({ ...control, strategy }, true), strategy).toThrow(/fee market/);
  });

  it('vigil devnet operator on a game network checks against the game, and a bad change writes nothing', async () => {
    writeServeRecord(paths(), RECORD);
    await expect(changeControl(dir, (c) => ({ ...c, strategy: 'pin-at:answer2' }))).rejects.toThrow(
      /fee market/,
    );
    expect(readControl(paths()).strategy).toBe('assert');
    const line = await changeControl(dir, (c) => ({ ...c, strategy: 'silent-at:answer3' }));
    expect(line).toContain('strategy silent-at:answer3');
    expect(new ControlWatch(paths(), () => {}, true).current().strategy).toBe('silent-at:answer3');
  });
});

describe('a game network’s watch config', () => {
  it('names the challenger registry and Vigil’s L2 key (0600), and loads', () => {
    writeVigilL2Key(paths());
    expect(statSync(paths().l2Key).mode & 0o777).toBe(0o600);
    expect(readFileSync(paths().l2Key, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    writeWatchConfig(paths(), {
      l2Url: 'http://127.0.0.1:8545',
      chainId: 31337,
      startBlock: 1n,
      addresses: RECORD.l2.addresses,
      genesis: devnetWorkload({ seed: 1, epochs: 1 }).genesis,
      bitcoinRpcUrl: 'http://127.0.0.1:18443',
      bitcoinRpcUser: 'vigil',
      bitcoinRpcPassword: 'secret-password',
      redisUrl: 'redis://127.0.0.1:6379',
      keyPrefix: '{vigil-devnet-0a1b2c3d}',
      httpPort: 9464,
      challengerRegistry: REGISTRY,
    });
    const { config } = loadConfig({ file: paths().watchConfig, env: {} });
    expect(config.l2.contracts.challengerRegistry?.toLowerCase()).toBe(REGISTRY);
    expect(config.keys.l2?.file).toBe(paths().l2Key);
    // The key is named by its file, never written into watch.yaml.
    expect(readFileSync(paths().watchConfig, 'utf8')).not.toContain(
      readFileSync(paths().l2Key, 'utf8').trim(),
    );
  });
});
