/**
 * `vigil watch` composed: the daemon's base (logger, metrics, health, Redis, HTTP) plus the watcher built
 * from the configuration — the epoch source, the Bitcoin backend, the wallet and the queue. The CLI calls
 * this one function and maps its outcome to an exit code; nothing here knows about exit codes.
 */
import type { VigilConfig } from '../config/schema.ts';
import { checkSecretFiles, redisUrlFromConfig } from '../config/secrets.ts';
import { L2Rpc } from '../l2/rpc.ts';
import { componentLogger } from '../observability/logger.ts';
import { queueConnectionFromUrl } from '../queue/connection.ts';
import {
  backendFromConfig,
  claimWatchFromConfig,
  deploymentFromConfig,
  epochSourceFromConfig,
  importPoolFromConfig,
  walletKeyFromConfig,
  watcherFeesFromConfig,
} from '../watcher/from-config.ts';
import type { GraphImportPool } from '../watcher/graph-import-pool.ts';
import { createWatcher, type Watcher } from '../watcher/watcher.ts';
import { preflight } from './preflight.ts';
import type { DaemonOutcome, ImmediateExit } from './runtime.ts';
import { runVigilDaemon } from './vigil-daemon.ts';

export async function runWatchDaemon(
  config: VigilConfig,
  exitNow: (why: ImmediateExit) => void,
): Promise<DaemonOutcome> {
  // Before any secret is read: a key or password file others can read stops the start.
  checkSecretFiles(config);
  const redisUrl = redisUrlFromConfig(config);
  const walletKey = await walletKeyFromConfig(config);
  const backend = backendFromConfig(config);
  return runVigilDaemon(
    config,
    (base) => {
      let watcher: Watcher | undefined;
      let importPool: GraphImportPool | undefined;
      return [
        {
          name: 'watcher',
          start: async () => {
            const logger = componentLogger(base.logger, 'watcher');
            // After Redis answered: the chains it is pointed at, and the files it names, are the ones meant.
            await preflight(config, {
              rpc: deploymentFromConfig(config)
                ? new L2Rpc({
                    urls: config.l2.rpcUrls,
                    timeoutMs: config.l2.requestTimeoutMs,
                    retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 },
                  })
                : undefined,
              backend,
            });
            logger.info(
              { l2ChainId: config.l2.chainId, bitcoinNetwork: config.bitcoin.network },
              'preflight passed: the L2 chain, its contracts and the Bitcoin network are the configured ones',
            );
            // Undefined unless the L2 contracts, dispute.graphDir and the operator/committee keys are
            // all set: the watcher then warns that it finds no kick-offs (docs/configuration.md).
            // Threads start only for a batch of new graphs, so the pool costs nothing when none come.
            importPool = importPoolFromConfig(config, logger);
            const epochs = epochSourceFromConfig(config, {
              redis: base.redis.client(),
              backend,
              logger,
              registry: base.metrics,
              ...(importPool ? { importPool } : {}),
            });
            const claims =
              epochs === undefined
                ? undefined
                : claimWatchFromConfig(config, {
                    source: epochs.source,
                    rpc: new L2Rpc({
                      urls: config.l2.rpcUrls,
                      timeoutMs: config.l2.requestTimeoutMs,
                      logger,
                    }),
                    walletKey,
                    backend,
                    redis: base.redis.client(),
                    logger,
                  });
            watcher = createWatcher({
              redis: base.redis.client(),
              prefix: config.redis.keyPrefix,
              // One Redis or a cluster's seeds: the dispute queue makes its own connections from them.
              connection: queueConnectionFromUrl(redisUrl),
              backend,
              network: config.bitcoin.network,
              mode: config.mode,
              allowMainnetSpending: config.allowMainnetSpending,
              walletKey,
              expectations: epochs?.expectations,
              source: epochs?.source,
              ...(claims === undefined ? {} : { claims }),
              fees: watcherFeesFromConfig(config),
              walletReserve: BigInt(config.fees.walletReserveSats),
              bitcoinConfirmations: config.bitcoin.confirmations,
              l2Confirmations: config.l2.confirmations,
              pollIntervalMs: config.bitcoin.pollIntervalMs,
              l2MaxHeadAgeMs: config.l2.maxHeadAgeMs,
              graphGraceMs: config.dispute.graphGraceMs,
              deadlineMarginBlocks: config.dispute.deadlineMarginBlocks,
              registry: base.metrics,
              health: base.health,
              logger,
            });
            await watcher.start();
          },
          stop: async (signal: AbortSignal) => {
            await watcher?.stop(signal);
            await importPool?.close();
          },
        },
      ];
    },
    exitNow,
  );
}
