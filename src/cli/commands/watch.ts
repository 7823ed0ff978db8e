import { Command } from 'commander';
import { addConfigOptions, loadConfigFromCommand } from '../../config/cli-options.ts';
import { exitCodeForDaemon, exitCodeForImmediateExit } from '../exit-codes.ts';

export function watchCommand(): Command {
  const cmd = new Command('watch')
    .description('Follow the L2 and Bitcoin, judge every epoch commitment, and challenge fraud (the daemon)')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--mode <mode>', 'watch (alert only) | challenge (spend) | dry-run (build, never broadcast)');
  addConfigOptions(cmd);
  cmd.action(async (_opts: unknown, command: Command) => {
    const loaded = loadConfigFromCommand(command);
    for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
    const config = loaded.config;
    const { checkSecretFiles, redisUrlFromConfig } = await import('../../config/secrets.ts');
    // Before any secret is read: a key or password file others can read stops the start (exit 3).
    checkSecretFiles(config);
    const redisUrl = redisUrlFromConfig(config);
    // Heavy modules (BullMQ, ioredis, the script engine) load only when the daemon actually starts.
    const { runVigilDaemon } = await import('../../daemon/vigil-daemon.ts');
    const { createWatcher } = await import('../../watcher/watcher.ts');
    const {
      backendFromConfig,
      bullConnectionFromUrl,
      epochSourceFromConfig,
      walletKeyFromConfig,
      watcherFeesFromConfig,
    } = await import('../../watcher/from-config.ts');
    const { componentLogger } = await import('../../observability/logger.ts');
    const walletKey = await walletKeyFromConfig(config);
    const backend = backendFromConfig(config);
    const outcome = await runVigilDaemon(
      config,
      (base) => {
        let watcher: ReturnType<typeof createWatcher> | undefined;
        return [
          {
            name: 'watcher',
            start: async () => {
              const logger = componentLogger(base.logger, 'watcher');
              // Undefined unless the L2 contracts, dispute.graphDir and the operator/committee keys are
              // all set: the watcher then warns that it finds no kick-offs (docs/configuration.md).
              const epochs = epochSourceFromConfig(config, {
                redis: base.redis.client(),
                backend,
                logger,
                registry: base.metrics,
              });
              watcher = createWatcher({
                redis: base.redis.client(),
                prefix: config.redis.keyPrefix,
                connection: bullConnectionFromUrl(redisUrl),
                backend,
                network: config.bitcoin.network,
                mode: config.mode,
                allowMainnetSpending: config.allowMainnetSpending,
                walletKey,
                expectations: epochs?.expectations,
                source: epochs?.source,
                fees: watcherFeesFromConfig(config),
                walletReserve: BigInt(config.fees.walletReserveSats),
                bitcoinConfirmations: config.bitcoin.confirmations,
                l2Confirmations: config.l2.confirmations,
                pollIntervalMs: config.bitcoin.pollIntervalMs,
                deadlineMarginBlocks: config.dispute.deadlineMarginBlocks,
                registry: base.metrics,
                health: base.health,
                logger,
              });
              await watcher.start();
            },
            stop: async (signal: AbortSignal) => {
              await watcher?.stop(signal);
            },
          },
        ];
      },
      (why) => process.exit(exitCodeForImmediateExit(why)),
    );
    process.exitCode = exitCodeForDaemon(outcome);
  });
  return cmd;
}
