/**
 * The prefix of every GVM-1 disprove leaf (`circuits/gvm/`): covenant keys, then the Winternitz
 * signatures of any number of committed values of any sizes, verified with the real `appendWotsVerify`,
 * each value's digits optionally turned into another form right after its verification (`transform`,
 * e.g. digits → limbs), so the values wait on the altstack in their smallest form. The three-value
 * prefix of `wots-values.ts` is the case of three 32-byte values.
 *
 * Witness (bottom first): the first value's Winternitz items, the second's, …, the last's, then the
 * covenant signatures (the first key's on top), as `encodeWotsWitness` writes them. The last value is
 * verified first. Result (bottom first): each value's items in the order given (its 2·bytes digits in
 * signing order, or its transform's output), the last value's items on top.
 */
import type { ScriptBuilder } from '../src/bitcoin/script/builder.ts';
import { Op } from '../src/bitcoin/script/opcodes.ts';
import type { WotsPublicKey } from '../src/dispute/winternitz/keys.ts';
import { wotsParameters } from '../src/dispute/winternitz/parameters.ts';
import { appendWotsVerify } from '../src/dispute/winternitz/script.ts';
import { encodeWotsWitness, type WotsSignature } from '../src/dispute/winternitz/sign.ts';

/** A script applied to one value's digits right after its verification, leaving `outputItems` items. */
export type ValueTransform = { readonly script: Uint8Array; readonly outputItems: number };

/** One committed value of a leaf: its key, and how its digits are reshaped once verified. */
export type CommittedValue = { readonly key: WotsPublicKey; readonly transform?: ValueTransform };

/** Items a value leaves on the stack once verified (and transformed). */
export function itemsOf(v: CommittedValue): number {
  return v.transform?.outputItems ?? wotsParameters(v.key.messageBytes).messageDigits;
}

/**
 * Appends the covenant checks and the verification of `values` (bottom first). Every value but the
 * first waits on the altstack while the ones below it are verified; all come back at the end.
 */
export function appendValuesVerify(
  b: ScriptBuilder,
  values: readonly CommittedValue[],
  covenant: readonly Uint8Array[] = [],
): ScriptBuilder {
  if (values.length === 0) throw new RangeError('A leaf commits at least one value');
  for (const k of covenant) b.push(k).op(Op.OP_CHECKSIGVERIFY);
  let parked = 0;
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i] as CommittedValue;
    appendWotsVerify(b, v.key);
    if (v.transform !== undefined) b.raw(v.transform.script);
    if (i > 0) {
      const n = itemsOf(v);
      for (let j = 0; j < n; j++) b.op(Op.OP_TOALTSTACK);
      parked += n;
    }
  }
  for (let j = 0; j < parked; j++) b.op(Op.OP_FROMALTSTACK);
  return b;
}

/** The witness items below the script and control block, bottom first (signatures in `values` order). */
export function valuesWitness(
  sigs: readonly WotsSignature[],
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return [...sigs.flatMap((s) => encodeWotsWitness(s)), ...covenantSigs];
}
