/**
 * Fee rates, converted in this one place. Inside Vigil a fee rate is a whole number of satoshis per
 * 1000 virtual bytes (sat/kvB, Core's CFeeRate unit), so 1.5 sat/vB is exact and arithmetic stays bigint.
 * Core's RPC speaks BTC/kvB, Esplora sat/vB; both are converted here and nowhere else.
 */
import { VigilError } from '../../core/errors.ts';

export type FeeRate = { readonly satPerKvb: bigint };

export class InvalidFeeRateError extends VigilError {
  override name = 'InvalidFeeRateError';
}

export const SATS_PER_BTC = 100_000_000n;

export function feeRateFromSatPerKvb(satPerKvb: bigint): FeeRate {
  if (satPerKvb < 0n) throw new InvalidFeeRateError(`Negative fee rate: ${satPerKvb} sat/kvB`);
  return { satPerKvb };
}

/** Esplora's unit. Rounded up to whole sat/kvB so an estimate is never undercut. */
export function feeRateFromSatPerVb(satPerVb: number): FeeRate {
  if (!Number.isFinite(satPerVb) || satPerVb < 0) {
    throw new InvalidFeeRateError(`Invalid fee rate: ${satPerVb} sat/vB`);
  }
  // Round to 6 decimals first so 1.001 (binary 1.000999…) gives 1001, not 1002.
  return { satPerKvb: BigInt(Math.ceil(Number((satPerVb * 1000).toFixed(6)))) };
}

/** Core's unit (estimatesmartfee, maxfeerate, relayfee). A JSON number with at most 8 decimals. */
export function feeRateFromBtcPerKvb(btcPerKvb: number): FeeRate {
  return { satPerKvb: btcToSats(btcPerKvb) };
}

export function feeRateToBtcPerKvb(rate: FeeRate): number {
  return satsToBtcNumber(rate.satPerKvb);
}

export function feeRateToSatPerVb(rate: FeeRate): number {
  return Number(rate.satPerKvb) / 1000;
}

/** The fee a transaction of `vsize` pays at `rate`, rounded up as Core's CFeeRate::GetFee does. */
export function feeForVsize(rate: FeeRate, vsize: number): bigint {
  const v = BigInt(vsize);
  return (rate.satPerKvb * v + 999n) / 1000n;
}

/** The rate a transaction actually pays: fee / vsize, in sat/kvB, rounded down. */
export function feeRateOf(fee: bigint, vsize: number): FeeRate {
  return { satPerKvb: (fee * 1000n) / BigInt(vsize) };
}

/**
 * BTC amount as a JSON number → satoshis. Exact for every 8-decimal amount up to the money supply:
 * 21e6 BTC is 2.1e15 sat < 2^53, so the float product is within 0.5 of the integer.
 */
export function btcToSats(btc: number): bigint {
  if (!Number.isFinite(btc) || btc < 0) throw new InvalidFeeRateError(`Invalid BTC amount: ${btc}`);
  return BigInt(Math.round(btc * 1e8));
}

/** Satoshis → the JSON number Core prints (8 decimals at most). */
export function satsToBtcNumber(sats: bigint): number {
  const neg = sats < 0n;
  const abs = neg ? -sats : sats;
  const text = `${abs / SATS_PER_BTC}.${(abs % SATS_PER_BTC).toString().padStart(8, '0')}`;
  return (neg ? -1 : 1) * Number(text);
}
