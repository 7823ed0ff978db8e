/** Byte helpers. Bytes are Uint8Array everywhere inside Vigil; hex appears only at the edges. */

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

export class InvalidHexError extends Error {
  override name = 'InvalidHexError';
  constructor(value: string, what = 'value') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}… (${value.length} chars)` : value;
    super(`Invalid hex for ${what}: "${shown}" (expected an even number of hex digits, optional 0x)`);
  }
}

export function hexToBytes(hex: string, what?: string): Uint8Array {
  const clean = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (!HEX_RE.test(clean)) throw new InvalidHexError(hex, what);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic comparison, as Bitcoin and Solidity order byte strings. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function reverseBytes(bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(bytes).reverse();
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
