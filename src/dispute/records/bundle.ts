/**
 * The export bundle of one dispute: everything needed to replay it offline — the record, its event
 * history, the verdict, the operator's graph document, and every transaction Vigil built (hex). JSON,
 * bigints as decimal strings.
 */
import type { DisputeEvent, DisputeRecord } from './store.ts';

export const BUNDLE_FORMAT = 'vigil-dispute-bundle';
export const BUNDLE_VERSION = 1;

export type DisputeBundle = {
  format: typeof BUNDLE_FORMAT;
  version: typeof BUNDLE_VERSION;
  exportedAt: string;
  dispute: {
    id: string;
    epoch: string;
    state: string;
    outcome: string | undefined;
    kickoffTxid: string;
    kickoffHeight: number;
    deadlines: {
      challengeBy: number | undefined;
      assertTimeoutFrom: number | undefined;
      /** Known once the assert is in a block. */
      disproveBy: number | undefined;
    };
  };
  verdict: unknown;
  /** Where Vigil located the fraud (governance step, rule), as the watcher described it. */
  diagnosis: unknown;
  /** Vigil's own trace roots r_0 … r_k (hex), what an asserted trace is judged against. */
  expectedTrace: unknown;
  graph: unknown;
  transactions: Record<string, { txid: string; hex: string }>;
  history: DisputeEvent[];
};

const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function disputeBundle(rec: DisputeRecord, history: DisputeEvent[], now = new Date()): DisputeBundle {
  const transactions: DisputeBundle['transactions'] = {};
  const pairs: [string, string, string][] = [
    ['challenge', 'challengeTxid', 'challengeRaw'],
    ['assertTimeout', 'timeoutTxid', 'timeoutRaw'],
    ['dryRunChallenge', 'dryRunTxid', 'dryRunRaw'],
    ['disprove', 'disproveTxid', 'disproveRaw'],
    ['dryRunDisprove', 'dryRunDisproveTxid', 'dryRunDisproveRaw'],
  ];
  for (const [name, id, raw] of pairs) {
    const txid = rec.fields[id];
    const hex = rec.fields[raw];
    if (txid !== undefined && hex !== undefined) transactions[name] = { txid, hex };
  }
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    exportedAt: now.toISOString(),
    dispute: {
      id: rec.id,
      epoch: rec.epoch.toString(),
      state: rec.state,
      outcome: rec.outcome,
      kickoffTxid: rec.kickoffTxid,
      kickoffHeight: rec.kickoffHeight,
      deadlines: {
        challengeBy: num(rec.fields.challengeBy),
        assertTimeoutFrom: num(rec.fields.assertTimeoutFrom),
        disproveBy: num(rec.fields.disproveBy),
      },
    },
    verdict: parseJson(rec.fields.verdict),
    diagnosis: parseJson(rec.fields.diagnosis),
    expectedTrace: parseJson(rec.fields.expectedTrace),
    graph: parseJson(rec.fields.graph),
    transactions,
    history,
  };
}
