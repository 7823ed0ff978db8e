/**
 * Transaction verification: CheckTransaction plus every input's scripts against its prevout, with a
 * verdict per input that names the failing input, Core's error name and the opcode position.
 * Consensus only: policy (standardness) is src/bitcoin/tx/policy.ts, kept apart on purpose.
 */
import { VigilError } from '../../core/errors.ts';
import type { SignatureChecker } from '../script/checker.ts';
import { ScriptFlag } from '../script/flags.ts';
import { verifyScript } from '../script/verify.ts';
import { type CheckTransactionReason, checkTransaction } from './check.ts';
import { TransactionSignatureChecker } from './checker.ts';
import { PrecomputedTxData, PrevoutsMismatchError } from './precomputed.ts';
import { txidHex } from './serialize.ts';
import type { SignatureCache } from './sig-cache.ts';
import type { Prevout, Tx } from './types.ts';

/** What the interpreter's verifyScript returns (the contract with src/bitcoin/script). */
export type ScriptVerifyResult =
  | { ok: true }
  | {
      ok: false;
      /** Core's script error name without SCRIPT_ERR_ (e.g. "EVAL_FALSE", "SIG_DER"). */
      error: string;
      /** Index of the failing instruction in the script that failed, when one did. */
      opcodeIndex?: number;
      /** Byte offset of that instruction in its script. */
      byteOffset?: number;
      /** Which script failed (scriptSig, scriptPubKey, redeemScript, witnessScript, tapscript...). */
      script?: string;
    };

export type ScriptVerifier = (
  scriptSig: Uint8Array,
  scriptPubKey: Uint8Array,
  witness: Uint8Array[],
  flags: number,
  checker: SignatureChecker,
) => ScriptVerifyResult;

export type InputVerdict =
  | { index: number; ok: true }
  | { index: number; ok: false; error: string; script?: string; opcodeIndex?: number; byteOffset?: number };

export type TxVerdict = {
  ok: boolean;
  txid: string;
  /** CheckTransaction's verdict (context-free consensus checks). */
  check: { ok: true } | { ok: false; reason: CheckTransactionReason };
  /** One verdict per verified input (every input unless `inputs` restricted them). */
  inputs: InputVerdict[];
};

export class InvalidFlagsError extends VigilError {
  override name = 'InvalidFlagsError';
}

/**
 * Core's VerifyScript asserts these combinations; a caller that passes them has a bug, so they are
 * refused instead of silently "fixed".
 */
export function assertValidFlagCombination(flags: number): void {
  if (
    (flags & ScriptFlag.CLEANSTACK) !== 0 &&
    ((flags & ScriptFlag.P2SH) === 0 || (flags & ScriptFlag.WITNESS) === 0)
  ) {
    throw new InvalidFlagsError('CLEANSTACK requires P2SH and WITNESS', {
      metaMessages: ['Bitcoin Core refuses this combination too (VerifyScript asserts it).'],
    });
  }
  if ((flags & ScriptFlag.WITNESS) !== 0 && (flags & ScriptFlag.P2SH) === 0) {
    throw new InvalidFlagsError('WITNESS requires P2SH', {
      metaMessages: ['Bitcoin Core never runs witness validation without P2SH.'],
    });
  }
}

export type VerifyTransactionOptions = {
  /** Verify only these inputs (default: all). */
  inputs?: readonly number[];
  /** Shared signature cache (re-verifying the same spends costs no curve work). */
  cache?: SignatureCache;
  /** Reuse precomputed data built for the same tx and prevouts. */
  precomputed?: PrecomputedTxData;
};

export class InputIndexError extends VigilError {
  override name = 'InputIndexError';
}

/** Verifies a transaction against its prevouts (one per input, in order) under `flags`. */
export function verifyTransactionWith(
  verifyScript: ScriptVerifier,
  tx: Tx,
  prevouts: readonly Prevout[],
  flags: number,
  options: VerifyTransactionOptions = {},
): TxVerdict {
  if (prevouts.length !== tx.inputs.length)
    throw new PrevoutsMismatchError(tx.inputs.length, prevouts.length);
  assertValidFlagCombination(flags);
  const precomputed = options.precomputed ?? new PrecomputedTxData(tx, prevouts);
  const check = checkTransaction(tx);
  const indexes = options.inputs ?? tx.inputs.map((_, i) => i);
  const inputs: InputVerdict[] = [];
  for (const index of indexes) {
    const input = tx.inputs[index];
    if (input === undefined) {
      throw new InputIndexError(`Input ${index} does not exist (the transaction has ${tx.inputs.length})`);
    }
    const prevout = prevouts[index]!;
    const checker = new TransactionSignatureChecker(tx, index, prevout.value, {
      precomputed,
      ...(options.cache ? { cache: options.cache } : {}),
    });
    const r = verifyScript(input.scriptSig, prevout.script, input.witness, flags, checker);
    if (r.ok) inputs.push({ index, ok: true });
    else {
      inputs.push({
        index,
        ok: false,
        error: r.error,
        ...(r.script === undefined ? {} : { script: r.script }),
        ...(r.opcodeIndex === undefined ? {} : { opcodeIndex: r.opcodeIndex }),
        ...(r.byteOffset === undefined ? {} : { byteOffset: r.byteOffset }),
      });
    }
  }
  return { ok: check.ok && inputs.every((i) => i.ok), txid: txidHex(tx), check, inputs };
}

/** Verifies with Vigil's interpreter (src/bitcoin/script): the function the rest of Vigil calls. */
export function verifyTransaction(
  tx: Tx,
  prevouts: readonly Prevout[],
  flags: number,
  options: VerifyTransactionOptions = {},
): TxVerdict {
  return verifyTransactionWith(verifyScript, tx, prevouts, flags, options);
}
