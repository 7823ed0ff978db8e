/**
 * Core's CheckTransaction (consensus/tx_check.cpp): the context-free consensus checks, with Core's
 * reject reasons. Script validity, input existence and amounts are checked elsewhere.
 */
import { serializeTx, WITNESS_SCALE_FACTOR } from './serialize.ts';
import type { Tx } from './types.ts';

export const MAX_MONEY = 21_000_000n * 100_000_000n;
export const MAX_BLOCK_WEIGHT = 4_000_000;

export type CheckTransactionReason =
  | 'bad-txns-vin-empty'
  | 'bad-txns-vout-empty'
  | 'bad-txns-oversize'
  | 'bad-txns-vout-negative'
  | 'bad-txns-vout-toolarge'
  | 'bad-txns-txouttotal-toolarge'
  | 'bad-txns-inputs-duplicate'
  | 'bad-cb-length'
  | 'bad-txns-prevout-null';

export type CheckTransactionResult = { ok: true } | { ok: false; reason: CheckTransactionReason };

function isNullHash(h: Uint8Array): boolean {
  for (const b of h) if (b !== 0) return false;
  return true;
}

/** COutPoint::IsNull: zero txid and index 0xffffffff. */
export function isNullOutpoint(prevTxid: Uint8Array, vout: number): boolean {
  return vout >>> 0 === 0xffffffff && isNullHash(prevTxid);
}

export function isCoinbase(tx: Tx): boolean {
  return tx.inputs.length === 1 && isNullOutpoint(tx.inputs[0]!.prevTxid, tx.inputs[0]!.vout);
}

export function checkTransaction(tx: Tx): CheckTransactionResult {
  if (tx.inputs.length === 0) return { ok: false, reason: 'bad-txns-vin-empty' };
  if (tx.outputs.length === 0) return { ok: false, reason: 'bad-txns-vout-empty' };
  // Without the witness: it has not been checked for malleability yet.
  if (serializeTx(tx, { witness: false }).length * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT) {
    return { ok: false, reason: 'bad-txns-oversize' };
  }
  let total = 0n;
  for (const o of tx.outputs) {
    if (o.value < 0n) return { ok: false, reason: 'bad-txns-vout-negative' };
    if (o.value > MAX_MONEY) return { ok: false, reason: 'bad-txns-vout-toolarge' };
    total += o.value;
    if (total < 0n || total > MAX_MONEY) return { ok: false, reason: 'bad-txns-txouttotal-toolarge' };
  }
  // CVE-2018-17144: duplicate inputs within one transaction.
  const seen = new Set<string>();
  for (const i of tx.inputs) {
    const key = `${Buffer.from(i.prevTxid).toString('hex')}:${i.vout >>> 0}`;
    if (seen.has(key)) return { ok: false, reason: 'bad-txns-inputs-duplicate' };
    seen.add(key);
  }
  if (isCoinbase(tx)) {
    const n = tx.inputs[0]!.scriptSig.length;
    if (n < 2 || n > 100) return { ok: false, reason: 'bad-cb-length' };
  } else {
    for (const i of tx.inputs) {
      if (isNullOutpoint(i.prevTxid, i.vout)) return { ok: false, reason: 'bad-txns-prevout-null' };
    }
  }
  return { ok: true };
}
