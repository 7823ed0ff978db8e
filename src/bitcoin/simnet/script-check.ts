/**
 * simnet's script check: the transaction engine's verifyTransactionWith over the project's interpreter,
 * reduced to the first failing input and Core's ScriptErrorString text (what reject reasons quote), and
 * the two-pass check Core makes to tell its two script reject reasons apart.
 */

import { describeScriptError, isScriptErrorName } from '../script/errors.ts';
import { CONSENSUS_FLAGS, STANDARD_FLAGS } from '../script/flags.ts';
import { SignatureCache } from '../tx/sig-cache.ts';
import type { Prevout, Tx } from '../tx/types.ts';
import { type ScriptVerifier as EngineScriptVerifier, verifyTransactionWith } from '../tx/verify.ts';
import { reject } from './rules.ts';
import type { ScriptVerifier } from './types.ts';

export function engineVerifier(
  verifyScript: EngineScriptVerifier,
  cache = new SignatureCache(),
): ScriptVerifier {
  return (tx, prevouts, flags) => {
    const verdict = verifyTransactionWith(verifyScript, tx, prevouts, flags, { cache });
    if (!verdict.check.ok) return { ok: false, input: -1, error: verdict.check.reason };
    const bad = verdict.inputs.find((i) => !i.ok);
    if (bad === undefined || bad.ok) return { ok: true };
    return {
      ok: false,
      input: bad.index,
      error: isScriptErrorName(bad.error) ? describeScriptError(bad.error) : bad.error,
    };
  };
}

/**
 * Runs the scripts with standard flags (consensus flags only when `standardness` is off or
 * `consensusOnly`); a standard-flags failure is run again with consensus flags, as Core does, to say
 * `non-mandatory-script-verify-flag` or `mandatory-script-verify-flag-failed`. Throws the reject.
 */
export function checkScripts(
  verifyScripts: ScriptVerifier,
  standardness: boolean,
  tx: Tx,
  prevouts: Prevout[],
  consensusOnly = false,
): void {
  const flags = standardness && !consensusOnly ? STANDARD_FLAGS : CONSENSUS_FLAGS;
  const verdict = verifyScripts(tx, prevouts, flags);
  if (verdict.ok) return;
  if (flags !== CONSENSUS_FLAGS) {
    const consensus = verifyScripts(tx, prevouts, CONSENSUS_FLAGS);
    if (consensus.ok) throw reject(`non-mandatory-script-verify-flag (${verdict.error})`);
    throw reject(`mandatory-script-verify-flag-failed (${consensus.error})`);
  }
  throw reject(`mandatory-script-verify-flag-failed (${verdict.error})`);
}
