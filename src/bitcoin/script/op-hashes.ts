/**
 * The digests of the hash opcodes (OP_RIPEMD160 … OP_HASH256), on node:crypto's one-shot `hash` where
 * the runtime has it (Node ≥ 20.12): the same OpenSSL digests as core/hashes.ts without a Hash object
 * per call. OP_HASH160 of a short item (a Winternitz chain value: thousands per leaf) is computed in
 * JavaScript (short-hash160.ts), which costs less than the call into OpenSSL.
 */
import * as nodeCrypto from 'node:crypto';
import { hash160, hash256, ripemd160, sha1, sha256 } from '../../core/hashes.ts';
import { SHORT_HASH160_MAX, shortHash160 } from './short-hash160.ts';

type OneShot = (algorithm: string, data: Uint8Array, outputEncoding: 'buffer') => Uint8Array;
const oneShot = (nodeCrypto as { hash?: OneShot }).hash;

function digestWith(algorithm: string, fallback: (data: Uint8Array) => Uint8Array) {
  if (oneShot === undefined) return fallback;
  return (data: Uint8Array): Uint8Array => {
    const out = oneShot(algorithm, data, 'buffer');
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  };
}

export const opRipemd160 = digestWith('ripemd160', ripemd160);
export const opSha1 = digestWith('sha1', sha1);
export const opSha256 = digestWith('sha256', sha256);
const longHash160 =
  oneShot === undefined ? hash160 : (data: Uint8Array): Uint8Array => opRipemd160(opSha256(data));
export const opHash160 = (data: Uint8Array): Uint8Array =>
  data.length <= SHORT_HASH160_MAX ? shortHash160(data) : longHash160(data);
export const opHash256 =
  oneShot === undefined ? hash256 : (data: Uint8Array): Uint8Array => opSha256(opSha256(data));
