/**
 * Verification and extraction. The TypeScript verifier accepts exactly what the locking script
 * (script.ts) accepts, so a value Vigil reads from a mined witness is the value the chain enforced.
 */
import { equalBytes } from '../../core/bytes.ts';
import { hash160 } from '../../core/hashes.ts';
import { checksumOf, digitsToChecksum, digitsToMessage } from './digits.ts';
import { WotsVerificationError } from './errors.ts';
import { checkWotsPublicKeyShape, hashChain, type WotsPublicKey } from './keys.ts';
import { WOTS_HASH_BYTES, WOTS_MAX_DIGIT, type WotsParameters } from './parameters.ts';
import type { WotsSignature } from './sign.ts';

export type WotsDecodeOptions = {
  /**
   * Require minimally encoded digit items, as relay policy (MINIMALDATA) does. Consensus does not, so
   * reading a mined witness must pass `false` to see what the chain accepted.
   */
  requireMinimal?: boolean;
};

/** Reads a digit item the way the interpreter reads a script number of at most 4 bytes. */
export function decodeDigitItem(item: Uint8Array, index: number, requireMinimal: boolean): number {
  if (item.length > 4) {
    throw new WotsVerificationError(
      'DIGIT_ENCODING',
      `Winternitz digit ${index} is ${item.length} bytes long`,
      index,
    );
  }
  if (requireMinimal && item.length > 0) {
    const last = item[item.length - 1] as number;
    if ((last & 0x7f) === 0 && (item.length === 1 || ((item[item.length - 2] as number) & 0x80) === 0)) {
      throw new WotsVerificationError(
        'DIGIT_ENCODING',
        `Winternitz digit ${index} is not minimally encoded`,
        index,
      );
    }
  }
  let value = 0;
  for (let i = 0; i < item.length; i++) value += (item[i] as number) * 2 ** (8 * i);
  if (item.length > 0 && ((item[item.length - 1] as number) & 0x80) !== 0) {
    value = -(value - 0x80 * 2 ** (8 * (item.length - 1)));
  }
  if (!(value >= 0 && value <= WOTS_MAX_DIGIT)) {
    throw new WotsVerificationError(
      'DIGIT_RANGE',
      `Winternitz digit ${index} is ${value}, outside 0..15`,
      index,
    );
  }
  // Negative zero (0x80) reads as 0, as in the interpreter.
  return value === 0 ? 0 : value;
}

/** Splits witness items (hash, digit, hash, digit, ...) into a signature without checking it. */
export function decodeWotsWitness(
  items: readonly Uint8Array[],
  params: WotsParameters,
  options: WotsDecodeOptions = {},
): WotsSignature {
  if (items.length !== 2 * params.totalDigits) {
    throw new WotsVerificationError(
      'ITEM_COUNT',
      `Winternitz witness has ${items.length} items; a ${params.messageBytes}-byte value needs ${2 * params.totalDigits}`,
    );
  }
  const digits: number[] = [];
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < params.totalDigits; i++) {
    hashes.push(items[2 * i] as Uint8Array);
    digits.push(decodeDigitItem(items[2 * i + 1] as Uint8Array, i, options.requireMinimal ?? true));
  }
  return { digits, hashes };
}

/** Checks `sig` against `key` and returns the signed message; throws naming the first defect. */
export function verifyWotsSignature(key: WotsPublicKey, sig: WotsSignature): Uint8Array {
  const params = checkWotsPublicKeyShape(key);
  if (sig.digits.length !== params.totalDigits || sig.hashes.length !== params.totalDigits) {
    throw new WotsVerificationError(
      'ITEM_COUNT',
      `Winternitz signature has ${sig.hashes.length} digits; a ${params.messageBytes}-byte value needs ${params.totalDigits}`,
    );
  }
  for (let i = 0; i < params.totalDigits; i++) {
    const digit = sig.digits[i] as number;
    const hash = sig.hashes[i] as Uint8Array;
    if (!Number.isInteger(digit) || digit < 0 || digit > WOTS_MAX_DIGIT) {
      throw new WotsVerificationError('DIGIT_RANGE', `Winternitz digit ${i} is ${digit}, outside 0..15`, i);
    }
    if (hash.length !== WOTS_HASH_BYTES) {
      throw new WotsVerificationError(
        'HASH_SIZE',
        `Winternitz signature hash ${i} is ${hash.length} bytes, not 20`,
        i,
      );
    }
    if (!equalBytes(hashChain(hash, WOTS_MAX_DIGIT - digit), key.hashes[i] as Uint8Array)) {
      throw new WotsVerificationError(
        'CHAIN_MISMATCH',
        `Winternitz digit ${i} (value ${digit}) does not hash to the public key`,
        i,
      );
    }
  }
  const messageDigits = sig.digits.slice(0, params.messageDigits);
  const expected = checksumOf(messageDigits);
  const written = digitsToChecksum(sig.digits.slice(params.messageDigits));
  if (expected !== written) {
    throw new WotsVerificationError(
      'CHECKSUM',
      `Winternitz checksum is ${written}; the message digits require ${expected}`,
    );
  }
  return digitsToMessage(messageDigits);
}

/** `true` when `sig` is a valid signature of exactly `message` under `key`. */
export function isValidWotsSignature(key: WotsPublicKey, message: Uint8Array, sig: WotsSignature): boolean {
  try {
    return equalBytes(verifyWotsSignature(key, sig), message);
  } catch (err) {
    if (err instanceof WotsVerificationError) return false;
    throw err;
  }
}

/** Verifies witness items (hash, digit pairs) and returns the signed message. */
export function recoverWotsMessage(
  key: WotsPublicKey,
  items: readonly Uint8Array[],
  options: WotsDecodeOptions = {},
): Uint8Array {
  const params = checkWotsPublicKeyShape(key);
  return verifyWotsSignature(key, decodeWotsWitness(items, params, options));
}

/** Verifies a compact signature (hashes only) by finding each digit along its chain. */
export function recoverWotsMessageFromCompact(key: WotsPublicKey, hashes: readonly Uint8Array[]): Uint8Array {
  const params = checkWotsPublicKeyShape(key);
  if (hashes.length !== params.totalDigits) {
    throw new WotsVerificationError(
      'ITEM_COUNT',
      `Compact Winternitz signature has ${hashes.length} hashes; a ${params.messageBytes}-byte value needs ${params.totalDigits}`,
    );
  }
  const digits = hashes.map((start, i) => {
    const target = key.hashes[i] as Uint8Array;
    let h = start;
    for (let steps = 0; steps <= WOTS_MAX_DIGIT; steps++) {
      if (equalBytes(h, target)) return WOTS_MAX_DIGIT - steps;
      h = hash160(h);
    }
    throw new WotsVerificationError(
      'CHAIN_MISMATCH',
      `Compact Winternitz hash ${i} is on no chain of the key`,
      i,
    );
  });
  return verifyWotsSignature(key, { digits, hashes });
}

/**
 * Reads several signed values from the stack items of a spending witness (without the tapscript and
 * control block): the values' items follow each other in the order of `keys`, starting at `offset`.
 */
export function extractWotsValues(
  items: readonly Uint8Array[],
  keys: readonly WotsPublicKey[],
  options: WotsDecodeOptions & { offset?: number } = {},
): Uint8Array[] {
  let at = options.offset ?? 0;
  return keys.map((key, k) => {
    const params = checkWotsPublicKeyShape(key);
    const count = 2 * params.totalDigits;
    if (at + count > items.length) {
      throw new WotsVerificationError(
        'ITEM_COUNT',
        `Witness ends before committed value ${k}: it needs items ${at}..${at + count - 1}, the witness has ${items.length}`,
      );
    }
    const slice = items.slice(at, at + count);
    at += count;
    try {
      return recoverWotsMessage(key, slice, options);
    } catch (err) {
      if (!(err instanceof WotsVerificationError)) throw err;
      throw new WotsVerificationError(
        err.failure,
        `Committed value ${k}: ${err.shortMessage}`,
        err.digitIndex,
        {
          cause: err,
        },
      );
    }
  });
}
