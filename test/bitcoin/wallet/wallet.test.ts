/** The watcher wallet against simnet: every payment it signs is verified by the project's interpreter. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { ECPairFactory } from 'ecpair';
import { Registry } from 'prom-client';
import * as ecc from 'tiny-secp256k1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreRpcBackend } from '../../../src/bitcoin/backends/core-rpc.ts';
import { EsploraBackend } from '../../../src/bitcoin/backends/esplora.ts';
import { libNetwork } from '../../../src/bitcoin/codec/address.ts';
import { decodeTx, txVsize } from '../../../src/bitcoin/codec/codec.ts';
import { feeForVsize } from '../../../src/bitcoin/codec/fee-rate.ts';
import { type Simnet, startSimnet } from '../../../src/bitcoin/simnet/start.ts';
import { loadWalletKey, WalletKey, WalletKeyError } from '../../../src/bitcoin/wallet/keys.ts';
import {
  InsufficientFundsError,
  isMatureCoin,
  RBF_SEQUENCE,
  ReserveViolationError,
  type WalletKind,
  WatcherWallet,
} from '../../../src/bitcoin/wallet/wallet.ts';
import { bytesToHex } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/hashes.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import {
  type Coin,
  mineCoins,
  out,
  P2WPKH,
  P2WSH_TRUE,
  spend,
} from '../../../testkit/bitcoin/simnet/fixture.ts';

const SECRET = sha256(new TextEncoder().encode('vigil wallet test secret'));
const SECRET_HEX = bytesToHex(SECRET);
const SECRET_WIF = ECPairFactory(ecc)
  .fromPrivateKey(SECRET, { network: libNetwork('regtest') })
  .toWIF();
const FUNDING = [100_000_000n, 50_000_000n, 20_000_000n];

let sim: Simnet;
let miner: Coin[];

beforeAll(async () => {
  sim = await startSimnet();
  miner = mineCoins(sim.chain, 110);
});
afterAll(async () => {
  await sim.stop();
});

/** A wallet of `kind` funded with three confirmed coins (not coinbase outputs). */
async function fundedWallet(
  kind: WalletKind,
  options: { reserve?: bigint; registry?: Registry; esplora?: boolean } = {},
) {
  const key = WalletKey.fromBytes(sha256(new TextEncoder().encode(`wallet ${kind} ${Math.random()}`)));
  const backend = options.esplora
    ? new EsploraBackend({ baseUrl: sim.esploraUrl })
    : new CoreRpcBackend({ url: sim.rpcUrl, auth: sim.rpcAuth });
  const wallet = new WatcherWallet({
    backend,
    key,
    kind,
    network: 'regtest',
    reserve: options.reserve ?? 0n,
    ...(options.registry ? { registry: options.registry } : {}),
    name: kind,
  });
  const coin = miner.shift() as Coin;
  const total = FUNDING.reduce((s, v) => s + v, 0n);
  const fund = spend({
    coins: [coin],
    outputs: [...FUNDING.map((v) => out(v, wallet.script)), out(coin.value - total - 10_000n)],
  });
  sim.chain.accept(fund.raw);
  sim.chain.mine(P2WPKH);
  await wallet.refresh();
  return wallet;
}

describe.each(['p2tr', 'p2wpkh'] as const)('watcher wallet (%s)', (kind) => {
  it.each([1_000n, 2_500n, 12_345n, 100_000n])(
    'pays exactly the target rate (%s sat/kvB) and the chain accepts it',
    async (satPerKvb) => {
      const wallet = await fundedWallet(kind, { esplora: satPerKvb === 2_500n });
      const rate = { satPerKvb };
      const p = wallet.createPayment({ outputs: [out(30_000_000n, P2WSH_TRUE)], feeRate: rate });
      const vsize = txVsize(decodeTx(p.raw));
      expect(p.vsize).toBe(vsize);
      expect(p.fee).toBe(feeForVsize(rate, vsize));
      expect(p.tx.inputs.every((i) => i.sequence === RBF_SEQUENCE)).toBe(true);
      const accepted = sim.chain.accept(p.raw);
      expect(accepted.fee).toBe(p.fee);
      expect(accepted.vsize).toBe(vsize);
    },
  );

  it('keeps change only above dust, otherwise gives it to the fee', async () => {
    const wallet = await fundedWallet(kind);
    const rate = { satPerKvb: 3_000n };
    const dust = wallet.dustLimit;
    let folded = 0;
    let kept = 0;
    // Amounts that leave, after the fee, from nothing to well above dust of the 1-BTC coin.
    for (let leftover = 0n; leftover < 1_200n; leftover += 37n) {
      const noChangeVsize = kind === 'p2tr' ? 111 : 110;
      const amount = 100_000_000n - feeForVsize(rate, noChangeVsize) - leftover;
      const p = wallet.createPayment({ outputs: [out(amount, P2WSH_TRUE)], feeRate: rate });
      const required = feeForVsize(rate, p.vsize);
      if (p.change) {
        kept++;
        expect(p.change.value).toBeGreaterThanOrEqual(dust);
        expect(p.fee).toBe(required);
      } else {
        folded++;
        expect(p.fee).toBeGreaterThanOrEqual(required);
        // What went to the fee could not have paid for a change output above dust.
        const changeCost = feeForVsize(rate, kind === 'p2tr' ? 43 : 31);
        expect(p.fee - required).toBeLessThan(dust + changeCost);
      }
      expect(p.inputs.reduce((s, u) => s + u.value, 0n)).toBe(amount + p.fee + (p.change?.value ?? 0n));
    }
    expect(folded).toBeGreaterThan(0);
    expect(kept).toBeGreaterThan(0);
  });

  it('never spends below its reserve and reports its balance as a metric', async () => {
    const registry = new Registry();
    const wallet = await fundedWallet(kind, { reserve: 100_000_000n, registry });
    const metric = async () =>
      (await registry.getSingleMetric('vigil_wallet_balance_sats')?.get())?.values[0]?.value;
    expect(await metric()).toBe(170_000_000);
    expect(() =>
      wallet.createPayment({ outputs: [out(70_000_000n, P2WSH_TRUE)], feeRate: { satPerKvb: 2_000n } }),
    ).toThrow(ReserveViolationError);
    expect(() =>
      wallet.createPayment({ outputs: [out(500_000_000n, P2WSH_TRUE)], feeRate: { satPerKvb: 2_000n } }),
    ).toThrow(InsufficientFundsError);
    const before = sim.chain.mempool.size;
    const p = await wallet.pay({ outputs: [out(60_000_000n, P2WSH_TRUE)], feeRate: { satPerKvb: 2_000n } });
    expect(sim.chain.mempool.size).toBe(before + 1);
    // Until the next refresh the gauge shows the coins left unspent (the change is still unconfirmed).
    expect(await metric()).toBe(Number(wallet.balance));
    expect(wallet.balance + (p.change?.value ?? 0n)).toBeGreaterThanOrEqual(100_000_000n);
    sim.chain.mine(P2WPKH);
    await wallet.refresh();
    expect(await metric()).toBe(170_000_000 - 60_000_000 - Number(p.fee));
  });
});

describe('wallet key handling', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-wallet-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the key from a file (hex or WIF) or an env variable, to the same key', async () => {
    const file = join(dir, 'key.hex');
    await writeFile(file, `${SECRET_HEX}\n`);
    const wif = join(dir, 'key.wif');
    await writeFile(wif, SECRET_WIF);
    const fromFile = await loadWalletKey({ file }, 'regtest');
    const fromWif = await loadWalletKey({ file: wif }, 'regtest');
    const fromEnv = await loadWalletKey({ env: 'VIGIL_TEST_KEY' }, 'regtest', { VIGIL_TEST_KEY: SECRET_HEX });
    expect(fromWif.publicKey).toEqual(fromFile.publicKey);
    expect(fromEnv.publicKey).toEqual(fromFile.publicKey);
    await expect(loadWalletKey({ env: 'VIGIL_TEST_KEY' }, 'regtest', {})).rejects.toBeInstanceOf(
      WalletKeyError,
    );
    await expect(loadWalletKey({ file: join(dir, 'missing') }, 'regtest')).rejects.toBeInstanceOf(
      WalletKeyError,
    );
  });

  it('never lets key material reach a log line', async () => {
    let written = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        written += String(chunk);
        done();
      },
    });
    const logger = createLogger({ level: 'debug', format: 'json', destination: sink });
    const file = join(dir, 'log-key');
    await writeFile(file, SECRET_WIF);
    const key = await loadWalletKey({ file }, 'regtest');
    const wallet = new WatcherWallet({
      backend: new CoreRpcBackend({ url: sim.rpcUrl, auth: sim.rpcAuth }),
      key,
      kind: 'p2tr',
      network: 'regtest',
      reserve: 0n,
      logger,
    });
    logger.info({ key, wallet }, 'wallet ready');
    logger.info(
      { keyText: String(key), inspected: inspect(key), json: JSON.stringify({ key }) },
      'key forms',
    );
    const typo = `${SECRET_HEX.slice(0, 63)}z`;
    try {
      WalletKey.parse(typo);
    } catch (err) {
      logger.error({ err }, 'bad key');
    }
    const coin = miner.shift() as Coin;
    const fund = spend({
      coins: [coin],
      outputs: [out(10_000_000n, wallet.script), out(coin.value - 10_010_000n)],
    });
    sim.chain.accept(fund.raw);
    sim.chain.mine(P2WPKH);
    await wallet.refresh();
    await wallet.pay({ outputs: [out(1_000_000n, P2WSH_TRUE)], feeRate: { satPerKvb: 1_000n } });
    expect(written).toContain('wallet payment built');
    expect(written).toContain('[redacted]');
    for (const secret of [SECRET_HEX, SECRET_WIF, SECRET_HEX.slice(0, 40), typo])
      expect(written).not.toContain(secret);
  });
});

describe('coinbase maturity', () => {
  // The coin goes into a transaction mined in block tip + 1: a coinbase needs 100 blocks on top of it.
  it.each([
    { name: 'a plain confirmed coin', coin: { coinbase: false, height: 200 }, tip: 200, mature: true },
    {
      name: 'a coinbase 99 blocks deep at the next block',
      coin: { coinbase: true, height: 102 },
      tip: 200,
      mature: false,
    },
    {
      name: 'a coinbase 100 blocks deep at the next block',
      coin: { coinbase: true, height: 101 },
      tip: 200,
      mature: true,
    },
    {
      name: 'an unconfirmed coinbase (never)',
      coin: { coinbase: true, height: undefined },
      tip: 200,
      mature: false,
    },
    {
      name: 'Esplora cannot tell: taken as spendable',
      coin: { coinbase: undefined, height: 200 },
      tip: 200,
      mature: true,
    },
  ])('$name', ({ coin, tip, mature }) => {
    expect(isMatureCoin(coin, tip)).toBe(mature);
  });

  it('the wallet on simnet does not list the immature coinbase it was paid by a miner', async () => {
    const sim = await startSimnet();
    try {
      const backend = new CoreRpcBackend({ url: sim.rpcUrl, auth: sim.rpcAuth });
      const key = WalletKey.fromBytes(SECRET);
      const wallet = new WatcherWallet({ backend, key, kind: 'p2tr', network: 'regtest', reserve: 0n });
      const block = sim.chain.mine(wallet.script);
      expect((await backend.getUtxos(wallet.address)).map((u) => u.coinbase)).toEqual([true]);
      expect(await wallet.refresh()).toEqual([]);
      for (let i = 0; i < 99; i++) sim.chain.mine(P2WPKH);
      const coins = await wallet.refresh();
      expect(coins.map((u) => u.txid)).toEqual([block.txs[0]?.txid]);
    } finally {
      await sim.stop();
    }
  });
});
