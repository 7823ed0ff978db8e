/**
 * The `vigil watch` configuration a served devnet writes into its directory: every key the daemon needs
 * to watch this network (contracts, start block, genesis, graph directory, operator and committee keys),
 * the watcher's wallet key in a file of mode 0600, and the Bitcoin RPC password in another. The shape is
 * config/devnet.yaml's; the values are this network's.
 */
import { chmodSync } from 'node:fs';
import { stringify } from 'yaml';
import { bytesToHex } from '../core/bytes.ts';
import { serializeInputsFile } from '../governance/inputs-file.ts';
import type { GenesisOptions } from '../governance/state.ts';
import type { GovernanceAddresses } from '../l2/governance-contracts.ts';
import { writeFileAtomic } from '../store/atomic-file.ts';
import { devnetOperatorKeys } from './operator-keys.ts';
import type { ServeDirPaths } from './serve-dir.ts';

export type WatchConfigValues = {
  l2Url: string;
  chainId: number;
  startBlock: bigint;
  addresses: GovernanceAddresses;
  genesis: GenesisOptions;
  bitcoinRpcUrl: string;
  bitcoinRpcUser: string;
  bitcoinRpcPassword: string;
  redisUrl: string;
  /** Redis key prefix of this network's watcher (a hash tag, so a cluster keeps it on one slot). */
  keyPrefix: string;
  httpPort: number;
  /** A game network's challenger registry: the daemon registers and posts bundles from `paths.l2Key`. */
  challengerRegistry?: string;
};

/** The config tree (YAML-ready) for this network; a Redis password is named by its file, never inlined. */
export function watchConfigTree(
  paths: ServeDirPaths,
  v: WatchConfigValues,
  redisPasswordFile?: string,
): Record<string, unknown> {
  const keys = devnetOperatorKeys();
  const a = v.addresses;
  return {
    mode: 'challenge',
    l2: {
      rpcUrls: [v.l2Url],
      chainId: v.chainId,
      startBlock: Number(v.startBlock),
      genesisFile: paths.genesis,
      contracts: {
        token: a.token,
        staking: a.staking,
        governor: a.governor,
        paramRegistry: a.registry,
        epochManager: a.epochManager,
        stateCommitment: a.stateCommitment,
        ...(v.challengerRegistry === undefined ? {} : { challengerRegistry: v.challengerRegistry }),
      },
      confirmations: 1,
      pollIntervalMs: 250,
    },
    bitcoin: {
      backend: 'core-rpc',
      url: v.bitcoinRpcUrl,
      network: 'regtest',
      auth: { user: v.bitcoinRpcUser, passwordFile: `${paths.root}/bitcoin-rpc.password` },
      confirmations: 1,
      pollIntervalMs: 250,
    },
    fees: { targetBlocks: 1, maxFeeRateSatVb: 50 },
    redis: {
      url: v.redisUrl,
      keyPrefix: v.keyPrefix,
      ...(redisPasswordFile !== undefined ? { passwordFile: redisPasswordFile } : {}),
    },
    keys: {
      watcher: { file: paths.watcherKey },
      ...(v.challengerRegistry === undefined ? {} : { l2: { file: paths.l2Key } }),
    },
    http: { port: v.httpPort },
    log: { level: 'info', format: 'json' },
    shutdown: { graceMs: 5000 },
    dispute: {
      deadlineMarginBlocks: 2,
      alertWarnBlocks: 6,
      alertCriticalBlocks: 3,
      graphDir: paths.graphs,
      operatorKey: bytesToHex(keys.operator),
      committeeKeys: keys.committee.map(bytesToHex),
    },
  };
}

/** A secret's file: mode 0600, written atomically. */
export function writeSecretFile(path: string, text: string): void {
  writeFileAtomic(path, text, 0o600);
  // The mode of an existing file survives a rename onto it only for the new inode: set it explicitly.
  chmodSync(path, 0o600);
}

/**
 * Writes watch.yaml, genesis.json and the Bitcoin RPC password file. The watcher key file is written once,
 * at creation (`writeWatcherKey`), and never rewritten.
 */
export function writeWatchConfig(paths: ServeDirPaths, v: WatchConfigValues): void {
  writeFileAtomic(paths.genesis, serializeInputsFile({ genesis: v.genesis, inputs: [] }));
  writeSecretFile(`${paths.root}/bitcoin-rpc.password`, `${v.bitcoinRpcPassword}\n`);
  // watch.yaml is not a secret file: a password in --redis-url goes to a 0600 file of its own.
  let redisPasswordFile: string | undefined;
  let redisUrl = v.redisUrl;
  const url = URL.canParse(v.redisUrl) ? new URL(v.redisUrl) : undefined;
  if (url?.password) {
    redisPasswordFile = `${paths.root}/redis.password`;
    writeSecretFile(redisPasswordFile, `${decodeURIComponent(url.password)}\n`);
    url.password = '';
    redisUrl = url.toString();
  }
  const header =
    '# Written by `vigil devnet serve` for the network in this directory; rewritten at every start.\n' +
    '# Start the daemon with: vigil watch --config <this file>\n';
  writeFileAtomic(
    paths.watchConfig,
    header + stringify(watchConfigTree(paths, { ...v, redisUrl }, redisPasswordFile)),
  );
}

/** The watcher's wallet key (64 hex digits), mode 0600. */
export function writeWatcherKey(paths: ServeDirPaths, secret: Uint8Array): void {
  writeSecretFile(paths.watcherKey, `${bytesToHex(secret)}\n`);
}
