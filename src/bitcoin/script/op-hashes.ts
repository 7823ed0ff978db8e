/**
 * The digests of the hash opcodes (OP_RIPEMD160 … OP_HASH256), on node:crypto's one-shot `hash` where
 * the runtime has it (Node ≥ 20.12): the same OpenSSL digests as core/hashes.ts without a Hash object
 * per call. OP_HASH160 is core/hashes' `hash160`, which computes a short item (a Winternitz chain value:
 * thousands per leaf) in JavaScript (core/short-hash160.ts), for less than the call into OpenSSL.
 */
import * as nodeCrypto from 'node:crypto';
import { hash160, hash256, ripemd160, sha1, sha256 } from '../../core/hashes.ts';

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
/** core/hashes' `hash160`: short items in JavaScript (short-hash160.ts), longer ones by OpenSSL. */
export const opHash160 = hash160;
export const opHash256 =
  oneShot === undefined ? hash256 : (data: Uint8Array): Uint8Array => opSha256(opSha256(data));
