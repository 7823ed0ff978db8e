/**
 * Transaction (de)serialization with Bitcoin Core's rules (primitives/transaction.h,
 * UnserializeTransaction / SerializeTransaction), txid / wtxid, weight and virtual size.
 *
 * Parsing is bounded: every count is checked against the bytes that remain before anything is
 * allocated, so garbage input fails fast with a typed error instead of exhausting memory.
 *
 * Fields are views into one private copy of the transaction's bytes, and empty fields (scriptSigs of
 * segwit inputs, empty witness items) all share one frozen empty array: a buffer per field would make
 * a 4 MB transaction of four million empty witness items cost about a gigabyte. The copy keeps the
 * caller's bytes unaliased, and holds only the one transaction, so keeping a Tx keeps nothing else.
 */

import { bytesToHex, hexToBytes, reverseBytes } from '../../core/bytes.ts';
import { VigilError } from '../../core/errors.ts';
import { hash256 } from '../../core/hashes.ts';
import { ByteWriter } from '../byte-writer.ts';
import { decodeCompactSize } from '../compact-size.ts';
import type { Tx, TxInput, TxOutput } from './types.ts';

/** Core's WITNESS_SCALE_FACTOR. */
export const WITNESS_SCALE_FACTOR = 4;

/** Why a transaction could not be decoded; `reason` is stable, the message is for humans. */
export type TxDecodeReason =
  | 'end-of-data'
  | 'non-canonical-compact-size'
  | 'size-too-large'
  | 'superfluous-witness-record'
  | 'unknown-optional-data'
  | 'trailing-data';

export class TxDecodeError extends VigilError {
  override name = 'TxDecodeError';
  readonly reason: TxDecodeReason;
  readonly offset: number;
  constructor(reason: TxDecodeReason, offset: number, detail: string) {
    super(`Cannot decode transaction: ${detail}`, {
      metaMessages: [`reason: ${reason}`, `at byte offset ${offset}`],
    });
    this.reason = reason;
    this.offset = offset;
  }
}

/** The one empty byte string every empty field decodes to; frozen, so sharing it is safe. */
const EMPTY: Uint8Array = Object.freeze(new Uint8Array(0));

class Reader {
  offset = 0;
  private readonly view: DataView;
  /**
   * `bytes` must be private to this parse (fields are views into it). `skipOnly` reads only to find
   * where a transaction ends: every field is EMPTY and nothing is copied.
   */
  constructor(
    readonly bytes: Uint8Array,
    private readonly skipOnly = false,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get remaining(): number {
    return this.bytes.length - this.offset;
  }
  private need(n: number): void {
    if (this.remaining < n) {
      throw new TxDecodeError(
        'end-of-data',
        this.offset,
        `unexpected end of data (need ${n} bytes, ${this.remaining} left)`,
      );
    }
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.offset++] as number;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.offset, true);
    this.offset += 4;
    return v;
  }
  i64(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.offset, true);
    this.offset += 8;
    return v;
  }
  take(n: number): Uint8Array {
    if (n === 0) return EMPTY;
    this.need(n);
    const out = this.skipOnly ? EMPTY : this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  /** A CompactSize count of items each at least `minItemSize` bytes long: bounded by what remains. */
  count(minItemSize: number): number {
    const at = this.offset;
    let value: number;
    const first = this.bytes[at];
    // The one-byte form, by far the commonest, read inline: millions of items must not each cost a call.
    if (first !== undefined && first < 0xfd) {
      value = first;
      this.offset += 1;
    } else
      try {
        const r = decodeCompactSize(this.bytes, this.offset);
        value = r.value;
        this.offset += r.length;
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        const reason: TxDecodeReason = msg.includes('non-canonical')
          ? 'non-canonical-compact-size'
          : msg.includes('too large')
            ? 'size-too-large'
            : 'end-of-data';
        throw new TxDecodeError(reason, at, msg);
      }
    if (minItemSize > 0 && value * minItemSize > this.remaining) {
      throw new TxDecodeError(
        'end-of-data',
        at,
        `count ${value} needs at least ${value * minItemSize} more bytes, ${this.remaining} left`,
      );
    }
    return value;
  }
  varBytes(): Uint8Array {
    return this.take(this.count(1));
  }
}

function readInputs(r: Reader): TxInput[] {
  // An input is at least 32 + 4 + 1 + 4 bytes.
  const n = r.count(41);
  const inputs: TxInput[] = [];
  for (let i = 0; i < n; i++) {
    const prevTxid = r.take(32);
    const vout = r.u32();
    const scriptSig = r.varBytes();
    const sequence = r.u32();
    inputs.push({ prevTxid, vout, scriptSig, sequence, witness: [] });
  }
  return inputs;
}

function readOutputs(r: Reader): TxOutput[] {
  const n = r.count(9);
  const outputs: TxOutput[] = [];
  for (let i = 0; i < n; i++) {
    const value = r.i64();
    const script = r.varBytes();
    outputs.push({ value, script });
  }
  return outputs;
}

export type ParseTxOptions = {
  /** Core's TX_WITH_WITNESS (default) or TX_NO_WITNESS. */
  allowWitness?: boolean;
  /** Reject bytes after the transaction, as DecodeHexTx does (default true). */
  requireEnd?: boolean;
};

/** Reads one transaction at `r`'s position with Core's witness-flag rules. */
function readTx(r: Reader, allowWitness: boolean): Tx {
  const version = r.i32();
  let flags = 0;
  // Read vin; with the segwit marker this reads the dummy as an empty vector.
  let inputs = readInputs(r);
  let outputs: TxOutput[] = [];
  if (inputs.length === 0 && allowWitness) {
    flags = r.u8();
    if (flags !== 0) {
      inputs = readInputs(r);
      outputs = readOutputs(r);
    }
  } else {
    outputs = readOutputs(r);
  }
  if ((flags & 1) !== 0 && allowWitness) {
    flags ^= 1;
    for (const input of inputs) {
      // Each item is at least its 1-byte length, so `n` is bounded by the bytes left.
      const n = r.count(1);
      // Sized once: growing by push to millions of items would leave copies of the array behind.
      const stack = new Array<Uint8Array>(n);
      for (let j = 0; j < n; j++) stack[j] = r.varBytes();
      input.witness = stack;
    }
    if (!inputs.some((i) => i.witness.length > 0)) {
      throw new TxDecodeError('superfluous-witness-record', r.offset, 'Superfluous witness record');
    }
  }
  if (flags !== 0) {
    throw new TxDecodeError('unknown-optional-data', r.offset, 'Unknown transaction optional data');
  }
  const locktime = r.u32();
  return { version, inputs, outputs, locktime };
}

/** Decodes a serialized transaction (with or without witness data). */
export function parseTx(bytes: Uint8Array, options: ParseTxOptions = {}): Tx {
  const r = new Reader(bytes.slice());
  const tx = readTx(r, options.allowWitness ?? true);
  if ((options.requireEnd ?? true) && r.remaining !== 0) {
    throw new TxDecodeError('trailing-data', r.offset, `${r.remaining} bytes after the transaction`);
  }
  return tx;
}

/** Reads one transaction from `bytes` at `offset` (blocks hold many); returns it and its length. */
export function readTxAt(bytes: Uint8Array, offset: number): { tx: Tx; length: number } {
  // Find the end first, so the private copy holds this transaction and not the rest of the block.
  const probe = new Reader(bytes, true);
  probe.offset = offset;
  readTx(probe, true);
  const length = probe.offset - offset;
  const tx = readTx(new Reader(bytes.slice(offset, offset + length)), true);
  return { tx, length };
}

export function parseTxHex(hex: string, options?: ParseTxOptions): Tx {
  return parseTx(hexToBytes(hex.trim(), 'transaction'), options);
}

/** Core's CTransaction::HasWitness. */
export function hasWitness(tx: Tx): boolean {
  return tx.inputs.some((i) => i.witness.length > 0);
}

export type SerializeTxOptions = {
  /** Include witness data when any input has some (default true). Core never writes an empty record. */
  witness?: boolean;
};

/** Serializes with Core's rules: the segwit marker and flag only when some input has a witness. */
export function serializeTx(tx: Tx, options: SerializeTxOptions = {}): Uint8Array {
  const withWitness = (options.witness ?? true) && hasWitness(tx);
  const w = new ByteWriter(256);
  w.u32(tx.version);
  if (withWitness) {
    w.u8(0);
    w.u8(1);
  }
  w.compact(tx.inputs.length);
  for (const input of tx.inputs) {
    w.bytes(input.prevTxid);
    w.u32(input.vout);
    w.varBytes(input.scriptSig);
    w.u32(input.sequence);
  }
  w.compact(tx.outputs.length);
  for (const output of tx.outputs) writeOutput(w, output);
  if (withWitness) {
    for (const input of tx.inputs) {
      w.compact(input.witness.length);
      for (const item of input.witness) w.varBytes(item);
    }
  }
  w.u32(tx.locktime);
  return w.finish();
}

function writeOutput(w: ByteWriter, output: TxOutput): void {
  w.i64(output.value);
  w.varBytes(output.script);
}

/** A CTxOut as serialized (amount then script): the prevouts format of script_assets_test.json. */
export function serializeTxOutput(output: TxOutput): Uint8Array {
  const w = new ByteWriter(9 + output.script.length);
  writeOutput(w, output);
  return w.finish();
}

export function parseTxOutput(bytes: Uint8Array): TxOutput {
  const r = new Reader(bytes.slice());
  const value = r.i64();
  const script = r.varBytes();
  if (r.remaining !== 0) throw new TxDecodeError('trailing-data', r.offset, 'bytes after the output');
  return { value, script };
}

export function serializeTxHex(tx: Tx, options?: SerializeTxOptions): string {
  return bytesToHex(serializeTx(tx, options));
}

/** The txid in internal byte order (as inputs reference it). */
export function txid(tx: Tx): Uint8Array {
  return hash256(serializeTx(tx, { witness: false }));
}

/** The wtxid in internal byte order; equals the txid when no input has a witness. */
export function wtxid(tx: Tx): Uint8Array {
  return hash256(serializeTx(tx));
}

/** Display order (what explorers and RPC show) of a 32-byte hash kept in internal order. */
export function hashToDisplayHex(hash: Uint8Array): string {
  return bytesToHex(reverseBytes(hash));
}

/** Internal byte order of a hash given in display order. */
export function displayHexToHash(hex: string): Uint8Array {
  const bytes = hexToBytes(hex, 'hash');
  if (bytes.length !== 32)
    throw new TxDecodeError('end-of-data', 0, `a hash is 32 bytes, got ${bytes.length}`);
  return reverseBytes(bytes);
}

export const txidHex = (tx: Tx): string => hashToDisplayHex(txid(tx));
export const wtxidHex = (tx: Tx): string => hashToDisplayHex(wtxid(tx));

/** Core's GetTransactionWeight: non-witness size × 3 + total size. */
export function txWeight(tx: Tx): number {
  const base = serializeTx(tx, { witness: false }).length;
  const total = hasWitness(tx) ? serializeTx(tx).length : base;
  return base * (WITNESS_SCALE_FACTOR - 1) + total;
}

/** Virtual size in vbytes: weight / 4 rounded up (without Core's sigop adjustment). */
export function txVsize(tx: Tx): number {
  return Math.ceil(txWeight(tx) / WITNESS_SCALE_FACTOR);
}

/** Deep copy, so callers can mutate (e.g. put a witness in) without touching the original. */
export function cloneTx(tx: Tx): Tx {
  return {
    version: tx.version,
    locktime: tx.locktime,
    inputs: tx.inputs.map((i) => ({
      prevTxid: i.prevTxid.slice(),
      vout: i.vout,
      scriptSig: i.scriptSig.slice(),
      sequence: i.sequence,
      witness: i.witness.map((w) => w.slice()),
    })),
    outputs: tx.outputs.map((o) => ({ value: o.value, script: o.script.slice() })),
  };
}
