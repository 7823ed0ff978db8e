/**
 * The export bundle of one dispute: everything needed to replay it offline — the record, its event
 * history, the verdict, the operator's graph document, and every transaction Vigil built (hex). JSON,
 * bigints as decimal strings.
 */
import { bytesToHex } from '../../core/bytes.ts';
import { eventToJson } from './codec.ts';
import type { DisputeEvent, DisputeRecord } from './types.ts';

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
  /** The events as Redis holds them (amounts as decimal strings), with their position. */
  history: Record<string, unknown>[];
};

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
  const pairs: [string, { txid?: string; raw?: Uint8Array } | undefined][] = [
    ['challenge', rec.challenge],
    ['assertTimeout', rec.timeout],
    ['dryRunChallenge', rec.dryRun.challenge],
    ['disprove', rec.disprove],
    ['dryRunDisprove', rec.dryRun.disprove],
  ];
  for (const [name, t] of pairs) {
    if (t?.txid !== undefined && t.raw !== undefined)
      transactions[name] = { txid: t.txid, hex: bytesToHex(t.raw) };
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
        challengeBy: rec.opened.challengeBy,
        assertTimeoutFrom: rec.opened.assertTimeoutFrom,
        disproveBy: rec.assert.disproveBy,
      },
    },
    verdict: parseJson(rec.opened.verdict),
    diagnosis: parseJson(rec.opened.diagnosis),
    expectedTrace: rec.opened.expectedTrace,
    graph: parseJson(rec.opened.graph),
    transactions,
    history: history.map(eventToJson),
  };
}
