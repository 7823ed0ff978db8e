/**
 * Reading a secret named by the configuration. The value is returned to the one component that needs
 * it and never logged; errors name the source (file path or env variable), never the content.
 */
import { readFileSync } from 'node:fs';
import { isClusterUrl, withClusterPassword } from '../store/cluster-url.ts';
import { InsecureSecretFileError, SecretUnavailableError } from './errors.ts';
import type { SecretSource, VigilConfig } from './schema.ts';
import { insecureSecretFile } from './secret-file.ts';

export type ReadSecretOptions = {
  /**
   * When given, a file source is first checked with checkSecretFileMode: false refuses a file readable
   * by group or others, true accepts it. Absent: no check (the daemon checks every file at start).
   */
  allowInsecureFiles?: boolean;
};

/** Reads the secret as text, trimmed of surrounding whitespace (files usually end with a newline). */
export function readSecret(
  source: SecretSource,
  what: string,
  env: Record<string, string | undefined> = process.env,
  options: ReadSecretOptions = {},
): string {
  if (source.env !== undefined) {
    const value = env[source.env];
    if (value === undefined || value.trim() === '') {
      throw new SecretUnavailableError(`${what}: environment variable ${source.env} is not set or empty`);
    }
    return value.trim();
  }
  if (source.file !== undefined) {
    if (options.allowInsecureFiles !== undefined) {
      checkSecretFileMode(source.file, what, options.allowInsecureFiles);
    }
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

/**
 * Refuses a secret file that group or others may access (any of mode 0o077), as ssh does with a key:
 * a secret that other local users can read is not a secret. `allowInsecure` (secrets.allowInsecureFiles)
 * is for mounts that cannot be made private, such as Kubernetes secrets (0644 by default). The rule
 * itself is src/config/secret-file.ts, shared with the wallet key loader.
 */
export function checkSecretFileMode(file: string, what: string, allowInsecure: boolean): void {
  if (allowInsecure) return;
  const problem = insecureSecretFile(file, what);
  if (problem === undefined) return;
  throw new InsecureSecretFileError(problem.message, {
    metaMessages: problem.metaMessages,
    docsPath: 'docs/configuration.md',
    details: '',
  });
}

/**
 * Every key or password file the configuration names, with the key that names it. Not Bitcoin Core's
 * cookie file: bitcoind writes it, and `-rpccookieperms=group` is Core's own way of sharing it with a
 * Vigil running as another user.
 */
export function secretFiles(config: VigilConfig): { file: string; what: string }[] {
  const files: { file: string; what: string }[] = [];
  if (config.keys.watcher?.file !== undefined) {
    files.push({ file: config.keys.watcher.file, what: 'keys.watcher.file' });
  }
  if (config.keys.l2?.file !== undefined) {
    files.push({ file: config.keys.l2.file, what: 'keys.l2.file' });
  }
  if (config.bitcoin.auth.passwordFile !== undefined) {
    files.push({ file: config.bitcoin.auth.passwordFile, what: 'bitcoin.auth.passwordFile' });
  }
  if (config.redis.passwordFile !== undefined) {
    files.push({ file: config.redis.passwordFile, what: 'redis.passwordFile' });
  }
  return files;
}

/** checkSecretFileMode for every file of secretFiles: what a command runs before it reads any. */
export function checkSecretFiles(config: VigilConfig): void {
  for (const { file, what } of secretFiles(config)) {
    checkSecretFileMode(file, what, config.secrets.allowInsecureFiles);
  }
}

/**
 * The Redis URL to connect with: `redis.url`, with the password from redis.passwordEnv or
 * redis.passwordFile filled in when one is configured. The result holds the secret: hand it to the
 * client only, and print it through redactUrl.
 */
export function redisUrlFromConfig(
  config: VigilConfig,
  env: Record<string, string | undefined> = process.env,
): string {
  const r = config.redis;
  const source: SecretSource | undefined =
    r.passwordEnv !== undefined
      ? { env: r.passwordEnv }
      : r.passwordFile !== undefined
        ? { file: r.passwordFile }
        : undefined;
  if (source === undefined) return r.url;
  const what = source.env !== undefined ? 'redis.passwordEnv' : 'redis.passwordFile';
  const password = readSecret(source, what, env, { allowInsecureFiles: config.secrets.allowInsecureFiles });
  // A cluster URL lists its nodes, which WHATWG URL cannot parse: its own form takes the password.
  if (isClusterUrl(r.url)) return withClusterPassword(r.url, password);
  const url = new URL(r.url);
  url.password = encodeURIComponent(password);
  return url.toString();
}
