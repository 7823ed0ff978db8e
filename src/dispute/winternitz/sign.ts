/** Signing: digit `i` of the value is revealed as the start of chain `i` hashed `digit` times. */
import { concatBytes } from '../../core/bytes.ts';
import { signedDigits } from './digits.ts';
import { digitSecret, hashChain, type WotsSecretKey } from './keys.ts';
import { WotsParameterError, wotsParameters } from './parameters.ts';

/** A signature: every digit with its chain value. `digits` repeats what the hashes already prove. */
export type WotsSignature = { digits: readonly number[]; hashes: readonly Uint8Array[] };

export function wotsSign(key: WotsSecretKey, message: Uint8Array): WotsSignature {
  if (message.length !== key.messageBytes) {
    throw new WotsParameterError(
      `Winternitz key signs ${key.messageBytes}-byte values; the message has ${message.length} bytes`,
    );
  }
  const digits = signedDigits(message, wotsParameters(key.messageBytes));
  const hashes = digits.map((d, i) => hashChain(digitSecret(key, i), d));
  return { digits, hashes };
}

/** A digit as the minimal script number the locking script reads: 0 is the empty item. */
export function encodeDigitItem(digit: number): Uint8Array {
  return digit === 0 ? new Uint8Array() : Uint8Array.of(digit);
}

/** Witness items, bottom to top: for each digit its hash, then the digit (BitVM's `witness`). */
export function encodeWotsWitness(sig: WotsSignature): Uint8Array[] {
  const items: Uint8Array[] = [];
  sig.hashes.forEach((h, i) => {
    items.push(h, encodeDigitItem(sig.digits[i] as number));
  });
  return items;
}

/** Each digit's hash with the digit byte appended (BitVM's `signature`). */
export function encodeWotsSignatureBytes(sig: WotsSignature): Uint8Array[] {
  return sig.hashes.map((h, i) => concatBytes(h, Uint8Array.of(sig.digits[i] as number)));
}

/** The hashes alone (BitVM's `compact_witness`); the verifier finds each digit by hashing. */
export function encodeWotsCompact(sig: WotsSignature): Uint8Array[] {
  return sig.hashes.map((h) => h);
}
