/**
 * The hash opcodes' digests (src/bitcoin/script/op-hashes.ts): node's one-shot digests, and HASH160 of
 * items up to 55 bytes in JavaScript (core/short-hash160.ts). Each is held to OpenSSL (core/hashes'
 * sha256, ripemd160, sha1) at every item length 0 … 130 (both sides of the 55-byte switch and of
 * SHA-256's block boundaries), on the interpreter's path too, and to fixed digests.
 */
import { describe, expect, it } from 'vitest';
import { CONSENSUS_FLAGS } from '../../../src/bitcoin/script/flags.ts';
import { runScript } from '../../../src/bitcoin/script/interpreter.ts';
import {
  opHash160,
  opHash256,
  opRipemd160,
  opSha1,
  opSha256,
} from '../../../src/bitcoin/script/op-hashes.ts';
import { bytesToHex } from '../../../src/core/bytes.ts';
import { hash256, ripemd160, sha1, sha256 } from '../../../src/core/hashes.ts';
import { rng } from '../../circuits/helpers.ts';

describe('hash opcode digests', () => {
  it('match OpenSSL at every length 0 … 130, directly and through the interpreter', () => {
    const next = rng(160);
    const opcodes = [
      { op: 0xa6, mine: opRipemd160, theirs: ripemd160 },
      { op: 0xa7, mine: opSha1, theirs: sha1 },
      { op: 0xa8, mine: opSha256, theirs: sha256 },
      { op: 0xa9, mine: opHash160, theirs: (x: Uint8Array) => ripemd160(sha256(x)) },
      { op: 0xaa, mine: opHash256, theirs: hash256 },
    ];
    for (let n = 0; n <= 130; n++) {
      for (let k = 0; k < 4; k++) {
        const item = Uint8Array.from({ length: n }, () => next() & 0xff);
        for (const { op, mine, theirs } of opcodes) {
          const want = theirs(item);
          expect(mine(item)).toEqual(want);
          const r = runScript(Uint8Array.of(op), { stack: [item], flags: CONSENSUS_FLAGS });
          expect([r.error, r.stack]).toEqual(['OK', [want]]);
        }
      }
    }
  });

  it('give the known HASH160 digests (empty, one zero byte, 55 and 56 bytes of 0xff)', () => {
    expect(bytesToHex(opHash160(new Uint8Array(0)))).toBe('b472a266d0bd89c13706a4132ccfb16f7c3b9fcb');
    expect(bytesToHex(opHash160(Uint8Array.of(0)))).toBe('9f7fd096d37ed2c0e3f7f0cfc924beef4ffceb68');
    for (const n of [55, 56]) {
      const item = new Uint8Array(n).fill(0xff);
      expect(bytesToHex(opHash160(item))).toBe(bytesToHex(ripemd160(sha256(item))));
    }
  });

  it('leave a digest kept on the stack as it was while OP_HASH160 runs again', () => {
    const r = runScript(Uint8Array.of(0xa9, 0x76, 0xa9), {
      stack: [Uint8Array.of(1)],
      flags: CONSENSUS_FLAGS,
    });
    const once = ripemd160(sha256(Uint8Array.of(1)));
    expect([r.error, r.stack]).toEqual(['OK', [once, ripemd160(sha256(once))]]);
  });
});
