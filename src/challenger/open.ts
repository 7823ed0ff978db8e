/** The open job: a fraud verdict becomes a durable dispute record (idempotent). */
import { disputeDeadlines } from '../dispute/records/deadlines.ts';
import { asTxid } from '../dispute/records/types.ts';
import type { DisputeJobContext } from './context.ts';
import type { OpenJobData } from './payloads.ts';

/** Creates the record (idempotent); the caller enqueues the challenge job after it. */
export async function processOpen(ctx: DisputeJobContext, data: OpenJobData): Promise<string> {
  const d = disputeDeadlines(data.kickoffHeight, {
    challengeWindow: data.challengeWindow,
    assertWindow: data.assertWindow,
    disproveWindow: 0,
  });
  const r = await ctx.store.open({
    id: data.disputeId,
    epoch: BigInt(data.epoch),
    kickoffTxid: asTxid(data.kickoffTxid),
    kickoffHeight: data.kickoffHeight,
    opened: {
      graph: data.graph,
      verdict: data.verdict,
      seenAt: data.seenAt,
      challengeBy: d.challengeBy,
      assertTimeoutFrom: d.assertTimeoutFrom,
      ...(data.expectedTrace === undefined ? {} : { expectedTrace: data.expectedTrace }),
      ...(data.diagnosis === undefined ? {} : { diagnosis: data.diagnosis }),
    },
    detail: { epoch: BigInt(data.epoch), kickoffTxid: asTxid(data.kickoffTxid) },
  });
  return r.status;
}
