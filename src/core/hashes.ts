/** Hash functions used across Vigil, on node:crypto (OpenSSL) for speed. */
import { createHash, hash } from 'node:crypto';
import { concatBytes, utf8 } from './bytes.ts';
import { SHORT_HASH160_MAX, shortHash160 } from './short-hash160.ts';

// One-shot crypto.hash: no Hash object per call (a Winternitz chain or a graph rebuild hashes thousands
// of short inputs; this is about a third faster than createHash for them).
function digest(algorithm: string, data: Uint8Array): Uint8Array {
  const out = hash(algorithm, data, 'buffer');
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

export const sha256 = (data: Uint8Array): Uint8Array => digest('sha256', data);
export const sha1 = (data: Uint8Array): Uint8Array => digest('sha1', data);
export const ripemd160 = (data: Uint8Array): Uint8Array => digest('ripemd160', data);
/** SHA-256 applied twice (Bitcoin's txid, sighash and block hash). */
export const hash256 = (data: Uint8Array): Uint8Array => sha256(sha256(data));
/**
 * RIPEMD-160 of SHA-256 (addresses, Winternitz chains). Items that fit one SHA-256 block are hashed in
 * JavaScript (short-hash160.ts: a Winternitz chain is thousands of 20-byte items, where the call into
 * OpenSSL costs more than the hashing); longer ones by OpenSSL.
 */
export const hash160 = (data: Uint8Array): Uint8Array =>
  data.length <= SHORT_HASH160_MAX ? shortHash160(data) : ripemd160(sha256(data));

const tagCache = new Map<string, Uint8Array>();

/** BIP-340 tagged hash: sha256(sha256(tag) || sha256(tag) || data). */
export function taggedHash(tag: string, ...data: Uint8Array[]): Uint8Array {
  let prefix = tagCache.get(tag);
  if (!prefix) {
    const t = sha256(utf8(tag));
    prefix = concatBytes(t, t);
    tagCache.set(tag, prefix);
  }
  const h = createHash('sha256').update(prefix);
  for (const d of data) h.update(d);
  const out = h.digest();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
