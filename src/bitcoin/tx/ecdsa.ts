/**
 * ECDSA and public-key handling exactly as Bitcoin Core's CPubKey::Verify: BER-ish "lax" DER parsing
 * (ecdsa_signature_parse_der_lax in pubkey.cpp), S normalized to the low half before verifying
 * (libsecp256k1 only accepts low S; consensus accepts both), and compressed, uncompressed and hybrid
 * public keys. The curve arithmetic is tiny-secp256k1's (libsecp256k1 compiled to WebAssembly).
 */
import * as ecc from 'tiny-secp256k1';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = N >> 1n;

function toBig(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function to32(v: bigint, out: Uint8Array, offset: number): void {
  for (let i = 31; i >= 0; i--) {
    out[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/**
 * Core's ecdsa_signature_parse_der_lax: returns the 64-byte compact (r || s), all zero when r or s
 * overflow (a parsed but never-valid signature), or undefined when the encoding is unreadable.
 */
export function parseDerLax(input: Uint8Array): Uint8Array | undefined {
  const len = input.length;
  let pos = 0;
  if (pos === len || input[pos] !== 0x30) return undefined;
  pos++;
  if (pos === len) return undefined;
  let lenbyte = input[pos++] as number;
  if (lenbyte & 0x80) {
    lenbyte -= 0x80;
    if (lenbyte > len - pos) return undefined;
    pos += lenbyte;
  }
  const readInt = (): { start: number; length: number } | undefined => {
    if (pos === len || input[pos] !== 0x02) return undefined;
    pos++;
    if (pos === len) return undefined;
    let lb = input[pos++] as number;
    let ilen: number;
    if (lb & 0x80) {
      lb -= 0x80;
      if (lb > len - pos) return undefined;
      while (lb > 0 && input[pos] === 0) {
        pos++;
        lb--;
      }
      if (lb >= 4) return undefined;
      ilen = 0;
      while (lb > 0) {
        ilen = ilen * 256 + (input[pos] as number);
        pos++;
        lb--;
      }
    } else {
      ilen = lb;
    }
    if (ilen > len - pos) return undefined;
    const start = pos;
    pos += ilen;
    return { start, length: ilen };
  };
  const r = readInt();
  if (r === undefined) return undefined;
  const s = readInt();
  if (s === undefined) return undefined;
  const out = new Uint8Array(64);
  let overflow = false;
  for (const [i, part] of [r, s].entries()) {
    let { start, length } = part;
    while (length > 0 && input[start] === 0) {
      start++;
      length--;
    }
    if (length > 32) overflow = true;
    else out.set(input.subarray(start, start + length), 32 * i + 32 - length);
  }
  // secp256k1_ecdsa_signature_parse_compact refuses r or s >= n.
  if (!overflow && (toBig(out.subarray(0, 32)) >= N || toBig(out.subarray(32)) >= N)) overflow = true;
  if (overflow) out.fill(0);
  return out;
}

/** secp256k1_ecdsa_signature_normalize: replaces a high S by n - S (in place); true if it changed. */
export function normalizeS(compact: Uint8Array): boolean {
  const s = toBig(compact.subarray(32));
  if (s <= HALF_N) return false;
  to32(N - s, compact, 32);
  return true;
}

/** CPubKey::GetLen: the size the header byte implies (0 when the header is unknown). */
export function pubkeyLengthForHeader(header: number): number {
  if (header === 2 || header === 3) return 33;
  if (header === 4 || header === 6 || header === 7) return 65;
  return 0;
}

/** CPubKey::IsValid after construction: a known header whose implied size matches. */
export function isPubkeyWellSized(pubkey: Uint8Array): boolean {
  return pubkey.length > 0 && pubkeyLengthForHeader(pubkey[0] as number) === pubkey.length;
}

/**
 * secp256k1_ec_pubkey_parse as a key tiny-secp256k1 accepts: hybrid keys (0x06/0x07) become 0x04 keys
 * when the y parity matches the header, as libsecp256k1 requires. Undefined when unparsable.
 */
export function parsePubkey(pubkey: Uint8Array): Uint8Array | undefined {
  const key = pubkeyForVerify(pubkey);
  return key !== undefined && ecc.isPoint(key) ? key : undefined;
}

/**
 * The key in a form tiny-secp256k1 takes, without the curve check (verification does that itself, and
 * a separate check would cost a tenth of a verification): undefined for a bad header, size or parity.
 */
function pubkeyForVerify(pubkey: Uint8Array): Uint8Array | undefined {
  if (!isPubkeyWellSized(pubkey)) return undefined;
  let key = pubkey;
  const header = pubkey[0] as number;
  if (header === 6 || header === 7) {
    const yOdd = ((pubkey[64] as number) & 1) === 1;
    if (yOdd !== (header === 7)) return undefined;
    key = pubkey.slice();
    key[0] = 4;
  }
  return key;
}

/** CPubKey::Verify: lax DER, S normalization, then verification. Never throws. */
export function verifyEcdsaLax(sighash: Uint8Array, pubkey: Uint8Array, derSig: Uint8Array): boolean {
  const key = pubkeyForVerify(pubkey);
  if (key === undefined || derSig.length === 0) return false;
  const compact = parseDerLax(derSig);
  if (compact === undefined) return false;
  normalizeS(compact);
  try {
    return ecc.verify(sighash, key, compact);
  } catch {
    // Zero r or s (including the overflow placeholder): libsecp256k1 reports failure too.
    return false;
  }
}

/** BIP-340 verification as Core's XOnlyPubKey::VerifySchnorr. Never throws. */
export function verifySchnorr(sighash: Uint8Array, xonly: Uint8Array, sig64: Uint8Array): boolean {
  if (xonly.length !== 32 || sig64.length !== 64) return false;
  try {
    return ecc.verifySchnorr(sighash, xonly, sig64);
  } catch {
    return false;
  }
}
