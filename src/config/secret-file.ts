/**
 * Whether a secret file is private, as ssh asks of a key: a secret that other local users can read is
 * not a secret. One rule for the configuration's checks (src/config/secrets.ts) and the wallet key
 * loader (src/bitcoin/wallet/keys.ts). It reads the file system, so it lives with the configuration,
 * not in the pure src/core/.
 */
import { statSync } from 'node:fs';

/** A file group or others may access: its permission bits, and what the operator should run. */
export type InsecureSecretFile = {
  /** Permission bits as four octal digits, e.g. `0644`. */
  octal: string;
  message: string;
  metaMessages: string[];
};

/**
 * The problem with `file` when group or others may access it (any of mode 0o077), or undefined when it
 * is private. A file that cannot be stat'ed is left to the read that follows, which reports it. Always
 * undefined on Windows (no modes). `what` names the file in the message (a config key, usually).
 */
export function insecureSecretFile(file: string, what: string): InsecureSecretFile | undefined {
  if (process.platform === 'win32') return undefined;
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    return undefined;
  }
  if ((mode & 0o077) === 0) return undefined;
  const octal = (mode & 0o777).toString(8).padStart(4, '0');
  return {
    octal,
    message: `${what}: ${file} is accessible by group or others (mode ${octal}); run \`chmod 600 ${file}\``,
    metaMessages: [
      'If the file cannot be made private (a Kubernetes or Docker secret mount), set',
      'secrets.allowInsecureFiles: true (VIGIL_SECRETS_ALLOW_INSECURE_FILES=true).',
    ],
  };
}
