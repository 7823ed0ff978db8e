import { VigilError } from '../../core/errors.ts';

/** A taproot tree, key or control block that BIP-341 does not allow. */
export class TaprootError extends VigilError {
  override name = 'TaprootError';
}
