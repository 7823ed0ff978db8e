/**
 * Building the watcher's parts from the configuration: the Bitcoin backend (with its credentials read
 * from the named secrets), the BullMQ connection from the Redis URL, the wallet key when the mode
 * spends or builds.
 */
import { CoreRpcBackend } from '../bitcoin/backends/core-rpc.ts';
import { EsploraBackend } from '../bitcoin/backends/esplora.ts';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { loadWalletKey, type WalletKey } from '../bitcoin/wallet/keys.ts';
import type { VigilConfig } from '../config/schema.ts';
import { readSecret } from '../config/secrets.ts';

export function backendFromConfig(config: VigilConfig): BitcoinBackend {
  const b = config.bitcoin;
  if (b.backend === 'esplora') return new EsploraBackend({ baseUrl: b.url });
  const a = b.auth;
  let auth: { user: string; password: string } | undefined;
  if (a.cookieFile !== undefined) {
    const [user, password] = readSecret({ file: a.cookieFile }, 'bitcoin.auth.cookieFile').split(':');
    if (user !== undefined && password !== undefined) auth = { user, password };
  } else if (a.user !== undefined) {
    const source = a.passwordEnv !== undefined ? { env: a.passwordEnv } : { file: a.passwordFile ?? '' };
    auth = { user: a.user, password: readSecret(source, 'bitcoin.auth password') };
  }
  return new CoreRpcBackend({ url: b.url, ...(auth ? { auth } : {}) });
}

export function bullConnectionFromUrl(url: string): {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: object;
} {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    host: u.hostname,
    port: u.port === '' ? 6379 : Number(u.port),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

export async function walletKeyFromConfig(config: VigilConfig): Promise<WalletKey | undefined> {
  if (config.mode === 'watch' || config.keys.watcher === undefined) return undefined;
  const k = config.keys.watcher;
  const source = k.file !== undefined ? { file: k.file } : { env: k.env ?? '' };
  return loadWalletKey(source, config.bitcoin.network);
}
