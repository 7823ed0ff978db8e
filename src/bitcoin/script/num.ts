/**
 * Script numbers (Core's CScriptNum): little-endian sign-magnitude, minimal encoding, at most 4 bytes
 * as operands (5 for CHECKLOCKTIMEVERIFY/CHECKSEQUENCEVERIFY). Results may exceed 4 bytes; they are
 * valid stack items but not valid operands. JS numbers hold every value exactly (|v| < 2^40).
 */
import { VigilError } from '../../core/errors.ts';

export const DEFAULT_MAX_NUM_SIZE = 4;

/** Why a byte string is not a valid script number. Core throws scriptnum_error → UNKNOWN_ERROR. */
export type ScriptNumErrorKind = 'overflow' | 'non-minimal';

export class ScriptNumError extends VigilError {
  override name = 'ScriptNumError';
  readonly kind: ScriptNumErrorKind;
  constructor(kind: ScriptNumErrorKind, size: number) {
    super(
      kind === 'overflow'
        ? `Script number overflow (${size} bytes)`
        : `Non-minimally encoded script number (${size} bytes)`,
      { metaMessages: ['Inside a script, Bitcoin Core reports this as UNKNOWN_ERROR.'] },
    );
    this.kind = kind;
  }
}

/** True if `vch` is minimally encoded (no needless trailing 0x00/0x80 byte). */
export function isMinimalScriptNum(vch: Uint8Array): boolean {
  const n = vch.length;
  if (n === 0) return true;
  const last = vch[n - 1] as number;
  if ((last & 0x7f) !== 0) return true;
  return n > 1 && ((vch[n - 2] as number) & 0x80) !== 0;
}

/**
 * Decodes a script number; returns NaN when it is too long or (with `requireMinimal`) not minimal.
 * NaN rather than an exception keeps the interpreter's hot loop free of throw/catch.
 */
export function decodeScriptNumOrNaN(vch: Uint8Array, requireMinimal: boolean, maxSize: number): number {
  const n = vch.length;
  if (n === 0) return 0;
  if (n > maxSize) return Number.NaN;
  const last = vch[n - 1] as number;
  if (requireMinimal && (last & 0x7f) === 0 && (n <= 1 || ((vch[n - 2] as number) & 0x80) === 0)) {
    return Number.NaN;
  }
  // Negative zero (0x80, 0x0080, …) is 0, as in Core's int64 CScriptNum: never JavaScript's -0.
  if (n === 1) return last & 0x80 ? -(last & 0x7f) || 0 : last;
  let v = 0;
  let mul = 1;
  for (let i = 0; i < n - 1; i++) {
    v += (vch[i] as number) * mul;
    mul *= 256;
  }
  v += (last & 0x7f) * mul;
  return last & 0x80 ? -v || 0 : v;
}

/** Decodes a script number, throwing ScriptNumError as Core's CScriptNum constructor does. */
export function decodeScriptNum(
  vch: Uint8Array,
  requireMinimal = false,
  maxSize: number = DEFAULT_MAX_NUM_SIZE,
): number {
  if (vch.length > maxSize) throw new ScriptNumError('overflow', vch.length);
  const v = decodeScriptNumOrNaN(vch, requireMinimal, maxSize);
  if (Number.isNaN(v)) throw new ScriptNumError('non-minimal', vch.length);
  return v;
}

const CACHE_MIN = -1024;
const CACHE_MAX = 4096;
const cache: Uint8Array[] = [];

function encodeUncached(value: number): Uint8Array {
  if (value === 0) return new Uint8Array(0);
  const neg = value < 0;
  let abs = neg ? -value : value;
  const bytes: number[] = [];
  while (abs > 0) {
    bytes.push(abs % 256);
    abs = Math.floor(abs / 256);
  }
  const top = bytes[bytes.length - 1] as number;
  if (top & 0x80) bytes.push(neg ? 0x80 : 0);
  else if (neg) bytes[bytes.length - 1] = top | 0x80;
  return Uint8Array.from(bytes);
}

for (let v = CACHE_MIN; v <= CACHE_MAX; v++) cache.push(encodeUncached(v));

/**
 * Minimal encoding of `value` (Core's CScriptNum::serialize). Small values come from a shared cache:
 * the interpreter treats stack items as immutable, so sharing is safe and saves the allocation.
 */
export function encodeScriptNum(value: number): Uint8Array {
  if (value >= CACHE_MIN && value <= CACHE_MAX) return cache[value - CACHE_MIN] as Uint8Array;
  if (!Number.isSafeInteger(value)) throw new RangeError(`script number out of range: ${value}`);
  return encodeUncached(value);
}

/** Core's CastToBool: false for empty, all zeros, or all zeros with a final 0x80 (negative zero). */
export function castToBool(vch: Uint8Array): boolean {
  const n = vch.length;
  for (let i = 0; i < n; i++) {
    const b = vch[i] as number;
    if (b !== 0) return !(i === n - 1 && b === 0x80);
  }
  return false;
}
