/**
 * Reading a secret named by the configuration. The value is returned to the one component that needs
 * it and never logged; errors name the source (file path or env variable), never the content.
 */
import { readFileSync } from 'node:fs';
import { SecretUnavailableError } from './errors.ts';
import type { SecretSource } from './schema.ts';

/** Reads the secret as text, trimmed of surrounding whitespace (files usually end with a newline). */
export function readSecret(
  source: SecretSource,
  what: string,
  env: Record<string, string | undefined> = process.env,
): string {
  if (source.env !== undefined) {
    const value = env[source.env];
    if (value === undefined || value.trim() === '') {
      throw new SecretUnavailableError(`${what}: environment variable ${source.env} is not set or empty`);
    }
    return value.trim();
  }
  if (source.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(source.file, 'utf8');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code ?? 'error';
      throw new SecretUnavailableError(`${what}: cannot read ${source.file} (${code})`, {
        cause,
        details: '',
      });
    }
    if (text.trim() === '') throw new SecretUnavailableError(`${what}: ${source.file} is empty`);
    return text.trim();
  }
  throw new SecretUnavailableError(`${what}: no source configured`);
}
