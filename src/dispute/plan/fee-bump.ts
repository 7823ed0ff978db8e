/**
 * Replace-by-fee for Vigil's challenge. Input 0 (the connector, with the operator's presigned
 * SINGLE|ANYONECANPAY signatures) stays as it is; the watcher's own inputs and change are re-signed at
 * a higher rate. Every replacement spends the same connector, so it always conflicts with the version
 * it replaces, and only confirmed wallet coins are added (BIP-125 rule 2).
 *
 * The rate rises to the estimate, by at least the configured step, and pays the replaced fee plus the
 * incremental relay fee for its own size (BIP-125 rules 3 and 4). It never goes above the cap: at the
 * cap the decision is `capped` and the caller alerts instead of sending.
 */
import { decodeTx } from '../../bitcoin/codec/codec.ts';
import { feeForVsize, feeRateFromSatPerKvb } from '../../bitcoin/codec/fee-rate.ts';
import { hashToDisplayHex } from '../../bitcoin/tx/serialize.ts';
import type { Graph } from '../graph/build.ts';
import type { PresignedSignatures } from '../graph/sign.ts';
import { asTxid, type ChallengeFacts, type ChallengeVersion } from '../records/types.ts';
import {
  type BuiltChallenge,
  buildFundedChallenge,
  type ChallengeSigner,
  type FundingCoin,
} from './challenge-tx.ts';

export type { ChallengeVersion } from '../records/types.ts';

export type BumpSettings = {
  /** Bump once the challenge has waited this many blocks unconfirmed. */
  afterBlocks: number;
  /** Each replacement raises the rate by at least this much (sat/kvB). */
  minStep: bigint;
  /** Never pay more than this rate (sat/kvB). */
  cap: bigint;
  /** The relay's incremental fee rate (sat/kvB), BIP-125 rule 4. */
  incremental: bigint;
};

export type BumpPlan =
  | { kind: 'wait'; reason: string }
  | { kind: 'capped'; rate: bigint }
  | { kind: 'bump'; rate: bigint };

/**
 * Whether to replace now and at which rate (sat/kvB) before the size is known. Bumps only when the
 * challenge has waited long enough and the estimate says its rate is too low.
 */
export function planBump(args: {
  currentRate: bigint;
  estimate: bigint | undefined;
  waitedBlocks: number;
  settings: BumpSettings;
}): BumpPlan {
  const { currentRate, estimate, waitedBlocks, settings } = args;
  if (waitedBlocks < settings.afterBlocks) return { kind: 'wait', reason: `waited ${waitedBlocks} blocks` };
  if (estimate === undefined) return { kind: 'wait', reason: 'no fee estimate' };
  if (estimate <= currentRate) return { kind: 'wait', reason: 'the rate is at the estimate' };
  if (currentRate >= settings.cap) return { kind: 'capped', rate: currentRate };
  // The estimate, but at least one step up, and never above the cap (bigint: no Math.min/max).
  let rate = currentRate + settings.minStep;
  if (estimate > rate) rate = estimate;
  if (rate > settings.cap) rate = settings.cap;
  return { kind: 'bump', rate };
}

export type Replacement = { kind: 'built'; built: BuiltChallenge } | { kind: 'capped'; rate: bigint };

/**
 * Builds the replacement at `plan.rate`, raised until it pays the old fee plus the incremental fee for
 * its own size; `capped` when that would need more than the cap, or when dropping dust change would
 * push the real rate over it.
 */
export function buildReplacement(args: {
  graph: Graph;
  sigs: PresignedSignatures;
  coins: readonly FundingCoin[];
  signer: ChallengeSigner;
  previousFee: bigint;
  rate: bigint;
  settings: BumpSettings;
}): Replacement {
  const { settings } = args;
  let rate = args.rate;
  for (let round = 0; round < 4; round++) {
    if (rate > settings.cap) return { kind: 'capped', rate: settings.cap };
    const built = buildFundedChallenge(
      args.graph,
      args.sigs,
      args.coins,
      args.signer,
      feeRateFromSatPerKvb(rate),
    );
    const floor = args.previousFee + feeForVsize(feeRateFromSatPerKvb(settings.incremental), built.vsize);
    if (built.fee >= floor) {
      if (built.fee * 1000n > settings.cap * BigInt(built.vsize))
        return { kind: 'capped', rate: settings.cap };
      return { kind: 'built', built };
    }
    // The smallest rate whose fee for this size reaches the floor.
    rate = (floor * 1000n + BigInt(built.vsize) - 1n) / BigInt(built.vsize);
  }
  return { kind: 'capped', rate: settings.cap };
}

/** The versions a record holds, original first (records written before bumping had one). */
export function challengeVersions(challenge: ChallengeFacts): ChallengeVersion[] {
  if (challenge.versions !== undefined) return challenge.versions;
  if (challenge.raw === undefined || challenge.txid === undefined) return [];
  return [
    {
      txid: challenge.txid,
      raw: challenge.raw,
      fee: challenge.fee ?? 0n,
      feeRate: challenge.feeRate ?? 0n,
    },
  ];
}

/** The record facts that make `v` the current version. */
export function currentChallenge(v: ChallengeVersion): ChallengeFacts {
  return { txid: v.txid, raw: v.raw, fee: v.fee, feeRate: v.feeRate };
}

export function versionOf(built: BuiltChallenge): ChallengeVersion {
  return { txid: asTxid(built.txid), raw: built.raw, fee: built.fee, feeRate: built.feeRate.satPerKvb };
}

/**
 * The wallet outpoints the stored challenges of open disputes spend (every version: an older one may
 * still be the one that confirms). The challenge job never picks them for another dispute.
 */
export function committedOutpoints(records: readonly { challenge: ChallengeFacts }[]): Set<string> {
  const out = new Set<string>();
  for (const rec of records) {
    for (const v of challengeVersions(rec.challenge)) {
      for (const input of decodeTx(v.raw).inputs) {
        out.add(`${hashToDisplayHex(input.prevTxid)}:${input.vout}`);
      }
    }
  }
  return out;
}
