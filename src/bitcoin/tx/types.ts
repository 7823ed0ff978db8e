/**
 * Vigil's own transaction model. The script engine, the sighash code, simnet and the wallet all use
 * it; bitcoinjs-lib objects are converted at the edge. Bytes are Uint8Array, amounts bigint (sats).
 */
export type TxInput = {
  /** The previous transaction's id in internal byte order (as serialized, not the display order). */
  prevTxid: Uint8Array;
  vout: number;
  scriptSig: Uint8Array;
  /** Unsigned 32-bit. */
  sequence: number;
  /** Witness stack items; empty when the input has no witness. */
  witness: Uint8Array[];
};

export type TxOutput = {
  /** Signed 64-bit on the wire; consensus rejects negative values (CheckTransaction), parsing does not. */
  value: bigint;
  script: Uint8Array;
};

export type Tx = {
  /** Signed 32-bit, as Bitcoin Core 26 reads it (serialized as 4 bytes little-endian either way). */
  version: number;
  inputs: TxInput[];
  outputs: TxOutput[];
  /** Unsigned 32-bit. */
  locktime: number;
};

/** What an input spends: needed for segwit and taproot sighashes and for verification. */
export type Prevout = {
  value: bigint;
  script: Uint8Array;
};
