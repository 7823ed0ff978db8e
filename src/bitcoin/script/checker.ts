/**
 * The boundary between the interpreter and the transaction it runs in, as in Bitcoin Core's
 * BaseSignatureChecker: the interpreter never computes a sighash itself. `src/bitcoin/tx/` implements
 * it for a real transaction; tests and circuits can use `NoSignatureChecker`.
 */

export type SigVersion = 'base' | 'witness_v0' | 'taproot' | 'tapscript';

/** Per-execution data of BIP-341/342 (Core's ScriptExecutionData). */
export type ScriptExecutionData = {
  /** Tapleaf hash of the executing leaf (tapscript only). */
  tapleafHash?: Uint8Array;
  /** Opcode position of the last executed OP_CODESEPARATOR, 0xffffffff when none (tapscript only). */
  codeseparatorPos: number;
  /** The annex including its 0x50 prefix, when the witness has one. */
  annex?: Uint8Array;
  /** Remaining validation weight budget (tapscript only). */
  validationWeightLeft?: number;
};

/** Why a Schnorr check failed, with Core's error names (SCRIPT_ERR_ prefix dropped). */
export type SchnorrCheckResult =
  | { ok: true }
  | { ok: false; error: 'SCHNORR_SIG_SIZE' | 'SCHNORR_SIG_HASHTYPE' | 'SCHNORR_SIG' };

export interface SignatureChecker {
  /** `sig` includes the trailing hash-type byte; `scriptCode` is already stripped as Core does. */
  checkEcdsaSignature(
    sig: Uint8Array,
    pubkey: Uint8Array,
    scriptCode: Uint8Array,
    sigVersion: SigVersion,
  ): boolean;
  /** `sig` is 64 bytes or 65 with an explicit hash type; `pubkey` is the 32-byte x-only key. */
  checkSchnorrSignature(
    sig: Uint8Array,
    pubkey: Uint8Array,
    sigVersion: SigVersion,
    execData: ScriptExecutionData,
  ): SchnorrCheckResult;
  /** OP_CHECKLOCKTIMEVERIFY against the spending transaction's nLockTime and this input's nSequence. */
  checkLockTime(lockTime: bigint): boolean;
  /** OP_CHECKSEQUENCEVERIFY against this input's nSequence and the transaction version. */
  checkSequence(sequence: bigint): boolean;
}

/** For scripts run outside any transaction: every signature check fails, timelocks fail. */
export const NoSignatureChecker: SignatureChecker = {
  checkEcdsaSignature: () => false,
  checkSchnorrSignature: () => ({ ok: false, error: 'SCHNORR_SIG' }),
  checkLockTime: () => false,
  checkSequence: () => false,
};
