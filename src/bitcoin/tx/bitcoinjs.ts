/** Conversion to and from bitcoinjs-lib 7 `Transaction`, for the edges that build with bitcoinjs. */
import { Transaction } from 'bitcoinjs-lib';
import { parseTx, serializeTx } from './serialize.ts';
import type { Tx } from './types.ts';

export function fromBitcoinjs(tx: Transaction): Tx {
  return parseTx(tx.toBuffer());
}

export function toBitcoinjs(tx: Tx): Transaction {
  return Transaction.fromBuffer(serializeTx(tx));
}
