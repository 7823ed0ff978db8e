/**
 * simnet's script check: the transaction engine's verifyTransactionWith over the project's interpreter,
 * reduced to the first failing input and Core's ScriptErrorString text (what reject reasons quote).
 */
import { describeScriptError, isScriptErrorName } from '../script/errors.ts';
import { SignatureCache } from '../tx/sig-cache.ts';
import { type ScriptVerifier as EngineScriptVerifier, verifyTransactionWith } from '../tx/verify.ts';
import type { ScriptVerifier } from './chain.ts';

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
