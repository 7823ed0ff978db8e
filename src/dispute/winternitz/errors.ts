import { VigilError, type VigilErrorOptions } from '../../core/errors.ts';

/** Why a Winternitz signature or witness was refused. */
export type WotsFailure =
  /** The witness does not have two items (hash, digit) per digit. */
  | 'ITEM_COUNT'
  /** A signature hash is not 20 bytes. */
  | 'HASH_SIZE'
  /** A digit item is not a script number the locking script would read. */
  | 'DIGIT_ENCODING'
  /** A digit is outside 0..15. */
  | 'DIGIT_RANGE'
  /** Hashing a signature hash to the end of its chain does not give the public-key hash. */
  | 'CHAIN_MISMATCH'
  /** The checksum digits do not match the message digits. */
  | 'CHECKSUM'
  /** The public key or secret does not have the message size's shape. */
  | 'KEY_SHAPE';

export class WotsVerificationError extends VigilError {
  override name = 'WotsVerificationError';
  readonly failure: WotsFailure;
  /** The digit the failure was found at, when it concerns one digit. */
  readonly digitIndex: number | undefined;

  constructor(failure: WotsFailure, message: string, digitIndex?: number, options: VigilErrorOptions = {}) {
    super(message, options);
    this.failure = failure;
    this.digitIndex = digitIndex;
  }
}
