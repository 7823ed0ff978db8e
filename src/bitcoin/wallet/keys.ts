/**
 * The watcher's signing key. It comes from a file or an environment variable — never from the config
 * file — and it never reaches a log: `WalletKey` keeps the secret in a private field and prints,
 * serializes and inspects as "[redacted]".
 */
import { readFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import { ECPairFactory } from 'ecpair';
import * as ecc from 'tiny-secp256k1';
import { insecureSecretFile } from '../../config/secret-file.ts';
import { hexToBytes } from '../../core/bytes.ts';
import { VigilError, type VigilErrorCategory } from '../../core/errors.ts';
import { taggedHash } from '../../core/hashes.ts';
import { libNetwork } from '../codec/address.ts';
import type { BitcoinNetwork } from '../network.ts';

export class WalletKeyError extends VigilError {
  override name = 'WalletKeyError';
}

export type WalletKeySource = { file: string } | { env: string };

const REDACTED = '[redacted]';

export class WalletKey {
  readonly #secret: Uint8Array;
  /** 33-byte compressed public key. */
  readonly publicKey: Uint8Array;

  private constructor(secret: Uint8Array) {
    if (secret.length !== 32 || !ecc.isPrivate(secret)) {
      throw new WalletKeyError('The wallet key is not a valid secp256k1 private key');
    }
    this.#secret = Uint8Array.from(secret);
    this.publicKey = Uint8Array.from(ecc.pointFromScalar(this.#secret, true) as Uint8Array);
  }

  /** 64 hex digits or WIF (any network; the key itself is network-free). */
  static parse(text: string, network: BitcoinNetwork = 'regtest'): WalletKey {
    const t = text.trim();
    if (/^(0x)?[0-9a-fA-F]{64}$/.test(t)) return new WalletKey(hexToBytes(t));
    try {
      const pair = ECPairFactory(ecc).fromWIF(t, [
        libNetwork(network),
        libNetwork('mainnet'),
        libNetwork('testnet'),
      ]);
      if (!pair.privateKey) throw new Error('no private key');
      return new WalletKey(pair.privateKey);
    } catch {
      // The message must not echo the text: it may be a key with a typo.
      throw new WalletKeyError('The wallet key is neither 64 hex digits nor WIF');
    }
  }

  static fromBytes(secret: Uint8Array): WalletKey {
    return new WalletKey(secret);
  }

  get xOnlyPublicKey(): Uint8Array {
    return this.publicKey.slice(1);
  }

  /** BIP-86 output key: the internal key tweaked with no script tree. */
  get taprootOutputKey(): Uint8Array {
    const tweak = taggedHash('TapTweak', this.xOnlyPublicKey);
    const r = ecc.xOnlyPointAddTweak(this.xOnlyPublicKey, tweak);
    if (!r) throw new WalletKeyError('Taproot tweak failed');
    return Uint8Array.from(r.xOnlyPubkey);
  }

  /**
   * ECDSA over a 32-byte hash (RFC 6979, low S), 64-byte compact form. Like Core it grinds the extra
   * entropy for a low R, and further until neither R nor S has a leading zero byte, so every DER
   * signature is exactly 71 bytes: the signed size is known before signing and fees come out exact.
   */
  signEcdsa(hash: Uint8Array): Uint8Array {
    const entropy = new Uint8Array(32);
    for (let counter = 0; ; counter++) {
      new DataView(entropy.buffer).setUint32(0, counter, true);
      const sig = ecc.sign(hash, this.#secret, counter === 0 ? undefined : entropy);
      const r0 = sig[0] as number;
      const s0 = sig[32] as number;
      if (r0 > 0 && r0 < 0x80 && s0 > 0) return Uint8Array.from(sig);
    }
  }

  /** BIP-340 Schnorr with the BIP-86 tweaked key (key-path spends). */
  signSchnorrTweaked(hash: Uint8Array): Uint8Array {
    const even =
      (this.publicKey[0] as number) === 0x02 ? this.#secret : (ecc.privateNegate(this.#secret) as Uint8Array);
    const tweaked = ecc.privateAdd(even, taggedHash('TapTweak', this.xOnlyPublicKey));
    if (!tweaked) throw new WalletKeyError('Taproot tweak failed');
    return Uint8Array.from(ecc.signSchnorr(hash, tweaked, new Uint8Array(32)));
  }

  /**
   * A secret for another of this watcher's roles (its challenger key, its Winternitz seed), derived from
   * the wallet key under `tag`: one key file to keep, and a derived secret reveals nothing of the wallet key
   * or of another tag's secret. Never logged, like the key itself.
   */
  derivedSecret(tag: string): Uint8Array {
    for (let i = 0; ; i++) {
      const s = taggedHash(tag, this.#secret, Uint8Array.of(i));
      if (ecc.isPrivate(s)) return s;
    }
  }

  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return `WalletKey(${REDACTED})`;
  }
}

/**
 * The configured key (`keys.watcher.file` or `keys.watcher.env`) cannot be used: the file cannot be read,
 * the variable is not set, or the text is not a key. A configuration problem (exit 3) whose message names
 * the config key and never the text.
 */
export class WalletKeyConfigError extends WalletKeyError {
  override name = 'WalletKeyConfigError';
  override readonly category: VigilErrorCategory = 'config';
}

/** A key file group or others may access, refused as config/secrets.ts refuses any secret file. */
export class InsecureWalletKeyFileError extends WalletKeyError {
  override name = 'InsecureWalletKeyFileError';
  /** A configuration problem (exit 3), like the same refusal made at start by `checkSecretFiles`. */
  override readonly category: VigilErrorCategory = 'config';
}

export type LoadWalletKeyOptions = {
  /**
   * When given, a key file is first checked with the secret-file rule (src/config/secret-file.ts): false
   * refuses a file group or others may access, true accepts it (config `secrets.allowInsecureFiles`).
   * Absent: no check.
   */
  allowInsecureFiles?: boolean;
};

/**
 * Reads the key from a file (first line) or from an environment variable, by name: the source of
 * `keys.watcher`, which the errors name (WalletKeyConfigError, InsecureWalletKeyFileError).
 */
export async function loadWalletKey(
  source: WalletKeySource,
  network: BitcoinNetwork,
  env: NodeJS.ProcessEnv = process.env,
  options: LoadWalletKeyOptions = {},
): Promise<WalletKey> {
  if ('file' in source) {
    if (options.allowInsecureFiles === false) {
      // Checked here too, not only at start: this is the read that takes the key, and a file may have
      // been loosened (or swapped) since the start-up check.
      const problem = insecureSecretFile(source.file, 'keys.watcher.file');
      if (problem !== undefined) {
        throw new InsecureWalletKeyFileError(problem.message, {
          metaMessages: problem.metaMessages,
          docsPath: 'docs/configuration.md',
          details: '',
        });
      }
    }
    let text: string;
    try {
      text = await readFile(source.file, 'utf8');
    } catch (err) {
      const code = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
      throw new WalletKeyConfigError(
        `keys.watcher.file: expected a readable wallet key file, got ${source.file} (${code})`,
        { docsPath: 'docs/configuration.md', details: '' },
      );
    }
    return parseConfigured(text.split('\n')[0] ?? '', network, 'keys.watcher.file', source.file);
  }
  const value = env[source.env];
  if (value === undefined || value.trim() === '') {
    throw new WalletKeyConfigError(
      `keys.watcher.env: expected the wallet key in the environment variable ${source.env}, which is not set`,
      { docsPath: 'docs/configuration.md' },
    );
  }
  return parseConfigured(value, network, 'keys.watcher.env', source.env);
}

/** WalletKey.parse, its refusal named by the config key and the file or variable (never the text). */
function parseConfigured(text: string, network: BitcoinNetwork, key: string, where: string): WalletKey {
  try {
    return WalletKey.parse(text, network);
  } catch (err) {
    if (!(err instanceof WalletKeyError)) throw err;
    throw new WalletKeyConfigError(
      `${key}: expected a wallet key (64 hex digits or WIF) in ${where}, got text that is not one`,
      { docsPath: 'docs/configuration.md', details: err.shortMessage },
    );
  }
}
