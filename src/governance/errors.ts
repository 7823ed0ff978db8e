import { VigilError, type VigilErrorCategory, type VigilErrorOptions } from '../core/errors.ts';

/** A genesis configuration outside the protocol's bounds. */
export class InvalidGenesisError extends VigilError {
  override name = 'InvalidGenesisError';
  constructor(message: string, options: VigilErrorOptions = {}) {
    super(message, { docsPath: 'docs/protocol.md#2-parameters-srcgovernanceparamsts', ...options });
  }
}

/** An inputs file that cannot be read as docs/inputs-format.md describes: bad input from the user. */
export class InputsFileError extends VigilError {
  override name = 'InputsFileError';
  override readonly category: VigilErrorCategory = 'usage';
  constructor(message: string, options: VigilErrorOptions = {}) {
    super(message, { docsPath: 'docs/inputs-format.md', ...options });
  }
}

/** `--fault` named an executor the catalogue does not hold. */
export class UnknownFaultError extends VigilError {
  override name = 'UnknownFaultError';
  override readonly category: VigilErrorCategory = 'usage';
}
