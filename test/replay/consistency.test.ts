/**
 * The replay's checks across a bundle's transactions, on transactions built here: a legacy spend whose
 * signature hashing would outgrow the work budget is refused before it runs (a crafted bundle must not
 * keep a replay busy for hours), and an absolute lock time the recorded height does not pass is named.
 */
import { describe, expect, it } from 'vitest';
import { Op } from '../../src/bitcoin/script/opcodes.ts';
import { serializeTx, txidHex } from '../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import type { BundleTx } from '../../src/replay/bundle.ts';
import { transactionConsistency } from '../../src/replay/consistency.ts';

const checksigs = (n: number) => Uint8Array.from({ length: n }, () => Op.OP_CHECKSIG);

function legacyTx(inputs: number, locktime = 0, sequence = 0xffffffff): Tx {
  return {
    version: 2,
    locktime,
    inputs: Array.from({ length: inputs }, (_, i) => ({
      prevTxid: new Uint8Array(32).fill(i % 251),
      vout: i,
      scriptSig: new Uint8Array(),
      sequence,
      witness: [],
    })),
    outputs: [{ value: 1_000n, script: Uint8Array.of(Op.OP_1) }],
  };
}

function bundleTx(tx: Tx, prevoutScript: Uint8Array, height?: number): BundleTx {
  return {
    role: 'other',
    txid: txidHex(tx),
    raw: serializeTx(tx),
    confirmation: height === undefined ? undefined : { height, blockHash: '00'.repeat(32) },
    prevouts: tx.inputs.map(() => ({ value: 10_000n, script: prevoutScript })),
  };
}

describe('transactionConsistency', () => {
  it('refuses a legacy spend whose sighash work would pass the budget, and spends the budget across the bundle', () => {
    const small = legacyTx(10);
    const big = legacyTx(200);
    const txs = [bundleTx(small, checksigs(5)), bundleTx(big, checksigs(60))];
    const smallWork = 10 * 5 * serializeTx(small, { witness: false }).length;
    const r = transactionConsistency(txs, [small, big], undefined, smallWork + 1_000);
    expect(r[0]?.overBudget).toBe(false);
    expect(r[1]?.overBudget).toBe(true);
    expect(r[1]?.problems.join()).toContain('not verified');
    // Every input's parent is outside the bundle: counted, not trusted.
    expect(r[1]?.externalInputs).toBe(200);
  });

  it('names an absolute lock time the recorded height does not pass, and only when the lock applies', () => {
    const locked = legacyTx(1, 500, 0xfffffffe);
    const unlocked = legacyTx(1, 500, 0xffffffff);
    const txs = [
      bundleTx(locked, Uint8Array.of(Op.OP_1), 400),
      bundleTx(unlocked, Uint8Array.of(Op.OP_1), 400),
    ];
    const r = transactionConsistency(txs, [locked, unlocked], undefined);
    expect(r[0]?.problems.join()).toContain('lock time 500 is not passed at height 400');
    expect(r[1]?.problems).toEqual([]);
  });
});
