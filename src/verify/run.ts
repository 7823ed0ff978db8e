/**
 * `vigil verify --epoch` from the configuration: the L2 RPC, the deployment, the journal cache, the
 * operator's graph and the Bitcoin backend, put together for verifyEpoch. No Redis is touched.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { VigilConfig } from '../config/schema.ts';
import { hexToBytes } from '../core/bytes.ts';
import { VigilError, type VigilErrorCategory } from '../core/errors.ts';
import { GRAPH_DOCUMENT_MAX_BYTES } from '../dispute/graph/document.ts';
import { InputsFileError } from '../governance/errors.ts';
import type { Address } from '../governance/index.ts';
import type { JournalStore } from '../l2/cursor-store.ts';
import type { L2Entry } from '../l2/decode.ts';
import { FileJournalStore } from '../l2/file-journal-store.ts';
import type { WatchedDeployment } from '../l2/governance-contracts.ts';
import { MemoryJournalStore } from '../l2/memory-journal-store.ts';
import { L2Rpc } from '../l2/rpc.ts';
import {
  backendFromConfig,
  deploymentFromConfig,
  graphExpectationsFromConfig,
} from '../watcher/from-config.ts';
import { graphFileName } from '../watcher/graph-registry.ts';
import { isAccountAddress } from './account-run.ts';
import { defaultCacheRoot, deploymentCacheName } from './cache-dir.ts';
import { type EpochVerification, type GraphSource, type IngestProgress, verifyEpoch } from './epoch.ts';

export class VerifyUsageError extends VigilError {
  override name = 'VerifyUsageError';
  override readonly category: VigilErrorCategory = 'usage';
}

export class VerifyConfigError extends VigilError {
  override name = 'VerifyConfigError';
  override readonly category: VigilErrorCategory = 'config';
}

export type VerifyRunOptions = {
  epoch: bigint | 'latest';
  /** A 32-byte root as hex, or a file holding one. */
  root?: string;
  /** The operator's graph document; default `dispute.graphDir/epoch-<N>.json` when that file exists. */
  graph?: string;
  /** Read the kick-off on Bitcoin when a graph is at hand (default true). */
  bitcoin?: boolean;
  /** The journal cache's root directory; false keeps the journal in memory only. */
  cacheDir?: string | false;
  crossCheck?: boolean;
  /** A validator's or delegator's address (0x + 40 hex digits). */
  account?: string;
  onProgress?: (p: IngestProgress) => void;
  /** Told why a cache that could not be read was started over. */
  onCacheDiscarded?: (reason: string) => void;
  env?: Record<string, string | undefined>;
};

const ROOT_HEX = /^(0x)?[0-9a-fA-F]{64}$/;
/** A root file holds 66 characters and maybe a newline or a BOM; more is not a root file. */
const ROOT_FILE_MAX_BYTES = 4096;

/**
 * A file's text when it holds at most `max` bytes, else undefined. Read in bounded steps, not by its
 * stated size: /dev/zero or a pipe states 0 bytes and /dev/zero never ends (`--root <(…)` still works).
 */
export function readAtMost(path: string, max: number): string | undefined {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    return n > max ? undefined : buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** `--root`: 64 hex digits (0x optional), or a file whose content (trimmed) is that. */
export function parseRootArgument(value: string): Uint8Array {
  if (ROOT_HEX.test(value)) return hexToBytes(value.replace(/^0x/, '').toLowerCase(), '--root');
  let text: string;
  try {
    text = (readAtMost(value, ROOT_FILE_MAX_BYTES) ?? '').trim();
  } catch {
    throw new VerifyUsageError(`--root ${value} is neither 32 bytes of hex nor a readable file`);
  }
  if (!ROOT_HEX.test(text)) {
    throw new VerifyUsageError(`--root file ${value} does not hold 32 bytes of hex (64 digits, 0x optional)`);
  }
  return hexToBytes(text.replace(/^0x/, '').toLowerCase(), '--root');
}

function readGraph(path: string): unknown {
  let text: string;
  try {
    const read = readAtMost(path, GRAPH_DOCUMENT_MAX_BYTES);
    if (read === undefined) {
      throw new VerifyUsageError(
        `the graph file ${path} is more than a graph document may be (${GRAPH_DOCUMENT_MAX_BYTES} bytes)`,
      );
    }
    text = read;
  } catch (err) {
    if (err instanceof VerifyUsageError) throw err;
    throw new VerifyUsageError(`the graph file ${path} cannot be read`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new VerifyUsageError(`the graph file ${path} is not JSON`, { cause: err });
  }
}

/**
 * The operator's graph for `epoch`: the file given, else `dispute.graphDir/epoch-<N>.json` when it
 * exists; undefined when there is none. With `bitcoin` not false, the Bitcoin backend to read it on.
 */
export function graphSourceFromConfig(
  config: VigilConfig,
  o: { graph?: string; bitcoin?: boolean; env?: Record<string, string | undefined> },
  epoch: bigint,
): GraphSource | undefined {
  let path = o.graph;
  if (path === undefined && config.dispute.graphDir !== undefined) {
    const candidate = join(config.dispute.graphDir, graphFileName(epoch));
    if (existsSync(candidate)) path = candidate;
  }
  if (path === undefined) return undefined;
  if (config.dispute.operatorKey === undefined || config.dispute.committeeKeys === undefined) {
    throw new VerifyConfigError(
      'checking an operator graph needs dispute.operatorKey and dispute.committeeKeys',
      {
        metaMessages: ['They are the keys the L2 registry names; see docs/configuration.md.'],
      },
    );
  }
  return {
    document: readGraph(path),
    name: path,
    expectations: graphExpectationsFromConfig(config),
    ...(o.bitcoin !== false ? { backend: backendFromConfig(config, o.env) } : {}),
  };
}

/** What reading the L2 from the configuration needs, and how to let go of the cache. */
export type L2FromConfig = {
  rpc: L2Rpc;
  deployment: WatchedDeployment;
  store: JournalStore<L2Entry>;
  /** Releases the cache directory (its lock); call once done. */
  close: () => void;
};

/**
 * The L2 RPC (retrying briefly: a one-shot command), the watched deployment and the journal store (a
 * cache directory per chain and deployment, or memory with `cacheDir: false`), from the configuration.
 */
export function l2FromConfig(
  config: VigilConfig,
  o: {
    cacheDir?: string | false;
    onCacheDiscarded?: (reason: string) => void;
    env?: Record<string, string | undefined>;
    /** Names the command in the error when the contracts are not configured. */
    command?: string;
  } = {},
): L2FromConfig {
  let deployment: ReturnType<typeof deploymentFromConfig>;
  try {
    deployment = deploymentFromConfig(config);
  } catch (err) {
    // The genesis file is part of the configuration here: exit 3, naming the key.
    if (!(err instanceof InputsFileError)) throw err;
    throw new VerifyConfigError(`l2.genesisFile: ${err.shortMessage}`, { cause: err });
  }
  if (deployment === undefined) {
    throw new VerifyConfigError(
      `${o.command ?? 'vigil verify'} needs the L2 contracts: set every l2.contracts.* address`,
      { metaMessages: ['token, staking, governor, paramRegistry, epochManager and stateCommitment'] },
    );
  }
  const rpc = new L2Rpc({
    urls: config.l2.rpcUrls,
    timeoutMs: config.l2.requestTimeoutMs,
    // A one-shot command: an unreachable L2 is reported (exit 4) within seconds, not retried for long.
    retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
  });
  if (o.cacheDir === false) {
    return { rpc, deployment, store: new MemoryJournalStore<L2Entry>(), close: () => {} };
  }
  const dir = join(o.cacheDir ?? defaultCacheRoot(o.env), deploymentCacheName(config.l2.chainId, deployment));
  const file = FileJournalStore.open<L2Entry>(dir, o.onCacheDiscarded);
  return { rpc, deployment, store: file, close: () => file.close() };
}

export async function runVerifyEpoch(config: VigilConfig, o: VerifyRunOptions): Promise<EpochVerification> {
  const { rpc, deployment, store, close } = l2FromConfig(config, o);
  try {
    const root = o.root !== undefined ? parseRootArgument(o.root) : undefined;
    if (o.account !== undefined && !isAccountAddress(o.account)) {
      throw new VerifyUsageError(`--account ${o.account} is not an address (0x and 40 hex digits)`);
    }
    if (o.graph !== undefined && !existsSync(o.graph))
      throw new VerifyUsageError(`the graph file ${o.graph} does not exist`);
    return await verifyEpoch({
      rpc,
      deployment,
      store,
      epoch: o.epoch,
      confirmations: config.l2.confirmations,
      chainId: config.l2.chainId,
      maxRange: BigInt(config.l2.maxRange),
      ...(root ? { root } : {}),
      graph: (epoch: bigint) => graphSourceFromConfig(config, o, epoch),
      ...(o.crossCheck !== undefined ? { crossCheck: o.crossCheck } : {}),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.account !== undefined ? { account: o.account.toLowerCase() as Address } : {}),
    });
  } finally {
    close();
  }
}
