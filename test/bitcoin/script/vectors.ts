/**
 * Helpers shared by the script vector tests: Core's crediting/spending transactions
 * (script_tests.cpp BuildCreditingTransaction / BuildSpendingTransaction) and a checker for them.
 */
import { TransactionSignatureChecker } from '../../../src/bitcoin/tx/checker.ts';
import { PrecomputedTxData } from '../../../src/bitcoin/tx/precomputed.ts';
import { txid } from '../../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../../src/bitcoin/tx/types.ts';

export function buildCreditingTransaction(scriptPubKey: Uint8Array, value: bigint): Tx {
  return {
    version: 1,
    locktime: 0,
    // Null prevout; scriptSig = CScriptNum(0) CScriptNum(0) = OP_0 OP_0.
    inputs: [
      {
        prevTxid: new Uint8Array(32),
        vout: 0xffffffff,
        scriptSig: Uint8Array.of(0, 0),
        sequence: 0xffffffff,
        witness: [],
      },
    ],
    outputs: [{ value, script: scriptPubKey }],
  };
}

export function buildSpendingTransaction(scriptSig: Uint8Array, witness: Uint8Array[], credit: Tx): Tx {
  const out = credit.outputs[0];
  if (out === undefined) throw new Error('crediting transaction without output');
  return {
    version: 1,
    locktime: 0,
    inputs: [{ prevTxid: txid(credit), vout: 0, scriptSig, sequence: 0xffffffff, witness }],
    outputs: [{ value: out.value, script: new Uint8Array(0) }],
  };
}

/** The checker for input 0 of the spending transaction, with its prevout known (taproot-ready). */
export function spendChecker(spend: Tx, credit: Tx): TransactionSignatureChecker {
  const out = credit.outputs[0];
  if (out === undefined) throw new Error('crediting transaction without output');
  const precomputed = new PrecomputedTxData(spend, [{ value: out.value, script: out.script }]);
  return new TransactionSignatureChecker(spend, 0, out.value, { precomputed });
}

/** A small deterministic PRNG (xorshift32) for the flag-perturbation checks. */
export function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}
