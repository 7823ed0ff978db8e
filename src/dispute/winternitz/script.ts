/**
 * The tapscript fragment that verifies one Winternitz-signed value and leaves it on the stack as digits.
 *
 * In:  … h_0 d_0 h_1 d_1 … h_{N-1} d_{N-1}   (the witness of `encodeWotsWitness`, d_{N-1} on top)
 * Out: … d_0 d_1 … d_{n-1}                    (the n message digits in signing order, d_{n-1} on top)
 *
 * Per digit (top first): check 0 ≤ d ≤ 15, hash the chain value 15 times keeping every step, pick the
 * step 15 - d from the end (it is at depth d), compare it with the public-key hash, drop the steps.
 * The digit goes to the altstack; afterwards the message digits come back, summed as they pass, and the
 * checksum digits are read back most significant first and compared with 15·n − sum.
 *
 * It accepts exactly what `recoverWotsMessage(..., { requireMinimal: false })` accepts (a consensus
 * reading of the digits); relay policy (MINIMALDATA) additionally rejects non-minimal digit items, as
 * the default `requireMinimal: true` does.
 *
 * The digits are left as the witness gave them, so under consensus a digit may be non-minimal (`00` for
 * 0): equal as a number, not as bytes. Every consumer must read them with numeric opcodes (`OP_ADD`,
 * `OP_NUMEQUAL`, `OP_PICK`, …). A bytewise `OP_EQUAL` on digits belongs only in the mover's own input
 * script (the echo check), where a non-minimal item can only fail the mover's own spend.
 */

import { ScriptBuilder } from '../../bitcoin/script/builder.ts';
import { Op } from '../../bitcoin/script/opcodes.ts';
import { checkWotsPublicKeyShape, type WotsPublicKey } from './keys.ts';
import { WOTS_LOG_BASE, WOTS_MAX_DIGIT } from './parameters.ts';

/** Appends the verification of one signed value to `b`. */
export function appendWotsVerify(b: ScriptBuilder, key: WotsPublicKey): ScriptBuilder {
  const params = checkWotsPublicKeyShape(key);
  for (let i = params.totalDigits - 1; i >= 0; i--) {
    b.op(Op.OP_DUP, Op.OP_0, Op.OP_16, Op.OP_WITHIN, Op.OP_VERIFY, Op.OP_TOALTSTACK);
    for (let k = 0; k < WOTS_MAX_DIGIT; k++) b.op(Op.OP_DUP, Op.OP_HASH160);
    b.op(Op.OP_FROMALTSTACK, Op.OP_DUP, Op.OP_TOALTSTACK, Op.OP_PICK);
    b.push(key.hashes[i] as Uint8Array).op(Op.OP_EQUALVERIFY);
    for (let k = 0; k < (WOTS_MAX_DIGIT + 1) / 2; k++) b.op(Op.OP_2DROP);
  }
  // Message digits back to the main stack, with their running sum on top.
  b.op(Op.OP_FROMALTSTACK, Op.OP_DUP);
  for (let i = 1; i < params.messageDigits; i++) b.op(Op.OP_FROMALTSTACK, Op.OP_TUCK, Op.OP_ADD);
  b.number(WOTS_MAX_DIGIT * params.messageDigits).op(Op.OP_SWAP, Op.OP_SUB);
  // The written checksum, most significant digit first: c = c·16 + d.
  b.op(Op.OP_FROMALTSTACK);
  for (let k = 1; k < params.checksumDigits; k++) {
    for (let s = 0; s < WOTS_LOG_BASE; s++) b.op(Op.OP_DUP, Op.OP_ADD);
    b.op(Op.OP_FROMALTSTACK, Op.OP_ADD);
  }
  return b.op(Op.OP_EQUALVERIFY);
}

/** The fragment alone. */
export function wotsVerifyScript(key: WotsPublicKey): Uint8Array {
  return appendWotsVerify(new ScriptBuilder(), key).build();
}

/** Drops `count` stack items (OP_2DROP pairs, then one OP_DROP when odd). */
export function appendDrop(b: ScriptBuilder, count: number): ScriptBuilder {
  for (let k = 0; k < Math.floor(count / 2); k++) b.op(Op.OP_2DROP);
  if (count % 2 === 1) b.op(Op.OP_DROP);
  return b;
}
