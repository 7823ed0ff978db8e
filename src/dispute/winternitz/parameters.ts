/**
 * Parameters of the Winternitz one-time signatures Vigil shares with BitVM: base 16 (one digit per
 * nibble), hash160 chains of length 15, and a checksum that makes lowering any digit detectable.
 */
import { VigilError } from '../../core/errors.ts';

/** Digits are nibbles: a chain has this many hash steps between a digit secret and its public key. */
export const WOTS_MAX_DIGIT = 15;
/** Bits per digit. */
export const WOTS_LOG_BASE = 4;
/** Every digit secret, signature and public key is a hash160 output. */
export const WOTS_HASH_BYTES = 20;
/** The largest message Vigil signs in one key (a 32-byte root is the usual size). */
export const WOTS_MAX_MESSAGE_BYTES = 256;

export type WotsParameters = {
  /** Length of the signed message in bytes. */
  messageBytes: number;
  /** Message digits: two per byte. */
  messageDigits: number;
  /** Base-16 digits needed to write the largest checksum, `15 * messageDigits`. */
  checksumDigits: number;
  /** messageDigits + checksumDigits: the number of hash chains, public-key hashes and signature hashes. */
  totalDigits: number;
};

export class WotsParameterError extends VigilError {
  override name = 'WotsParameterError';
}

const cache = new Map<number, WotsParameters>();

export function wotsParameters(messageBytes: number): WotsParameters {
  const cached = cache.get(messageBytes);
  if (cached) return cached;
  if (!Number.isInteger(messageBytes) || messageBytes < 1 || messageBytes > WOTS_MAX_MESSAGE_BYTES) {
    throw new WotsParameterError(`Winternitz message size ${messageBytes} is not supported`, {
      metaMessages: [`Messages are 1 to ${WOTS_MAX_MESSAGE_BYTES} bytes long.`],
    });
  }
  const messageDigits = 2 * messageBytes;
  let checksumDigits = 0;
  for (let max = WOTS_MAX_DIGIT * messageDigits; max > 0; max >>= WOTS_LOG_BASE) checksumDigits++;
  const params = { messageBytes, messageDigits, checksumDigits, totalDigits: messageDigits + checksumDigits };
  cache.set(messageBytes, params);
  return params;
}
