/** The operator's coin pool: change chains stay shallow enough for the mempool, and run dry loudly. */
import * as ecc from 'tiny-secp256k1';
import { describe, expect, it } from 'vitest';
import { taprootOutput } from '../../src/bitcoin/taproot/output.ts';
import { txidHex } from '../../src/bitcoin/tx/serialize.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import {
  CoinPool,
  OperatorFundsError,
  spendCoin,
  type WalletSigner,
} from '../../src/devnet/operator-coins.ts';

const secret = sha256(utf8('operator coins test wallet'));
const wallet: WalletSigner = {
  secret,
  script: taprootOutput(Uint8Array.from(ecc.xOnlyPointFromScalar(secret))).scriptPubKey,
};
const pay = [{ value: 100_000n, script: Uint8Array.of(0x51) }];
const coin = (value: bigint) => ({
  txid: sha256(utf8(`coin ${value}`)),
  vout: 1,
  value,
  unconfirmed: new Set<string>(),
});

describe('the operator coin pool', () => {
  it('chains change only maxChain unconfirmed transactions deep, and deepens no more after a confirmation', () => {
    const pool = new CoinPool(2);
    pool.add(coin(1_000_000n));
    const first = spendCoin(pool.take(101_000n), pay, 1_000n, wallet);
    expect(first.tx.outputs).toEqual([...pay, { value: 899_000n, script: wallet.script }]);
    expect(first.change?.vout).toBe(1);
    expect(first.tx.inputs[0]?.witness).toHaveLength(1);
    pool.add(first.change as NonNullable<typeof first.change>);
    const second = spendCoin(pool.take(101_000n), pay, 1_000n, wallet);
    expect(second.change?.unconfirmed).toEqual(new Set([txidHex(first.tx), txidHex(second.tx)]));
    pool.add(second.change as NonNullable<typeof second.change>);
    expect(() => pool.take(101_000n)).toThrow(/2 unconfirmed claims deep/);
    pool.confirmed(txidHex(first.tx));
    expect(pool.take(101_000n).unconfirmed).toEqual(new Set([txidHex(second.tx)]));
  });

  it('prefers the shallowest coin and refuses when no coin is worth a claim', () => {
    const pool = new CoinPool(5);
    const deep = { ...coin(5_000_000n), unconfirmed: new Set(['a', 'b']) };
    pool.add(deep);
    pool.add(coin(2_000_000n));
    expect(pool.take(101_000n).value).toBe(2_000_000n);
    expect(pool.take(101_000n)).toBe(deep);
    pool.add(coin(50_000n));
    expect(() => pool.take(101_000n)).toThrow(OperatorFundsError);
    expect(() => pool.take(101_000n)).toThrow(/no coin worth 101000 sats/);
  });

  it('gives dust change to the fee and refuses to overspend', () => {
    const s = spendCoin(coin(105_000n), pay, 1_000n, wallet);
    expect(s.change).toBeUndefined();
    expect(s.tx.outputs).toEqual(pay);
    expect(() => spendCoin(coin(100_500n), pay, 1_000n, wallet)).toThrow(OperatorFundsError);
  });
});
