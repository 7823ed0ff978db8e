/**
 * Signature and public-key encoding rules the interpreter enforces before a signature reaches the
 * checker (Core's CheckSignatureEncoding / CheckPubKeyEncoding). The checker only does cryptography.
 */
import type { SigVersion } from './checker.ts';
import type { ScriptErrorName } from './errors.ts';
import { ScriptFlag } from './flags.ts';

export const SIGHASH_ALL = 1;
export const SIGHASH_NONE = 2;
export const SIGHASH_SINGLE = 3;
export const SIGHASH_ANYONECANPAY = 0x80;
export const SIGHASH_DEFAULT = 0;

/** BIP-66 strict DER, including the trailing hash-type byte (Core's IsValidSignatureEncoding). */
export function isValidSignatureEncoding(sig: Uint8Array): boolean {
  const n = sig.length;
  if (n < 9 || n > 73) return false;
  if (sig[0] !== 0x30) return false;
  if (sig[1] !== n - 3) return false;
  const lenR = sig[3] as number;
  if (5 + lenR >= n) return false;
  const lenS = sig[5 + lenR] as number;
  if (lenR + lenS + 7 !== n) return false;
  if (sig[2] !== 0x02) return false;
  if (lenR === 0) return false;
  if ((sig[4] as number) & 0x80) return false;
  if (lenR > 1 && sig[4] === 0x00 && !((sig[5] as number) & 0x80)) return false;
  if (sig[lenR + 4] !== 0x02) return false;
  if (lenS === 0) return false;
  if ((sig[lenR + 6] as number) & 0x80) return false;
  if (lenS > 1 && sig[lenR + 6] === 0x00 && !((sig[lenR + 7] as number) & 0x80)) return false;
  return true;
}

const N = Uint8Array.from(
  Buffer.from('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', 'hex'),
);
const HALF_N = Uint8Array.from(
  Buffer.from('7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0', 'hex'),
);

/** Compares a big-endian integer (leading zeros allowed) with a 32-byte constant: -1, 0 or 1. */
function compareTo32(v: Uint8Array, c: Uint8Array): number {
  let start = 0;
  while (start < v.length && v[start] === 0) start++;
  const len = v.length - start;
  if (len !== 32) return len > 32 ? 1 : -1;
  for (let i = 0; i < 32; i++) {
    const d = (v[start + i] as number) - (c[i] as number);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * Core's CPubKey::CheckLowS on a strictly DER-encoded signature (hash type included): libsecp256k1's
 * lax parser turns an R or S ≥ n into the all-zero signature, which counts as low.
 */
export function isLowS(sig: Uint8Array): boolean {
  const lenR = sig[3] as number;
  const lenS = sig[5 + lenR] as number;
  const r = sig.subarray(4, 4 + lenR);
  const s = sig.subarray(6 + lenR, 6 + lenR + lenS);
  if (compareTo32(r, N) >= 0 || compareTo32(s, N) >= 0) return true;
  return compareTo32(s, HALF_N) <= 0;
}

/** Core's IsDefinedHashtypeSignature: ALL, NONE or SINGLE, optionally with ANYONECANPAY. */
export function isDefinedHashtype(sig: Uint8Array): boolean {
  if (sig.length === 0) return false;
  const t = (sig[sig.length - 1] as number) & ~SIGHASH_ANYONECANPAY;
  return t >= SIGHASH_ALL && t <= SIGHASH_SINGLE;
}

/** Core's CheckSignatureEncoding; undefined when acceptable, else the error. Empty is always fine. */
export function checkSignatureEncoding(sig: Uint8Array, flags: number): ScriptErrorName | undefined {
  if (sig.length === 0) return undefined;
  if (
    (flags & (ScriptFlag.DERSIG | ScriptFlag.LOW_S | ScriptFlag.STRICTENC)) !== 0 &&
    !isValidSignatureEncoding(sig)
  ) {
    return 'SIG_DER';
  }
  if ((flags & ScriptFlag.LOW_S) !== 0 && !isLowS(sig)) return 'SIG_HIGH_S';
  if ((flags & ScriptFlag.STRICTENC) !== 0 && !isDefinedHashtype(sig)) return 'SIG_HASHTYPE';
  return undefined;
}

export function isCompressedOrUncompressedPubKey(key: Uint8Array): boolean {
  if (key.length < 33) return false;
  if (key[0] === 0x04) return key.length === 65;
  if (key[0] === 0x02 || key[0] === 0x03) return key.length === 33;
  return false;
}

export function isCompressedPubKey(key: Uint8Array): boolean {
  return key.length === 33 && (key[0] === 0x02 || key[0] === 0x03);
}

/** Core's CheckPubKeyEncoding; undefined when acceptable, else the error. */
export function checkPubKeyEncoding(
  key: Uint8Array,
  flags: number,
  sigVersion: SigVersion,
): ScriptErrorName | undefined {
  if ((flags & ScriptFlag.STRICTENC) !== 0 && !isCompressedOrUncompressedPubKey(key)) return 'PUBKEYTYPE';
  if (
    (flags & ScriptFlag.WITNESS_PUBKEYTYPE) !== 0 &&
    sigVersion === 'witness_v0' &&
    !isCompressedPubKey(key)
  ) {
    return 'WITNESS_PUBKEYTYPE';
  }
  return undefined;
}
