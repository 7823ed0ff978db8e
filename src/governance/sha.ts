import { createHash } from 'node:crypto';

/** SHA-256 of the concatenation of `parts`, streamed. */
export function sha256Concat(parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  const out = h.digest();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
