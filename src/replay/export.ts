/**
 * `vigil disputes export`: a version-2 bundle of one dispute from Vigil's records and the two chains.
 * The chains give what the bundle must hold to be replayed with nothing running (the epoch's governance
 * history, the commitments, every dispute transaction with its confirmation and prevouts), exactly as
 * `vigil replay fetch` reads them; the record adds the graph the watcher verified and what the watcher
 * decided at the time, so that a replay can say whether it agrees.
 */
import { VigilError } from '../core/errors.ts';
import type { DisputeEvent, DisputeRecord } from '../dispute/records/types.ts';
import type { DisputeBundleV2 } from './bundle.ts';
import { type FetchDisputeBundleOptions, type FetchGraph, fetchDisputeBundle } from './fetch.ts';
import { watcherRecordOf } from './watcher-record.ts';

/** The chains do not show the dispute the record describes (another kick-off, or none). */
export class DisputeExportMismatchError extends VigilError {
  override name = 'DisputeExportMismatchError';
}

export type ExportDisputeBundleOptions = Omit<FetchDisputeBundleOptions, 'epoch' | 'graph'> & {
  record: DisputeRecord;
  history: readonly DisputeEvent[];
  /** What the graph is imported against (the configured keys, network and circuit). */
  expectations: FetchGraph['expectations'];
};

export async function exportDisputeBundle(o: ExportDisputeBundleOptions): Promise<DisputeBundleV2> {
  const rec = o.record;
  let document: unknown;
  try {
    document = JSON.parse(rec.opened.graph) as unknown;
  } catch {
    throw new DisputeExportMismatchError(`Dispute ${rec.id}: the recorded graph document is not JSON`);
  }
  const { record: _r, history: _h, expectations, ...chains } = o;
  const bundle = await fetchDisputeBundle({
    ...chains,
    epoch: rec.epoch,
    graph: { document, name: `the graph of dispute ${rec.id}`, expectations },
  });
  if (bundle.kickoffTxid !== rec.kickoffTxid) {
    throw new DisputeExportMismatchError(
      `Dispute ${rec.id} is about kick-off ${rec.kickoffTxid}, but the graph's claim is spent by ${bundle.kickoffTxid}`,
    );
  }
  // What the record saw confirmed must be on the chain the backend shows: a backend that hides the
  // disprove (answering "unspent") must not yield a bundle that quietly lacks it.
  const seen = new Set(bundle.transactions.map((t) => t.txid));
  const recorded: [string, string | undefined][] = [
    ['challenge', rec.challenge.seenIn?.txid],
    ['disprove', rec.disproved.txid],
  ];
  for (const [what, txid] of recorded) {
    if (txid !== undefined && !seen.has(txid)) {
      throw new DisputeExportMismatchError(
        `Dispute ${rec.id} recorded the ${what} ${txid}, but the Bitcoin backend shows no such spend of the dispute's outputs`,
        { metaMessages: ['Check the backend (a node that reorged or lags), then export again.'] },
      );
    }
  }
  return { ...bundle, source: 'records', watcher: watcherRecordOf(rec, o.history) };
}
