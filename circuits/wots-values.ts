/**
 * The shared prefix of the three-value disprove leaves (`merkle-step.ts`, `arith-step.ts`): covenant
 * keys, then the Winternitz signatures of three committed 32-byte values verified with the real
 * `appendWotsVerify`, each value's digits optionally turned into another form right after its
 * verification (`transform`, e.g. digits → limbs), the first two parked on the altstack and brought back.
 *
 * Witness (bottom first): the bottom value's Winternitz items, the middle one's, the top one's, then the
 * covenant signatures (the first key's on top), as `encodeWotsWitness` writes them. The top value is
 * verified first. Result (bottom first): the bottom value's items, the middle one's, the top one's (each
 * the 64 signing-order digits, or the transform's output), the top value's items on top.
 */
import type { ScriptBuilder } from '../src/bitcoin/script/builder.ts';
import { Op } from '../src/bitcoin/script/opcodes.ts';
import type { WotsPublicKey } from '../src/dispute/winternitz/keys.ts';
import { wotsParameters } from '../src/dispute/winternitz/parameters.ts';
import { appendWotsVerify } from '../src/dispute/winternitz/script.ts';
import { encodeWotsWitness, type WotsSignature } from '../src/dispute/winternitz/sign.ts';

export const COMMITTED_VALUE_BYTES = 32;

/** Three keys, named by where their value ends on the stack. */
export type ThreeValueKeys = { bottom: WotsPublicKey; middle: WotsPublicKey; top: WotsPublicKey };
export type ThreeValueSignatures = { bottom: WotsSignature; middle: WotsSignature; top: WotsSignature };

/** A script applied to each value's 64 digits right after its verification, leaving `outputItems`. */
export type ValueTransform = { script: Uint8Array; outputItems: number };

function digitsOf(key: WotsPublicKey, what: string): number {
  if (key.messageBytes !== COMMITTED_VALUE_BYTES) {
    throw new RangeError(`${what} is ${COMMITTED_VALUE_BYTES} bytes; the key signs ${key.messageBytes}`);
  }
  return wotsParameters(key.messageBytes).messageDigits;
}

/** Appends covenant checks and the three verifications; `what` names a value in errors. */
export function appendThreeValueVerify(
  b: ScriptBuilder,
  keys: ThreeValueKeys,
  covenant: readonly Uint8Array[] = [],
  transform?: ValueTransform,
  what = 'a committed value',
): ScriptBuilder {
  for (const k of covenant) b.push(k).op(Op.OP_CHECKSIGVERIFY);
  const order = [keys.top, keys.middle, keys.bottom];
  order.forEach((key, i) => {
    const digits = digitsOf(key, what);
    appendWotsVerify(b, key);
    if (transform !== undefined) b.raw(transform.script);
    const items = transform === undefined ? digits : transform.outputItems;
    if (i < 2) for (let j = 0; j < items; j++) b.op(Op.OP_TOALTSTACK);
  });
  const items = transform === undefined ? digitsOf(keys.top, what) : transform.outputItems;
  for (let j = 0; j < 2 * items; j++) b.op(Op.OP_FROMALTSTACK);
  return b;
}

/** The witness items below the script and control block, bottom first. */
export function threeValueWitness(
  sigs: ThreeValueSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return [
    ...encodeWotsWitness(sigs.bottom),
    ...encodeWotsWitness(sigs.middle),
    ...encodeWotsWitness(sigs.top),
    ...covenantSigs,
  ];
}

const compactSize = (n: number) => (n < 0xfd ? 1 : n <= 0xffff ? 3 : 5);

/**
 * The input's witness weight in WU (witness bytes count 1 WU each): item count, every item with its
 * length prefix, the leaf script and the control block (33 + 32 · depth bytes).
 */
export function tapscriptWitnessWeight(
  items: readonly Uint8Array[],
  script: Uint8Array,
  depth: number,
): number {
  const control = 33 + 32 * depth;
  let w = compactSize(items.length + 2);
  for (const it of items) w += compactSize(it.length) + it.length;
  w += compactSize(script.length) + script.length;
  w += compactSize(control) + control;
  return w;
}
