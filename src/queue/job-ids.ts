/**
 * Deterministic job ids. BullMQ ignores an add whose id already exists, so the same work enqueued by
 * two processes, or twice by one after a crash, runs once. BullMQ reserves ':' (its key separator) and
 * treats all-digit ids as its own counters; both are refused here.
 */
import { VigilError } from '../core/errors.ts';

export class JobIdError extends VigilError {
  override name = 'JobIdError';
}

export function jobId(...parts: (string | number | bigint)[]): string {
  const id = parts.map(String).join('-');
  if (id.includes(':')) throw new JobIdError(`Job id ${id} contains ':'`);
  if (/^\d+$/.test(id)) throw new JobIdError(`Job id ${id} is all digits`);
  if (id.length === 0) throw new JobIdError('Empty job id');
  return id;
}

export const judgeJobId = (epoch: bigint, kickoffTxid: string): string =>
  jobId('judge', `e${epoch}`, `k${kickoffTxid.slice(0, 16)}`);
export const openJobId = (disputeId: string): string => jobId('open', disputeId);
export const challengeJobId = (disputeId: string): string => jobId('challenge', disputeId);
/** The scheduler that tracks one dispute until it is resolved (one per dispute, upserted). */
export const trackSchedulerId = (disputeId: string): string => jobId('track', disputeId);
/**
 * A one-off track run for a dispute whose deadline is at risk, at most one per Bitcoin tip: it does not
 * depend on the scheduler's chain of runs, which a failover can break (its next run lost with a primary).
 */
export const urgentTrackJobId = (disputeId: string, tip: number): string =>
  jobId('track', disputeId, 'at', tip);
/** The repeating job that plays one game until it is resolved (one per game, upserted). */
export const gameSchedulerId = (gameId: string): string => jobId('game', gameId);
