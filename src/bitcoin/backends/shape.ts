/**
 * Checks a decoded reply against the shape the protocol promises.
 *
 * Two kinds of failure, told apart because they mean different things:
 * - the reply is not the protocol's shape (an HTML error page, a missing field, a string where a number
 *   belongs): an unusable reply, transient, retried (`TransientFault`);
 * - the reply is well-formed but a number in it is out of its range (a negative height, `1e400`, which
 *   JSON.parse turns into Infinity, an amount above the money supply, a string of a million digits):
 *   no honest node sends that, so it is a lie (`BackendLiedError`, not retried).
 *
 * The range-checked fields below parse to Vigil's types (bigint satoshis, `FeeRate`), so the checks
 * cannot be forgotten by a caller that uses the value.
 */
import { z } from 'zod';
import { type FeeRate, SATS_PER_BTC } from '../codec/fee-rate.ts';
import { type BackendKind, BackendLiedError, TransientFault } from './errors.ts';

/** Core's MAX_MONEY: 21 million BTC, in satoshis. */
export const MAX_MONEY_SATS = 21_000_000n * SATS_PER_BTC;

/**
 * The highest fee rate a backend may report: 1 BTC/kvB (100,000 sat/vB), far above any fee market
 * seen, so a rate above it is an attempt to make Vigil burn its wallet, not an estimate.
 */
export const MAX_SANE_FEE_RATE_SAT_PER_KVB = SATS_PER_BTC;

const MAX_U32 = 0xffffffff;

/** Marks a zod issue as a range violation (a lie) rather than a shape mismatch. */
const OUT_OF_RANGE = 'vigilOutOfRange';

type Checked<T> = { ok: true; value: T } | { ok: false; why: string };

/** A value as the message shows it: long digit strings are cut, so a 30 MB reply is not a 30 MB message. */
export function showValue(v: unknown): string {
  const text = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return text.length > 40 ? `${text.slice(0, 24)}… (${text.length} characters)` : text;
}

function ranged<I, T>(base: z.ZodType<I>, check: (v: I) => Checked<T>) {
  return base.transform((v, ctx) => {
    const r = check(v);
    if (r.ok) return r.value;
    ctx.addIssue({ code: 'custom', message: r.why, params: { [OUT_OF_RANGE]: true } });
    return z.NEVER;
  });
}

/** Any JSON number, Infinity included: z.number() would call 1e400 a type error, but it is a range lie. */
const anyNumber = z.custom<number>((v) => typeof v === 'number', 'expected a number');
const numberOrString = z.union([anyNumber, z.string()]);

function integerIn(v: number, min: number, max: number, what: string): Checked<number> {
  if (Number.isSafeInteger(v) && v >= min && v <= max) return { ok: true, value: v };
  return { ok: false, why: `${showValue(v)} is not ${what} (an integer from ${min} to ${max})` };
}

export function checkHeight(v: number): Checked<number> {
  return integerIn(v, 0, Number.MAX_SAFE_INTEGER, 'a block height');
}

/** Block heights and tip heights: non-negative safe integers. */
export const heightField = ranged(anyNumber, checkHeight);
/** Output indexes and input indexes (u32 in the serialization). */
export const indexField = ranged(anyNumber, (v) => integerIn(v, 0, MAX_U32, 'an output or input index'));
/** Header timestamps (u32 in the header). */
export const timeField = ranged(anyNumber, (v) => integerIn(v, 0, MAX_U32, 'a block time'));
/** Confirmation counts, and target block counts of an estimate. */
export const countField = ranged(anyNumber, (v) => integerIn(v, 0, Number.MAX_SAFE_INTEGER, 'a count'));
/** getblockheader's confirmations: -1 is Core's answer for a block that is not in the active chain. */
export const headerConfirmationsField = ranged(anyNumber, (v) =>
  integerIn(v, -1, Number.MAX_SAFE_INTEGER, 'a block header confirmation count'),
);

/** A whole number of satoshis (Esplora), as a JSON number or a decimal string. */
export const satsField = ranged(numberOrString, (v): Checked<bigint> => {
  let sats: bigint | undefined;
  if (typeof v === 'number') sats = Number.isSafeInteger(v) ? BigInt(v) : undefined;
  // 16 digits hold MAX_MONEY; a longer string is refused before BigInt reads it.
  else if (/^\d{1,16}$/.test(v)) sats = BigInt(v);
  if (sats !== undefined && sats >= 0n && sats <= MAX_MONEY_SATS) return { ok: true, value: sats };
  return { ok: false, why: `${showValue(v)} is not an amount (0 to ${MAX_MONEY_SATS} sat)` };
});

/**
 * A BTC amount with at most 8 decimals (Core's ValueFromAmount) → satoshis, exactly.
 * A JSON number is accepted only when it is the double Core would print for a whole number of
 * satoshis, so 1e-9 or 0.123456789 are refused instead of rounded into something plausible.
 */
export function btcToSatsExact(v: number | string): bigint | undefined {
  if (typeof v === 'string') {
    const m = /^(\d{1,8})(?:\.(\d{1,8}))?$/.exec(v);
    if (!m) return undefined;
    return BigInt(m[1] as string) * SATS_PER_BTC + BigInt((m[2] ?? '').padEnd(8, '0'));
  }
  if (!Number.isFinite(v) || v < 0 || v > 21_000_000) return undefined;
  // 21e6 BTC is 2.1e15 sat < 2^53: the product is within 0.5 of the integer for every 8-decimal amount.
  const sats = Math.round(v * 1e8);
  const whole = Math.floor(sats / 1e8);
  const back = Number(`${whole}.${String(sats - whole * 1e8).padStart(8, '0')}`);
  return back === v ? BigInt(sats) : undefined;
}

/** Core's amounts (BTC, 8 decimals) → satoshis, 0 to MAX_MONEY. */
export const btcAmountField = ranged(numberOrString, (v): Checked<bigint> => {
  const sats = btcToSatsExact(v);
  if (sats !== undefined && sats <= MAX_MONEY_SATS) return { ok: true, value: sats };
  return { ok: false, why: `${showValue(v)} is not a BTC amount (0 to 21000000, 8 decimals at most)` };
});

function saneRate(satPerKvb: bigint | undefined, v: unknown, unit: string): Checked<FeeRate> {
  if (satPerKvb !== undefined && satPerKvb <= MAX_SANE_FEE_RATE_SAT_PER_KVB)
    return { ok: true, value: { satPerKvb } };
  return {
    ok: false,
    why: `${showValue(v)} is not a fee rate (0 to ${Number(MAX_SANE_FEE_RATE_SAT_PER_KVB) / 1000} sat/vB, in ${unit})`,
  };
}

/** Core's fee rates, BTC/kvB with 8 decimals, which are exactly sat/kvB. */
export const btcPerKvbField = ranged(numberOrString, (v) => saneRate(btcToSatsExact(v), v, 'BTC/kvB'));

/** Esplora's fee rates, sat/vB as a float; rounded up to whole sat/kvB so an estimate is never undercut. */
export const satPerVbField = ranged(anyNumber, (v) => {
  // Checked before any arithmetic: Infinity and 1e300 must not reach BigInt().
  if (!Number.isFinite(v) || v < 0 || v > Number(MAX_SANE_FEE_RATE_SAT_PER_KVB) / 1000) {
    return saneRate(undefined, v, 'sat/vB');
  }
  // Round to 6 decimals first so 1.001 (binary 1.000999…) gives 1001, not 1002.
  return saneRate(BigInt(Math.ceil(Number((v * 1000).toFixed(6)))), v, 'sat/vB');
});

/** A height sent as plain text (Esplora's /blocks/tip/height). */
export function parseHeightText(text: string): Checked<number> {
  // 16 digits exceed MAX_SAFE_INTEGER already; a longer string is refused without converting it.
  if (!/^\d{1,16}$/.test(text)) return { ok: false, why: `${showValue(text)} is not a block height` };
  return checkHeight(Number(text));
}

export function expectShape<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  backend: BackendKind,
): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const lie = parsed.error.issues.find((i) => i.code === 'custom' && i.params?.[OUT_OF_RANGE] === true);
    const issue = lie ?? parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unexpected shape';
    if (lie) throw new BackendLiedError(backend, 'out-of-range', `${what}: ${where}`);
    throw new TransientFault(`${what}: unexpected reply (${where})`);
  }
  return parsed.data;
}
