import { VigilError, type VigilErrorCategory } from '../core/errors.ts';

/** One thing wrong with the configuration, already safe to print (secret values redacted). */
export type ConfigProblem = {
  /** Dotted key path, e.g. `l2.chainId`; empty for a problem with the whole file. */
  key: string;
  /** What was expected, or what is wrong. */
  expected: string;
  /** The offending value as printed (redacted when secret), or undefined when the key is missing. */
  got?: string | undefined;
  /** Where the value came from: `file.yaml:3:12`, `env VIGIL_X`, `flag --x`, `default`. */
  origin?: string | undefined;
};

export function formatProblem(p: ConfigProblem): string {
  const key = p.key === '' ? '' : `${p.key}: `;
  const got = p.got === undefined ? '' : `, got ${p.got}`;
  const origin = p.origin === undefined ? '' : ` (${p.origin})`;
  return `${key}expected ${p.expected}${got}${origin}`;
}

/** The configuration is invalid: the first line names the first bad key; every problem follows. */
export class ConfigError extends VigilError {
  override name = 'ConfigError';
  override readonly category: VigilErrorCategory = 'config';
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[], options: { cause?: unknown } = {}) {
    const first = problems[0];
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super(`invalid configuration: ${first ? formatProblem(first) : 'unknown problem'}${more}`, {
      metaMessages: problems.length > 1 ? problems.map((p) => `  ${formatProblem(p)}`) : [],
      docsPath: 'docs/configuration.md',
      details: '',
      cause: options.cause,
    });
    this.problems = problems;
  }
}

/** A secret named by the configuration (a key file, a password env variable) cannot be read. */
export class SecretUnavailableError extends VigilError {
  override name = 'SecretUnavailableError';
  override readonly category: VigilErrorCategory = 'config';
}

/** A secret file others can read: refused (as ssh refuses such a key) unless the config allows it. */
export class InsecureSecretFileError extends SecretUnavailableError {
  override name = 'InsecureSecretFileError';
}
