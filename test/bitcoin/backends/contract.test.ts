/**
 * One backend contract, run against both backends: Core RPC against simnet's JSON-RPC front and
 * Esplora against simnet's REST front.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreRpcBackend } from '../../../src/bitcoin/backends/core-rpc.ts';
import {
  BackendRequestError,
  BackendUnavailableError,
  BroadcastRejectedError,
} from '../../../src/bitcoin/backends/errors.ts';
import { EsploraBackend } from '../../../src/bitcoin/backends/esplora.ts';
import type { BitcoinBackend } from '../../../src/bitcoin/backends/types.ts';
import type { Front } from '../../../src/bitcoin/simnet/faults.ts';
import { type Simnet, startSimnet } from '../../../src/bitcoin/simnet/start.ts';
import {
  ADDRESS,
  type Coin,
  mineCoins,
  out,
  P2WSH_TRUE,
  spend,
} from '../../../testkit/bitcoin/simnet/fixture.ts';

const FAST_RETRY = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 300 };

type Kind = { name: string; front: Front; make: (sim: Simnet, retry?: typeof FAST_RETRY) => BitcoinBackend };

const kinds: Kind[] = [
  {
    name: 'core-rpc',
    front: 'rpc',
    make: (sim, retry = FAST_RETRY) => new CoreRpcBackend({ url: sim.rpcUrl, auth: sim.rpcAuth, retry }),
  },
  {
    name: 'esplora',
    front: 'esplora',
    make: (sim, retry = FAST_RETRY) => new EsploraBackend({ baseUrl: sim.esploraUrl, retry }),
  },
];

describe.each(kinds)('backend contract: $name', ({ front, make, name }) => {
  let sim: Simnet;
  let backend: BitcoinBackend;
  let coins: Coin[];

  beforeAll(async () => {
    sim = await startSimnet();
    backend = make(sim);
    coins = mineCoins(sim.chain, 101);
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('reports the tip and blocks with their transactions', async () => {
    expect(await backend.getTipHeight()).toBe(101);
    expect(await backend.getTipHash()).toBe(sim.chain.tip.hash);
    const block = await backend.getBlock(5);
    expect(block?.hash).toBe(sim.chain.blockAt(5)?.hash);
    expect(block?.prevHash).toBe(sim.chain.blockAt(4)?.hash);
    expect(block?.txs[0]?.txid).toBe(coins[4]?.txid);
    expect(await backend.getBlockHash(1000)).toBeUndefined();
    expect(await backend.getTransaction('00'.repeat(32))).toBeUndefined();
  });

  it('broadcasts, then sees the transaction confirm and its input spent', async () => {
    const coin = coins[0] as Coin;
    const t = spend({ coins: [coin], outputs: [out(coin.value - 2000n, P2WSH_TRUE)] });
    expect(await backend.broadcast(t.raw)).toBe(t.txid);
    expect(await backend.getTxStatus(t.txid)).toEqual({ confirmed: false, inMempool: true });
    const mempoolSpend = await backend.getOutspend(coin.txid, 0);
    expect(mempoolSpend).toMatchObject({ spent: true, txid: t.txid, vin: 0 });
    const block = sim.chain.mine(P2WSH_TRUE);
    expect(await backend.getTxStatus(t.txid)).toEqual({
      confirmed: true,
      blockHeight: block.height,
      blockHash: block.hash,
    });
    expect(await backend.getOutspend(coin.txid, 0)).toEqual({
      spent: true,
      txid: t.txid,
      vin: 0,
      status: { confirmed: true, blockHeight: block.height, blockHash: block.hash },
    });
    expect(await backend.getOutspend(t.txid, 0)).toEqual({ spent: false });
    const fetched = await backend.getTransaction(t.txid);
    expect(fetched?.raw).toEqual(t.raw);
  });

  it('surfaces a rejection with Core reason and code, without retrying', async () => {
    const coin = coins[1] as Coin;
    const cheap = spend({ coins: [coin], outputs: [out(coin.value - 10n)] });
    const before = sim.faults.requests[front];
    const err = await backend.broadcast(cheap.raw).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BroadcastRejectedError);
    expect((err as BroadcastRejectedError).reason).toMatch(/^min relay fee not met, 10 < \d+$/);
    expect((err as BroadcastRejectedError).code).toBe(-26);
    expect(sim.faults.requests[front] - before).toBe(1);

    const spent = spend({ coins: [coins[0] as Coin], outputs: [out(1000n)] });
    const missing = await backend.broadcast(spent.raw).catch((e: unknown) => e);
    expect((missing as BroadcastRejectedError).reason).toBe('bad-txns-inputs-missingorspent');
    expect((missing as BroadcastRejectedError).code).toBe(-25);
  });

  it('refuses to broadcast above maxFeeRate, with Core reason, and sends nothing', async () => {
    const coin = coins[1] as Coin; // mature, and only ever refused so far
    const t = spend({ coins: [coin], outputs: [out(coin.value - 50_000n, P2WSH_TRUE)] }); // ~400 sat/vB
    const err = (await backend
      .broadcast(t.raw, { maxFeeRate: { satPerKvb: 100_000n } })
      .catch((e: unknown) => e)) as BroadcastRejectedError;
    expect(err).toBeInstanceOf(BroadcastRejectedError);
    expect(err.reason).toBe('Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)');
    expect(sim.chain.mempool.get(t.txid)).toBeUndefined();
    expect(await backend.broadcast(t.raw, { maxFeeRate: { satPerKvb: 1_000_000n } })).toBe(t.txid);
    sim.chain.mine(P2WSH_TRUE);
  });

  it('parses both Esplora error formats (and Core needs none)', async () => {
    sim.setEsploraErrorFormat('legacy');
    const coin = coins[2] as Coin;
    const bad = spend({ coins: [coin], outputs: [out(coin.value - 5000n)], badSig: true });
    const err = (await backend.broadcast(bad.raw).catch((e: unknown) => e)) as BroadcastRejectedError;
    sim.setEsploraErrorFormat('modern');
    expect(err).toBeInstanceOf(BroadcastRejectedError);
    expect(err.reason).toBe(
      'mandatory-script-verify-flag-failed (Script evaluated without error but finished with a false/empty top stack element)',
    );
    expect(err.code).toBe(-26);
  });

  it('estimates fees: none on a quiet chain, the spike when it comes', async () => {
    sim.setFeeRate(undefined);
    expect(await backend.estimateFee(6)).toBeUndefined();
    sim.setFeeRate({ satPerKvb: 2500n });
    expect((await backend.estimateFee(6))?.rate).toEqual({ satPerKvb: 2500n });
    sim.setFeeRate({ satPerKvb: 87_882n });
    expect((await backend.estimateFee(3))?.rate).toEqual({ satPerKvb: 87_882n });
  });

  it('lists the UTXOs of an address', async () => {
    const utxos = await backend.getUtxos(ADDRESS);
    const spentCoins = new Set([`${coins[0]?.txid}:0`, `${coins[1]?.txid}:0`]);
    const expected = coins.filter((c) => !spentCoins.has(`${c.txid}:0`)).map((c) => `${c.txid}:0`);
    expect(utxos.map((u) => `${u.txid}:${u.vout}`).sort()).toEqual(expected.sort());
    expect(utxos.every((u) => u.value === 5_000_000_000n && u.confirmed)).toBe(true);
  });

  it.each(['unavailable', 'garbage', 'timeout', 'reset'] as const)(
    'retries a transient %s fault',
    async (kind) => {
      sim.faults.inject(kind, 2, front);
      const before = sim.faults.requests[front];
      expect(await backend.getTipHeight()).toBe(sim.chain.height);
      expect(sim.faults.requests[front] - before).toBe(3);
    },
  );

  it('gives up after the retry budget with BackendUnavailableError', async () => {
    sim.faults.inject('unavailable', 5, front);
    const before = sim.faults.requests[front];
    await expect(backend.getTipHash()).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(sim.faults.requests[front] - before).toBe(FAST_RETRY.attempts);
    sim.faults.clear();
  });

  it('surfaces a permanent error without retrying', async () => {
    const before = sim.faults.requests[front];
    if (name === 'core-rpc') {
      const wrong = new CoreRpcBackend({
        url: sim.rpcUrl,
        auth: { user: 'vigil', password: 'wrong' },
        retry: FAST_RETRY,
      });
      await expect(wrong.getTipHeight()).rejects.toBeInstanceOf(BackendRequestError);
    } else {
      await expect(backend.getUtxos('not-an-address')).rejects.toBeInstanceOf(BackendRequestError);
    }
    expect(sim.faults.requests[front] - before).toBe(1);
  });
});

describe('core-rpc specifics', () => {
  it('authenticates with the cookie file and re-reads it when the node rotated it', async () => {
    const sim = await startSimnet({ rpcUser: '__cookie__' });
    const dir = await mkdtemp(join(tmpdir(), 'vigil-cookie-'));
    try {
      const cookieFile = join(dir, '.cookie');
      await writeFile(cookieFile, '__cookie__:stale-from-the-last-start');
      const core = new CoreRpcBackend({ url: sim.rpcUrl, auth: { cookieFile }, retry: FAST_RETRY });
      await expect(core.getTipHeight()).rejects.toBeInstanceOf(BackendRequestError);
      await writeFile(cookieFile, `__cookie__:${sim.rpcAuth.password}\n`);
      // The cached header is stale: a 401 makes the client read the file again, once.
      expect(await core.getTipHeight()).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await sim.stop();
    }
  });

  it('accepts credentials in the URL and runs testmempoolaccept', async () => {
    const sim = await startSimnet();
    try {
      const url = new URL(sim.rpcUrl);
      url.username = sim.rpcAuth.user;
      url.password = sim.rpcAuth.password;
      const core = new CoreRpcBackend({ url: url.toString(), retry: FAST_RETRY });
      const coins = mineCoins(sim.chain, 101);
      const c = coins[0] as Coin;
      const a = spend({ coins: [c], outputs: [out(c.value - 1000n, P2WSH_TRUE)] });
      const b = spend({
        coins: [{ txid: a.txid, vout: 0, value: c.value - 1000n, script: P2WSH_TRUE }],
        outputs: [out(c.value - 3000n)],
      });
      const low = spend({ coins: [coins[1] as Coin], outputs: [out((coins[1] as Coin).value - 1n)] });
      const results = await core.testAccept?.([a.raw, b.raw, low.raw]);
      expect(results?.map((r) => [r.txid, r.allowed, r.reason])).toEqual([
        [a.txid, true, undefined],
        [b.txid, true, undefined],
        [low.txid, false, 'min relay fee not met'],
      ]);
      expect(sim.chain.mempool.size).toBe(0);
      const tooMuch = await core
        .broadcast(a.raw, { maxFeeRate: { satPerKvb: 1000n } })
        .catch((e: unknown) => e);
      expect((tooMuch as BroadcastRejectedError).reason).toBe(
        'Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)',
      );
    } finally {
      await sim.stop();
    }
  });
});
