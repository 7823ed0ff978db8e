/**
 * The watcher's side of a devnet run: the Bitcoin backend it reads (the devnet's, or a strategy's lying
 * one), its wallet ledger, and the watcher itself, composed exactly as `vigil watch` composes it with the
 * devnet's keys and graph directory. Every verdict is told and kept; the judge clock times the backlog.
 */

import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { identityStepCircuit } from '../../circuits/identity.ts';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import type { Verdict } from '../judge/verdict.ts';
import type { L2DevnetRun } from '../l2/devnet.ts';
import { L2Rpc } from '../l2/rpc.ts';
import { HealthRegistry } from '../observability/health.ts';
import type { RedisClient } from '../store/redis.ts';
import { createL2EpochSource } from '../watcher/epoch-source.ts';
import { bullConnectionFromUrl } from '../watcher/from-config.ts';
import { defaultImportWorkers, GraphImportPool } from '../watcher/graph-import-pool.ts';
import { createGraphRegistry } from '../watcher/graph-registry.ts';
import { createWatcher, type Watcher } from '../watcher/watcher.ts';
import { devnetOperatorKeys } from './operator.ts';
import type { DevnetPlan } from './plan.ts';
import type { BitcoinSide } from './run-chains.ts';
import {
  DEVNET_NETWORK,
  DEVNET_PARAMS,
  DEVNET_WATCHER_KEY,
  type Say,
  type StopStack,
  WATCHER_MAX_FEE_RATE_SAT_VB,
} from './run-context.ts';
import { verdictLine } from './run-story.ts';
import type { OperatorStrategy } from './strategies/index.ts';
import { openWalletLedger, type WalletLedger } from './wallet-spend.ts';

/**
 * From the watcher's start to the moment every planned claim had a verdict (0 = not yet), and to the end
 * of its source's first sync that reached the L2 head (`l2CaughtUp`): judging a backlog cannot outrun
 * ingesting it.
 */
export type JudgeClock = { start: number; end: number; l2CaughtUp: number; judged: Set<bigint> };

export type WatcherSide = {
  watcher: Watcher;
  registry: Registry;
  wallet: WalletLedger;
  verdicts: { verdict: Verdict; diagnosis: unknown }[];
  judgeClock: JudgeClock;
};

/** The watcher composed (not started yet), its backend and its wallet ledger. */
export async function createWatcherSide(
  o: {
    redis: RedisClient;
    redisUrl: string;
    prefix: string;
    graphDir: string;
    l2Run: L2DevnetRun;
    l2RpcUrl: string;
    strategy: OperatorStrategy;
    plan: DevnetPlan;
    logger: Logger;
  },
  chain: BitcoinSide,
  stops: StopStack,
  say: Say,
): Promise<WatcherSide> {
  const { bitcoin } = chain;
  const { logger, plan } = o;
  const network = DEVNET_NETWORK;
  const params = DEVNET_PARAMS;
  const watcherBackend = await watcherBackendOf(o.strategy, bitcoin, stops, say);
  const wallet = await openWalletLedger(bitcoin.backend, chain.watcherAddress, chain.watcherScript);

  const keys = devnetOperatorKeys();
  const registry = new Registry();
  const health = new HealthRegistry();
  const l2Rpc = new L2Rpc({ urls: [o.l2RpcUrl], logger });
  // The graphs are imported on worker threads, as `vigil watch` imports them (dispute.importWorkers).
  const importPool = new GraphImportPool({ size: defaultImportWorkers(), logger });
  stops.push(() => importPool.close());
  const graphs = createGraphRegistry({
    importPool,
    dir: o.graphDir,
    network,
    operator: keys.operator,
    committee: keys.committee,
    backend: watcherBackend,
    logger,
    registry,
  });
  const judgeClock: JudgeClock = { start: 0, end: 0, l2CaughtUp: 0, judged: new Set<bigint>() };
  const ingesting = createL2EpochSource({
    rpc: l2Rpc,
    redis: o.redis,
    prefix: `${o.prefix}:l2`,
    deployment: o.l2Run.deployment,
    confirmations: 1,
    traceSteps: params.traceSteps,
    graphs,
    // The L2 phase already compared the contracts with the reference model at every epoch end (its
    // execution faults are part of the summary); reading them all again costs minutes on anvil.
    crossCheck: false,
    logger,
    // The L2 metrics (header checks among them) feed the alerts the run samples, as in the daemon.
    registry,
  });
  const source = {
    ...ingesting,
    sync: async () => {
      await ingesting.sync();
      if (judgeClock.l2CaughtUp === 0 && ingesting.status().caughtUp)
        judgeClock.l2CaughtUp = performance.now();
    },
  };
  const verdicts: { verdict: Verdict; diagnosis: unknown }[] = [];
  const watcher = createWatcher({
    redis: o.redis,
    prefix: o.prefix,
    connection: bullConnectionFromUrl(o.redisUrl),
    backend: watcherBackend,
    network,
    mode: 'challenge',
    allowMainnetSpending: false,
    walletKey: DEVNET_WATCHER_KEY,
    expectations: {
      network,
      params,
      circuit: identityStepCircuit,
      operator: keys.operator,
      committee: keys.committee,
    },
    source,
    fees: {
      targetBlocks: 2,
      maxFeeRateSatVb: WATCHER_MAX_FEE_RATE_SAT_VB,
      bumpAfterBlocks: 2,
      bumpStepSatVb: 5,
    },
    bitcoinConfirmations: 1,
    l2Confirmations: 1,
    pollIntervalMs: 100,
    deadlineMarginBlocks: 2,
    registry,
    health,
    logger,
    onVerdict: (verdict, extra) => {
      verdicts.push({ verdict, diagnosis: extra.diagnosis });
      if (verdict.outcome !== 'unavailable') {
        judgeClock.judged.add(verdict.epoch);
        if (judgeClock.judged.size === plan.claims.length) judgeClock.end = performance.now();
      }
      // "unavailable" comes on every poll until the kick-off is deep enough: not news.
      if (verdict.outcome !== 'unavailable') say(verdictLine(verdict, extra.diagnosis));
    },
  });
  return { watcher, registry, wallet, verdicts, judgeClock };
}

/** The backend the watcher reads Bitcoin through: the strategy's (told, stopped at the end) or the devnet's. */
async function watcherBackendOf(
  strategy: OperatorStrategy,
  bitcoin: DevnetBitcoin,
  stops: StopStack,
  say: Say,
): Promise<BitcoinBackend> {
  const watched = strategy.watcherBackend ? await strategy.watcherBackend(bitcoin) : undefined;
  if (watched) {
    stops.push(() => watched.stop());
    say(`bitcoin: the watcher reads Bitcoin through ${watched.describe}`);
  }
  return watched?.backend ?? bitcoin.backend;
}
