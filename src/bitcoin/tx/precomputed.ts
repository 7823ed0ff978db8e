/**
 * Core's PrecomputedTransactionData: the per-transaction hashes BIP-143 and BIP-341 sighashes share,
 * computed once (lazily) so that signing or verifying n inputs costs O(n), not O(n²).
 */
import { VigilError } from '../../core/errors.ts';
import { sha256 } from '../../core/hashes.ts';
import { encodeCompactSize } from '../compact-size.ts';
import type { Prevout, Tx } from './types.ts';

export class PrevoutsMismatchError extends VigilError {
  override name = 'PrevoutsMismatchError';
  constructor(inputs: number, prevouts: number) {
    super(`The transaction has ${inputs} inputs but ${prevouts} prevouts were given`, {
      metaMessages: ['Give exactly one prevout (amount and scriptPubKey) per input, in input order.'],
    });
  }
}

function u32le(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

function i64le(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt.asIntN(64, v), true);
  return b;
}

/** Concatenates chunks produced per item and hashes them once with single SHA-256. */
function sha256Of(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const buf = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    buf.set(p, o);
    o += p.length;
  }
  return sha256(buf);
}

export function serializeOutpoint(prevTxid: Uint8Array, vout: number): Uint8Array {
  const out = new Uint8Array(36);
  out.set(prevTxid, 0);
  new DataView(out.buffer).setUint32(32, vout >>> 0, true);
  return out;
}

export function serializeOutput(value: bigint, script: Uint8Array): Uint8Array {
  const len = encodeCompactSize(script.length);
  const out = new Uint8Array(8 + len.length + script.length);
  out.set(i64le(value), 0);
  out.set(len, 8);
  out.set(script, 8 + len.length);
  return out;
}

export { i64le, u32le };

export class PrecomputedTxData {
  readonly tx: Tx;
  /** The outputs the inputs spend, in input order; required for taproot sighashes. */
  readonly prevouts: readonly Prevout[] | undefined;
  private _prevouts?: Uint8Array;
  private _sequences?: Uint8Array;
  private _outputs?: Uint8Array;
  private _amounts?: Uint8Array;
  private _scripts?: Uint8Array;
  private _bip143Prevouts?: Uint8Array;
  private _bip143Sequences?: Uint8Array;
  private _bip143Outputs?: Uint8Array;

  constructor(tx: Tx, prevouts?: readonly Prevout[]) {
    if (prevouts !== undefined && prevouts.length !== tx.inputs.length) {
      throw new PrevoutsMismatchError(tx.inputs.length, prevouts.length);
    }
    this.tx = tx;
    this.prevouts = prevouts;
  }

  /** sha_prevouts of BIP-341 (single SHA-256). */
  get prevoutsSingle(): Uint8Array {
    this._prevouts ??= sha256Of(this.tx.inputs.map((i) => serializeOutpoint(i.prevTxid, i.vout)));
    return this._prevouts;
  }
  get sequencesSingle(): Uint8Array {
    this._sequences ??= sha256Of(this.tx.inputs.map((i) => u32le(i.sequence)));
    return this._sequences;
  }
  get outputsSingle(): Uint8Array {
    this._outputs ??= sha256Of(this.tx.outputs.map((o) => serializeOutput(o.value, o.script)));
    return this._outputs;
  }
  /** sha_amounts; undefined without prevouts (Core's HandleMissingData). */
  get amountsSingle(): Uint8Array | undefined {
    if (this.prevouts === undefined) return undefined;
    this._amounts ??= sha256Of(this.prevouts.map((p) => i64le(p.value)));
    return this._amounts;
  }
  get scriptPubkeysSingle(): Uint8Array | undefined {
    if (this.prevouts === undefined) return undefined;
    this._scripts ??= sha256Of(this.prevouts.map((p) => concatLen(p.script)));
    return this._scripts;
  }
  /** BIP-143 hashPrevouts (double SHA-256 = SHA-256 of the single hash). */
  get hashPrevouts(): Uint8Array {
    this._bip143Prevouts ??= sha256(this.prevoutsSingle);
    return this._bip143Prevouts;
  }
  get hashSequence(): Uint8Array {
    this._bip143Sequences ??= sha256(this.sequencesSingle);
    return this._bip143Sequences;
  }
  get hashOutputs(): Uint8Array {
    this._bip143Outputs ??= sha256(this.outputsSingle);
    return this._bip143Outputs;
  }
}

function concatLen(script: Uint8Array): Uint8Array {
  const len = encodeCompactSize(script.length);
  const out = new Uint8Array(len.length + script.length);
  out.set(len, 0);
  out.set(script, len.length);
  return out;
}
