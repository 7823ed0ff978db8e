/**
 * The digit layout of a signed value, pinned byte for byte by BitVM's vectors:
 * - message digits come from the message's bytes in reverse order, high nibble first
 *   (message 0x0416e38a → digits 8 a e 3 1 6 0 4);
 * - the checksum `15 * messageDigits - sum(messageDigits)` follows, most significant digit first.
 * Digit `i` of this list is signed with chain `i` of the key, and the witness lists the digits in this
 * order, so the last checksum digit ends on top of the stack.
 */
import { WOTS_MAX_DIGIT, type WotsParameters, wotsParameters } from './parameters.ts';

/** The message digits of `message`, in signing order. */
export function messageToDigits(message: Uint8Array): number[] {
  const digits: number[] = [];
  for (let i = message.length - 1; i >= 0; i--) {
    const byte = message[i] as number;
    digits.push(byte >> 4, byte & 0x0f);
  }
  return digits;
}

/** The inverse of `messageToDigits`; `digits` must hold an even number of values in 0..15. */
export function digitsToMessage(digits: readonly number[]): Uint8Array {
  const bytes = digits.length / 2;
  const message = new Uint8Array(bytes);
  for (let k = 0; k < bytes; k++) {
    message[bytes - 1 - k] = ((digits[2 * k] as number) << 4) | (digits[2 * k + 1] as number);
  }
  return message;
}

export function checksumOf(messageDigits: readonly number[]): number {
  let sum = 0;
  for (const d of messageDigits) sum += d;
  return WOTS_MAX_DIGIT * messageDigits.length - sum;
}

/** The checksum written in `count` base-16 digits, most significant first. */
export function checksumToDigits(checksum: number, count: number): number[] {
  const digits: number[] = [];
  for (let k = count - 1; k >= 0; k--) digits.push((checksum >> (4 * k)) & 0x0f);
  return digits;
}

/** Every digit a signature of `message` commits to: the message digits, then the checksum digits. */
export function signedDigits(message: Uint8Array, params: WotsParameters = wotsParameters(message.length)) {
  const digits = messageToDigits(message);
  return digits.concat(checksumToDigits(checksumOf(digits), params.checksumDigits));
}

/** Reads the checksum value back from its digits (most significant first). */
export function digitsToChecksum(digits: readonly number[]): number {
  let value = 0;
  for (const d of digits) value = value * 16 + d;
  return value;
}
