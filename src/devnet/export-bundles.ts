/**
 * At the end of a devnet run, while both chains still run: every dispute written as a version-2 bundle
 * twice, once from Vigil's records (`vigil disputes export`'s path) and once from the chains alone
 * (`vigil replay fetch`'s path), so that both can be replayed after the devnet, Redis included, is gone.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { identityStepCircuit } from '../../circuits/identity.ts';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { DisputeStore } from '../dispute/records/store.ts';
import type { L2Entry } from '../l2/decode.ts';
import type { WatchedDeployment } from '../l2/governance-contracts.ts';
import { MemoryJournalStore } from '../l2/memory-journal-store.ts';
import { L2Rpc } from '../l2/rpc.ts';
import { serializeBundle } from '../replay/bundle-codec.ts';
import { exportDisputeBundle } from '../replay/export.ts';
import { type FetchGraph, fetchDisputeBundle } from '../replay/fetch.ts';
import type { RedisClient } from '../store/redis.ts';
import { graphFileName } from '../watcher/graph-registry.ts';
import { devnetOperatorKeys } from './operator.ts';
import { DEVNET_NETWORK, DEVNET_PARAMS } from './run-context.ts';

export type ExportedBundle = {
  epoch: bigint;
  /** The dispute of the epoch, when there was one, and its bundle from the records. */
  disputeId: string | undefined;
  exported: string | undefined;
  /** The bundle read from the chains alone; undefined with `fetchError` when it could not be built. */
  fetched: string | undefined;
  fetchError: string | undefined;
};

/**
 * Every claimed epoch (a graph file in the operator's directory) fetched from the chains, and every
 * dispute exported from the records: `epoch-<N>.fetched.json`, `epoch-<N>.exported.json`.
 */
export async function exportDevnetBundles(o: {
  dir: string;
  redis: RedisClient;
  prefix: string;
  l2RpcUrl: string;
  deployment: WatchedDeployment;
  backend: BitcoinBackend;
  graphDir: string;
  epochs: readonly bigint[];
}): Promise<ExportedBundle[]> {
  await mkdir(o.dir, { recursive: true });
  const keys = devnetOperatorKeys();
  const expectations: FetchGraph['expectations'] = {
    network: DEVNET_NETWORK,
    params: DEVNET_PARAMS,
    circuit: identityStepCircuit,
    operator: keys.operator,
    committee: keys.committee,
  };
  // One journal for every read: the first ingests the L2, the others start from its cursor.
  const chains = {
    rpc: new L2Rpc({ urls: [o.l2RpcUrl] }),
    deployment: o.deployment,
    confirmations: 1,
    backend: o.backend,
    store: new MemoryJournalStore<L2Entry>(),
  };
  const store = new DisputeStore(o.redis, o.prefix);
  const records = await store.list();
  const out: ExportedBundle[] = [];
  for (const epoch of o.epochs) {
    const entry: ExportedBundle = {
      epoch,
      disputeId: undefined,
      exported: undefined,
      fetched: undefined,
      fetchError: undefined,
    };
    try {
      const document = JSON.parse(await readFile(join(o.graphDir, graphFileName(epoch)), 'utf8')) as unknown;
      const fetched = await fetchDisputeBundle({
        ...chains,
        epoch,
        graph: { document, name: graphFileName(epoch), expectations },
      });
      entry.fetched = join(o.dir, `epoch-${epoch}.fetched.json`);
      await writeFile(entry.fetched, serializeBundle(fetched));
    } catch (err) {
      entry.fetchError = err instanceof Error ? err.message : String(err);
    }
    const record = records.find((r) => r.epoch === epoch);
    if (record !== undefined) {
      const exported = await exportDisputeBundle({
        ...chains,
        record,
        history: await store.events(record.id),
        expectations,
      });
      entry.disputeId = record.id;
      entry.exported = join(o.dir, `epoch-${epoch}.exported.json`);
      await writeFile(entry.exported, serializeBundle(exported));
    }
    out.push(entry);
  }
  return out;
}
