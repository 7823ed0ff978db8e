/** Reorgs on demand: invalidateblock, then a longer branch; the mempool follows as Core's does. */
import { describe, expect, it } from 'vitest';
import { SimChain } from '../../../src/bitcoin/simnet/chain.ts';
import {
  type Coin,
  coinOf,
  mineCoins,
  out,
  P2WPKH,
  P2WSH_TRUE,
  spend,
} from '../../../testkit/bitcoin/simnet/fixture.ts';

describe('simnet reorgs', () => {
  it('returns the transactions of disconnected blocks to the mempool and re-mines them on the new branch', () => {
    const chain = new SimChain();
    const [c0, c1] = mineCoins(chain, 102) as [Coin, Coin];
    const t1 = spend({ coins: [c0], outputs: [out(c0.value - 1000n, P2WSH_TRUE)] });
    const t2 = spend({ coins: [c1], outputs: [out(c1.value - 2000n)] });
    chain.accept(t1.raw);
    chain.accept(t2.raw);
    const b1 = chain.mine(P2WPKH);
    const child = spend({ coins: [coinOf(t1)], outputs: [out(c0.value - 5000n)] });
    chain.accept(child.raw);
    expect(chain.findTx(t1.txid)?.block?.hash).toBe(b1.hash);

    chain.invalidateBlock(b1.hash);
    expect(chain.height).toBe(b1.height - 1);
    expect(new Set(chain.mempool.entries.keys())).toEqual(new Set([t1.txid, t2.txid, child.txid]));
    // The child now has an unconfirmed parent again.
    expect([...(chain.mempool.get(child.txid)?.parents ?? [])]).toEqual([t1.txid]);
    expect(chain.confirmedCoin(c0.txid, 0)?.value).toBe(c0.value);

    const n1 = chain.mine(P2WPKH);
    chain.mine(P2WPKH);
    expect(n1.prevHash).toBe(b1.prevHash);
    expect(new Set(n1.txs.slice(1).map((t) => t.txid))).toEqual(new Set([t1.txid, t2.txid, child.txid]));
    expect(chain.mempool.size).toBe(0);
  });

  it('drops mempool transactions that conflict with the new branch, with their descendants', () => {
    const chain = new SimChain();
    const [c0] = mineCoins(chain, 101) as [Coin];
    const t1 = spend({ coins: [c0], outputs: [out(c0.value - 1000n, P2WSH_TRUE)] });
    chain.accept(t1.raw);
    const b1 = chain.mine(P2WPKH);
    const child = spend({ coins: [coinOf(t1)], outputs: [out(c0.value - 5000n)] });
    chain.accept(child.raw);

    chain.invalidateBlock(b1.hash);
    const rival = spend({ coins: [c0], outputs: [out(c0.value - 900n)] });
    // generateblock with a double spend of t1's input: t1 and its child leave the mempool.
    chain.mine(P2WPKH, [rival.tx]);
    chain.mine(P2WPKH);
    expect(chain.height).toBe(b1.height + 1);
    expect(chain.mempool.size).toBe(0);
    expect(chain.findTx(t1.txid)).toBeUndefined();
    expect(chain.findTx(rival.txid)?.block).toBeDefined();
    expect(chain.spenderOf(c0.txid, 0)?.txid).toBe(rival.txid);
  });

  it('drops a coinbase spend that becomes premature, and reconsiderblock switches back to the longer chain', () => {
    const chain = new SimChain();
    const coins = mineCoins(chain, 103);
    const tip = chain.tip;
    // coins[3] (height 4) may be spent in block 104, i.e. enters the mempool at tip 103.
    const spender = spend({ coins: [coins[3] as Coin], outputs: [out((coins[3] as Coin).value - 1000n)] });
    chain.accept(spender.raw);
    chain.invalidateBlock(tip.hash);
    expect(chain.height).toBe(102);
    expect(chain.mempool.get(spender.txid)).toBeUndefined();
    chain.reconsiderBlock(tip.hash);
    expect(chain.tip.hash).toBe(tip.hash);
  });

  it('undoes a block whose transactions spend each other: the in-block output is in neither state', () => {
    // Regression: found by the random walk (invariants.test.ts) — undo must run transaction by transaction.
    const chain = new SimChain();
    const [c0] = mineCoins(chain, 101) as [Coin];
    const before = chain.utxoSetInfo();
    const parent = spend({ coins: [c0], outputs: [out(c0.value - 1000n, P2WSH_TRUE)] });
    const child = spend({ coins: [coinOf(parent)], outputs: [out(c0.value - 3000n)] });
    chain.accept(parent.raw);
    chain.accept(child.raw);
    const b = chain.mine(P2WPKH);
    expect(b.txs.map((t) => t.txid).slice(1)).toEqual([parent.txid, child.txid]);
    chain.invalidateBlock(b.hash);
    expect(chain.utxoSetInfo()).toEqual(before);
    expect(chain.confirmedCoin(parent.txid, 0)).toBeUndefined();
    expect(chain.confirmedCoin(c0.txid, 0)?.value).toBe(c0.value);
  });

  it('refuses to invalidate genesis or an unknown block', () => {
    const chain = new SimChain();
    expect(() => chain.invalidateBlock(chain.tip.hash)).toThrow(/genesis/);
    expect(() => chain.invalidateBlock('11'.repeat(32))).toThrow(/not found/);
  });
});
