/**
 * Random walks over simnet (payments, chains of unconfirmed spends, replacements, mining, reorgs and
 * their undoing) that check what must always hold: value is conserved, undoing a reorg restores the
 * UTXO set exactly, and the mempool only ever spends coins that exist.
 */
import { expect } from 'vitest';
import { blockSubsidy } from '../../../src/bitcoin/simnet/block-builder.ts';
import { SimChain } from '../../../src/bitcoin/simnet/chain.ts';
import { hexOf, outpointKey } from '../../../src/bitcoin/simnet/mempool.ts';
import { TxReject } from '../../../src/bitcoin/simnet/rules.ts';
import { createRng } from '../../../src/governance/workload.ts';
import {
  type Coin,
  coinOf,
  mineCoins,
  out,
  P2WPKH,
  P2WSH_TRUE,
  spend,
} from '../../../testkit/bitcoin/simnet/fixture.ts';

function checkInvariants(chain: SimChain): void {
  let minted = 0n;
  for (let h = 1; h <= chain.height; h++) minted += blockSubsidy(h);
  // Every fee goes to a coinbase; nothing here burns value (no OP_RETURN outputs).
  expect(chain.utxoSetInfo().total).toBe(minted);
  for (const e of chain.mempool.entries.values()) {
    e.tx.inputs.forEach((i) => {
      const parent = hexOf(i.prevTxid);
      const key = outpointKey(parent, i.vout);
      expect(chain.mempool.spenders.get(key)).toBe(e.txid);
      const fromChain = chain.confirmedCoin(parent, i.vout);
      const fromPool = chain.mempool.get(parent)?.tx.outputs[i.vout];
      expect(fromChain !== undefined || fromPool !== undefined).toBe(true);
    });
  }
}

export function randomWalk(seed: number, steps: number): void {
  const random = createRng(seed);
  const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(random() * xs.length)];
  const chain = new SimChain();
  const coins: Coin[] = mineCoins(chain, 101);
  const spendable: Coin[] = [];
  for (let step = 0; step < steps; step++) {
    const r = random();
    try {
      if (r < 0.45) {
        // A payment from a mature coinbase or an earlier output (possibly unconfirmed).
        const c = random() < 0.5 && spendable.length > 0 ? pick(spendable) : coins.shift();
        if (!c) continue;
        const fee = BigInt(200 + Math.floor(random() * 5000));
        const t = spend({ coins: [c], outputs: [out(c.value - fee, random() < 0.5 ? P2WSH_TRUE : P2WPKH)] });
        chain.accept(t.raw);
        spendable.push(coinOf(t));
      } else if (r < 0.6) {
        // A replacement attempt of something in the mempool (accepted or refused, never corrupting).
        const e = pick([...chain.mempool.entries.values()]);
        const input = e?.tx.inputs[0];
        if (!e || !input) continue;
        const parent = hexOf(input.prevTxid);
        const value =
          chain.confirmedCoin(parent, input.vout)?.value ??
          chain.mempool.get(parent)?.tx.outputs[input.vout]?.value;
        const script =
          chain.confirmedCoin(parent, input.vout)?.script ??
          chain.mempool.get(parent)?.tx.outputs[input.vout]?.script;
        if (value === undefined || script === undefined) continue;
        const bump = e.fee + BigInt(Math.floor(random() * 3000));
        chain.accept(
          spend({ coins: [{ txid: parent, vout: input.vout, value, script }], outputs: [out(value - bump)] })
            .raw,
        );
      } else if (r < 0.85) {
        chain.mine(P2WPKH);
      } else if (chain.height > 102) {
        // A reorg, sometimes undone: the UTXO set must come back exactly.
        const depth = 1 + Math.floor(random() * 3);
        const target = chain.blockAt(chain.height - depth + 1);
        if (!target) continue;
        const before = chain.utxoSetInfo();
        const tipBefore = chain.tip.hash;
        chain.invalidateBlock(target.hash);
        checkInvariants(chain);
        if (random() < 0.5) {
          chain.reconsiderBlock(target.hash);
          expect(chain.tip.hash).toBe(tipBefore);
          expect(chain.utxoSetInfo()).toEqual(before);
        } else {
          for (let i = 0; i <= depth; i++) chain.mine(P2WPKH);
        }
      }
    } catch (err) {
      if (!(err instanceof TxReject)) throw err;
    }
    checkInvariants(chain);
  }
}
