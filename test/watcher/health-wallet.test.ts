import { describe, expect, it } from 'vitest';
import { encodeTx, txidHex } from '../../src/bitcoin/codec/codec.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import { bytesToHex, hexToBytes } from '../../src/core/bytes.ts';
import { defaultGraphParameters } from '../../src/dispute/graph/parameters.ts';
import { committedOutpoints } from '../../src/dispute/plan/fee-bump.ts';
import { asTxid } from '../../src/dispute/records/types.ts';
import {
  challengeFundingNeed,
  spendableBalance,
  TYPICAL_CHALLENGE_VSIZE,
  walletHealth,
} from '../../src/watcher/health.ts';

const txidA = `${'aa'.repeat(31)}01`;
const txidB = `${'bb'.repeat(31)}02`;

const coin = (
  txid: string,
  vout: number,
  value: bigint,
  extra: Partial<Parameters<typeof spendableBalance>[0][number]> = {},
) => ({
  txid,
  vout,
  value,
  confirmed: true,
  height: 10,
  coinbase: false,
  ...extra,
});

/** A transaction spending the given outpoints (display-order txids), as a stored challenge version. */
function spending(outpoints: [string, number][]): { txid: string; raw: string } {
  const tx: Tx = {
    version: 2,
    inputs: outpoints.map(([txid, vout]) => ({
      prevTxid: hexToBytes(txid).reverse(),
      vout,
      scriptSig: new Uint8Array(0),
      sequence: 0xfffffffd,
      witness: [new Uint8Array(64)],
    })),
    outputs: [{ value: 1_000_000n, script: Uint8Array.from([0x51, 0x20, ...new Uint8Array(32)]) }],
    locktime: 0,
  };
  return { txid: txidHex(tx), raw: bytesToHex(encodeTx(tx)) };
}

describe('/healthz: can the watcher wallet fund the next challenge?', () => {
  it('needs the challenge amount less the connector, the fee at the cap for a typical challenge, and the reserve', () => {
    const regtest = defaultGraphParameters.regtest;
    expect(challengeFundingNeed({ params: regtest, maxFeeRateSatVb: 50, reserve: 0n })).toBe(
      1_000_000n - 330n + 50n * 300n,
    );
    expect(challengeFundingNeed({ params: regtest, maxFeeRateSatVb: 50, reserve: 20_000n })).toBe(
      1_000_000n - 330n + 15_000n + 20_000n,
    );
    // Mainnet at the default cap of 500 sat/vB: 0.1 BTC plus 150,000 sat of fee.
    expect(
      challengeFundingNeed({ params: defaultGraphParameters.mainnet, maxFeeRateSatVb: 500, reserve: 0n }),
    ).toBe(10_000_000n - 330n + 150_000n);
    // A fractional cap rounds the fee up, never down.
    expect(challengeFundingNeed({ params: regtest, maxFeeRateSatVb: 1.5, reserve: 0n, vsize: 263 })).toBe(
      1_000_000n - 330n + 395n,
    );
    expect(TYPICAL_CHALLENGE_VSIZE).toBeGreaterThanOrEqual(263);
  });

  it('counts only confirmed, mature coins that no stored challenge already spends', () => {
    const utxos = [
      coin(txidA, 0, 3_000_000n),
      coin(txidA, 1, 2_000_000n),
      coin(txidB, 0, 700_000n, { confirmed: false, height: undefined }),
      // A coinbase 50 blocks deep is not spendable yet (100 are needed); one 100 deep is.
      coin(txidB, 1, 5_000_000_000n, { coinbase: true, height: 150 - 49 }),
      coin(txidB, 2, 40_000n, { coinbase: true, height: 150 - 99 }),
    ];
    expect(spendableBalance(utxos, 150, new Set())).toBe(5_040_000n);
    expect(spendableBalance(utxos, 150, new Set([`${txidA}:0`]))).toBe(2_040_000n);
    // Esplora does not say whether a coin is a coinbase: it counts as an ordinary coin.
    expect(spendableBalance([coin(txidB, 3, 9n, { coinbase: undefined })], 150, new Set())).toBe(9n);
  });

  it('the coins committed to open disputes are those of every stored challenge version', () => {
    const v1 = spending([
      [txidA, 0],
      [txidA, 1],
    ]);
    const v2 = spending([[txidB, 4]]);
    const version = (v: { txid: string; raw: string }, fee: bigint, feeRate: bigint) => ({
      txid: asTxid(v.txid),
      raw: hexToBytes(v.raw),
      fee,
      feeRate,
    });
    const committed = committedOutpoints([
      { challenge: { versions: [version(v1, 300n, 1000n), version(v2, 600n, 2000n)] } },
      // A record from before versions were kept: its one stored challenge.
      { challenge: { txid: asTxid(v2.txid), raw: hexToBytes(spending([[txidB, 7]]).raw) } },
      // Nothing stored yet (detected): nothing committed.
      { challenge: {} },
    ]);
    expect([...committed].sort()).toEqual([`${txidA}:0`, `${txidA}:1`, `${txidB}:4`, `${txidB}:7`]);
  });

  it('is healthy only with a recent read that shows enough', () => {
    const ok = { at: 1_000, ok: true as const, spendable: 2_000_000n, required: 1_014_670n };
    expect(walletHealth({ lastOk: ok, last: ok, now: 2_000, maxAgeMs: 60_000 }).healthy).toBe(true);
    const short = { ...ok, spendable: 500_000n };
    expect(walletHealth({ lastOk: short, last: short, now: 2_000, maxAgeMs: 60_000 })).toEqual({
      healthy: false,
      reason:
        'the watcher wallet cannot fund the next challenge: 500000 sat spendable, 1014670 sat needed (challenge amount − connector + fee at the cap + reserve)',
    });
    const failed = { at: 70_000, ok: false as const, error: 'scantxoutset timed out' };
    // One failed read keeps the last answer while it is fresh...
    expect(walletHealth({ lastOk: ok, last: failed, now: 50_000, maxAgeMs: 60_000 }).healthy).toBe(true);
    // ...and turns red, naming the failure, once it is stale.
    expect(walletHealth({ lastOk: ok, last: failed, now: 70_000, maxAgeMs: 60_000 })).toEqual({
      healthy: false,
      reason: 'the watcher wallet was last read 69 s ago: scantxoutset timed out',
    });
    expect(walletHealth({ lastOk: undefined, last: undefined, now: 0, maxAgeMs: 60_000 })).toEqual({
      healthy: false,
      reason: 'the watcher wallet has not been read yet',
    });
  });
});
