/**
 * The one place backends, simnet, the watcher and the wallet turn transaction and block bytes into
 * Vigil's `Tx` model and back. Transactions go through the transaction engine (`src/bitcoin/tx/`);
 * this file adds only what a chain needs on top: block framing and a few names.
 */
import { hash256 } from '../../core/hashes.ts';
import { decodeCompactSize } from '../compact-size.ts';
import {
  hashToDisplayHex,
  parseTx,
  readTxAt,
  serializeTx,
  txid,
  txVsize,
  txWeight,
  wtxid,
} from '../tx/serialize.ts';
import type { Tx } from '../tx/types.ts';

export { txVsize, txWeight };

export const decodeTx = (raw: Uint8Array): Tx => parseTx(raw);

/** Serialization with witness data when any input has some (BIP-144). */
export const encodeTx = (tx: Tx): Uint8Array => serializeTx(tx);

/** Serialization without witness data: what the txid commits to. */
export const encodeTxNoWitness = (tx: Tx): Uint8Array => serializeTx(tx, { witness: false });

/** Internal byte order (as inputs reference it). */
export const txidBytes = (tx: Tx): Uint8Array => txid(tx);
export const wtxidBytes = (tx: Tx): Uint8Array => wtxid(tx);

/** Display order hex, as RPC and Esplora show it. */
export const txidHex = (tx: Tx): string => hashToDisplayHex(txid(tx));
export const hashToHex = (internal: Uint8Array): string => hashToDisplayHex(internal);

export function isCoinbase(tx: Tx): boolean {
  const i = tx.inputs[0];
  return (
    tx.inputs.length === 1 && i !== undefined && i.vout === 0xffffffff && i.prevTxid.every((b) => b === 0)
  );
}

export type DecodedBlock = { header: Uint8Array; hash: Uint8Array; txs: { raw: Uint8Array; tx: Tx }[] };

export class BlockDecodeError extends Error {
  override name = 'BlockDecodeError';
}

/** Header (80 bytes), CompactSize count, transactions back to back. */
export function decodeBlock(raw: Uint8Array): DecodedBlock {
  if (raw.length < 81) throw new BlockDecodeError(`block too short: ${raw.length} bytes`);
  const header = raw.slice(0, 80);
  const count = decodeCompactSize(raw, 80);
  let offset = 80 + count.length;
  const txs: { raw: Uint8Array; tx: Tx }[] = [];
  for (let i = 0; i < count.value; i++) {
    const { tx, length } = readTxAt(raw, offset);
    txs.push({ raw: raw.slice(offset, offset + length), tx });
    offset += length;
  }
  if (offset !== raw.length)
    throw new BlockDecodeError(`${raw.length - offset} bytes after the last transaction`);
  return { header, hash: hash256(header), txs };
}
