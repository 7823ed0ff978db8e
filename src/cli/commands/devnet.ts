import { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { ExitCode } from '../exit-codes.ts';
import { withExamples } from '../help.ts';
import { addServeCommands } from './devnet-serve.ts';

type DevnetOptions = {
  fault: string;
  operator: string;
  epochs?: string;
  seed?: string;
  scenario?: string;
  bitcoinRpc?: string;
  bitcoinCookieFile?: string;
  json?: boolean;
  exportBundles?: string;
  redisUrl: string;
  logLevel: string;
  game?: boolean;
  part2?: boolean;
};

const ONE_REDIS =
  'vigil devnet runs on one Redis; for a Redis Cluster run `vigil devnet serve --redis-url <cluster URL>` and `vigil watch`';

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) < 1)
    throw new UsageError(`${flag} must be a positive integer`);
  return Number(value);
}

export function devnetCommand(): Command {
  const cmd = new Command('devnet')
    .description(
      'Run anvil + a Bitcoin regtest chain + an operator + the watcher playing the narrowing game, tell the story, exit 0 if it went as expected',
    )
    .option(
      '--fault <name>',
      'make the operator run a faulty build of the governance program (a fault of the catalogue); with --part2 also a faulty L2 sequencer (rollup-param-ignored, rollup-param-early)',
      'none',
    )
    .option(
      '--operator <strategy>',
      'how the operator behaves: assert, never-assert, late, fee-spike, lying-backend-hide-spends, lying-backend-garbage, document-withheld, document-malformed, document-late, silent-at:<move>, equivocate-at:<move>, stall-at:<move> or pin-at:<move>; with --part2, assert, never-assert or an attack on Part II (an unknown name lists them all)',
      'assert',
    )
    .option(
      '--log-level <level>',
      "the watcher's log lines on stderr at this level (trace … fatal, silent)",
      'silent',
    )
    .option('--epochs <n>', 'how many epochs to run (default 5)')
    .option('--seed <n>', 'seed of the random workload')
    .option('--scenario <file>', 'a scenario file instead of the random workload')
    .option('--bitcoin-rpc <url>', 'an external Bitcoin Core regtest node instead of the in-process chain')
    .option(
      '--bitcoin-cookie-file <path>',
      "the regtest node's .cookie file (instead of user:pass in the URL)",
    )
    .option(
      '--part2',
      "run Part II's graph instead of the narrowing game: its disprove leaves run the identity test circuit, so it is no fraud proof; for the sequencer faults, the attacks on Part II's transactions and --export-bundles",
    )
    .option('--game', 'play the narrowing game (docs/protocol.md §24): the default, kept for scripts')
    .option('--json', 'end the output with one JSON line summarising the run')
    .option(
      '--export-bundles <dir>',
      'at the end, write every dispute as a replay bundle, from the records and from the chains (vigil replay <bundle>)',
    )
    .option(
      '--redis-url <url>',
      'Redis for the queue, the dispute records and the cursors (the run removes its keys at the end); when none answers at the default, a private redis-server is started for the run',
      process.env.VIGIL_REDIS_URL ?? 'redis://127.0.0.1:6379',
    )
    .action(async (opts: DevnetOptions, command: Command) => {
      const epochs = positiveInt(opts.epochs, '--epochs');
      const seed = positiveInt(opts.seed, '--seed');
      // A cookie for no node would be read by nothing: the run would quietly use the simnet.
      if (opts.bitcoinCookieFile !== undefined && opts.bitcoinRpc === undefined) {
        throw new UsageError(
          '--bitcoin-cookie-file authenticates to the node of --bitcoin-rpc <url>, which is missing',
        );
      }
      if (opts.game && opts.part2)
        throw new UsageError('--game and --part2 choose two different graphs: give one');
      // The run's in-process watcher reads its queue connection as one Redis: refused in one line here,
      // before anything starts, rather than as an invalid URL deep in the run.
      const { isClusterUrl } = await import('../../store/cluster-url.ts');
      if (isClusterUrl(opts.redisUrl)) throw new UsageError(ONE_REDIS);
      if (!opts.part2) {
        const { runGameCommand } = await import('./devnet-game.ts');
        const chosen = command.getOptionValueSource('redisUrl') !== 'default';
        await runGameCommand({ ...opts, epochs, seed }, (url, run) => withDevnetRedis(url, chosen, run));
        return;
      }
      // Loaded lazily: viem, ioredis, BullMQ and the model are heavy and only this command needs them here.
      const { strategyByName } = await import('../../devnet/strategies/index.ts');
      const { DEVNET_LOG_LEVELS } = await import('../../devnet/log.ts');
      const strategy = strategyByName(opts.operator); // unknown names fail before anything starts
      if (!DEVNET_LOG_LEVELS.includes(opts.logLevel)) {
        throw new UsageError(
          `--log-level must be one of ${DEVNET_LOG_LEVELS.join(', ')}, not "${opts.logLevel}"`,
        );
      }
      const { runDevnet } = await import('../../devnet/run.ts');
      const { toJson } = await import('../../devnet/summary.ts');
      const { closeRedis } = await import('../../store/redis.ts');
      const { connectRedisAny } = await import('../../store/connect.ts');
      const { faultCatalogue, UnknownFaultError } = await import('../../governance/index.ts');
      const { isSequencerFault, SEQUENCER_FAULTS } = await import('../../l2/rollup-sequencer.ts');
      const sequencerFault = isSequencerFault(opts.fault);
      // Unknown names fail before anything starts.
      if (opts.fault !== 'none' && !sequencerFault && !faultCatalogue.has(opts.fault)) {
        throw new UnknownFaultError(`unknown fault "${opts.fault}"`, {
          metaMessages: [
            `The operator's (executor faults): ${[...faultCatalogue.keys()].join(', ')}`,
            `The L2 sequencer's: ${SEQUENCER_FAULTS.join(', ')}`,
          ],
        });
      }
      const out = (line: string) => process.stdout.write(`${line}\n`);
      // With nothing running: a private redis-server, unless a Redis URL was chosen (flag or env).
      const { redisForDevnet } = await import('../../devnet/private-redis.ts');
      const chosen =
        command.getOptionValueSource('redisUrl') !== 'default' || process.env.VIGIL_REDIS_URL !== undefined;
      const target = await redisForDevnet(opts.redisUrl, !chosen, out);
      let redis: Awaited<ReturnType<typeof connectRedisAny>>;
      try {
        redis = await connectRedisAny(target.url, { role: 'command', name: 'vigil:devnet' });
      } catch (err) {
        await target.stop();
        throw err;
      }
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const summary = await runDevnet({
          redis,
          redisUrl: target.url,
          epochs,
          seed,
          scenarioFile: opts.scenario,
          fault: opts.fault,
          strategy: strategy.name,
          logLevel: opts.logLevel,
          bitcoinRpc: opts.bitcoinRpc,
          bitcoinCookieFile: opts.bitcoinCookieFile,
          signal: abort.signal,
          say: out,
          ...(opts.exportBundles !== undefined ? { exportBundles: opts.exportBundles } : {}),
        });
        const v = summary.verdicts;
        const w = summary.walletSpend;
        if (w) {
          out(
            `vigil's wallet: paid ${w.spent} sat over ${w.txs.length} transactions (allowed: ${w.allowance} sat = the challenge amount per dispute + fees at ${w.feeCapSatVb} sat/vB)`,
          );
        }
        out(
          `alerts raised: ${summary.alerts.length === 0 ? 'none' : [...new Set(summary.alerts.map((a) => a.name))].join(', ')}`,
        );
        out(
          `result: ${summary.epochsJudged} epochs judged — ${v.valid} valid, ${v.fraud} fraud, ${v.unavailable} not judged; ` +
            `${summary.disputes.length} disputes; detection latency median ${summary.latencyMs.median ?? '–'} ms, p99 ${summary.latencyMs.p99 ?? '–'} ms`,
        );
        for (const f of summary.rollupParamFaults) {
          out(
            `L2 execution fault: block ${f.block} breaks ${f.param} (voted ${f.voted}, the block has ${f.observed})`,
          );
        }
        if (summary.ok && sequencerFault) {
          out(
            summary.rollupParamFaults.length > 0
              ? `as expected: the ${opts.fault} sequencer was caught as an L2 execution fault at the first block that broke a voted rollup parameter, and the operator was not accused`
              : `as expected: the ${opts.fault} sequencer never broke a parameter in this workload (no gas limit or base fee change came into force; try another --seed or more --epochs), and no one was accused`,
          );
        } else if (summary.ok) {
          const bit = summary.expected.fraudEpochs.length > 0;
          out(
            opts.fault === 'none'
              ? `as expected: an honest operator (strategy ${strategy.name}), no accusation`
              : bit
                ? `as expected: the ${opts.fault} fault was caught and the operator (strategy ${strategy.name}) ended as the plan says (${summary.expect})`
                : `as expected: the ${opts.fault} fault never changed a root in this workload (try another --seed or more --epochs), and no one was accused`,
          );
        } else {
          for (const p of summary.problems) out(`NOT as expected: ${p}`);
        }
        if (opts.json) out(toJson(summary));
        process.exitCode = summary.ok ? ExitCode.Ok : ExitCode.Failed;
      } catch (err) {
        // Interrupted: the chains were stopped under the run, so what it throws says nothing new.
        if (!abort.signal.aborted) throw err;
        out('interrupted: the run was stopped and its Redis keys deleted');
        process.exitCode = ExitCode.Failed;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await closeRedis(redis);
        await target.stop();
      }
    });
  // `vigil devnet serve --epochs 3`: the subcommand's own flags, not the run's.
  cmd.enablePositionalOptions();
  addServeCommands(cmd);
  return withExamples(cmd, [
    ['vigil devnet', 'an honest operator: every claim taken back, no game, exit 0'],
    [
      'vigil devnet --fault vote-counted-twice --seed 7 --epochs 3',
      'a lying operator: each lie narrowed to a step of its rule and slashed',
    ],
    ['vigil devnet --fault commission-not-taken --operator silent-at:answer3', 'slashed by its timeout'],
    ['vigil devnet serve --dir .devnet', "a devnet that keeps running, for `vigil watch` (Part II's graph)"],
    ['vigil devnet --part2 --fault quorum-not-checked', "Part II's graph (the identity test circuit)"],
  ]);
}

/**
 * Runs `run` on the devnet's Redis: `url`, or, when it was not chosen (flag or VIGIL_REDIS_URL) and none
 * answers there, a private redis-server started for the run and stopped after it.
 */
export async function withDevnetRedis(
  url: string,
  chosen: boolean,
  run: (redis: import('../../store/redis.ts').RedisClient, url: string) => Promise<void>,
): Promise<void> {
  const { closeRedis } = await import('../../store/redis.ts');
  const { connectRedisAny } = await import('../../store/connect.ts');
  const { redisForDevnet } = await import('../../devnet/private-redis.ts');
  const target = await redisForDevnet(url, !(chosen || process.env.VIGIL_REDIS_URL !== undefined), (l) =>
    process.stdout.write(`${l}\n`),
  );
  try {
    const redis = await connectRedisAny(target.url, { role: 'command', name: 'vigil:devnet' });
    try {
      await run(redis as import('../../store/redis.ts').RedisClient, target.url);
    } finally {
      await closeRedis(redis);
    }
  } finally {
    await target.stop();
  }
}
