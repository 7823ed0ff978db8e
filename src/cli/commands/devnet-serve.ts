import { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { withExamples } from '../help.ts';

type ServeFlags = {
  dir?: string;
  seed?: string;
  epochs?: string;
  epochLength?: string;
  l2BlockMs: string;
  bitcoinBlockMs: string;
  l2StateInterval: string;
  l2SavedStates: string;
  redisUrl: string;
  watchHttpPort: string;
  logLevel: string;
  game?: boolean;
};

/** The most epochs a served workload plans: generating 100,000 takes about a minute at each start. */
const MAX_EPOCHS = 100_000;

function integer(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value)))
    throw new UsageError(`${flag} must be an integer of at least ${min}, not "${value}"`);
  return Number(value);
}

/** `--dir` is checked in the action, so that an unknown flag is named before a missing --dir. */
function requiredDir(dir: string | undefined): string {
  if (dir === undefined) throw new UsageError('--dir <path> is required: the directory of the network');
  return dir;
}

function serveCommand(): Command {
  const cmd = new Command('serve')
    .description(
      'Run a devnet that keeps running (anvil, Bitcoin on Core-RPC and Esplora fronts, the operator) for `vigil watch` in another terminal',
    )
    .option('--dir <path>', 'directory of the network: created, or resumed when it exists (required)')
    .option('--seed <n>', 'seed of the workload (creation only)')
    .option(
      '--epochs <n>',
      `epochs of workload (default 300, at most ${MAX_EPOCHS.toLocaleString('en-US')}) before the L2 only mines empty blocks (creation only)`,
    )
    .option(
      '--epoch-length <inputs>',
      "the workload generator's inputs per epoch (default 30; a soak uses 6: about 10 inputs and 12 L2 blocks an epoch) (creation only)",
    )
    .option('--l2-block-ms <ms>', 'time between two L2 blocks', '250')
    .option('--bitcoin-block-ms <ms>', 'time between two Bitcoin blocks', '1000')
    .option(
      '--l2-state-interval <s>',
      "seconds between two saves of anvil's state: what a SIGKILL may lose (each save writes the whole chain: longer runs want longer intervals)",
      '5',
    )
    .option(
      '--l2-saved-states <which>',
      "all: anvil's saves hold every L2 block's state (past blocks stay readable after a restart; a save grows ~0.7 MB a block); last: the newest only (a save grows ~10 kB a block), and past states only for the newest 1,000 blocks (runs of thousands of epochs)",
      'all',
    )
    .option(
      '--redis-url <url>',
      'the Redis the generated watch config names',
      process.env.VIGIL_REDIS_URL ?? 'redis://127.0.0.1:6379',
    )
    .option('--watch-http-port <port>', "the daemon's HTTP port in the generated watch config", '9464')
    .option(
      '--game',
      "the operator plays the narrowing game through a challenger registry that the daemon registers on (creation only; without it, Part II's graph)",
    )
    .option('--log-level <level>', "the operator's log lines on stderr (trace … fatal, silent)", 'silent')
    .action(async (flags: ServeFlags) => {
      const dir = requiredDir(flags.dir);
      const seed = integer(flags.seed, '--seed', 1);
      const epochs = integer(flags.epochs, '--epochs', 1);
      if (epochs !== undefined && epochs > MAX_EPOCHS)
        throw new UsageError(`--epochs must be at most ${MAX_EPOCHS}`);
      const epochLength = integer(flags.epochLength, '--epoch-length', 2);
      const l2BlockMs = integer(flags.l2BlockMs, '--l2-block-ms', 1) as number;
      const bitcoinBlockMs = integer(flags.bitcoinBlockMs, '--bitcoin-block-ms', 1) as number;
      const l2StateIntervalS = integer(flags.l2StateInterval, '--l2-state-interval', 1) as number;
      const l2SavedStates = flags.l2SavedStates;
      if (l2SavedStates !== 'all' && l2SavedStates !== 'last')
        throw new UsageError(`--l2-saved-states must be all or last, not "${l2SavedStates}"`);
      const watchHttpPort = integer(flags.watchHttpPort, '--watch-http-port', 0) as number;
      if (watchHttpPort > 65_535) throw new UsageError('--watch-http-port must be at most 65535');
      const { DEVNET_LOG_LEVELS } = await import('../../devnet/log.ts');
      if (!DEVNET_LOG_LEVELS.includes(flags.logLevel)) {
        throw new UsageError(
          `--log-level must be one of ${DEVNET_LOG_LEVELS.join(', ')}, not "${flags.logLevel}"`,
        );
      }
      const { resolve } = await import('node:path');
      const { serveDevnet } = await import('../../devnet/serve.ts');
      const { storyLogger } = await import('../../devnet/run-story.ts');
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await serveDevnet({
          dir: resolve(dir),
          ...(seed !== undefined ? { seed } : {}),
          ...(epochs !== undefined ? { epochs } : {}),
          ...(epochLength !== undefined ? { epochLength } : {}),
          l2BlockMs,
          bitcoinBlockMs,
          l2StateIntervalS,
          l2SavedStates,
          redisUrl: flags.redisUrl,
          watchHttpPort,
          ...(flags.game === true ? { game: true } : {}),
          signal: abort.signal,
          say,
          logger: storyLogger({ logLevel: flags.logLevel }, say),
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
  return withExamples(cmd, [
    ['vigil devnet serve --dir .devnet', 'create (or resume) the network in .devnet'],
    ['vigil devnet serve --game --dir .game', 'a network whose operator plays the narrowing game'],
    ['vigil watch --config .devnet/watch.yaml', 'then, in another terminal, the daemon'],
  ]);
}

function faultCommand(): Command {
  const cmd = new Command('fault')
    .description(
      'Make a served devnet’s operator claim roots with a faulty executor (or none) from an epoch on, or for a range of epochs',
    )
    .argument('<name>', 'a fault of the catalogue, or "none" for honest roots')
    .option('--dir <path>', 'directory of the served network (required)')
    .option(
      '--from-epoch <n>',
      'first epoch the fault applies to (default 0: every epoch that ends from now on)',
    )
    .option('--to-epoch <n>', 'last epoch the fault applies to (default: no end)')
    .action(async (name: string, flags: { dir?: string; fromEpoch?: string; toEpoch?: string }) => {
      const dir = requiredDir(flags.dir);
      const fromEpoch = integer(flags.fromEpoch, '--from-epoch', 0) ?? 0;
      const toEpoch = integer(flags.toEpoch, '--to-epoch', 0);
      if (toEpoch !== undefined && toEpoch < fromEpoch)
        throw new UsageError(`--to-epoch ${toEpoch} is before --from-epoch ${fromEpoch}`);
      const { executorByName } = await import('../../governance/index.ts');
      if (name !== 'none') executorByName(name); // an unknown name lists the catalogue
      const { changeControl } = await import('../../devnet/serve-control.ts');
      const line = await changeControl(dir, ({ toEpoch: _, ...c }) => ({
        ...c,
        fault: name,
        fromEpoch,
        ...(toEpoch !== undefined ? { toEpoch } : {}),
      }));
      process.stdout.write(`${line}\n`);
    });
  return withExamples(cmd, [
    ['vigil devnet fault quorum-not-checked --dir .devnet', 'wrong roots from the next epoch'],
    [
      'vigil devnet fault quorum-not-checked --from-epoch 40 --to-epoch 44 --dir .devnet',
      'wrong roots in epochs 40 to 44 only',
    ],
    ['vigil devnet fault none --dir .devnet', 'honest again'],
  ]);
}

function operatorCommand(): Command {
  const cmd = new Command('operator')
    .description('Change how a served devnet’s operator plays its disputes')
    .argument('<strategy>', 'assert | never-assert | an attack (an unknown name lists them all)')
    .option('--dir <path>', 'directory of the served network (required)')
    .action(async (strategy: string, flags: { dir?: string }) => {
      const dir = requiredDir(flags.dir);
      const { changeControl } = await import('../../devnet/serve-control.ts');
      const line = await changeControl(dir, (c) => ({ ...c, strategy }));
      process.stdout.write(`${line}\n`);
    });
  return withExamples(cmd, [['vigil devnet operator never-assert --dir .devnet', 'it will not assert']]);
}

/** `vigil devnet serve | fault | operator`. */
export function addServeCommands(devnet: Command): void {
  devnet.addCommand(serveCommand());
  devnet.addCommand(faultCommand());
  devnet.addCommand(operatorCommand());
}
