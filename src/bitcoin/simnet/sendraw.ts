/**
 * Bitcoin Core 26's `sendrawtransaction`, the checks it makes before the mempool sees anything, shared
 * by both fronts: the RPC front passes the caller's arguments, the Esplora front passes none, because
 * electrs broadcasts with `sendrawtransaction <hex>` and so always gets Core's defaults. Without this
 * in front of the chain, simnet accepted transactions no real node or Esplora server would carry (a
 * value-carrying OP_RETURN output, a fee above 0.10 BTC/kvB through Esplora).
 *
 * Order, as in Core's rpc/mempool.cpp: the argument types, maxburnamount, the decode, the burn check,
 * maxfeerate, then mempool acceptance (a transaction whose txid is already in the mempool answers its
 * txid without being checked again).
 */
import { hexToBytes } from '../../core/bytes.ts';
import { decodeTx, txidHex } from '../codec/codec.ts';
import type { FeeRate } from '../codec/fee-rate.ts';
import type { Tx } from '../tx/types.ts';
import type { SimChain } from './chain.ts';
import { hasValidOps, isUnspendable, TxReject } from './rules.ts';

/** A JSON-RPC error as Core returns it: code and message. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** RPC_TYPE_ERROR: what Core's AmountFromValue and argument type checks throw. */
export const RPC_TYPE_ERROR = -3;
/** RPC_TRANSACTION_ERROR: TransactionError::MAX_BURN_EXCEEDED and MAX_FEE_EXCEEDED map to it. */
export const RPC_TRANSACTION_ERROR = -25;
export const MAX_BURN_EXCEEDED_MESSAGE =
  'Unspendable output exceeds maximum configured by user (maxburnamount)';
export const MAX_FEE_EXCEEDED_MESSAGE = 'Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)';
export const TX_DECODE_FAILED_MESSAGE = 'TX decode failed. Make sure the tx has at least one input.';

/** DEFAULT_MAX_RAW_TX_FEE_RATE: 0.10 BTC/kvB. */
export const DEFAULT_MAX_RAW_TX_FEE_RATE: FeeRate = { satPerKvb: 10_000_000n };
/** sendrawtransaction's maxburnamount default: no value may go to an unspendable output. */
export const DEFAULT_MAX_BURN_AMOUNT = 0n;

const MAX_MONEY = 21_000_000n * 100_000_000n;
/** ParseFixedPoint's bound: 10^18 - 1 in units of 10^-8. */
const FIXED_POINT_UPPER_BOUND = 10n ** 18n - 1n;
const AMOUNT_DECIMALS = 8;

/**
 * Core's ParseFixedPoint with 8 decimals: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, no more
 * precision than a satoshi (trailing zeros do not count), and below 10^10 BTC.
 */
function parseFixedPoint(text: string): bigint | undefined {
  const m = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?)([0-9]+))?$/.exec(text);
  if (!m) return undefined;
  const [, sign, whole = '', fraction = '', expSign, expDigits = '0'] = m;
  // A lone leading 0 is skipped; every other digit enters the mantissa, trailing zeros as exponent.
  const digits = `${whole === '0' ? '' : whole}${fraction}`;
  const significant = digits.replace(/0+$/, '');
  const mantissa = BigInt(significant === '' ? '0' : significant);
  // Core refuses exponents whose digits could overflow its 64-bit arithmetic.
  if (expDigits.length > 17 || mantissa > FIXED_POINT_UPPER_BOUND) return undefined;
  const exponent =
    Number(expDigits) * (expSign === '-' ? -1 : 1) -
    fraction.length +
    (digits.length - significant.length) +
    AMOUNT_DECIMALS;
  // Below a satoshi, or at 10^10 BTC and above, even for zero.
  if (exponent < 0 || exponent >= 18) return undefined;
  const value = mantissa * 10n ** BigInt(exponent);
  if (value > FIXED_POINT_UPPER_BOUND) return undefined;
  return sign === '-' ? -value : value;
}

/**
 * Core's AmountFromValue: a JSON number or string in BTC → satoshis, with Core's RPC_TYPE_ERROR
 * messages. A JSON number arrives here already parsed, so its text is JavaScript's rendering of it.
 */
export function amountFromValue(value: unknown): bigint {
  if (typeof value !== 'number' && typeof value !== 'string') {
    throw new RpcError(RPC_TYPE_ERROR, 'Amount is not a number or string');
  }
  const sats = parseFixedPoint(typeof value === 'number' ? String(value) : value);
  if (sats === undefined) throw new RpcError(RPC_TYPE_ERROR, 'Invalid amount');
  if (sats < 0n || sats > MAX_MONEY) throw new RpcError(RPC_TYPE_ERROR, 'Amount out of range');
  return sats;
}

/** A maxfeerate argument (BTC/kvB): Core's default when absent; 0 means no limit. */
export function maxFeeRateFromValue(value: unknown): FeeRate | undefined {
  const satPerKvb =
    value === undefined || value === null ? DEFAULT_MAX_RAW_TX_FEE_RATE.satPerKvb : amountFromValue(value);
  return satPerKvb === 0n ? undefined : { satPerKvb };
}

function jsonTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return 'string';
  return 'object';
}

/** Decodes the hex argument, as Core's DecodeHexTx, or throws Core's RPC_DESERIALIZATION_ERROR. */
export function decodeRawArgument(hex: string): Tx {
  try {
    return decodeTx(hexToBytes(hex));
  } catch {
    throw new RpcError(-22, TX_DECODE_FAILED_MESSAGE);
  }
}

/**
 * The outputs sendrawtransaction counts as burns: provably unspendable (OP_RETURN first, or longer
 * than 10,000 bytes) or with an invalid opcode. A P2WSH whose witness script is OP_RETURN is none of
 * these: its scriptPubKey is an ordinary witness program.
 */
export function burnsValue(script: Uint8Array): boolean {
  return isUnspendable(script) || !hasValidOps(script);
}

/** Throws Core's MAX_BURN_EXCEEDED when an unspendable output carries more than `maxBurn`. */
export function checkMaxBurn(tx: Tx, maxBurn: bigint): void {
  for (const out of tx.outputs) {
    if (burnsValue(out.script) && out.value > maxBurn) {
      throw new RpcError(RPC_TRANSACTION_ERROR, MAX_BURN_EXCEEDED_MESSAGE);
    }
  }
}

export type SendRawArguments = { hexstring: unknown; maxfeerate?: unknown; maxburnamount?: unknown };

/**
 * `sendrawtransaction hexstring ( maxfeerate maxburnamount )` against the chain's mempool. Returns
 * the txid, or throws RpcError with Core's code and message.
 */
export function sendRawTransaction(chain: SimChain, args: SendRawArguments): string {
  if (typeof args.hexstring !== 'string') {
    throw new RpcError(
      RPC_TYPE_ERROR,
      `Wrong type passed:\n{\n    "Position 1 (hexstring)": "JSON value of type ${jsonTypeName(args.hexstring)} is not of expected type string"\n}`,
    );
  }
  const maxBurn =
    args.maxburnamount === undefined || args.maxburnamount === null
      ? DEFAULT_MAX_BURN_AMOUNT
      : amountFromValue(args.maxburnamount);
  const tx = decodeRawArgument(args.hexstring);
  checkMaxBurn(tx, maxBurn);
  const maxFeeRate = maxFeeRateFromValue(args.maxfeerate);
  const txid = txidHex(tx);
  // Core's BroadcastTransaction: a txid already in the mempool is re-announced, not re-validated.
  if (chain.mempool.get(txid) !== undefined) return txid;
  try {
    return chain.acceptTx(tx, maxFeeRate === undefined ? {} : { maxFeeRate }).txid;
  } catch (err) {
    if (err instanceof TxReject) throw new RpcError(err.rpc.code, err.rpc.message);
    throw err;
  }
}
