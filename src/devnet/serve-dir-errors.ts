/** The errors of a served devnet's directory (serve-dir.ts and the journals it keeps). */
import { VigilError, type VigilErrorCategory } from '../core/errors.ts';

/** The directory holds something this version cannot use: a config problem for the person who named it. */
export class ServeDirError extends VigilError {
  override name = 'ServeDirError';
  override readonly category: VigilErrorCategory = 'config';
}

/** Another live `serve` uses the directory. */
export class ServeDirBusyError extends VigilError {
  override name = 'ServeDirBusyError';
  override readonly category: VigilErrorCategory = 'unavailable';
}
