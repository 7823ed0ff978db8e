/**
 * Consensus and relay rules simnet applies, each failure carrying Bitcoin Core's reject reason
 * (validation.cpp, consensus/tx_check.cpp, consensus/tx_verify.cpp, policy/rbf.cpp).
 */
import { checkTransaction } from '../tx/check.ts';
import type { Tx } from '../tx/types.ts';
import { COINBASE_MATURITY } from './block-builder.ts';

/**
 * How Core classifies the failure, which decides the RPC error code and testmempoolaccept's text:
 * missing inputs → -25 / "missing-inputs"; already in chain → -27; max fee → -25 / "max-fee-exceeded";
 * everything else → -26 with "reason, debug".
 */
export type RejectKind = 'missing-inputs' | 'already-in-chain' | 'max-fee' | 'rejected';

export class TxReject extends Error {
  override name = 'TxReject';
  constructor(
    readonly kind: RejectKind,
    readonly reason: string,
    readonly debug?: string,
  ) {
    super(debug ? `${reason}, ${debug}` : reason);
  }

  /** sendrawtransaction's error: code and message as Core prints them. */
  get rpc(): { code: number; message: string } {
    switch (this.kind) {
      case 'missing-inputs':
        return { code: -25, message: 'bad-txns-inputs-missingorspent' };
      case 'already-in-chain':
        return { code: -27, message: 'Transaction outputs already in utxo set' };
      case 'max-fee':
        return { code: -25, message: 'Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)' };
      default:
        return { code: -26, message: this.message };
    }
  }

  /** testmempoolaccept's reject-reason. */
  get testAcceptReason(): string {
    switch (this.kind) {
      case 'missing-inputs':
        return 'missing-inputs';
      case 'max-fee':
        return 'max-fee-exceeded';
      case 'already-in-chain':
        return 'txn-already-known';
      default:
        return this.reason;
    }
  }
}

export const reject = (reason: string, debug?: string): TxReject => new TxReject('rejected', reason, debug);

const MAX_MONEY = 21_000_000n * 100_000_000n;
export const SEQUENCE_FINAL = 0xffffffff;
const LOCKTIME_THRESHOLD = 500_000_000;
const SEQUENCE_LOCKTIME_DISABLE_FLAG = 0x80000000;
const SEQUENCE_LOCKTIME_TYPE_FLAG = 1 << 22;
const SEQUENCE_LOCKTIME_MASK = 0x0000ffff;

/** The transaction engine's CheckTransaction, as a reject. */
export function requireCheckTransaction(tx: Tx): void {
  const r = checkTransaction(tx);
  if (!r.ok) throw reject(r.reason);
}

/** IsFinalTx: nLockTime against the height and median-time-past of the block that would include it. */
export function isFinalTx(tx: Tx, blockHeight: number, blockTime: number): boolean {
  if (tx.locktime === 0) return true;
  const limit = tx.locktime < LOCKTIME_THRESHOLD ? blockHeight : blockTime;
  if (tx.locktime < limit) return true;
  return tx.inputs.every((i) => i.sequence === SEQUENCE_FINAL);
}

export type SpentCoin = { value: bigint; script: Uint8Array; height: number; coinbase: boolean };

/**
 * BIP-68 (CalculateSequenceLocks + EvaluateSequenceLocks). `mtpAt(h)` is the median-time-past of the
 * block at height h; a coin's time lock counts from the MTP of the block before the one that mined it.
 */
export function sequenceLocksSatisfied(
  tx: Tx,
  coins: SpentCoin[],
  blockHeight: number,
  prevBlockMtp: number,
  mtpAt: (height: number) => number,
): boolean {
  if (tx.version < 2) return true;
  let minHeight = -1;
  let minTime = -1;
  tx.inputs.forEach((input, i) => {
    if ((input.sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG) >>> 0 !== 0) return;
    const coin = coins[i] as SpentCoin;
    const value = input.sequence & SEQUENCE_LOCKTIME_MASK;
    if ((input.sequence & SEQUENCE_LOCKTIME_TYPE_FLAG) !== 0) {
      const coinTime = mtpAt(Math.max(coin.height - 1, 0));
      minTime = Math.max(minTime, coinTime + value * 512 - 1);
    } else {
      minHeight = Math.max(minHeight, coin.height + value - 1);
    }
  });
  return minHeight < blockHeight && minTime < prevBlockMtp;
}

/** Consensus::CheckTxInputs: maturity, value ranges, inputs ≥ outputs. Returns the fee. */
export function checkTxInputs(tx: Tx, coins: SpentCoin[], spendHeight: number): bigint {
  let inValue = 0n;
  for (const coin of coins) {
    if (coin.coinbase && spendHeight - coin.height < COINBASE_MATURITY) {
      throw reject(
        'bad-txns-premature-spend-of-coinbase',
        `tried to spend coinbase at depth ${spendHeight - coin.height}`,
      );
    }
    inValue += coin.value;
    if (coin.value < 0n || coin.value > MAX_MONEY || inValue > MAX_MONEY)
      throw reject('bad-txns-inputvalues-outofrange');
  }
  const outValue = tx.outputs.reduce((s, o) => s + o.value, 0n);
  if (inValue < outValue) {
    throw reject(
      'bad-txns-in-belowout',
      `value in (${formatBtc(inValue)}) < value out (${formatBtc(outValue)})`,
    );
  }
  return inValue - outValue;
}

export function formatBtc(sats: bigint): string {
  return `${sats / 100_000_000n}.${(sats % 100_000_000n).toString().padStart(8, '0')}`;
}

/** BIP-125 signalling: some input has nSequence below 0xfffffffe. */
export function signalsRbf(tx: Tx): boolean {
  return tx.inputs.some((i) => i.sequence < 0xfffffffe);
}

const MAX_SCRIPT_SIZE = 10_000;
const MAX_SCRIPT_ELEMENT_SIZE = 520;
/** Core's MAX_OPCODE: OP_NOP10. The tapscript-only OP_CHECKSIGADD (0xba) is above it. */
const MAX_OPCODE = 0xb9;
const OP_RETURN = 0x6a;

/**
 * Core's CScript::IsUnspendable: a script starting with OP_RETURN, or longer than any script the
 * interpreter runs. Such outputs never enter the UTXO set, and sendrawtransaction counts their value
 * as burned.
 */
export function isUnspendable(script: Uint8Array): boolean {
  return (script.length > 0 && script[0] === OP_RETURN) || script.length > MAX_SCRIPT_SIZE;
}

/**
 * Core's CScript::HasValidOps: every instruction parses, no opcode above OP_NOP10, no push above 520
 * bytes. sendrawtransaction treats an output failing it as a burn too.
 */
export function hasValidOps(script: Uint8Array): boolean {
  let i = 0;
  while (i < script.length) {
    const op = script[i++] as number;
    if (op > MAX_OPCODE) return false;
    if (op > 0x4e) continue;
    let len = op;
    const width = op === 0x4c ? 1 : op === 0x4d ? 2 : op === 0x4e ? 4 : 0;
    if (width > 0) {
      if (i + width > script.length) return false;
      len = 0;
      for (let b = width - 1; b >= 0; b--) len = len * 256 + (script[i + b] as number);
      i += width;
    }
    if (i + len > script.length || len > MAX_SCRIPT_ELEMENT_SIZE) return false;
    i += len;
  }
  return true;
}
