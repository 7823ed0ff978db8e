/**
 * The watcher of a devnet game run (`vigil devnet`), composed as `vigil watch` composes it with
 * `l2.contracts.challengerRegistry` and `keys.l2` set: the epoch source on the devnet's L2, the registry's
 * follower, Vigil's bundle poster (from anvil's dev account #2), the claim documents of the run's graph
 * directory, and the game jobs. Its wallet key is the devnet watcher's; so its challenger identity.
 */

import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Address, PublicClient } from 'viem';
import { identityStepCircuit } from '../../circuits/identity.ts';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { spentByVerifiedTx } from '../bitcoin/backends/verified-outspend.ts';
import { addressForScript } from '../bitcoin/codec/address.ts';
import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import {
  bondCoinScript,
  type ChallengerIdentity,
  challengerIdentity,
} from '../dispute/game/challenger-identity.ts';
import { claimDocumentLimits } from '../dispute/game/claim-import.ts';
import { bondCoinMinimum, claimParameters } from '../dispute/game/claim-parameters.ts';
import { createBundlePoster } from '../l2/bundle-poster.ts';
import { createClaimFollower } from '../l2/claim-follower.ts';
import type { L2DevnetRun } from '../l2/devnet.ts';
import { l2Sender } from '../l2/registry-sender.ts';
import { L2Rpc } from '../l2/rpc.ts';
import { HealthRegistry } from '../observability/health.ts';
import type { RedisClient } from '../store/redis.ts';
import { claimDocumentReader } from '../watcher/claim-documents.ts';
import { REGISTRY_CLAIM_INSTANCE } from '../watcher/claim-games.ts';
import { redisBondReservations, redisClaimLedger } from '../watcher/claim-ledger.ts';
import { createL2EpochSource } from '../watcher/epoch-source.ts';
import { bullConnectionFromUrl } from '../watcher/from-config.ts';
import { createGraphRegistry } from '../watcher/graph-registry.ts';
import { createWatcher, type Watcher } from '../watcher/watcher.ts';
import { devnetOperatorKeys } from './operator-keys.ts';
import {
  DEVNET_NETWORK,
  DEVNET_PARAMS,
  DEVNET_WATCHER_KEY,
  WATCHER_MAX_FEE_RATE_SAT_VB,
} from './run-context.ts';

/**
 * Anvil's dev account #2 (0x3C44…93BC), Vigil's L2 account in a game run: a key every anvil prints at
 * start, for the devnet only.
 */
export const DEVNET_VIGIL_L2_KEY = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';

/** The devnet watcher as a registered challenger: derived from its wallet key, as `vigil watch` derives it. */
export const devnetChallenger = (): ChallengerIdentity =>
  challengerIdentity((tag) => DEVNET_WATCHER_KEY.derivedSecret(tag));

/** The address Vigil's bond coins sit at (a key-path P2TR of its challenger key). */
export const devnetBondAddress = (id: ChallengerIdentity): string =>
  addressForScript(bondCoinScript(id), DEVNET_NETWORK) as string;

export type GameWatcherSide = {
  readonly watcher: Watcher;
  readonly metrics: Registry;
  readonly identity: ChallengerIdentity;
};

export function createGameWatcher(o: {
  readonly redis: RedisClient;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly graphDir: string;
  readonly l2Run: L2DevnetRun;
  readonly l2RpcUrl: string;
  readonly pub: PublicClient;
  readonly registryAddress: Address;
  readonly bitcoin: DevnetBitcoin;
  /** Where the watcher reads and sends Bitcoin, when not the devnet's own backend (a lying front). */
  readonly backend?: BitcoinBackend;
  readonly logger: Logger;
}): GameWatcherSide {
  const backend = o.backend ?? o.bitcoin.backend;
  const params = claimParameters(DEVNET_NETWORK);
  const keys = devnetOperatorKeys();
  const metrics = new Registry();
  const identity = devnetChallenger();
  const l2Rpc = new L2Rpc({ urls: [o.l2RpcUrl], logger: o.logger });
  // No Part II graph is ever published in a game run: the registry's claims are the only ones.
  const graphs = createGraphRegistry({
    dir: o.graphDir,
    network: DEVNET_NETWORK,
    operator: keys.operator,
    committee: keys.committee,
    backend: backend,
    logger: o.logger,
    registry: metrics,
  });
  const source = createL2EpochSource({
    rpc: l2Rpc,
    redis: o.redis,
    prefix: `${o.prefix}:l2`,
    deployment: o.l2Run.deployment,
    confirmations: 1,
    traceSteps: DEVNET_PARAMS.traceSteps,
    graphs,
    crossCheck: false,
    logger: o.logger,
    registry: metrics,
  });
  const read = <T>(_what: string, fn: (c: PublicClient) => Promise<T>) => fn(o.pub);
  const ledger = redisClaimLedger(o.redis, o.prefix);
  const bondAddress = devnetBondAddress(identity);
  const poster = createBundlePoster({
    read,
    ...l2Sender({
      url: o.l2RpcUrl,
      secret: DEVNET_VIGIL_L2_KEY,
      registry: o.registryAddress,
      timeoutMs: 10_000,
    }),
    address: o.registryAddress,
    identity,
    shape: params.shape,
    claimOf: (epoch) => ({
      network: DEVNET_NETWORK,
      operator: keys.operator,
      epoch,
      instance: REGISTRY_CLAIM_INSTANCE,
    }),
    bondCoins: async () => (await backend.getUtxos(bondAddress)).filter((u) => u.confirmed),
    bondCoinSpent: (c) => spentByVerifiedTx(backend, c.txid, c.vout),
    bondMinimum: bondCoinMinimum(params),
    reservations: redisBondReservations(o.redis, o.prefix),
    settled: (epoch) => ledger.has(epoch),
    confirmations: 1,
    logger: o.logger,
  });
  const follower = createClaimFollower({
    read,
    address: o.registryAddress,
    startBlock: o.l2Run.deployment.startBlock,
    confirmations: 1,
  });
  const watcher = createWatcher({
    redis: o.redis,
    prefix: o.prefix,
    connection: bullConnectionFromUrl(o.redisUrl),
    backend: backend,
    network: DEVNET_NETWORK,
    mode: 'challenge',
    allowMainnetSpending: false,
    walletKey: DEVNET_WATCHER_KEY,
    expectations: {
      network: DEVNET_NETWORK,
      params: DEVNET_PARAMS,
      circuit: identityStepCircuit,
      operator: keys.operator,
      committee: keys.committee,
    },
    source,
    claims: {
      sync: () => follower.sync(),
      poster,
      ledger,
      follower,
      registry: o.registryAddress,
      documentOf: claimDocumentReader(
        o.graphDir,
        claimDocumentLimits({ params, committee: keys.committee }).maxBytes,
      ),
      endedEpoch: (epoch) => source.endedEpoch(epoch),
      params,
      operator: keys.operator,
      committee: keys.committee,
      identity,
    },
    fees: { targetBlocks: 2, maxFeeRateSatVb: WATCHER_MAX_FEE_RATE_SAT_VB, fallbackSatVb: 1 },
    bitcoinConfirmations: 1,
    l2Confirmations: 1,
    pollIntervalMs: 100,
    deadlineMarginBlocks: 2,
    registry: metrics,
    health: new HealthRegistry(),
    logger: o.logger,
  });
  return { watcher, metrics, identity };
}
