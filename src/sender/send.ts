/**
 * The sender: what every transaction Vigil sends goes through. It builds nothing. It picks the fee rate
 * a transaction may pay (the estimate, never below the relay floor, never above the cap), checks a
 * built transaction before it leaves (Vigil's interpreter and policy, the fee caps, then the node's
 * testmempoolaccept), broadcasts stored bytes, and turns every answer into a typed outcome
 * (`broadcast-outcome.ts`). What cannot be cured by retrying becomes a permanent job failure that is
 * recorded in the dispute's events, counted in `vigil_send_refused_total` and alerted on. Writing a
 * transaction ahead and (re)broadcasting what was recorded are `write-ahead.ts` and `rebroadcast.ts`.
 */
import { UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { type FeeRate, feeRateFromSatPerVb } from '../bitcoin/codec/fee-rate.ts';
import { type CheckedTx, checkChallenge } from '../dispute/plan/challenge-tx.ts';
import { asTxid, type SentTx, type Txid } from '../dispute/records/types.ts';
import type { WatcherMetrics } from '../queue/metrics.ts';
import { type BroadcastOutcome, classifyBroadcastError, classifyRejectReason } from './broadcast-outcome.ts';

/** The fee bounds every transaction Vigil sends is held to (`fees.*` in the configuration). */
export type FeePolicy = {
  targetBlocks: number;
  /** The hard cap: no challenge or replacement pays more per vB. */
  maxFeeRateSatVb: number;
  fallbackSatVb: number;
  /** Replace the challenge after it waited this many blocks below the estimate (default 2). */
  bumpAfterBlocks?: number;
  /** Each replacement raises the rate by at least this much (sat/vB, default 1). */
  bumpStepSatVb?: number;
  /** The relay's incremental fee rate (sat/vB, default 1, Core's default). */
  incrementalSatVb?: number;
  /** The absolute cap: no transaction Vigil sends pays more than this (sats, default 0.05 BTC). */
  maxFeeSat?: bigint;
  /** The relay floor: nothing is sent below it, whatever the estimate (sat/vB, default 1). */
  minRelaySatVb?: number;
};

/** What the sender tells a record: a refusal for good, or a fee the cap leaves no room to raise. */
export type SendNote =
  | {
      type: 'send-refused';
      detail: { tx: SentTx; txid: Txid; kind: 'refused' | 'fee-cap' | 'check'; reason: string };
    }
  | { type: 'fee-capped'; detail: { txid: string; tx?: SentTx; feeRate?: bigint; reason: string } };

/** Where the sender's notes go: a dispute's record, or a game's. */
export type SendNotes = {
  note(id: string, event: SendNote, change: { key: string }): Promise<unknown>;
};

/** What the sender needs: the backend it sends through, the fee policy, where refusals are told. */
export type SendContext = {
  backend: BitcoinBackend;
  fees: FeePolicy;
  metrics: WatcherMetrics | undefined;
  store: SendNotes;
  logger: Logger | undefined;
};

/** What Vigil sends, as metrics and events name it. */
export type { SentTx } from '../dispute/records/types.ts';

/** Core's default -minrelaytxfee: below it nothing relays, whatever an estimator says. */
export const DEFAULT_MIN_RELAY_SAT_VB = 1;
/** The absolute cap per transaction when the configuration sets none (0.05 BTC). */
export const DEFAULT_MAX_FEE_SAT = 5_000_000n;

/** A transaction Vigil refuses to send, or a node refused for good: the job fails and an alert fires. */
export class SendRefusedError extends UnrecoverableError {
  override name = 'SendRefusedError';
  constructor(
    readonly what: SentTx,
    readonly kind: 'refused' | 'fee-cap' | 'check',
    readonly reason: string,
  ) {
    super(`The ${what} cannot be sent (${kind}): ${reason}`);
  }
}

export function maxFeeSat(ctx: Pick<SendContext, 'fees'>): bigint {
  return ctx.fees.maxFeeSat ?? DEFAULT_MAX_FEE_SAT;
}

function floorRate(ctx: Pick<SendContext, 'fees'>): FeeRate {
  return feeRateFromSatPerVb(ctx.fees.minRelaySatVb ?? DEFAULT_MIN_RELAY_SAT_VB);
}

export function capRate(ctx: Pick<SendContext, 'fees'>): FeeRate {
  return feeRateFromSatPerVb(ctx.fees.maxFeeRateSatVb);
}

/** `rate` held between the relay floor and the cap. */
export function boundedRate(ctx: Pick<SendContext, 'fees'>, rate: FeeRate): FeeRate {
  const floor = floorRate(ctx);
  const cap = capRate(ctx);
  if (rate.satPerKvb < floor.satPerKvb) return floor;
  return rate.satPerKvb > cap.satPerKvb ? cap : rate;
}

/** The rate for a transaction sent now: the estimate for the target (or the fallback), bounded. */
export async function feeRateNow(ctx: SendContext): Promise<FeeRate> {
  const est = await ctx.backend.estimateFee(ctx.fees.targetBlocks);
  return boundedRate(ctx, est?.rate ?? feeRateFromSatPerVb(ctx.fees.fallbackSatVb));
}

/** Records a permanent refusal (event, metric, log) and returns the error the job throws. */
export async function refuse(
  ctx: SendContext,
  disputeId: string,
  txid: string,
  error: SendRefusedError,
): Promise<SendRefusedError> {
  ctx.metrics?.sendRefused.inc({ tx: error.what, kind: error.kind });
  await ctx.store.note(
    disputeId,
    {
      type: 'send-refused',
      detail: { tx: error.what, txid: asTxid(txid), kind: error.kind, reason: error.reason },
    },
    { key: `refused-${error.what}-${txid}` },
  );
  ctx.logger?.error(
    { dispute: disputeId, tx: error.what, txid, kind: error.kind, reason: error.reason },
    'a transaction Vigil needs cannot be sent: it will not be retried',
  );
  return error;
}

export type { CheckedTx } from '../dispute/plan/challenge-tx.ts';

/**
 * Vigil's interpreter and policy, then the fee caps. A failure is permanent: no retry makes a script
 * valid or a fee smaller.
 */
export async function checkBuilt(ctx: SendContext, disputeId: string, what: SentTx, built: CheckedTx) {
  try {
    checkChallenge(built, what);
  } catch (err) {
    throw await refuse(ctx, disputeId, built.txid, new SendRefusedError(what, 'check', String(err)));
  }
  const cap = capRate(ctx).satPerKvb;
  if (built.fee > maxFeeSat(ctx) || built.fee * 1000n > cap * BigInt(built.vsize)) {
    throw await refuse(
      ctx,
      disputeId,
      built.txid,
      new SendRefusedError(
        what,
        'fee-cap',
        `it would pay ${built.fee} sat for ${built.vsize} vB, above the cap (${ctx.fees.maxFeeRateSatVb} sat/vB, ${maxFeeSat(ctx)} sat)`,
      ),
    );
  }
}

/** The node's testmempoolaccept, classified; `accepted` on backends without it (Esplora). */
export async function testAccept(ctx: SendContext, raw: Uint8Array): Promise<BroadcastOutcome> {
  if (!ctx.backend.testAccept) return { kind: 'accepted' };
  let res: Awaited<ReturnType<NonNullable<typeof ctx.backend.testAccept>>>[number] | undefined;
  try {
    [res] = await ctx.backend.testAccept([raw], { maxFeeRate: capRate(ctx) });
  } catch (err) {
    return classifyBroadcastError(err);
  }
  if (!res) return { kind: 'unavailable', reason: 'testmempoolaccept gave no answer' };
  return res.allowed ? { kind: 'accepted' } : classifyRejectReason(res.reason ?? 'no reason given');
}

/** Broadcasts raw bytes; the answer classified and counted. Never throws for a node's answer. */
export async function broadcastRaw(
  ctx: SendContext,
  raw: Uint8Array,
  what: SentTx,
  result: 'sent' | 'rebroadcast',
): Promise<BroadcastOutcome> {
  try {
    await ctx.backend.broadcast(raw, { maxFeeRate: capRate(ctx) });
    ctx.metrics?.broadcasts.inc({ tx: what, result });
    return { kind: 'accepted' };
  } catch (err) {
    const outcome = classifyBroadcastError(err);
    if (outcome.kind !== 'already-known') ctx.metrics?.broadcasts.inc({ tx: what, result: 'rejected' });
    return outcome;
  }
}

/** What the caller has to act on itself; everything else was settled by `settle`. */
export type Actionable = Extract<BroadcastOutcome, { kind: 'conflict' | 'fee-too-low' }>;

/**
 * Settles the outcomes a caller never handles itself: `accepted`/`already-known` return 'ok';
 * `unavailable`/`premature` throw a retryable error; `refused` records the refusal and throws the
 * permanent error. `conflict` and `fee-too-low` come back for the caller to rebuild or follow.
 */
export async function settle(
  ctx: SendContext,
  disputeId: string,
  txid: string,
  what: SentTx,
  outcome: BroadcastOutcome,
): Promise<'ok' | Actionable> {
  switch (outcome.kind) {
    case 'accepted':
    case 'already-known':
      return 'ok';
    case 'unavailable':
    case 'premature':
      throw new Error(`The ${what} ${txid} is not sent yet (${outcome.kind}): ${outcome.reason}`);
    case 'refused':
      throw await refuse(ctx, disputeId, txid, new SendRefusedError(what, 'refused', outcome.reason));
    default:
      return outcome;
  }
}
