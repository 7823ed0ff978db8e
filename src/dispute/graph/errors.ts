import { VigilError, type VigilErrorOptions } from '../../core/errors.ts';

/** A graph that cannot be built from the given parameters (a configuration error). */
export class GraphParameterError extends VigilError {
  override name = 'GraphParameterError';
}

/**
 * What is wrong with an imported graph. `DOCUMENT_TOO_LARGE` and `SHAPE` are found before the document
 * is parsed or verified: more bytes than any graph document has, or more entries, nesting or characters
 * than a valid graph under Vigil's own parameters can have.
 */
export type GraphDefect =
  | 'DOCUMENT_TOO_LARGE'
  | 'SHAPE'
  | 'MALFORMED'
  | 'UNSUPPORTED_VERSION'
  | 'HASH_MISMATCH'
  | 'PARAMETER_MISMATCH'
  | 'KEY_MISMATCH'
  | 'WOTS_KEY_REUSE'
  | 'WOTS_KEY_SHAPE'
  | 'SCRIPT_MISMATCH'
  | 'AMOUNT_MISMATCH'
  | 'TIMELOCK_MISMATCH'
  | 'TX_MISMATCH'
  | 'BAD_SIGNATURE'
  | 'MISSING_SIGNATURE'
  /** A claim graph's challengers or bundles are not those the L2 lists for the claim (§24.1). */
  | 'CHALLENGER_MISMATCH'
  /** A claim graph fixes another pre-state than the previous epoch's root the L2 committed (§24.11 item 5). */
  | 'PRESTATE_MISMATCH'
  /** A claim graph spends another claim outpoint than the one the L2 registry opened the claim on. */
  | 'CLAIM_MISMATCH';

/** An imported graph Vigil refuses to trust; `defect` and `where` name what is wrong. */
export class GraphImportError extends VigilError {
  override name = 'GraphImportError';
  readonly defect: GraphDefect;
  readonly where: string;
  /** What is wrong there, in the words of the refusal (without the defect and place). */
  readonly reason: string;
  constructor(defect: GraphDefect, where: string, message: string, options: VigilErrorOptions = {}) {
    super(`Graph refused (${defect} at ${where}): ${message}`, {
      ...options,
      metaMessages: [
        ...(options.metaMessages ?? []),
        'Vigil trusts a dispute graph only after verifying every script, amount, timelock and presigned signature.',
      ],
    });
    this.defect = defect;
    this.where = where;
    this.reason = message;
  }
}

/** A spend of the graph that cannot be completed (wrong values, missing signatures, bad witness). */
export class GraphSpendError extends VigilError {
  override name = 'GraphSpendError';
}
