/**
 * The backends keep confirmed transactions and answer them again after checking only that their block is
 * still active. What must never happen: a version of a transaction kept from one block answered after
 * another version (same txid, another witness) was mined in its place; or a version the backend answered
 * once, which the block does not hold, kept and answered for good. A game reads the witnesses of the
 * operator's moves, so such an answer would make Vigil play against values the chain does not hold.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfirmedTxCache } from '../../../src/bitcoin/backends/confirmed-tx-cache.ts';
import { CoreRpcBackend } from '../../../src/bitcoin/backends/core-rpc.ts';
import { EsploraBackend } from '../../../src/bitcoin/backends/esplora.ts';
import type { BitcoinBackend } from '../../../src/bitcoin/backends/types.ts';
import { type Simnet, startSimnet } from '../../../src/bitcoin/simnet/start.ts';
import { bytesToHex } from '../../../src/core/bytes.ts';
import {
  type Coin,
  coinOf,
  mineCoins,
  out,
  P2WSH_TRUE,
  p2wsh,
  spend,
} from '../../../testkit/bitcoin/simnet/fixture.ts';

const FAST_RETRY = { attempts: 2, baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 2000 };

describe('ConfirmedTxCache', () => {
  const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

  it('keeps transactions within its byte budget, least recently used out', () => {
    const cache = new ConfirmedTxCache({ maxBytes: 300 });
    cache.put('a', bytes(100, 1), 'ha');
    cache.put('b', bytes(100, 2), 'hb');
    cache.put('c', bytes(100, 3), 'hc');
    expect(cache.bytes).toBe(300);
    expect(cache.get('a')?.blockHash).toBe('ha'); // a is now the most recently used
    cache.put('d', bytes(50, 4), 'hd');
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a')?.raw[0], cache.get('c')?.raw[0], cache.get('d')?.raw[0]]).toEqual([1, 3, 4]);
    expect(cache.bytes).toBe(250);
  });

  it('replaces an entry under the same txid, drops on request, and never keeps one above the budget', () => {
    const cache = new ConfirmedTxCache({ maxBytes: 100 });
    cache.put('a', bytes(60, 1), 'h1');
    cache.put('a', bytes(40, 2), 'h2');
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe(40);
    expect(cache.get('a')?.blockHash).toBe('h2');
    cache.drop('a');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.bytes).toBe(0);
    cache.put('big', bytes(101, 9), 'h');
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
  });

  it('keeps its own copy: a caller that writes into the bytes it passed changes nothing kept', () => {
    const cache = new ConfirmedTxCache();
    const raw = bytes(10, 7);
    cache.put('a', raw, 'h');
    raw[0] = 0;
    expect(cache.get('a')?.raw[0]).toBe(7);
  });

  it('lets go of what was not read for its idle time, and keeps what is read', () => {
    let now = 0;
    const cache = new ConfirmedTxCache({ idleMs: 1_000, now: () => now });
    cache.put('old', bytes(10, 1), 'h');
    cache.put('read', bytes(20, 2), 'h');
    for (now = 400; now <= 2_000; now += 400) expect(cache.get('read')?.raw[0]).toBe(2);
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe(20);
    expect(cache.get('old')).toBeUndefined();
    // Nothing read for longer than the idle time: a put lets go of it too.
    now += 1_001;
    cache.put('new', bytes(5, 3), 'h');
    expect([cache.size, cache.bytes]).toEqual([1, 5]);
  });

  it('says a txid is read again only when it was read confirmed in the same block before', () => {
    let now = 0;
    const cache = new ConfirmedTxCache({ idleMs: 1_000, now: () => now });
    expect(cache.readAgain('t', 'b1')).toBe(false);
    expect(cache.readAgain('t', 'b2')).toBe(false); // another block: a reorg, counted from here
    expect(cache.readAgain('t', 'b2')).toBe(true);
    expect(cache.seen).toBe(0);
    expect(cache.readAgain('u', 'b1')).toBe(false);
    now = 1_001;
    expect(cache.readAgain('u', 'b1')).toBe(false); // forgotten after the idle time
    expect(cache.seen).toBe(1);
  });

  it('refuses a size or an idle time that is not a whole number', () => {
    expect(() => new ConfirmedTxCache({ maxBytes: -1 })).toThrow(/size in bytes must be a whole number/);
    expect(() => new ConfirmedTxCache({ maxBytes: 1.5 })).toThrow(/size in bytes must be a whole number/);
    expect(() => new ConfirmedTxCache({ idleMs: Number.NaN })).toThrow(
      /idle time in ms must be a whole number/,
    );
  });
});

describe('a confirmed transaction answered again by the backends', () => {
  let sim: Simnet;
  let coins: Coin[];
  // Spent with any one item: two versions of one spend differ only in their witness, not their txid.
  const DROP_TRUE = Uint8Array.from([0x75, 0x51]);

  beforeAll(async () => {
    sim = await startSimnet();
    coins = mineCoins(sim.chain, 110);
  });
  afterAll(async () => {
    await sim.stop();
  });

  /** A coin locked to DROP_TRUE, confirmed. */
  function dropTrueCoin(from: Coin): Coin {
    const fund = spend({ coins: [from], outputs: [out(from.value - 10_000n, p2wsh(DROP_TRUE))] });
    sim.chain.acceptTx(fund.tx);
    sim.chain.mine(P2WSH_TRUE);
    return coinOf(fund, 0);
  }

  /** Two versions of one spend of `coin`: the same txid, witnesses [1] and [2]. */
  function twoVersions(coin: Coin) {
    const version = (item: number) =>
      spend({
        coins: [{ ...coin, witness: [Uint8Array.from([item]), DROP_TRUE] }],
        outputs: [out(coin.value - 10_000n, P2WSH_TRUE)],
      });
    const a = version(1);
    const b = version(2);
    expect(b.txid).toBe(a.txid);
    expect(b.raw).not.toEqual(a.raw);
    return { a, b };
  }

  const backends = (): [string, BitcoinBackend][] => [
    ['core-rpc', new CoreRpcBackend({ url: sim.rpcUrl, auth: sim.rpcAuth, retry: FAST_RETRY })],
    ['esplora', new EsploraBackend({ baseUrl: sim.esploraUrl, retry: FAST_RETRY })],
  ];

  it('answers the version in the active chain after a reorg mines another version of it', async () => {
    for (const [name, backend] of backends()) {
      const { a, b } = twoVersions(dropTrueCoin(coins.shift() as Coin));
      sim.chain.acceptTx(a.tx);
      const first = sim.chain.mine(P2WSH_TRUE);
      // Read three times: the second keeps the block's bytes, the third answers them.
      for (let i = 0; i < 3; i++) {
        const got = await backend.getTransaction(a.txid);
        expect(got?.raw, name).toEqual(a.raw);
        expect(got?.status, name).toEqual({
          confirmed: true,
          blockHeight: first.height,
          blockHash: first.hash,
        });
      }
      // The operator's other version replaces the first in a reorg.
      sim.chain.invalidateBlock(first.hash);
      const back = await backend.getTransaction(a.txid);
      expect(back?.status, name).toEqual({ confirmed: false, inMempool: true });
      expect(back?.raw, name).toEqual(a.raw);
      sim.chain.mempool.removeWithDescendants(a.txid);
      sim.chain.acceptTx(b.tx);
      const second = sim.chain.mine(P2WSH_TRUE);
      expect(second.hash).not.toBe(first.hash);
      const now = await backend.getTransaction(a.txid);
      expect(now?.raw, name).toEqual(b.raw);
      expect(now?.tx.inputs[0]?.witness[0], name).toEqual(Uint8Array.from([2]));
      expect(now?.status, name).toEqual({
        confirmed: true,
        blockHeight: second.height,
        blockHash: second.hash,
      });
    }
  });

  it('Core: a kept transaction costs one getblockheader, and a caller writing into its answer changes nothing kept', async () => {
    const core = new CoreRpcBackend({ url: sim.rpcUrl, auth: sim.rpcAuth, retry: FAST_RETRY });
    const calls: string[] = [];
    const call = core.rpc.call.bind(core.rpc);
    core.rpc.call = (<T>(method: string, params?: unknown[], timeoutMs?: number): Promise<T> => {
      calls.push(method);
      return call<T>(method, params, timeoutMs);
    }) as typeof core.rpc.call;
    const coin = coins.shift() as Coin;
    const t = spend({ coins: [coin], outputs: [out(coin.value - 10_000n, P2WSH_TRUE)] });
    sim.chain.acceptTx(t.tx);
    // Unconfirmed: never kept.
    await core.getTransaction(t.txid);
    await core.getTransaction(t.txid);
    expect(calls.filter((m) => m === 'getrawtransaction')).toHaveLength(2);
    sim.chain.mine(P2WSH_TRUE);
    const first = await core.getTransaction(t.txid);
    // The second confirmed read takes the bytes from the block, once.
    calls.length = 0;
    expect(await core.getTransaction(t.txid)).toEqual(first);
    expect(calls).toEqual(['getrawtransaction', 'getblockheader', 'getblockheader', 'getblock']);
    calls.length = 0;
    const again = await core.getTransaction(t.txid);
    expect(calls).toEqual(['getblockheader']);
    expect(again).toEqual(first);
    (again?.raw as Uint8Array)[0] = 0xff;
    (again?.tx.inputs[0]?.witness as Uint8Array[]).length = 0;
    const third = await core.getTransaction(t.txid);
    expect(third?.raw).toEqual(t.raw);
    expect(third?.tx).toEqual(t.tx);
  });

  it('Core: a witness the node answers but the block does not hold is never kept', async () => {
    const { a, b } = twoVersions(dropTrueCoin(coins.shift() as Coin));
    sim.chain.acceptTx(a.tx);
    const block = sim.chain.mine(P2WSH_TRUE);
    // A node (or anything between it and Vigil) that answers version b, which was never mined.
    const front = await lyingFront(sim, a.txid, bytesToHex(b.raw));
    try {
      const core = new CoreRpcBackend({ url: front.url, auth: sim.rpcAuth, retry: FAST_RETRY });
      const once = await core.getTransaction(a.txid);
      expect(once?.raw).toEqual(b.raw); // the node's word, as before: nothing else was asked
      for (let i = 0; i < 3; i++) {
        const got = await core.getTransaction(a.txid);
        expect(got?.raw).toEqual(a.raw);
        expect(got?.status).toEqual({ confirmed: true, blockHeight: block.height, blockHash: block.hash });
      }
    } finally {
      front.server.closeAllConnections();
      await new Promise<void>((resolve) => front.server.close(() => resolve()));
    }
  });
});

/** Forwards JSON-RPC to the simnet, answering getrawtransaction of `txid` with `hex` in its reply. */
async function lyingFront(sim: Simnet, txid: string, hex: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString();
      const call = JSON.parse(body) as { method: string; params: unknown[] };
      const upstream = await fetch(sim.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' },
        body,
      });
      let text = await upstream.text();
      if (call.method === 'getrawtransaction' && call.params[0] === txid) {
        const reply = JSON.parse(text) as { result: { hex: string } };
        reply.result.hex = hex;
        text = JSON.stringify(reply);
      }
      res.writeHead(upstream.status, { 'content-type': 'application/json' });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
