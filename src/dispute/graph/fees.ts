/**
 * Fee decisions for what the watcher pays for itself (pure; the sender comes with the job queue).
 * The challenge is bumped by re-signing the challenger's own inputs with less change (RBF, BIP-125
 * rule 3/4: the replacement pays the old fee plus the incremental relay fee for its own size), or by a
 * child spending the change (CPFP). A hard cap from configuration is never exceeded.
 */
import { VigilError } from '../../core/errors.ts';

export type FeeCap = {
  /** Never pay more than this rate (sat/vB), whatever the estimate says. */
  maxFeeRate: bigint;
  /** Never pay more than this many sats for one transaction (or one package). */
  maxFee: bigint;
};

export class FeeCapExceededError extends VigilError {
  override name = 'FeeCapExceededError';
}

export class InsufficientFundsError extends VigilError {
  override name = 'InsufficientFundsError';
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

function checkCap(fee: bigint, vsize: number, cap: FeeCap, what: string): void {
  if (fee > cap.maxFee || fee > cap.maxFeeRate * BigInt(vsize)) {
    throw new FeeCapExceededError(`${what} would pay ${fee} sats (${vsize} vB), above the configured cap`, {
      metaMessages: [`Cap: ${cap.maxFeeRate} sat/vB and ${cap.maxFee} sats per transaction.`],
    });
  }
}

/** Fee for `vsize` at `feeRate` sat/vB, within the cap. */
export function feeFor(vsize: number, feeRate: bigint, cap: FeeCap): bigint {
  const fee = feeRate * BigInt(vsize);
  checkCap(fee, vsize, cap, 'The transaction');
  return fee;
}

export type ChallengeFunds = {
  /** Sum of the challengers' inputs. */
  contributed: bigint;
  /** What output 0 pays the operator (the graph's challenge amount). */
  challengeAmount: bigint;
  /** The challenge connector's value (input 0). */
  connectorValue: bigint;
};

/** The change a challenge returns for a given fee; refuses when the contributions fall short. */
export function challengeChange(funds: ChallengeFunds, fee: bigint, dustLimit = 330n): bigint {
  const change = funds.contributed + funds.connectorValue - funds.challengeAmount - fee;
  if (change < 0n) {
    throw new InsufficientFundsError(`The challenge needs ${-change} more sats for a fee of ${fee}`);
  }
  // Dust change goes to the fee rather than making the challenge non-standard.
  return change < dustLimit ? 0n : change;
}

/**
 * The fee of an RBF replacement: at least the target rate, and at least the replaced fee plus the
 * incremental relay fee for the replacement's size (BIP-125 rules 3 and 4).
 */
export function replacementFee(args: {
  previousFee: bigint;
  vsize: number;
  targetFeeRate: bigint;
  incrementalFeeRate?: bigint;
  cap: FeeCap;
}): bigint {
  const incremental = args.incrementalFeeRate ?? 1n;
  const fee = [
    args.targetFeeRate * BigInt(args.vsize),
    args.previousFee + incremental * BigInt(args.vsize),
  ].reduce((a, b) => (a > b ? a : b));
  checkCap(fee, args.vsize, args.cap, 'The replacement');
  return fee;
}

/**
 * The fee of a CPFP child so that parent + child reach the target rate (the miner's package rate).
 * The cap applies to the whole package: a child never makes the package pay more than allowed.
 */
export function cpfpChildFee(args: {
  parentFee: bigint;
  parentVsize: number;
  childVsize: number;
  targetFeeRate: bigint;
  minRelayFeeRate?: bigint;
  cap: FeeCap;
}): bigint {
  const packageVsize = args.parentVsize + args.childVsize;
  const needed = args.targetFeeRate * BigInt(packageVsize) - args.parentFee;
  const floor = (args.minRelayFeeRate ?? 1n) * BigInt(args.childVsize);
  const fee = needed > floor ? needed : floor;
  checkCap(args.parentFee + fee, packageVsize, args.cap, 'The CPFP package');
  return fee;
}

/** The rate a transaction or package pays, rounded up (sat/vB). */
export function feeRateOf(fee: bigint, vsize: number): bigint {
  return ceilDiv(fee, BigInt(vsize));
}
