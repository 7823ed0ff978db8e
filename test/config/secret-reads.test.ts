/**
 * The reads that hand a secret to a component apply the secret-file rule themselves, with
 * `secrets.allowInsecureFiles`: the Core RPC password file (backendFromConfig) and the wallet key file
 * (walletKeyFromConfig, loadWalletKey). The start-up check (checkSecretFiles) is not the only guard.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CoreRpcBackend } from '../../src/bitcoin/backends/core-rpc.ts';
import { InsecureWalletKeyFileError, loadWalletKey, WalletKey } from '../../src/bitcoin/wallet/keys.ts';
import { exitCodeFor } from '../../src/cli/exit-codes.ts';
import { InsecureSecretFileError } from '../../src/config/errors.ts';
import { loadConfig } from '../../src/config/load.ts';
import { insecureSecretFile } from '../../src/config/secret-file.ts';
import { checkSecretFileMode } from '../../src/config/secrets.ts';
import { backendFromConfig, walletKeyFromConfig } from '../../src/watcher/from-config.ts';

const KEY_HEX = '5f'.repeat(32);
const PASSWORD = 'rpc-Password-0123';

const dir = mkdtempSync(join(tmpdir(), 'vigil-secret-reads-'));
function secretFile(name: string, text: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, `${text}\n`);
  chmodSync(path, mode);
  return path;
}
const privateKey = secretFile('private.key', KEY_HEX, 0o600);
const worldKey = secretFile('world.key', KEY_HEX, 0o644);
const privatePassword = secretFile('private.pw', PASSWORD, 0o600);
const groupPassword = secretFile('group.pw', PASSWORD, 0o640);

function config(yaml: string) {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, yaml);
  return loadConfig({ file: path, env: {} }).config;
}

describe('the shared rule (src/config/secret-file.ts)', () => {
  it('names the mode and the fix, and passes a private file', () => {
    expect(insecureSecretFile(privateKey, 'k')).toBeUndefined();
    const p = insecureSecretFile(worldKey, 'keys.watcher.file');
    expect(p?.octal).toBe('0644');
    expect(p?.message).toBe(
      `keys.watcher.file: ${worldKey} is accessible by group or others (mode 0644); run \`chmod 600 ${worldKey}\``,
    );
    expect(insecureSecretFile(join(dir, 'missing'), 'k')).toBeUndefined();
  });

  it('is what checkSecretFileMode refuses with', () => {
    expect(() => checkSecretFileMode(worldKey, 'keys.watcher.file', false)).toThrow(
      insecureSecretFile(worldKey, 'keys.watcher.file')?.message as string,
    );
  });
});

describe('backendFromConfig reads the Core RPC password file with the rule', () => {
  const yaml = (file: string, allow: boolean) =>
    `bitcoin:\n  auth:\n    user: vigil\n    passwordFile: ${file}\nsecrets:\n  allowInsecureFiles: ${allow}\n`;

  it('refuses a group-readable password file (exit 3), naming the key', () => {
    const err = (() => {
      try {
        backendFromConfig(config(yaml(groupPassword, false)));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(InsecureSecretFileError);
    expect(exitCodeFor(err)).toBe(3);
    expect((err as Error).message).toContain('bitcoin.auth.passwordFile');
    expect((err as Error).message).toContain('mode 0640');
    expect((err as Error).message).not.toContain(PASSWORD);
  });

  it('reads it when secrets.allowInsecureFiles is true, and a private one either way', () => {
    expect(backendFromConfig(config(yaml(groupPassword, true)))).toBeInstanceOf(CoreRpcBackend);
    expect(backendFromConfig(config(yaml(privatePassword, false)))).toBeInstanceOf(CoreRpcBackend);
  });
});

describe('the wallet key file', () => {
  const yaml = (file: string, allow: boolean) =>
    `mode: dry-run\nkeys:\n  watcher:\n    file: ${file}\nsecrets:\n  allowInsecureFiles: ${allow}\n`;
  const expected = WalletKey.parse(KEY_HEX).xOnlyPublicKey;

  it('loadWalletKey refuses a world-readable file when asked to check (exit 3), and never echoes the key', async () => {
    const err = await loadWalletKey({ file: worldKey }, 'regtest', {}, { allowInsecureFiles: false }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InsecureWalletKeyFileError);
    expect(exitCodeFor(err)).toBe(3);
    expect((err as Error).message).toContain('mode 0644');
    expect((err as Error).message).not.toContain(KEY_HEX);
  });

  it('loadWalletKey accepts it when allowed, or when no check is asked for (a caller that checked)', async () => {
    const allowed = await loadWalletKey({ file: worldKey }, 'regtest', {}, { allowInsecureFiles: true });
    expect(allowed.xOnlyPublicKey).toEqual(expected);
    expect((await loadWalletKey({ file: worldKey }, 'regtest')).xOnlyPublicKey).toEqual(expected);
  });

  it('walletKeyFromConfig passes secrets.allowInsecureFiles', async () => {
    await expect(walletKeyFromConfig(config(yaml(worldKey, false)))).rejects.toBeInstanceOf(
      InsecureWalletKeyFileError,
    );
    expect((await walletKeyFromConfig(config(yaml(worldKey, true))))?.xOnlyPublicKey).toEqual(expected);
    expect((await walletKeyFromConfig(config(yaml(privateKey, false))))?.xOnlyPublicKey).toEqual(expected);
  });
});
