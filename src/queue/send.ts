/**
 * What every transaction Vigil sends goes through: the fee rate it may pay (the estimate, never above
 * the configured cap), the checks before it leaves (Vigil's interpreter and policy, then the node's
 * testmempoolaccept), and the broadcast of the bytes stored in the dispute record.
 */
import { UnrecoverableError } from 'bullmq';
import { BroadcastRejectedError } from '../bitcoin/backends/errors.ts';
import { type FeeRate, feeRateFromSatPerVb } from '../bitcoin/backends/fee-rate.ts';
import type { Prevout, Tx } from '../bitcoin/tx/types.ts';
import { hexToBytes } from '../core/bytes.ts';
import type { DisputeRecord } from '../dispute/records/store.ts';
import { checkChallenge } from './challenge-tx.ts';
import type { DisputeJobContext } from './dispute-jobs.ts';

type SendContext = Pick<DisputeJobContext, 'backend' | 'fees' | 'metrics'>;

/** The rate for a transaction sent now: the estimate for the target (or the fallback), capped. */
export async function feeRateNow(ctx: SendContext): Promise<FeeRate> {
  const cap = feeRateFromSatPerVb(ctx.fees.maxFeeRateSatVb);
  const est = await ctx.backend.estimateFee(ctx.fees.targetBlocks);
  const rate = est?.rate ?? feeRateFromSatPerVb(ctx.fees.fallbackSatVb);
  // Never above the cap, whatever the estimator says.
  return rate.satPerKvb > cap.satPerKvb ? cap : rate;
}

/**
 * Vigil's interpreter and policy (a failure is permanent: retrying cannot make the script valid), then
 * the node's testmempoolaccept (a refusal may pass later, e.g. once a parent confirms: retried).
 */
export async function checkBeforeSend(
  ctx: SendContext,
  built: { tx: Tx; prevouts: Prevout[]; raw: Uint8Array },
  what: string,
): Promise<void> {
  try {
    checkChallenge(built, what);
  } catch (err) {
    throw new UnrecoverableError(`The ${what} fails Vigil's checks: ${String(err)}`);
  }
  if (ctx.backend.testAccept) {
    const [res] = await ctx.backend.testAccept([built.raw]);
    // The very same transaction already in the mempool or the chain (an overlapping run sent it) is
    // no refusal: the caller's write-ahead and broadcast treat it as already sent.
    if (!res?.allowed && !/already|known/i.test(res?.reason ?? ''))
      throw new Error(`testmempoolaccept refused the ${what}: ${res?.reason ?? 'no answer'}`);
  }
}

/**
 * Broadcasts the raw transaction stored in `field` of the record. "Already known" and "already in
 * chain" count as success (another run or process sent the same bytes): `known`.
 */
export async function sendStored(
  ctx: SendContext,
  rec: DisputeRecord,
  field: string,
  tx: string,
  result: 'sent' | 'rebroadcast' = 'sent',
): Promise<'sent' | 'known' | 'absent'> {
  const raw = rec.fields[field];
  if (raw === undefined) return 'absent';
  try {
    await ctx.backend.broadcast(hexToBytes(raw), {
      maxFeeRate: feeRateFromSatPerVb(ctx.fees.maxFeeRateSatVb),
    });
    ctx.metrics?.broadcasts.inc({ tx, result });
    return 'sent';
  } catch (err) {
    if (err instanceof BroadcastRejectedError && /already|known/i.test(err.reason)) return 'known';
    ctx.metrics?.broadcasts.inc({ tx, result: 'rejected' });
    throw err;
  }
}
