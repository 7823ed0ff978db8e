/**
 * Signature hashes, as Bitcoin Core computes them (script/interpreter.cpp SignatureHash and
 * SignatureHashSchnorr): legacy, BIP-143 (segwit v0) and BIP-341/342 (taproot key path, tapscript).
 *
 * Division of labour, as in Core: the interpreter hands over the script code from the last executed
 * OP_CODESEPARATOR on and, for legacy scripts, has already removed the signature (FindAndDelete).
 * The legacy serializer here removes the OP_CODESEPARATORs themselves, exactly as Core's
 * CTransactionSignatureSerializer does (so passing an already-stripped script is harmless).
 */
import { VigilError } from '../../core/errors.ts';
import { hash256, sha256, taggedHash } from '../../core/hashes.ts';
import { ByteWriter } from '../byte-writer.ts';
import { PrecomputedTxData, serializeOutput } from './precomputed.ts';
import type { Tx } from './types.ts';

export const SIGHASH_DEFAULT = 0x00;
export const SIGHASH_ALL = 0x01;
export const SIGHASH_NONE = 0x02;
export const SIGHASH_SINGLE = 0x03;
export const SIGHASH_ANYONECANPAY = 0x80;
const SIGHASH_OUTPUT_MASK = 0x03;
const SIGHASH_INPUT_MASK = 0x80;

const OP_PUSHDATA1 = 0x4c;
const OP_PUSHDATA2 = 0x4d;
const OP_PUSHDATA4 = 0x4e;
const OP_CODESEPARATOR = 0xab;

/** uint256::ONE: what legacy SignatureHash returns for SIGHASH_SINGLE without a matching output. */
export const SIGHASH_ONE: Uint8Array = (() => {
  const one = new Uint8Array(32);
  one[0] = 1;
  return one;
})();

export class SighashInputError extends VigilError {
  override name = 'SighashInputError';
}

/** ByteWriter with the two composite fields sighash preimages repeat. */
class Buf extends ByteWriter {
  push(b: Uint8Array): void {
    this.bytes(b);
  }
  outpoint(prevTxid: Uint8Array, vout: number): void {
    this.bytes(prevTxid);
    this.u32(vout);
  }
  output(value: bigint, script: Uint8Array): void {
    this.i64(value);
    this.varBytes(script);
  }
  concat(): Uint8Array {
    return this.written();
  }
}

/**
 * Core's GetScriptOp stepping: returns the position after the opcode at `pc`, and whether it parsed.
 * On a truncated push the position is where Core's iterator stops (after the opcode and length bytes).
 */
function nextOp(script: Uint8Array, pc: number): { ok: boolean; pc: number; opcode: number } {
  const end = script.length;
  if (pc >= end) return { ok: false, pc, opcode: -1 };
  const opcode = script[pc++] as number;
  if (opcode <= OP_PUSHDATA4) {
    let size: number;
    if (opcode < OP_PUSHDATA1) size = opcode;
    else if (opcode === OP_PUSHDATA1) {
      if (end - pc < 1) return { ok: false, pc, opcode };
      size = script[pc++] as number;
    } else if (opcode === OP_PUSHDATA2) {
      if (end - pc < 2) return { ok: false, pc, opcode };
      size = (script[pc] as number) | ((script[pc + 1] as number) << 8);
      pc += 2;
    } else {
      if (end - pc < 4) return { ok: false, pc, opcode };
      size =
        ((script[pc] as number) |
          ((script[pc + 1] as number) << 8) |
          ((script[pc + 2] as number) << 16) |
          ((script[pc + 3] as number) << 24)) >>>
        0;
      pc += 4;
    }
    if (end - pc < size) return { ok: false, pc, opcode };
    pc += size;
  }
  return { ok: true, pc, opcode };
}

/**
 * CTransactionSignatureSerializer::SerializeScriptCode: the length prefix counts the script minus its
 * OP_CODESEPARATORs, and the bytes stop where opcode parsing stops (Core's exact, if odd, behaviour
 * on an unparsable tail).
 */
function legacyScriptCode(out: Buf, script: Uint8Array): void {
  let separators = 0;
  let pc = 0;
  for (;;) {
    const r = nextOp(script, pc);
    if (!r.ok) break;
    pc = r.pc;
    if (r.opcode === OP_CODESEPARATOR) separators++;
  }
  out.compact(script.length - separators);
  let begin = 0;
  pc = 0;
  let last = 0;
  for (;;) {
    const r = nextOp(script, pc);
    last = r.pc;
    if (!r.ok) break;
    pc = r.pc;
    if (r.opcode === OP_CODESEPARATOR) {
      out.push(script.subarray(begin, pc - 1));
      begin = pc;
    }
  }
  if (begin !== script.length) out.push(script.subarray(begin, last));
}

/**
 * Legacy (pre-segwit) SignatureHash. `hashType` is the full 32-bit value (sighash.json uses random
 * ones); only its low 5 bits and bit 7 select the mode, all 32 bits are hashed.
 */
export function legacySighash(
  tx: Tx,
  inputIndex: number,
  scriptCode: Uint8Array,
  hashType: number,
): Uint8Array {
  if (inputIndex < 0 || inputIndex >= tx.inputs.length) {
    throw new SighashInputError(`Input index ${inputIndex} out of range (${tx.inputs.length} inputs)`);
  }
  const base = hashType & 0x1f;
  const anyoneCanPay = (hashType & SIGHASH_ANYONECANPAY) !== 0;
  const single = base === SIGHASH_SINGLE;
  const none = base === SIGHASH_NONE;
  if (single && inputIndex >= tx.outputs.length) return SIGHASH_ONE.slice();

  const b = new Buf();
  b.u32(tx.version);
  const nInputs = anyoneCanPay ? 1 : tx.inputs.length;
  b.compact(nInputs);
  for (let k = 0; k < nInputs; k++) {
    const idx = anyoneCanPay ? inputIndex : k;
    const input = tx.inputs[idx]!;
    b.outpoint(input.prevTxid, input.vout);
    if (idx === inputIndex) legacyScriptCode(b, scriptCode);
    else b.u8(0);
    b.u32(idx !== inputIndex && (single || none) ? 0 : input.sequence);
  }
  const nOutputs = none ? 0 : single ? inputIndex + 1 : tx.outputs.length;
  b.compact(nOutputs);
  for (let k = 0; k < nOutputs; k++) {
    if (single && k !== inputIndex) {
      // CTxOut(): value -1, empty script.
      b.i64(-1n);
      b.u8(0);
    } else {
      const o = tx.outputs[k]!;
      b.output(o.value, o.script);
    }
  }
  b.u32(tx.locktime);
  b.u32(hashType);
  return hash256(b.concat());
}

const ZERO32: Uint8Array = new Uint8Array(32);

/** BIP-143 signature hash for segwit v0 inputs. `scriptCode` is serialized as given. */
export function segwitV0Sighash(
  tx: Tx,
  inputIndex: number,
  scriptCode: Uint8Array,
  amount: bigint,
  hashType: number,
  cache: PrecomputedTxData = new PrecomputedTxData(tx),
): Uint8Array {
  const input = tx.inputs[inputIndex];
  if (input === undefined) {
    throw new SighashInputError(`Input index ${inputIndex} out of range (${tx.inputs.length} inputs)`);
  }
  const base = hashType & 0x1f;
  const anyoneCanPay = (hashType & SIGHASH_ANYONECANPAY) !== 0;
  const hashPrevouts = anyoneCanPay ? ZERO32 : cache.hashPrevouts;
  const hashSequence =
    !anyoneCanPay && base !== SIGHASH_SINGLE && base !== SIGHASH_NONE ? cache.hashSequence : ZERO32;
  let hashOutputs: Uint8Array = ZERO32;
  if (base !== SIGHASH_SINGLE && base !== SIGHASH_NONE) hashOutputs = cache.hashOutputs;
  else if (base === SIGHASH_SINGLE && inputIndex < tx.outputs.length) {
    const o = tx.outputs[inputIndex]!;
    hashOutputs = hash256(serializeOutput(o.value, o.script));
  }
  const b = new Buf();
  b.u32(tx.version);
  b.push(hashPrevouts);
  b.push(hashSequence);
  b.outpoint(input.prevTxid, input.vout);
  b.varBytes(scriptCode);
  b.i64(amount);
  b.u32(input.sequence);
  b.push(hashOutputs);
  b.u32(tx.locktime);
  b.u32(hashType);
  return hash256(b.concat());
}

/** Per-input data of a BIP-341/342 sighash (the parts of Core's ScriptExecutionData it reads). */
export type TaprootSighashInput = {
  /** The annex including its 0x50 tag, when present. */
  annex?: Uint8Array;
  /** Tapscript only: the executing leaf's hash. */
  tapleafHash?: Uint8Array;
  /** Tapscript only: opcode position of the last executed OP_CODESEPARATOR (0xffffffff if none). */
  codeseparatorPos?: number;
};

export type TaprootSighashFailure = 'invalid-hash-type' | 'single-without-output' | 'missing-prevouts';

/** Valid BIP-341 hash types: 0x00-0x03 and 0x81-0x83. */
export function isValidTaprootHashType(hashType: number): boolean {
  return hashType <= 0x03 || (hashType >= 0x81 && hashType <= 0x83);
}

/**
 * The BIP-341 signature message (epoch byte included), or why Core's SignatureHashSchnorr refuses it.
 * `sigVersion` 'taproot' is the key path (ext_flag 0), 'tapscript' the script path (ext_flag 1).
 */
export function taprootSigMsg(
  cache: PrecomputedTxData,
  inputIndex: number,
  hashType: number,
  sigVersion: 'taproot' | 'tapscript',
  exec: TaprootSighashInput = {},
): { ok: true; msg: Uint8Array } | { ok: false; reason: TaprootSighashFailure } {
  const tx = cache.tx;
  const input = tx.inputs[inputIndex];
  if (input === undefined) {
    throw new SighashInputError(`Input index ${inputIndex} out of range (${tx.inputs.length} inputs)`);
  }
  const amounts = cache.amountsSingle;
  const scripts = cache.scriptPubkeysSingle;
  if (amounts === undefined || scripts === undefined || cache.prevouts === undefined) {
    return { ok: false, reason: 'missing-prevouts' };
  }
  const extFlag = sigVersion === 'tapscript' ? 1 : 0;
  const outputType = hashType === SIGHASH_DEFAULT ? SIGHASH_ALL : hashType & SIGHASH_OUTPUT_MASK;
  const inputType = hashType & SIGHASH_INPUT_MASK;
  if (!isValidTaprootHashType(hashType)) return { ok: false, reason: 'invalid-hash-type' };

  const b = new Buf();
  b.u8(0); // epoch
  b.u8(hashType);
  b.u32(tx.version);
  b.u32(tx.locktime);
  if (inputType !== SIGHASH_ANYONECANPAY) {
    b.push(cache.prevoutsSingle);
    b.push(amounts);
    b.push(scripts);
    b.push(cache.sequencesSingle);
  }
  if (outputType === SIGHASH_ALL) b.push(cache.outputsSingle);
  const haveAnnex = exec.annex !== undefined;
  b.u8((extFlag << 1) + (haveAnnex ? 1 : 0));
  if (inputType === SIGHASH_ANYONECANPAY) {
    const prevout = cache.prevouts[inputIndex]!;
    b.outpoint(input.prevTxid, input.vout);
    b.output(prevout.value, prevout.script);
    b.u32(input.sequence);
  } else {
    b.u32(inputIndex);
  }
  if (exec.annex !== undefined) b.push(annexHash(exec.annex));
  if (outputType === SIGHASH_SINGLE) {
    const o = tx.outputs[inputIndex];
    if (o === undefined) return { ok: false, reason: 'single-without-output' };
    b.push(sha256(serializeOutput(o.value, o.script)));
  }
  if (sigVersion === 'tapscript') {
    if (exec.tapleafHash === undefined) {
      throw new SighashInputError('A tapscript sighash needs the tapleaf hash');
    }
    b.push(exec.tapleafHash);
    b.u8(0); // key_version
    b.u32(exec.codeseparatorPos ?? 0xffffffff);
  }
  return { ok: true, msg: b.concat() };
}

const annexHashes = new WeakMap<Uint8Array, Uint8Array>();

/** sha_annex: SHA-256 of the annex serialized with its CompactSize length. */
export function annexHash(annex: Uint8Array): Uint8Array {
  let h = annexHashes.get(annex);
  if (h === undefined) {
    const b = new Buf();
    b.varBytes(annex);
    h = sha256(b.concat());
    annexHashes.set(annex, h);
  }
  return h;
}

/** The BIP-341 sighash (TapSighash-tagged hash of the message), or why it cannot be computed. */
export function taprootSighash(
  cache: PrecomputedTxData,
  inputIndex: number,
  hashType: number,
  sigVersion: 'taproot' | 'tapscript',
  exec: TaprootSighashInput = {},
): { ok: true; hash: Uint8Array } | { ok: false; reason: TaprootSighashFailure } {
  const r = taprootSigMsg(cache, inputIndex, hashType, sigVersion, exec);
  if (!r.ok) return r;
  return { ok: true, hash: taggedHash('TapSighash', r.msg) };
}
