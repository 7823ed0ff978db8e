/**
 * A transaction whose block left the active chain is not confirmed, whatever index still names that
 * block. Core with -txindex keeps answering getrawtransaction with the stale block's hash (and
 * `confirmations: 0`), and getblockheader answers `confirmations: -1` for the stale block.
 *
 * The simnet drops the stale block's transactions from its index instead, so a Core-like front sits in
 * front of it here: getrawtransaction of the stale transaction is answered as Core with -txindex
 * answers, everything else (getblockheader of the stale block included) is the simnet's own answer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreRpcBackend } from '../../../src/bitcoin/backends/core-rpc.ts';
import { EsploraBackend } from '../../../src/bitcoin/backends/esplora.ts';
import { type Simnet, startSimnet } from '../../../src/bitcoin/simnet/start.ts';
import { bytesToHex } from '../../../src/core/bytes.ts';
import { type Coin, mineCoins, out, P2WSH_TRUE, spend } from '../../../testkit/bitcoin/simnet/fixture.ts';

const FAST_RETRY = { attempts: 2, baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 2000 };

type Stale = { txid: string; raw: Uint8Array; blockhash: string; confirmations: number };

/** Forwards JSON-RPC to the simnet, except getrawtransaction of `stale.txid`, answered as Core does. */
async function coreLikeFront(
  sim: Simnet,
  stale: () => Stale | undefined,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString();
      const call = JSON.parse(body) as { id: unknown; method: string; params: unknown[] };
      const s = stale();
      if (call.method === 'getrawtransaction' && s !== undefined && call.params[0] === s.txid) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            result: {
              txid: s.txid,
              hex: bytesToHex(s.raw),
              blockhash: s.blockhash,
              confirmations: s.confirmations,
            },
            error: null,
            id: call.id,
          }),
        );
        return;
      }
      const upstream = await fetch(sim.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' },
        body,
      });
      res.writeHead(upstream.status, { 'content-type': 'application/json' });
      res.end(await upstream.text());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('a transaction in a block off the active chain', () => {
  let sim: Simnet;
  let front: { url: string; server: Server };
  let stale: Stale | undefined;
  let coins: Coin[];

  beforeAll(async () => {
    sim = await startSimnet();
    coins = mineCoins(sim.chain, 120);
    front = await coreLikeFront(sim, () => stale);
  });
  afterAll(async () => {
    front.server.closeAllConnections();
    await new Promise<void>((resolve) => front.server.close(() => resolve()));
    await sim.stop();
  });

  /** Mines a spend of `coin`, then invalidates its block and drops it from the mempool. */
  function confirmThenOrphan(coin: Coin): { txid: string; raw: Uint8Array; blockhash: string } {
    const t = spend({ coins: [coin], outputs: [out(coin.value - 10_000n, P2WSH_TRUE)] });
    sim.chain.acceptTx(t.tx);
    const block = sim.chain.mine(P2WSH_TRUE);
    expect(block.txs.map((x) => x.txid)).toContain(t.txid);
    sim.chain.invalidateBlock(block.hash);
    // The reorg put it back in the mempool: dropped, as a conflicting spend or an eviction would.
    expect(sim.chain.mempool.get(t.txid)).toBeDefined();
    sim.chain.mempool.removeWithDescendants(t.txid);
    return { txid: t.txid, raw: t.raw, blockhash: block.hash };
  }

  it('is confirmed while its block is active, then not, on the simnet as it is', async () => {
    const core = new CoreRpcBackend({ url: sim.rpcUrl, auth: sim.rpcAuth, retry: FAST_RETRY });
    const esplora = new EsploraBackend({ baseUrl: sim.esploraUrl, retry: FAST_RETRY });
    const coin = coins[0] as Coin;
    const t = spend({ coins: [coin], outputs: [out(coin.value - 10_000n, P2WSH_TRUE)] });
    sim.chain.acceptTx(t.tx);
    const block = sim.chain.mine(P2WSH_TRUE);
    const confirmed = { confirmed: true, blockHeight: block.height, blockHash: block.hash };
    expect(await core.getTxStatus(t.txid)).toEqual(confirmed);
    expect(await esplora.getTxStatus(t.txid)).toEqual(confirmed);
    sim.chain.invalidateBlock(block.hash);
    expect(await core.getTxStatus(t.txid)).toEqual({ confirmed: false, inMempool: true });
    expect(await esplora.getTxStatus(t.txid)).toEqual({ confirmed: false, inMempool: true });
    sim.chain.mempool.removeWithDescendants(t.txid);
    // The simnet forgets it altogether (Core with -txindex would not: the cases below).
    expect(await core.getTxStatus(t.txid)).toBeUndefined();
    expect(await esplora.getTxStatus(t.txid)).toBeUndefined();
  });

  it('is not confirmed when Core names its stale block with confirmations 0', async () => {
    const t = confirmThenOrphan(coins[1] as Coin);
    stale = { ...t, confirmations: 0 };
    const core = new CoreRpcBackend({ url: front.url, auth: sim.rpcAuth, retry: FAST_RETRY });
    expect(await core.getTxStatus(t.txid)).toEqual({ confirmed: false, inMempool: false });
    const got = await core.getTransaction(t.txid);
    expect(got?.status).toEqual({ confirmed: false, inMempool: false });
    expect(got?.raw).toEqual(t.raw);
  });

  it('is not confirmed when the header says the block left the chain (-1), whatever the first answer', async () => {
    // getrawtransaction answered just before the reorg; getblockheader just after.
    const t = confirmThenOrphan(coins[2] as Coin);
    stale = { ...t, confirmations: 1 };
    const header = (await fetch(sim.rpcUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${sim.rpcAuth.user}:${sim.rpcAuth.password}`).toString('base64')}`,
      },
      body: JSON.stringify({ jsonrpc: '1.0', id: 1, method: 'getblockheader', params: [t.blockhash, true] }),
    }).then((r) => r.json())) as { result: { confirmations: number } };
    expect(header.result.confirmations).toBe(-1);
    const core = new CoreRpcBackend({ url: front.url, auth: sim.rpcAuth, retry: FAST_RETRY });
    expect(await core.getTxStatus(t.txid)).toEqual({ confirmed: false, inMempool: false });
  });

  it('a funding transaction in a stale block has no spent outputs to report', async () => {
    const t = confirmThenOrphan(coins[3] as Coin);
    stale = { ...t, confirmations: 0 };
    const core = new CoreRpcBackend({ url: front.url, auth: sim.rpcAuth, retry: FAST_RETRY });
    expect(await core.getOutspend(t.txid, 0)).toEqual({ spent: false });
  });

  it('is confirmed when its block is active again', async () => {
    const coin = coins[4] as Coin;
    const t = spend({ coins: [coin], outputs: [out(coin.value - 10_000n, P2WSH_TRUE)] });
    sim.chain.acceptTx(t.tx);
    const block = sim.chain.mine(P2WSH_TRUE);
    stale = undefined;
    const core = new CoreRpcBackend({ url: front.url, auth: sim.rpcAuth, retry: FAST_RETRY });
    expect(await core.getTxStatus(t.txid)).toEqual({
      confirmed: true,
      blockHeight: block.height,
      blockHash: block.hash,
    });
  });
});
