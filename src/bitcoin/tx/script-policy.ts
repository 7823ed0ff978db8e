/**
 * The script half of relay policy: verify under Core's standard flags and, where that fails, tell a
 * policy failure ("non-mandatory-script-verify-flag") from a consensus one
 * ("mandatory-script-verify-flag-failed") by re-checking the failing input under the consensus flags
 * only, as Core's mempool does. The reason strings match Core's, error text included.
 */
import { describeScriptError, isScriptErrorName } from '../script/errors.ts';
import { CONSENSUS_FLAGS, STANDARD_FLAGS } from '../script/flags.ts';
import { PrecomputedTxData } from './precomputed.ts';
import type { Prevout, Tx } from './types.ts';
import { verifyTransaction } from './verify.ts';

export type ScriptPolicyResult =
  | { ok: true }
  | { ok: false; mandatory: boolean; input: number; error: string; reason: string };

function describe(error: string): string {
  return isScriptErrorName(error) ? describeScriptError(error) : error;
}

export function checkScriptPolicy(tx: Tx, prevouts: readonly Prevout[]): ScriptPolicyResult {
  const precomputed = new PrecomputedTxData(tx, prevouts);
  const standard = verifyTransaction(tx, prevouts, STANDARD_FLAGS, { precomputed });
  const failed = standard.inputs.find((i) => !i.ok);
  if (failed === undefined || failed.ok) return { ok: true };
  const consensus = verifyTransaction(tx, prevouts, CONSENSUS_FLAGS, { precomputed, inputs: [failed.index] });
  const c = consensus.inputs[0]!;
  if (c.ok) {
    return {
      ok: false,
      mandatory: false,
      input: failed.index,
      error: failed.error,
      reason: `non-mandatory-script-verify-flag (${describe(failed.error)})`,
    };
  }
  return {
    ok: false,
    mandatory: true,
    input: failed.index,
    error: c.error,
    reason: `mandatory-script-verify-flag-failed (${describe(c.error)})`,
  };
}
