/**
 * Core's GenericTransactionSignatureChecker: the SignatureChecker the interpreter calls for one input
 * of a real transaction. Computes sighashes with the shared precomputed data and verifies through
 * tiny-secp256k1 with Core's encodings; timelocks exactly as CheckLockTime / CheckSequence.
 */
import type {
  SchnorrCheckResult,
  ScriptExecutionData,
  SignatureChecker,
  SigVersion,
} from '../script/checker.ts';
import { verifyEcdsaLax, verifySchnorr } from './ecdsa.ts';
import { PrecomputedTxData } from './precomputed.ts';
import type { SignatureCache } from './sig-cache.ts';
import { legacySighash, SIGHASH_DEFAULT, segwitV0Sighash, taprootSighash } from './sighash.ts';
import type { Tx } from './types.ts';

export const LOCKTIME_THRESHOLD = 500_000_000n;
export const SEQUENCE_FINAL = 0xffffffff;
export const SEQUENCE_LOCKTIME_DISABLE_FLAG = 1n << 31n;
export const SEQUENCE_LOCKTIME_TYPE_FLAG = 1n << 22n;
export const SEQUENCE_LOCKTIME_MASK = 0x0000ffffn;

export type TransactionSignatureCheckerOptions = {
  /** Shared precomputed data (give the prevouts for taproot); built from `tx` when omitted. */
  precomputed?: PrecomputedTxData;
  /** Remember verification results across checks (Core's CachingTransactionSignatureChecker). */
  cache?: SignatureCache;
};

export class TransactionSignatureChecker implements SignatureChecker {
  readonly tx: Tx;
  readonly inputIndex: number;
  readonly amount: bigint;
  readonly precomputed: PrecomputedTxData;
  private readonly cache: SignatureCache | undefined;

  constructor(tx: Tx, inputIndex: number, amount: bigint, options: TransactionSignatureCheckerOptions = {}) {
    if (inputIndex < 0 || inputIndex >= tx.inputs.length || !Number.isInteger(inputIndex)) {
      throw new RangeError(`input ${inputIndex} out of range (${tx.inputs.length} inputs)`);
    }
    this.tx = tx;
    this.inputIndex = inputIndex;
    this.amount = amount;
    this.precomputed = options.precomputed ?? new PrecomputedTxData(tx);
    this.cache = options.cache;
  }

  checkEcdsaSignature(
    sig: Uint8Array,
    pubkey: Uint8Array,
    scriptCode: Uint8Array,
    sigVersion: SigVersion,
  ): boolean {
    if (sig.length === 0) return false;
    const hashType = sig[sig.length - 1] as number;
    const der = sig.subarray(0, sig.length - 1);
    let sighash: Uint8Array;
    if (sigVersion === 'base') {
      sighash = legacySighash(this.tx, this.inputIndex, scriptCode, hashType);
    } else if (sigVersion === 'witness_v0') {
      sighash = segwitV0Sighash(
        this.tx,
        this.inputIndex,
        scriptCode,
        this.amount,
        hashType,
        this.precomputed,
      );
    } else {
      return false;
    }
    if (this.cache === undefined) return verifyEcdsaLax(sighash, pubkey, der);
    return this.cache.verify('ecdsa', sighash, pubkey, der, () => verifyEcdsaLax(sighash, pubkey, der));
  }

  checkSchnorrSignature(
    sig: Uint8Array,
    pubkey: Uint8Array,
    sigVersion: SigVersion,
    execData: ScriptExecutionData,
  ): SchnorrCheckResult {
    if (sigVersion !== 'taproot' && sigVersion !== 'tapscript') return { ok: false, error: 'SCHNORR_SIG' };
    if (sig.length !== 64 && sig.length !== 65) return { ok: false, error: 'SCHNORR_SIG_SIZE' };
    let hashType = SIGHASH_DEFAULT;
    let sig64 = sig;
    if (sig.length === 65) {
      hashType = sig[64] as number;
      // An explicit 0x00 would make two encodings of the same signature.
      if (hashType === SIGHASH_DEFAULT) return { ok: false, error: 'SCHNORR_SIG_HASHTYPE' };
      sig64 = sig.subarray(0, 64);
    }
    const h = taprootSighash(this.precomputed, this.inputIndex, hashType, sigVersion, {
      ...(execData.annex === undefined ? {} : { annex: execData.annex }),
      ...(execData.tapleafHash === undefined ? {} : { tapleafHash: execData.tapleafHash }),
      codeseparatorPos: execData.codeseparatorPos,
    });
    if (!h.ok) return { ok: false, error: 'SCHNORR_SIG_HASHTYPE' };
    const ok =
      this.cache === undefined
        ? verifySchnorr(h.hash, pubkey, sig64)
        : this.cache.verify('schnorr', h.hash, pubkey, sig64, () => verifySchnorr(h.hash, pubkey, sig64));
    return ok ? { ok: true } : { ok: false, error: 'SCHNORR_SIG' };
  }

  checkLockTime(lockTime: bigint): boolean {
    const txLockTime = BigInt(this.tx.locktime >>> 0);
    // Both heights or both timestamps; comparing across kinds is meaningless.
    if (
      !(
        (txLockTime < LOCKTIME_THRESHOLD && lockTime < LOCKTIME_THRESHOLD) ||
        (txLockTime >= LOCKTIME_THRESHOLD && lockTime >= LOCKTIME_THRESHOLD)
      )
    ) {
      return false;
    }
    if (lockTime > txLockTime) return false;
    // A final input disables nLockTime, and with it the check.
    return this.tx.inputs[this.inputIndex]!.sequence >>> 0 !== SEQUENCE_FINAL;
  }

  checkSequence(sequence: bigint): boolean {
    const txSequence = BigInt(this.tx.inputs[this.inputIndex]!.sequence >>> 0);
    // Relative lock times exist from version 2 on (Core 26 compares the version as unsigned).
    if (this.tx.version >>> 0 < 2) return false;
    if ((txSequence & SEQUENCE_LOCKTIME_DISABLE_FLAG) !== 0n) return false;
    const mask = SEQUENCE_LOCKTIME_TYPE_FLAG | SEQUENCE_LOCKTIME_MASK;
    const txMasked = txSequence & mask;
    const masked = sequence & mask;
    if (
      !(
        (txMasked < SEQUENCE_LOCKTIME_TYPE_FLAG && masked < SEQUENCE_LOCKTIME_TYPE_FLAG) ||
        (txMasked >= SEQUENCE_LOCKTIME_TYPE_FLAG && masked >= SEQUENCE_LOCKTIME_TYPE_FLAG)
      )
    ) {
      return false;
    }
    return masked <= txMasked;
  }
}
