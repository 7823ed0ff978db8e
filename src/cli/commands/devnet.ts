import { Command } from 'commander';
import { NotImplementedError, VigilError } from '../../core/errors.ts';
import { ExitCode } from '../exit-codes.ts';

type DevnetOptions = {
  fault: string;
  epochs?: string;
  seed?: string;
  scenario?: string;
  bitcoinRpc?: string;
  json?: boolean;
  redisUrl: string;
};

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) < 1)
    throw new VigilError(`${flag} must be a positive integer`);
  return Number(value);
}

export function devnetCommand(): Command {
  return new Command('devnet')
    .description('Run anvil + the simulated Bitcoin chain + an operator + the watcher, and tell the story')
    .option(
      '--fault <name>',
      'make the operator commit roots from a faulty executor of the catalogue',
      'none',
    )
    .option('--epochs <n>', 'how many epochs to run')
    .option('--seed <n>', 'seed of the random workload')
    .option('--scenario <file>', 'a scenario file instead of the random workload')
    .option(
      '--bitcoin-rpc <url>',
      'use an external Bitcoin Core regtest node instead of the in-process chain',
    )
    .option('--json', 'end the output with one JSON line summarising the run')
    .option(
      '--redis-url <url>',
      'Redis for the operator and ingestion cursors (keys are removed at the end)',
      process.env.VIGIL_REDIS_URL ?? 'redis://127.0.0.1:6379',
    )
    .action(async (opts: DevnetOptions) => {
      if (opts.bitcoinRpc !== undefined) {
        throw new NotImplementedError('vigil devnet --bitcoin-rpc', 'the watcher daemon (issue #8)');
      }
      const epochs = positiveInt(opts.epochs, '--epochs');
      const seed = positiveInt(opts.seed, '--seed');
      // Loaded lazily: viem, ioredis and the model are heavy and only this command needs them here.
      const { startL2Devnet } = await import('../../l2/devnet.ts');
      const { connectRedis, closeRedis } = await import('../../store/redis.ts');
      const { executorByName } = await import('../../governance/index.ts');
      if (opts.fault !== 'none') executorByName(opts.fault); // unknown names fail before anything starts
      const redis = await connectRedis(opts.redisUrl, { role: 'command', name: 'vigil:devnet' });
      const out = (line: string) => process.stdout.write(`${line}\n`);
      const devnet = await startL2Devnet({
        redis,
        epochs,
        seed,
        scenarioFile: opts.scenario,
        fault: opts.fault,
        onEpoch: (s) => {
          const verdict = s.agrees ? 'matches Vigil' : 'DIFFERS from Vigil: fraud, a challenge would follow';
          out(
            `epoch ${s.epoch} (L2 block ${s.block}): operator committed ${s.committedRoot ?? '(nothing)'} — ${verdict}`,
          );
        },
      });
      const stop = async () => {
        await devnet.stop();
        await closeRedis(redis);
      };
      const onSignal = () => {
        void stop().finally(() => process.exit(ExitCode.Failed));
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        out(`anvil at ${devnet.rpcUrl}; contracts deployed from block ${devnet.deployment.startBlock}`);
        out(`operator: ${opts.fault === 'none' ? 'honest' : `faulty (${opts.fault})`}`);
        const run = await devnet.run();
        const disagreements = run.epochs.filter((e) => !e.agrees).length;
        out(
          `${run.inputs} governance transactions, ${run.epochs.length} epochs, ${disagreements} wrong commitments, ` +
            `${run.executionFaults.length} L2 execution faults`,
        );
        out('(the Bitcoin side — kick-offs, challenges — arrives with issue #8)');
        if (opts.json) {
          out(
            JSON.stringify({
              rpcUrl: run.rpcUrl,
              operator: run.operatorExecutor,
              inputs: run.inputs,
              epochs: run.epochs.length,
              wrongCommitments: disagreements,
              firstWrongEpoch: run.epochs.find((e) => !e.agrees)?.epoch.toString() ?? null,
              executionFaults: run.executionFaults.length,
              contracts: run.deployment.addresses,
            }),
          );
        }
        if (run.executionFaults.length > 0) process.exitCode = ExitCode.Failed;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await stop();
      }
    });
}
