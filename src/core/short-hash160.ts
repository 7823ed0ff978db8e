/**
 * HASH160 (RIPEMD-160 of SHA-256) of a short item, ≤ 55 bytes, in plain JavaScript: one SHA-256 block
 * and one RIPEMD-160 block into reused buffers. A Winternitz chain hashes a 20-byte value again and again
 * (a key is hundreds of hash160s, a game's keys millions; a Winternitz-verifying leaf runs thousands of
 * OP_HASH160s), and at that size a call into OpenSSL costs more in crossing than in hashing.
 * core/hashes.ts' `hash160` sends short items here; test/core/short-hash160.test.ts holds it to OpenSSL
 * on items of every length, and Core's script vectors run through it.
 */

/** The largest item that fits one SHA-256 block with its padding. */
export const SHORT_HASH160_MAX = 55;

// biome-ignore format: a table, 8 a row
const K = Uint32Array.of(
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
);

function wordLe(out: Uint8Array, at: number, v: number): void {
  out[at] = v;
  out[at + 1] = v >>> 8;
  out[at + 2] = v >>> 16;
  out[at + 3] = v >>> 24;
}

/** SHA-256's message schedule, its digest (eight big-endian words), RIPEMD-160's message words. */
const W = new Uint32Array(64);
const S = new Uint32Array(8);
const X = new Uint32Array(16);

/** SHA-256 of `data` (≤ 55 bytes) into S. */
function sha256Short(data: Uint8Array): void {
  const n = data.length;
  W.fill(0, 0, 16);
  for (let i = 0; i < n; i++) W[i >> 2] = (W[i >> 2] as number) | ((data[i] as number) << (24 - 8 * (i & 3)));
  W[n >> 2] = (W[n >> 2] as number) | (0x80 << (24 - 8 * (n & 3)));
  W[15] = n * 8;
  for (let i = 16; i < 64; i++) {
    const a = W[i - 15] as number;
    const b = W[i - 2] as number;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    W[i] = (W[i - 16] as number) + s0 + (W[i - 7] as number) + s1;
  }
  let a = 0x6a09e667;
  let b = 0xbb67ae85;
  let c = 0x3c6ef372;
  let d = 0xa54ff53a;
  let e = 0x510e527f;
  let f = 0x9b05688c;
  let g = 0x1f83d9ab;
  let h = 0x5be0cd19;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + (K[i] as number) + (W[i] as number)) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  S[0] = 0x6a09e667 + a;
  S[1] = 0xbb67ae85 + b;
  S[2] = 0x3c6ef372 + c;
  S[3] = 0xa54ff53a + d;
  S[4] = 0x510e527f + e;
  S[5] = 0x9b05688c + f;
  S[6] = 0x1f83d9ab + g;
  S[7] = 0x5be0cd19 + h;
}

// RIPEMD-160's message word order and rotations, left and right lines, 5 rounds of 16.
// biome-ignore format: a table, 16 a row (a round each)
const RL = Uint8Array.of(
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  7, 4, 13, 1, 10, 6, 15, 3, 12, 0, 9, 5, 2, 14, 11, 8,
  3, 10, 14, 4, 9, 15, 8, 1, 2, 7, 0, 6, 13, 11, 5, 12,
  1, 9, 11, 10, 0, 8, 12, 4, 13, 3, 7, 15, 14, 5, 6, 2,
  4, 0, 5, 9, 7, 12, 2, 10, 14, 1, 3, 8, 11, 6, 15, 13,
);
// biome-ignore format: a table, 16 a row (a round each)
const RR = Uint8Array.of(
  5, 14, 7, 0, 9, 2, 11, 4, 13, 6, 15, 8, 1, 10, 3, 12,
  6, 11, 3, 7, 0, 13, 5, 10, 14, 15, 8, 12, 4, 9, 1, 2,
  15, 5, 1, 3, 7, 14, 6, 9, 11, 8, 12, 2, 10, 0, 4, 13,
  8, 6, 4, 1, 3, 11, 15, 0, 5, 12, 2, 13, 9, 7, 10, 14,
  12, 15, 10, 4, 1, 5, 8, 7, 6, 2, 13, 14, 0, 3, 9, 11,
);
// biome-ignore format: a table, 16 a row (a round each)
const SL = Uint8Array.of(
  11, 14, 15, 12, 5, 8, 7, 9, 11, 13, 14, 15, 6, 7, 9, 8,
  7, 6, 8, 13, 11, 9, 7, 15, 7, 12, 15, 9, 11, 7, 13, 12,
  11, 13, 6, 7, 14, 9, 13, 15, 14, 8, 13, 6, 5, 12, 7, 5,
  11, 12, 14, 15, 14, 15, 9, 8, 9, 14, 5, 6, 8, 6, 5, 12,
  9, 15, 5, 11, 6, 8, 13, 12, 5, 12, 13, 14, 11, 8, 5, 6,
);
// biome-ignore format: a table, 16 a row (a round each)
const SR = Uint8Array.of(
  8, 9, 9, 11, 13, 15, 15, 5, 7, 7, 8, 11, 14, 14, 12, 6,
  9, 13, 15, 7, 12, 8, 9, 11, 7, 7, 12, 7, 6, 15, 13, 11,
  9, 7, 15, 11, 8, 6, 6, 14, 12, 13, 5, 14, 13, 13, 7, 5,
  15, 5, 8, 11, 14, 14, 6, 14, 6, 9, 12, 9, 12, 5, 15, 8,
  8, 5, 12, 9, 12, 5, 14, 6, 8, 13, 6, 5, 15, 13, 11, 11,
);
const KL = Uint32Array.of(0x00000000, 0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xa953fd4e);
const KR = Uint32Array.of(0x50a28be6, 0x5c4dd124, 0x6d703ef3, 0x7a6d76e9, 0x00000000);

const rol = (x: number, n: number) => (x << n) | (x >>> (32 - n));

/** RIPEMD-160 of the 32-byte SHA-256 digest in S, as 20 bytes. */
function ripemd160OfS(): Uint8Array {
  // The digest's bytes as little-endian words, then the padding and the length (256 bits).
  for (let i = 0; i < 8; i++) {
    const v = S[i] as number;
    X[i] = ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24)) >>> 0;
  }
  X[8] = 0x80;
  X.fill(0, 9, 16);
  X[14] = 256;
  const h0 = 0x67452301;
  const h1 = 0xefcdab89;
  const h2 = 0x98badcfe;
  const h3 = 0x10325476;
  const h4 = 0xc3d2e1f0;
  let al = h0;
  let bl = h1;
  let cl = h2;
  let dl = h3;
  let el = h4;
  let ar = h0;
  let br = h1;
  let cr = h2;
  let dr = h3;
  let er = h4;
  // One loop per round, so each round's function is inlined (the right line runs them in reverse).
  for (let round = 0; round < 5; round++) {
    const kl = KL[round] as number;
    const kr = KR[round] as number;
    for (let j = 16 * round; j < 16 * round + 16; j++) {
      let fl: number;
      let fr: number;
      if (round === 0) {
        fl = bl ^ cl ^ dl;
        fr = br ^ (cr | ~dr);
      } else if (round === 1) {
        fl = (bl & cl) | (~bl & dl);
        fr = (br & dr) | (cr & ~dr);
      } else if (round === 2) {
        fl = (bl | ~cl) ^ dl;
        fr = (br | ~cr) ^ dr;
      } else if (round === 3) {
        fl = (bl & dl) | (cl & ~dl);
        fr = (br & cr) | (~br & dr);
      } else {
        fl = bl ^ (cl | ~dl);
        fr = br ^ cr ^ dr;
      }
      let t = (rol((al + fl + (X[RL[j] as number] as number) + kl) | 0, SL[j] as number) + el) | 0;
      al = el;
      el = dl;
      dl = rol(cl, 10);
      cl = bl;
      bl = t;
      t = (rol((ar + fr + (X[RR[j] as number] as number) + kr) | 0, SR[j] as number) + er) | 0;
      ar = er;
      er = dr;
      dr = rol(cr, 10);
      cr = br;
      br = t;
    }
  }
  const out = new Uint8Array(20);
  wordLe(out, 0, (h1 + cl + dr) | 0);
  wordLe(out, 4, (h2 + dl + er) | 0);
  wordLe(out, 8, (h3 + el + ar) | 0);
  wordLe(out, 12, (h4 + al + br) | 0);
  wordLe(out, 16, (h0 + bl + cr) | 0);
  return out;
}

/** RIPEMD-160(SHA-256(data)) for `data` of at most 55 bytes (the caller sends longer items elsewhere). */
export function shortHash160(data: Uint8Array): Uint8Array {
  if (data.length > SHORT_HASH160_MAX)
    throw new RangeError(`shortHash160 takes ≤ 55 bytes, got ${data.length}`);
  sha256Short(data);
  return ripemd160OfS();
}
