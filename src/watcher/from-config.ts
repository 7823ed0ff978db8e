/**
 * Building the watcher's parts from the configuration: the Bitcoin backend (with its credentials read
 * from the named secrets), the BullMQ connection from the Redis URL, the wallet key when the mode
 * spends or builds, and the epoch source (L2 ingestion + the operator's graphs) when it is configured.
 */

import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Address } from 'viem';
import { stepCircuitById } from '../../circuits/index.ts';
import { CoreRpcBackend } from '../bitcoin/backends/core-rpc.ts';
import { EsploraBackend } from '../bitcoin/backends/esplora.ts';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { spentByVerifiedTx } from '../bitcoin/backends/verified-outspend.ts';
import { addressForScript } from '../bitcoin/codec/address.ts';
import { loadWalletKey, type WalletKey } from '../bitcoin/wallet/keys.ts';
import type { VigilConfig } from '../config/schema.ts';
import { readSecret } from '../config/secrets.ts';
import { hexToBytes } from '../core/bytes.ts';
import { bondCoinScript, challengerIdentity } from '../dispute/game/challenger-identity.ts';
import { claimDocumentLimits } from '../dispute/game/claim-import.ts';
import { bondCoinMinimum, claimParameters } from '../dispute/game/claim-parameters.ts';
import type { GraphExpectations } from '../dispute/graph/import.ts';
import { defaultGraphParameters } from '../dispute/graph/parameters.ts';
import { InputsFileError } from '../governance/errors.ts';
import { INPUTS_FORMAT, parseInputsFile } from '../governance/inputs-file.ts';
import type { GenesisOptions } from '../governance/state.ts';
import { type BundlePosterOptions, createBundlePoster } from '../l2/bundle-poster.ts';
import { createClaimFollower } from '../l2/claim-follower.ts';
import type { WatchedDeployment } from '../l2/governance-contracts.ts';
import { l2Sender } from '../l2/registry-sender.ts';
import type { L2Rpc } from '../l2/rpc.ts';
import type { RedisClient } from '../store/redis.ts';
import { claimDocumentReader } from './claim-documents.ts';
import { REGISTRY_CLAIM_INSTANCE } from './claim-games.ts';
import { redisBondReservations, redisClaimLedger } from './claim-ledger.ts';
import { createL2EpochSource, type L2EpochSource } from './epoch-source.ts';
import { defaultImportWorkers, GraphImportPool, type GraphImportRunner } from './graph-import-pool.ts';
import type { ClaimWatchOptions, WatcherOptions } from './watcher.ts';

export function backendFromConfig(
  config: VigilConfig,
  env: Record<string, string | undefined> = process.env,
): BitcoinBackend {
  const b = config.bitcoin;
  // bitcoin.requestTimeoutMs bounds each try; the backends' retry policy keeps its other defaults.
  const retry = { timeoutMs: b.requestTimeoutMs };
  if (b.backend === 'esplora') return new EsploraBackend({ baseUrl: b.url, retry });
  const a = b.auth;
  let auth: { user: string; password: string } | undefined;
  if (a.cookieFile !== undefined) {
    // Not mode-checked: bitcoind writes the cookie, and -rpccookieperms=group is Core's own way to share
    // it with a Vigil running as another user (docs/configuration.md).
    const [user, password] = readSecret({ file: a.cookieFile }, 'bitcoin.auth.cookieFile', env).split(':');
    if (user !== undefined && password !== undefined) auth = { user, password };
  } else if (a.user !== undefined) {
    const source = a.passwordEnv !== undefined ? { env: a.passwordEnv } : { file: a.passwordFile ?? '' };
    const what = a.passwordEnv !== undefined ? 'bitcoin.auth.passwordEnv' : 'bitcoin.auth.passwordFile';
    // Checked again at the read, not only at start: this is the read that hands the secret over.
    const password = readSecret(source, what, env, { allowInsecureFiles: config.secrets.allowInsecureFiles });
    auth = { user: a.user, password };
  }
  return new CoreRpcBackend({ url: b.url, retry, ...(auth ? { auth } : {}) });
}

/**
 * The dispute jobs' fee settings from `fees.*`: the rate cap and bump settings, the absolute cap per
 * transaction and the relay floor. What the configuration does not set (the fallback rate when the
 * backend has no estimate, the relay's incremental rate) keeps the jobs' defaults.
 */
export function watcherFeesFromConfig(config: VigilConfig): WatcherOptions['fees'] {
  const f = config.fees;
  return {
    targetBlocks: f.targetBlocks,
    maxFeeRateSatVb: f.maxFeeRateSatVb,
    bumpAfterBlocks: f.bumpAfterBlocks,
    bumpStepSatVb: f.bumpStepSatVb,
    maxFeeSat: BigInt(f.maxFeeSat),
    minRelaySatVb: f.minRelaySatVb,
  };
}

export function bullConnectionFromUrl(url: string): {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: object;
} {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    host: u.hostname,
    port: u.port === '' ? 6379 : Number(u.port),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

export async function walletKeyFromConfig(config: VigilConfig): Promise<WalletKey | undefined> {
  if (config.mode === 'watch' || config.keys.watcher === undefined) return undefined;
  const k = config.keys.watcher;
  const source = k.file !== undefined ? { file: k.file } : { env: k.env ?? '' };
  return loadWalletKey(source, config.bitcoin.network, process.env, {
    allowInsecureFiles: config.secrets.allowInsecureFiles,
  });
}

/** The governance genesis named by `l2.genesisFile` (the protocol defaults when unset). */
export function genesisFromConfig(config: VigilConfig): GenesisOptions {
  const file = config.l2.genesisFile;
  if (file === undefined) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputsFileError(`l2.genesisFile ${file} cannot be read`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputsFileError(`l2.genesisFile ${file} is not valid JSON`, { cause: err });
  }
  // Either a whole inputs file (docs/inputs-format.md) or just its `genesis` object.
  const whole = typeof json === 'object' && json !== null && 'format' in json;
  const parsed = parseInputsFile(
    whole ? text : JSON.stringify({ format: INPUTS_FORMAT, genesis: json, inputs: [] }),
    `l2.genesisFile ${file}`,
  );
  if (parsed.inputs.length > 0) {
    throw new InputsFileError(
      `l2.genesisFile ${file} holds ${parsed.inputs.length} inputs: a genesis file holds the genesis only`,
      { metaMessages: ['Vigil reads the inputs from the L2; give an inputs file with "inputs": [].'] },
    );
  }
  return parsed.genesis;
}

/** The governance contracts named by `l2.contracts`, or undefined when any of them is unset. */
export function deploymentFromConfig(config: VigilConfig): WatchedDeployment | undefined {
  const c = config.l2.contracts;
  const { token, paramRegistry, staking, governor, epochManager, stateCommitment } = c;
  if (
    token === undefined ||
    paramRegistry === undefined ||
    staking === undefined ||
    governor === undefined ||
    epochManager === undefined ||
    stateCommitment === undefined
  ) {
    return undefined;
  }
  const lower = (a: string) => a.toLowerCase() as `0x${string}`;
  return {
    addresses: {
      token: lower(token),
      registry: lower(paramRegistry),
      staking: lower(staking),
      governor: lower(governor),
      epochManager: lower(epochManager),
      stateCommitment: lower(stateCommitment),
    },
    startBlock: BigInt(config.l2.startBlock),
    genesis: genesisFromConfig(config),
  };
}

/**
 * What an operator's graph must be, from the configuration: Vigil's own parameters for the network, the
 * step circuit, and the operator and committee keys (undefined when the keys are not set).
 */
export function graphExpectationsFromConfig(
  config: VigilConfig,
): Omit<GraphExpectations, 'epoch' | 'commitment'> {
  const d = config.dispute;
  const network = config.bitcoin.network;
  return {
    network,
    params: defaultGraphParameters[network],
    circuit: stepCircuitById(d.circuit),
    operator: hexToBytes(d.operatorKey ?? '', 'dispute.operatorKey'),
    committee: (d.committeeKeys ?? []).map((k, i) => hexToBytes(k, `dispute.committeeKeys[${i}]`)),
  };
}

/** The graph import workers `dispute.importWorkers` asks for; undefined for 0 (imports in place). */
export function importPoolFromConfig(config: VigilConfig, logger?: Logger): GraphImportPool | undefined {
  const size = config.dispute.importWorkers ?? defaultImportWorkers();
  return size > 0 ? new GraphImportPool({ size, ...(logger ? { logger } : {}) }) : undefined;
}

/**
 * What the watcher needs to judge the challenger registry's claims and play their games, when
 * `l2.contracts.challengerRegistry` is set beside the epoch source: the registry read through `rpc`, the
 * claim documents from `dispute.graphDir`, Vigil's claim parameters, and its challenger identity derived
 * from the wallet key (none in mode watch: it then judges claims and plays none).
 */
export function claimWatchFromConfig(
  config: VigilConfig,
  parts: {
    source: L2EpochSource;
    rpc: L2Rpc;
    walletKey: WalletKey | undefined;
    backend: BitcoinBackend;
    redis: RedisClient;
    logger?: Logger;
  },
): ClaimWatchOptions | undefined {
  const address = config.l2.contracts.challengerRegistry;
  const d = config.dispute;
  if (address === undefined || d.graphDir === undefined) return undefined;
  const expectations = graphExpectationsFromConfig(config);
  const params = claimParameters(config.bitcoin.network);
  const follower = createClaimFollower({
    read: (what, fn) => parts.rpc.call(what, fn),
    address: address.toLowerCase() as `0x${string}`,
    startBlock: BigInt(config.l2.startBlock),
    confirmations: config.l2.confirmations,
    maxRange: BigInt(config.l2.maxRange),
  });
  const key = parts.walletKey;
  const ledger = redisClaimLedger(parts.redis, config.redis.keyPrefix);
  const identity = key === undefined ? undefined : challengerIdentity((tag) => key.derivedSecret(tag));
  const poster =
    identity === undefined || config.mode !== 'challenge' || config.keys.l2 === undefined
      ? undefined
      : createBundlePoster({
          read: (what, fn) => parts.rpc.call(what, fn),
          ...l2SenderFromConfig(config, address as Address),
          address: address as Address,
          identity,
          shape: params.shape,
          claimOf: (epoch) => ({
            network: config.bitcoin.network,
            operator: expectations.operator,
            epoch,
            instance: REGISTRY_CLAIM_INSTANCE,
          }),
          bondCoins: async () => {
            const utxos = await parts.backend.getUtxos(
              addressForScript(bondCoinScript(identity), config.bitcoin.network) as string,
            );
            return utxos.filter((u) => u.confirmed);
          },
          bondCoinSpent: (c) => spentByVerifiedTx(parts.backend, c.txid, c.vout),
          bondMinimum: bondCoinMinimum(params),
          reservations: redisBondReservations(parts.redis, config.redis.keyPrefix),
          settled: (epoch) => ledger.has(epoch),
          confirmations: config.l2.confirmations,
          ...(parts.logger ? { logger: parts.logger } : {}),
        });
  return {
    sync: () => follower.sync(),
    ledger,
    ...(poster === undefined ? {} : { poster }),
    follower,
    registry: address,
    documentOf: claimDocumentReader(
      d.graphDir,
      claimDocumentLimits({ params, committee: expectations.committee }).maxBytes,
    ),
    endedEpoch: (epoch) => parts.source.endedEpoch(epoch),
    params,
    operator: expectations.operator,
    committee: expectations.committee,
    identity,
  };
}

/**
 * Vigil's L2 account from `keys.l2` and a sender of registry calls from it, through the primary L2 node:
 * each call is simulated first (a refusal is read as the contract's error, not paid for), then sent and
 * waited for.
 */
export function l2SenderFromConfig(
  config: VigilConfig,
  registry: Address,
): { account: Address; send: BundlePosterOptions['send'] } {
  const source = config.keys.l2;
  if (source === undefined) throw new Error('keys.l2 is not configured');
  const text = readSecret(source, 'keys.l2', process.env, {
    allowInsecureFiles: config.secrets.allowInsecureFiles,
  });
  return l2Sender({
    url: config.l2.rpcUrls[0] as string,
    secret: text,
    registry,
    timeoutMs: config.l2.requestTimeoutMs,
  });
}

/** Everything `vigil watch` needs to find and judge kick-offs is configured. */
export function epochSourceConfigured(config: VigilConfig): boolean {
  const c = config.l2.contracts;
  const d = config.dispute;
  return (
    c.token !== undefined &&
    c.staking !== undefined &&
    c.governor !== undefined &&
    c.paramRegistry !== undefined &&
    c.epochManager !== undefined &&
    c.stateCommitment !== undefined &&
    d.graphDir !== undefined &&
    d.operatorKey !== undefined &&
    d.committeeKeys !== undefined
  );
}

export type EpochSourceParts = {
  source: L2EpochSource;
  expectations: Omit<GraphExpectations, 'epoch' | 'commitment'>;
};

/**
 * The L2 epoch source and the graph expectations from the configuration, or undefined when the L2
 * contracts, the graph directory or the keys are not all set (the watcher then warns and only runs the
 * dispute jobs already recorded).
 */
export function epochSourceFromConfig(
  config: VigilConfig,
  parts: {
    redis: RedisClient;
    backend: BitcoinBackend;
    logger?: Logger;
    registry?: Registry;
    /** Where graphs are imported (importPoolFromConfig); in place without one. */
    importPool?: GraphImportRunner;
  },
): EpochSourceParts | undefined {
  if (!epochSourceConfigured(config)) return undefined;
  const d = config.dispute;
  const expectations = graphExpectationsFromConfig(config);
  const params = expectations.params;
  const source = createL2EpochSource({
    rpcUrls: config.l2.rpcUrls,
    requestTimeoutMs: config.l2.requestTimeoutMs,
    redis: parts.redis,
    prefix: `${config.redis.keyPrefix}:l2`,
    deployment: deploymentFromConfig(config) as WatchedDeployment,
    confirmations: config.l2.confirmations,
    ...(config.l2.retainEpochs > 0 ? { retainEpochs: config.l2.retainEpochs } : {}),
    pruneDepth: config.l2.pruneDepth,
    chainId: config.l2.chainId,
    traceSteps: params.traceSteps,
    maxRange: BigInt(config.l2.maxRange),
    graphs: {
      dir: d.graphDir as string,
      ...expectations,
      backend: parts.backend,
      ...(parts.logger ? { logger: parts.logger } : {}),
      ...(parts.importPool ? { importPool: parts.importPool } : {}),
    },
    ...(parts.logger ? { logger: parts.logger } : {}),
    ...(parts.registry ? { registry: parts.registry } : {}),
  });
  return { source, expectations };
}
