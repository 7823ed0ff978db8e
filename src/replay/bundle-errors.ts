/**
 * Errors of reading a dispute bundle (docs/replay.md, "Bundle format"). A bundle is a file the user
 * hands to `vigil replay`: whatever is wrong with it is bad input (category `usage`, exit 2), named by
 * the JSON path of the field at fault and what was expected there.
 */
import { VigilError, type VigilErrorCategory, type VigilErrorOptions } from '../core/errors.ts';

const BUNDLE_DOCS = 'docs/replay.md#bundle-format-version-2';

/** A bundle that is not what the format says: not JSON, a field missing, mistyped, oversize or inconsistent. */
export class BundleError extends VigilError {
  override name = 'BundleError';
  override readonly category: VigilErrorCategory = 'usage';
  /** The JSON path of the field at fault (`transactions[2].prevouts[0].script`), `(root)` for the whole text. */
  readonly path: string;

  constructor(source: string, path: string, problem: string, options: VigilErrorOptions = {}) {
    super(`${source}: ${path}: ${problem}`, { docsPath: BUNDLE_DOCS, ...options });
    this.path = path;
  }
}

/** A bundle of a format version this Vigil cannot replay (version 1, or one newer than it knows). */
export class BundleVersionError extends BundleError {
  override name = 'BundleVersionError';
  /** The version the bundle declares. */
  readonly version: number;

  constructor(source: string, version: number, problem: string, options: VigilErrorOptions = {}) {
    super(source, 'version', problem, options);
    this.version = version;
  }
}
