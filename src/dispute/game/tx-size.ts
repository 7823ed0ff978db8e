/**
 * Sizes and fees of presigned transactions, computed before any witness exists: each presigned fee pays
 * for the largest witness its inputs can carry, so the transaction pays at least the graph's rate however
 * it is completed. Pure: no I/O.
 */
import { compactSizeLength as compactSize } from '../../bitcoin/compact-size.ts';
import type { TxOutput } from '../../bitcoin/tx/types.ts';
import type { WotsPublicKey } from '../winternitz/keys.ts';
import { wotsParameters } from '../winternitz/parameters.ts';

/** Witness bytes of `itemCount` items of `itemBytes` bytes in all, a script and a control block at `depth`. */
export function witnessBytes(
  itemCount: number,
  itemBytes: number,
  script: Uint8Array,
  depth: number,
): number {
  const control = 33 + 32 * depth;
  return (
    compactSize(itemCount + 2) +
    itemBytes +
    compactSize(script.length) +
    script.length +
    compactSize(control) +
    control
  );
}

/** The most items and bytes one signed value takes in a witness: each digit's hash and its digit, pushed. */
export function wotsItemBytes(key: WotsPublicKey): { count: number; bytes: number } {
  const digits = wotsParameters(key.messageBytes).totalDigits;
  return { count: 2 * digits, bytes: digits * (1 + 20) + digits * (1 + 1) };
}

/** Weight of a transaction with these inputs and outputs and the given witness sizes (bytes per input). */
export function weightOf(inputs: number, outputs: readonly TxOutput[], witness: readonly number[]): number {
  let base = 4 + compactSize(inputs) + inputs * (32 + 4 + 1 + 4) + compactSize(outputs.length) + 4;
  for (const o of outputs) base += 8 + compactSize(o.script.length) + o.script.length;
  return base * 4 + 2 + witness.reduce((a, b) => a + b, 0);
}

/** The fee at `feeRate` sat/vB for a transaction of `weight` weight units. */
export const feeFor = (feeRate: bigint, weight: number): bigint => feeRate * BigInt(Math.ceil(weight / 4));

/** The witness of one Schnorr signature alone (64 bytes, SIGHASH_DEFAULT) on a key-path spend. */
export const KEY_PATH_WITNESS_BYTES = 1 + 1 + 64;
