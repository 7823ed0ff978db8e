/**
 * What the watcher decided at the time, taken from its dispute record for a bundle: the verdict, the
 * diagnosis, its trace roots, the step it disproved and the event history. The record keeps the verdict
 * and diagnosis as JSON text (informational fields); anything unreadable there is reported as such
 * rather than guessed.
 */
import { hexToBytes } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import { eventToJson } from '../dispute/records/codec.ts';
import type { DisputeEvent, DisputeRecord } from '../dispute/records/types.ts';
import type { BundleWatcherRecord } from './bundle.ts';

/** A dispute record whose verdict cannot go into a bundle. */
export class WatcherRecordError extends VigilError {
  override name = 'WatcherRecordError';
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(text: string | undefined, what: string, id: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new WatcherRecordError(`Dispute ${id}: the recorded ${what} is not JSON`);
  }
}

function verdictOf(v: unknown, id: string): BundleWatcherRecord['verdict'] {
  if (
    !isRecord(v) ||
    typeof v.outcome !== 'string' ||
    typeof v.equivocation !== 'boolean' ||
    !Array.isArray(v.reasons)
  ) {
    throw new WatcherRecordError(
      `Dispute ${id}: the recorded verdict lacks outcome, equivocation or reasons`,
    );
  }
  const reasons = v.reasons.map((r) => {
    if (!isRecord(r) || typeof r.code !== 'string' || typeof r.message !== 'string') {
      throw new WatcherRecordError(`Dispute ${id}: a recorded verdict reason lacks code or message`);
    }
    return { code: r.code, message: r.message };
  });
  return { outcome: v.outcome, equivocation: v.equivocation, reasons };
}

function diagnosisOf(d: unknown): BundleWatcherRecord['diagnosis'] {
  if (!isRecord(d)) return undefined;
  if (
    typeof d.fault === 'string' &&
    typeof d.rule === 'string' &&
    typeof d.step === 'number' &&
    typeof d.globalStep === 'number' &&
    typeof d.inputKind === 'string'
  ) {
    return { fault: d.fault, rule: d.rule, step: d.step, globalStep: d.globalStep, inputKind: d.inputKind };
  }
  if (d.fault === undefined && typeof d.reason === 'string') return { fault: undefined, reason: d.reason };
  return undefined;
}

export function watcherRecordOf(rec: DisputeRecord, history: readonly DisputeEvent[]): BundleWatcherRecord {
  const disprovedStep = rec.disproved.by === 'vigil' ? rec.disproved.step : rec.disprove.step;
  return {
    disputeId: rec.id,
    state: rec.state,
    outcome: rec.outcome,
    kickoffHeight: rec.kickoffHeight,
    verdict: verdictOf(parseJson(rec.opened.verdict, 'verdict', rec.id), rec.id),
    diagnosis: diagnosisOf(parseJson(rec.opened.diagnosis, 'diagnosis', rec.id)),
    expectedTrace: (rec.opened.expectedTrace ?? []).map((h) => hexToBytes(h)),
    disprovedStep,
    history: history.map(eventToJson),
  };
}
