/**
 * The root of every error Vigil raises on purpose.
 *
 * Modelled on viem's BaseError: `shortMessage` is the one line a user sees, `details` carries the
 * cause's text, `metaMessages` add context lines, and `cause` keeps the chain for the log. Callers
 * branch on the subclass (`instanceof`), never on message text.
 */
/**
 * What kind of failure an error is. Whoever answers the user decides what a category means: the CLI maps
 * each to a stable exit code (`exitCodeFor`, src/cli/exit-codes.ts), so nothing below the CLI knows
 * exit codes. A subclass sets its category; an error that sets none is `failed`.
 *
 * - `failed`: the work ran and failed, or its answer is negative.
 * - `usage`: bad input from the person running the command (arguments, an input file).
 * - `config`: the configuration, or a secret it names, is invalid or unusable.
 * - `unavailable`: a service Vigil needs (Redis, an RPC endpoint, a port to listen on) is not there.
 */
export type VigilErrorCategory = 'failed' | 'usage' | 'config' | 'unavailable';

export type VigilErrorOptions = {
  cause?: unknown;
  details?: string;
  metaMessages?: string[];
  docsPath?: string;
};

export class VigilError extends Error {
  override name = 'VigilError';
  /** What kind of failure this is (see VigilErrorCategory); subclasses override it. */
  readonly category: VigilErrorCategory = 'failed';
  readonly shortMessage: string;
  readonly details: string | undefined;
  readonly metaMessages: string[];
  readonly docsPath: string | undefined;

  constructor(shortMessage: string, options: VigilErrorOptions = {}) {
    const details = options.details ?? (options.cause instanceof Error ? options.cause.message : undefined);
    const lines = [shortMessage];
    if (options.metaMessages?.length) lines.push('', ...options.metaMessages);
    if (options.docsPath) lines.push('', `Docs: ${options.docsPath}`);
    if (details && details !== shortMessage) lines.push('', `Details: ${details}`);
    super(lines.join('\n'), options.cause === undefined ? undefined : { cause: options.cause });
    this.shortMessage = shortMessage;
    this.details = details;
    this.metaMessages = options.metaMessages ?? [];
    this.docsPath = options.docsPath;
  }

  /** Walks the cause chain and returns the first error matching `predicate`. */
  walk(predicate: (err: unknown) => boolean): unknown {
    let current: unknown = this;
    while (current !== undefined && current !== null) {
      if (predicate(current)) return current;
      current = current instanceof Error ? current.cause : undefined;
    }
    return undefined;
  }
}

/** The command line asks for something that cannot be done as asked (a bad flag value, a missing flag). */
export class UsageError extends VigilError {
  override name = 'UsageError';
  override readonly category: VigilErrorCategory = 'usage';
}
