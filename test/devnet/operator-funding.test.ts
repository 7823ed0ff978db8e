/**
 * The devnet operator's money over a long run, on a real simnet: funded at creation for the claims it
 * plans, every coin paying its wallet later joins a reserve, and a pool run low is refilled from the
 * reserve by one transaction the next block confirms — nothing mined for it. A restarted operator takes
 * its coins back the same way: those worth a claim into the pool, the smaller ones into the reserve.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connectDevnetBitcoin, type DevnetBitcoin } from '../../src/bitcoin/simnet/devnet-bitcoin.ts';
import { serializeTx, txidHex } from '../../src/bitcoin/tx/serialize.ts';
import { spendCoin } from '../../src/devnet/operator-coins.ts';
import { OperatorFunding } from '../../src/devnet/operator-funding.ts';
import { claimValue } from '../../src/devnet/operator-graph.ts';
import { devnetOperatorSecrets } from '../../src/devnet/operator-keys.ts';
import { defaultGraphParameters } from '../../src/dispute/graph/parameters.ts';

const params = defaultGraphParameters.regtest;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Mines one block and shows its transactions to `funding`, as the operator's chain scan does. */
async function mineAndObserve(bitcoin: DevnetBitcoin, funding: OperatorFunding): Promise<void> {
  await bitcoin.mine(1);
  const block = await bitcoin.backend.getBlock(await bitcoin.backend.getTipHeight());
  for (const btx of block?.txs ?? []) funding.observe(btx);
}

describe('the devnet operator’s funding over a long run', () => {
  it('funds the planned claims, recycles its coins, and refills a low pool without mining for it', {
    timeout: 120_000,
  }, async () => {
    const bitcoin = await connectDevnetBitcoin();
    cleanups.push(() => bitcoin.stop());
    const secrets = devnetOperatorSecrets();
    const funding = await OperatorFunding.open(bitcoin, claimValue(params), secrets, undefined, 2_000);
    const { perClaim, pool } = funding;
    // Enough for 2,000 claims even if none came back: one coinbase in the pool, the rest in reserve.
    expect(pool.worth(perClaim) + Number(funding.reserve.value / perClaim)).toBeGreaterThanOrEqual(2_000);
    expect(funding.reserve.coins).toBeGreaterThan(0);
    expect(await funding.refill(bitcoin.backend, undefined), 'the pool is full: no refill').toBeUndefined();

    // A coin paying the wallet from elsewhere (as a take or a payout does) joins the reserve once mined.
    const spent = pool.take(perClaim);
    const back = spendCoin(
      spent,
      [{ value: 5_000_000n, script: funding.wallet.script }],
      1_000n,
      funding.wallet,
    );
    await bitcoin.backend.broadcast(serializeTx(back.tx));
    const before = funding.reserve;
    await mineAndObserve(bitcoin, funding);
    expect(funding.reserve.coins).toBe(before.coins + 2); // the payment and its change
    expect(funding.reserve.value).toBe(before.value + spent.value - 1_000n);

    // Claims drain the pool (taken here without being spent): below its low water it refills.
    while (pool.size > 0) pool.take(perClaim);
    const height = await bitcoin.backend.getTipHeight();
    const line = await funding.refill(bitcoin.backend, undefined);
    expect(line).toMatch(/^its coin pool runs low: splits \d+ reserve coins into 24 new coins/);
    expect(await bitcoin.backend.getTipHeight(), 'nothing mined').toBe(height);
    expect(await funding.refill(bitcoin.backend, undefined), 'one refill at a time').toBeUndefined();
    expect(pool.size, 'not before it confirms').toBe(0);
    await mineAndObserve(bitcoin, funding);
    expect(pool.size).toBe(24);
    expect(pool.worth(perClaim)).toBeGreaterThanOrEqual(240);
    // The new coins fund claims: one is spent and confirmed.
    const coin = pool.take(perClaim);
    const claim = funding.claimFunding(coin, funding.wallet.script);
    await bitcoin.backend.broadcast(serializeTx(claim.tx));
    await bitcoin.mine(1);
    expect((await bitcoin.backend.getTxStatus(txidHex(claim.tx)))?.confirmed).toBe(true);

    // A restart: coins worth a claim go to the pool, smaller ones to the reserve; nothing is mined.
    const tip = await bitcoin.backend.getTipHeight();
    const reopened = await OperatorFunding.reopen(bitcoin, claimValue(params), secrets, undefined);
    expect(await bitcoin.backend.getTipHeight()).toBe(tip);
    expect(reopened.pool.size).toBeGreaterThanOrEqual(24);
    expect(reopened.reserve.coins).toBeGreaterThanOrEqual(1); // the 0.05 BTC payment
  });
});
