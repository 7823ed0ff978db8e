/**
 * A restarted served operator's journaled transactions, on a real simnet: one lost with the mempool is
 * sent again; one whose coin another transaction spent in a block can never be sent, and says so
 * (`fundingLost`: its claim is over), while one whose conflict is only in the mempool is not given up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connectDevnetBitcoin } from '../../src/bitcoin/simnet/devnet-bitcoin.ts';
import { serializeTx, txidHex } from '../../src/bitcoin/tx/serialize.ts';
import { spendCoin } from '../../src/devnet/operator-coins.ts';
import { OperatorFunding } from '../../src/devnet/operator-funding.ts';
import { devnetOperatorSecrets } from '../../src/devnet/operator-keys.ts';
import { fundingLost, rebroadcastLost } from '../../src/devnet/serve-rebroadcast.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('journaled claim transactions after a restart', () => {
  it('sends again what the mempool lost, and gives up only a funding whose coin was spent in a block', {
    timeout: 60_000,
  }, async () => {
    const bitcoin = await connectDevnetBitcoin();
    cleanups.push(() => bitcoin.stop());
    const funding = await OperatorFunding.open(bitcoin, 1_000_000n, devnetOperatorSecrets(), undefined, 4);
    const { wallet, pool, perClaim } = funding;
    const pay = (value: bigint) => [{ value, script: wallet.script }];
    const coin = pool.take(perClaim);
    const first = spendCoin(coin, pay(100_000n), 1_000n, wallet);
    const journaled = first.tx;
    // The next claim's funding, chained on its change.
    const chained = spendCoin(
      first.change as NonNullable<typeof first.change>,
      pay(50_000n),
      1_000n,
      wallet,
    ).tx;
    const other = spendCoin(coin, pay(200_000n), 1_000n, wallet).tx;
    const { backend } = bitcoin;

    // Never sent, its coin unspent: it can still be.
    expect(await fundingLost(backend, journaled)).toBeUndefined();
    // Another spend of its coin in the mempool only: a block could still take either.
    await backend.broadcast(serializeTx(other));
    expect(await fundingLost(backend, journaled)).toBeUndefined();
    await bitcoin.mine(1);
    const height = await backend.getTipHeight();
    expect(await fundingLost(backend, journaled)).toMatch(
      new RegExp(`can never be sent: its coin .* was spent by ${txidHex(other)} in block ${height}`),
    );
    // The spend the chain holds is not lost.
    expect(await fundingLost(backend, other)).toBeUndefined();
    // A funding on a lost one's change: its parent is unknown, so lost only with the one it chains on.
    expect(await fundingLost(backend, chained)).toBeUndefined();
    expect(await fundingLost(backend, chained, new Set([txidHex(journaled)]))).toMatch(
      new RegExp(`can never be sent: it spends the change of ${txidHex(journaled).slice(0, 12)}`),
    );

    // Lost with the mempool and still valid: sent again. Refused for good: said, and nothing sent.
    const lost = spendCoin(pool.take(perClaim), pay(150_000n), 1_000n, wallet).tx;
    const said: string[] = [];
    await rebroadcastLost(
      bitcoin,
      [
        { epoch: 4n, what: 'funding', txid: txidHex(lost), raw: serializeTx(lost) },
        { epoch: 3n, what: 'funding', txid: txidHex(journaled), raw: serializeTx(journaled) },
        { epoch: 2n, what: 'funding', txid: txidHex(other), raw: serializeTx(other) },
      ],
      (line) => said.push(line),
    );
    expect(said).toHaveLength(2);
    expect(said[0]).toBe("bitcoin: epoch 4's funding was lost with the mempool; broadcast it again");
    expect(said[1]).toMatch(/^bitcoin: epoch 3's funding was lost and is refused now \(/);
    expect((await backend.getTxStatus(txidHex(lost)))?.confirmed).toBe(false);
    expect(await backend.getTxStatus(txidHex(journaled))).toBeUndefined();
  });
});
