/**
 * `vigil devnet --part2`: the whole system on one machine with Part II's graph, whose disprove leaves run
 * the identity test circuit (plain `vigil devnet` plays the narrowing game: game-run.ts). anvil runs the L2
 * with the governance contracts and a seeded workload; an operator commits every epoch's root on the L2
 * and claims it on Bitcoin (simnet in process, or an external regtest node) with a presigned dispute
 * graph; `vigil watch`'s watcher follows both chains, judges every kick-off against its own reference
 * model, and challenges the wrong ones through the BullMQ queue to the end of each dispute. The run is
 * told as a story and summarised; it is "as expected" when every wrong epoch was caught at the right step
 * and no honest one was accused.
 *
 * This file composes the run; its parts, in the order they run:
 * - `run-chains.ts`: the L2 on anvil, then Bitcoin with the watcher's wallet funded;
 * - `run-operator.ts`: which operator, its claims planned from the L2 feed, the operator on Bitcoin;
 * - `run-watcher.ts`: the watcher as `vigil watch` composes it;
 * - `run-loop.ts`: claims and blocks until the run's planned end;
 * - `run-summary.ts`: the summary; `run-story.ts` tells the story, `run-context.ts` holds what they share.
 */

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RedisClient } from '../store/redis.ts';
import { deleteKeysByPrefix } from '../store/redis.ts';
import { exportDevnetBundles } from './export-bundles.ts';
import type { OperatorBehaviour } from './operator.ts';
import { startBitcoinSide, startL2Side } from './run-chains.ts';
import { DEVNET_PARAMS, StopStack } from './run-context.ts';
import { runUntilPlannedEnd } from './run-loop.ts';
import { chooseOperator, planOperatorClaims, startOperatorSide } from './run-operator.ts';
import { storyLogger } from './run-story.ts';
import { summariseRun } from './run-summary.ts';
import { createWatcherSide } from './run-watcher.ts';
import type { DevnetSummary } from './summary.ts';

export { DEVNET_WATCHER_KEY } from './run-context.ts';

export type DevnetOptions = {
  redis: RedisClient;
  redisUrl: string;
  epochs?: number;
  seed?: number;
  scenarioFile?: string;
  /** A fault of the catalogue for the operator; 'none' = honest. */
  fault?: string;
  /** What the operator does when challenged (default: asserts its trace). */
  behaviour?: OperatorBehaviour;
  /** The operator's strategy (src/devnet/strategies/); overrides `behaviour`. */
  strategy?: string;
  /** The watcher's log lines on stderr at this level (default silent); warnings reach the story anyway. */
  logLevel?: string;
  /** An external Bitcoin Core regtest node instead of the in-process simnet. */
  bitcoinRpc?: string;
  bitcoinCookieFile?: string;
  /** Least time between two Bitcoin blocks (default 50 ms). */
  minBlockIntervalMs?: number;
  /** Give up after this many Bitcoin blocks past the kick-offs (default 120). */
  maxBlocks?: number;
  logger?: Logger;
  /** Confirm every kick-off before the watcher starts, and time how fast it judges the backlog. */
  backlog?: boolean;
  /**
   * A directory: at the end, every dispute is written there as a version-2 bundle from the records and
   * from the chains (docs/replay.md), before anything stops.
   */
  exportBundles?: string;
  /** Aborting ends the run early (not as expected) and still cleans up. */
  signal?: AbortSignal;
  /** Story lines, as they happen. */
  say?: (line: string) => void;
};

export async function runDevnet(o: DevnetOptions): Promise<DevnetSummary> {
  const say = o.say ?? (() => {});
  const logger = storyLogger(o, say);
  const choice = chooseOperator(o);
  const prefix = `{vigil-devnet-${randomUUID()}}`;
  const graphDir = await mkdtemp(join(tmpdir(), 'vigil-devnet-graphs-'));
  const stops = new StopStack();
  stops.push(() => rm(graphDir, { recursive: true, force: true }));
  stops.push(() => deleteKeysByPrefix(o.redis, prefix));
  try {
    // 1. The L2: contracts, workload, operator commitments.
    const { l2, l2Run } = await startL2Side({ ...o, choice, logger }, stops, say);
    // 2. The operator's view of the feed, its claims, and what the run must find.
    const plan = await planOperatorClaims(
      {
        redis: o.redis,
        prefix: `${prefix}:plan`,
        rpcUrl: l2.rpcUrl,
        deployment: l2Run.deployment,
        choice,
        traceSteps: DEVNET_PARAMS.traceSteps,
      },
      say,
    );
    // 3. Bitcoin, the operator's wallet and the watcher's wallet.
    const chain = await startBitcoinSide(o, stops, say);
    const { operator, market } = await startOperatorSide(
      { bitcoin: chain.bitcoin, graphDir, choice, logger },
      say,
    );
    // 4. The watcher, exactly as `vigil watch` composes it, with the devnet's keys and graph directory.
    const side = await createWatcherSide(
      {
        redis: o.redis,
        redisUrl: o.redisUrl,
        prefix,
        graphDir,
        l2Run,
        l2RpcUrl: l2.rpcUrl,
        strategy: choice.strategy,
        plan,
        logger,
      },
      chain,
      stops,
      say,
    );
    // 5. The operator claims every epoch on Bitcoin; blocks come as the watcher keeps up.
    const end = await runUntilPlannedEnd(
      o,
      { bitcoin: chain.bitcoin, market, operator, plan, side },
      stops,
      say,
    );
    const summary = await summariseRun({ plan, choice, l2Run, operator, side, end });
    if (o.exportBundles !== undefined) {
      // While both chains still run: the bundles must replay after everything here is gone.
      summary.bundles = await exportDevnetBundles({
        dir: o.exportBundles,
        redis: o.redis,
        prefix,
        l2RpcUrl: l2.rpcUrl,
        deployment: l2Run.deployment,
        backend: chain.bitcoin.backend,
        graphDir,
        epochs: plan.claims.map((c) => c.epoch),
      });
      const disputes = summary.bundles.filter((b) => b.exported !== undefined).length;
      say(
        `bundles: ${summary.bundles.length} epochs fetched from the chains and ${disputes} disputes exported to ${o.exportBundles}`,
      );
    }
    return summary;
  } finally {
    await stops.stopAll();
  }
}
