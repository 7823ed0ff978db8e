/**
 * The sender: what every transaction Vigil sends goes through. It builds nothing. It picks the fee rate
 * a transaction may pay (the estimate, never below the relay floor, never above the cap), checks a
 * built transaction before it leaves (Vigil's interpreter and policy, the fee caps, then the node's
 * testmempoolaccept), broadcasts stored bytes, and turns every answer into a typed outcome
 * (`broadcast-outcome.ts`). What cannot be cured by retrying becomes a permanent job failure that is
 * recorded in the dispute's events, counted in `vigil_send_refused_total` and alerted on.
 */
import { UnrecoverableError } from 'bullmq';
import { type FeeRate, feeRateFromSatPerVb } from '../bitcoin/backends/fee-rate.ts';
import type { Prevout, Tx } from '../bitcoin/tx/types.ts';
import { asTxid, type SentTx } from '../dispute/records/types.ts';
import { type BroadcastOutcome, classifyBroadcastError, classifyRejectReason } from './broadcast-outcome.ts';
import { checkChallenge } from './challenge-tx.ts';
import type { DisputeJobContext } from './job-context.ts';

export type SendContext = Pick<DisputeJobContext, 'backend' | 'fees' | 'metrics' | 'store' | 'logger'>;

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

export type CheckedTx = {
  tx: Tx;
  prevouts: Prevout[];
  raw: Uint8Array;
  txid: string;
  fee: bigint;
  vsize: number;
};

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
