/**
 * "Spent by T" is checked against T: honest answers from simnet's Esplora front pass; a hostile backend
 * (a stub around the honest one) naming a transaction that does not spend the output, or serving other
 * bytes under the named txid, is caught.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendLiedError, BackendUnavailableError } from '../../../src/bitcoin/backends/errors.ts';
import { EsploraBackend } from '../../../src/bitcoin/backends/esplora.ts';
import type { BitcoinBackend, Outspend } from '../../../src/bitcoin/backends/types.ts';
import { spentByVerifiedTx, verifiedOutspend } from '../../../src/bitcoin/backends/verified-outspend.ts';
import { type Simnet, startSimnet } from '../../../src/bitcoin/simnet/start.ts';
import { type Coin, mineCoins, out, P2WSH_TRUE, spend } from '../../../testkit/bitcoin/simnet/fixture.ts';
import { measure } from './hostile-server.ts';

const RETRY = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 2_000 };

/** The honest backend with its answers overridden: what a compromised server can say. */
function lying(honest: BitcoinBackend, overrides: Partial<BitcoinBackend>): BitcoinBackend {
  return {
    kind: honest.kind,
    testAccept: honest.testAccept,
    getTipHeight: () => honest.getTipHeight(),
    getTipHash: () => honest.getTipHash(),
    getBlockHash: (h) => honest.getBlockHash(h),
    getBlockHeader: (h) => honest.getBlockHeader(h),
    getBlock: (h) => honest.getBlock(h),
    getTransaction: (t) => honest.getTransaction(t),
    getTxStatus: (t) => honest.getTxStatus(t),
    getOutspend: (t, v) => honest.getOutspend(t, v),
    getUtxos: (a) => honest.getUtxos(a),
    estimateFee: (n) => honest.estimateFee(n),
    broadcast: (r, o) => honest.broadcast(r, o),
    ...overrides,
  };
}

describe('verifiedOutspend', () => {
  let sim: Simnet;
  let esplora: EsploraBackend;
  let coins: Coin[];
  let spender: { txid: string; raw: Uint8Array };
  let bystander: { txid: string; raw: Uint8Array };

  beforeAll(async () => {
    sim = await startSimnet();
    esplora = new EsploraBackend({ baseUrl: sim.esploraUrl, retry: RETRY });
    coins = mineCoins(sim.chain, 103);
    const [a, b] = coins as [Coin, Coin];
    spender = spend({ coins: [a], outputs: [out(a.value - 3000n, P2WSH_TRUE)] });
    bystander = spend({ coins: [b], outputs: [out(b.value - 3000n, P2WSH_TRUE)] });
    sim.chain.accept(spender.raw);
    sim.chain.accept(bystander.raw);
    sim.chain.mine(P2WSH_TRUE);
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('confirms an honest spender from simnet Esplora, with the spending transaction', async () => {
    const coin = coins[0] as Coin;
    const r = await verifiedOutspend(esplora, coin.txid, 0);
    expect(r.spent).toBe(true);
    if (!r.spent || r.txid === undefined) throw new Error('expected a verified spender');
    expect(r.txid).toBe(spender.txid);
    expect(r.vin).toBe(0);
    expect(r.spender.raw).toEqual(spender.raw);
    expect(r.spender.status).toMatchObject({ confirmed: true, blockHeight: sim.chain.height });
    expect(await verifiedOutspend(esplora, (coins[2] as Coin).txid, 0)).toEqual({ spent: false });
  });

  it('refuses a spender that does not spend the output (a made-up challenge)', async () => {
    const coin = coins[0] as Coin;
    const claim: Outspend = { spent: true, txid: bystander.txid, vin: 0, status: undefined };
    const hostile = lying(esplora, { getOutspend: async () => claim });
    const r = await measure(() => verifiedOutspend(hostile, coin.txid, 0));
    expect(r.error).toBeInstanceOf(BackendLiedError);
    expect((r.error as BackendLiedError).lie).toBe('outspend-mismatch');
    expect((r.error as BackendLiedError).shortMessage).toBe(
      `Bitcoin backend (esplora) gave a false answer: said ${bystander.txid} spends ${coin.txid}:0, but none of its inputs does`,
    );
    expect(r.ms).toBeLessThan(2000);
    expect(r.heapMiB).toBeLessThan(64);
    // Nothing else stopped: the honest answer still verifies.
    expect(await verifiedOutspend(esplora, coin.txid, 0)).toMatchObject({ spent: true, txid: spender.txid });
  });

  it('refuses other bytes served under the named txid, whatever the backend object claims', async () => {
    const coin = coins[1] as Coin;
    const forged = spend({ coins: [coin], outputs: [out(1000n)] }); // spends the coin, but is not on chain
    const claim: Outspend = { spent: true, txid: bystander.txid, vin: 0, status: undefined };
    const hostile = lying(esplora, {
      getOutspend: async () => claim,
      // The stub even labels the forged bytes with the named txid: only the bytes count.
      getTransaction: async () => ({
        txid: bystander.txid,
        raw: forged.raw,
        tx: forged.tx,
        status: { confirmed: false, inMempool: true },
      }),
    });
    const r = await measure(() => verifiedOutspend(hostile, coin.txid, 0));
    expect((r.error as BackendLiedError).lie).toBe('tx-hash-mismatch');
    expect((r.error as BackendLiedError).shortMessage).toBe(
      `Bitcoin backend (esplora) gave a false answer: asked for transaction ${bystander.txid}, got ${forged.txid}`,
    );
    expect(r.ms).toBeLessThan(2000);
    expect(r.heapMiB).toBeLessThan(64);
  });

  it('corrects a wrong input index when another input does spend the output', async () => {
    const coin = coins[0] as Coin;
    const hostile = lying(esplora, {
      getOutspend: async () => ({ spent: true, txid: spender.txid, vin: 7, status: undefined }),
    });
    expect(await verifiedOutspend(hostile, coin.txid, 0)).toMatchObject({
      spent: true,
      txid: spender.txid,
      vin: 0,
    });
  });

  it('treats a spender the backend cannot produce as no answer yet', async () => {
    const coin = coins[0] as Coin;
    const ghost = 'ee'.repeat(32);
    const hostile = lying(esplora, {
      getOutspend: async () => ({ spent: true, txid: ghost, vin: 0, status: undefined }),
    });
    const err = await verifiedOutspend(hostile, coin.txid, 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err).not.toBeInstanceOf(BackendLiedError);
    expect((err as BackendUnavailableError).shortMessage).toBe(
      `Bitcoin backend (esplora) unavailable: ${coin.txid}:0 is said to be spent by ${ghost}, which the backend cannot produce`,
    );
  });

  it('spentByVerifiedTx: spent only with a spender that spends it; "spent" with no spender named, or unspent, is no', async () => {
    const coin = coins[0] as Coin;
    expect(await spentByVerifiedTx(esplora, coin.txid, 0)).toBe(true);
    expect(await spentByVerifiedTx(esplora, (coins[5] as Coin).txid, 0)).toBe(false);
    const nameless = lying(esplora, {
      getOutspend: async () => ({ spent: true, txid: undefined, vin: undefined, status: undefined }),
    });
    expect(await spentByVerifiedTx(nameless, (coins[5] as Coin).txid, 0)).toBe(false);
    const madeUp = lying(esplora, {
      getOutspend: async () => ({ spent: true, txid: bystander.txid, vin: 0, status: undefined }),
    });
    await expect(spentByVerifiedTx(madeUp, coin.txid, 0)).rejects.toBeInstanceOf(BackendLiedError);
  });
});
