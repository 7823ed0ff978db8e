/**
 * `vigil devnet` (the narrowing game, src/devnet/game-run.ts). Prints the story, one line per claim at the
 * end, and exits 0 exactly when every false claim's game ended with the operator slashed and every true
 * claim was left alone. What only Part II's devnet does (`--part2`) is refused with a pointer to it.
 */
import { UsageError } from '../../core/errors.ts';
import { gameBehaviour } from '../../devnet/game-strategies.ts';
import type { RedisClient } from '../../store/redis.ts';
import { ExitCode } from '../exit-codes.ts';

export type GameCommandOptions = {
  fault: string;
  operator: string;
  epochs?: number;
  seed?: number;
  scenario?: string;
  bitcoinRpc?: string;
  bitcoinCookieFile?: string;
  exportBundles?: string;
  json?: boolean;
  redisUrl: string;
  logLevel: string;
};

export async function runGameCommand(
  opts: GameCommandOptions,
  withRedis: (url: string, run: (redis: RedisClient, url: string) => Promise<void>) => Promise<void>,
): Promise<void> {
  const behaviour = gameBehaviour(opts.operator);
  if (opts.bitcoinRpc !== undefined && (behaviour.feeSpike || behaviour.stallAt !== undefined))
    throw new UsageError(
      `--operator ${opts.operator} needs the in-process simnet: it sets the fee estimate, which a Core node makes from its own history`,
    );
  if (opts.bitcoinRpc !== undefined && behaviour.lyingBackend !== undefined)
    throw new UsageError(
      `--operator ${opts.operator} needs the in-process simnet: Vigil reads Bitcoin through a hostile front of the simnet's Esplora`,
    );
  if (opts.exportBundles !== undefined)
    throw new UsageError(
      '--export-bundles exports Part II disputes and a game run has none: run `vigil devnet --part2 --export-bundles <dir>`',
    );
  const { DEVNET_LOG_LEVELS } = await import('../../devnet/log.ts');
  if (!DEVNET_LOG_LEVELS.includes(opts.logLevel))
    throw new UsageError(
      `--log-level must be one of ${DEVNET_LOG_LEVELS.join(', ')}, not "${opts.logLevel}"`,
    );
  const { isProgramFault, PROGRAM_FAULTS } = await import('../../machine/programs/faults.ts');
  const { isSequencerFault } = await import('../../l2/rollup-sequencer.ts');
  if (isSequencerFault(opts.fault))
    throw new UsageError(
      `${opts.fault} is a fault of the L2 sequencer, caught by the header checks of Part II's devnet: run it with --part2`,
    );
  if (opts.fault !== 'none' && !isProgramFault(opts.fault))
    throw new UsageError(
      `unknown fault "${opts.fault}": the narrowing game plays the catalogue's faults: ${PROGRAM_FAULTS.join(', ')}`,
    );
  const { runDevnetGame } = await import('../../devnet/game-run.ts');
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await withRedis(opts.redisUrl, async (redis, url) => {
      const summary = await runDevnetGame({
        redis,
        redisUrl: url,
        ...(opts.epochs === undefined ? {} : { epochs: opts.epochs }),
        ...(opts.seed === undefined ? {} : { seed: opts.seed }),
        ...(opts.scenario === undefined ? {} : { scenarioFile: opts.scenario }),
        fault: opts.fault,
        behaviour,
        ...(opts.bitcoinRpc === undefined ? {} : { bitcoinRpc: opts.bitcoinRpc }),
        ...(opts.bitcoinCookieFile === undefined ? {} : { bitcoinCookieFile: opts.bitcoinCookieFile }),
        logLevel: opts.logLevel,
        signal: abort.signal,
        say: out,
      });
      // A game that ended at a reveal narrowed the lie to its step; one that ended earlier (a timeout, an
      // equivocation) did not get there, though Vigil's rule would have.
      const atReveal = (by: string | undefined) =>
        by !== undefined && /^slash:(reveal|read\/|tape\/)/.test(by);
      for (const c of summary.claims) {
        const paid =
          c.game !== undefined && c.game.challengeChildren > 0
            ? `, its challenge paid for by ${c.game.challengeChildren} child${c.game.challengeChildren > 1 ? 'ren' : ''}`
            : '';
        // A timeout that had to outbid a stalled move climbed its ladder: each rung written is told.
        const rungs =
          c.game !== undefined && c.game.timeouts.length > 1
            ? `, its timeout written at ${c.game.timeouts.map((t) => `${t.id} (${t.fee} sats)`).join(', ')}`
            : '';
        const game = c.game
          ? `Vigil's game ${c.game.outcome ?? c.game.state}${c.game.endedBy ? ` by ${c.game.endedBy}` : ''} after ${c.game.moves} moves${paid}${rungs}`
          : 'no game';
        const where = c.narrowed
          ? atReveal(c.game?.endedBy)
            ? `; narrowed to step ${c.narrowed.step}, ${c.narrowed.at}`
            : `; ended before the reveal (Vigil's rule narrows it to step ${c.narrowed.step}, ${c.narrowed.at})`
          : '';
        out(`epoch ${c.epoch}: ${c.fraud ? 'false' : 'true'} claim, ${c.end ?? 'open'} — ${game}${where}`);
      }
      if (summary.ok) {
        const frauds = summary.claims.filter((c) => c.fraud);
        const narrowed = frauds.every((c) => atReveal(c.game?.endedBy));
        out(
          opts.fault === 'none'
            ? 'as expected: an honest operator, no game opened, every claim taken back'
            : frauds.length > 0
              ? narrowed
                ? `as expected: each of the ${frauds.length} false claims was narrowed to a step of ${opts.fault}'s rule and the operator slashed`
                : `as expected: each of the ${frauds.length} false claims ended with the operator slashed`
              : `as expected: the ${opts.fault} fault never changed a root in this workload (try another --seed), and no one was accused`,
        );
      } else {
        for (const p of summary.problems) out(`NOT as expected: ${p}`);
      }
      if (opts.json)
        out(
          JSON.stringify({ graph: 'game', ...summary }, (_k, v) =>
            typeof v === 'bigint' ? v.toString() : v,
          ),
        );
      process.exitCode = summary.ok ? ExitCode.Ok : ExitCode.Failed;
    });
  } catch (err) {
    if (!abort.signal.aborted) throw err;
    out('interrupted: the run was stopped and its Redis keys deleted');
    process.exitCode = ExitCode.Failed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
