/**
 * The devnet run from the first claim to its planned end: the operator claims every epoch on Bitcoin
 * (one per block, or all before the watcher starts with `backlog`), blocks come as the watcher keeps up,
 * and after each block the story tells the operator's reactions, the disputes' new events and the
 * alerts raised. The run ends when every claim and dispute has settled, when nothing more can happen on
 * chain and the watcher's grace period is over, after `maxBlocks`, or when aborted.
 */

import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import type { DisputeRecord } from '../dispute/records/store.ts';
import { type AlertWatch, watchAlerts } from './alerts.ts';
import type { FeeMarket } from './fee-market.ts';
import { LatencyClock } from './latency-clock.ts';
import type { DevnetOperator } from './operator.ts';
import { settled } from './pacer.ts';
import type { DevnetPlan } from './plan.ts';
import { DEVNET_PARAMS, type Say, type StopStack } from './run-context.ts';
import { storyOfDisputes } from './run-story.ts';
import type { WatcherSide } from './run-watcher.ts';

export type RunEnd = {
  /** Bitcoin blocks mined by the loop. */
  blocks: number;
  /** Every claim and every dispute settled before the run ended. */
  finished: boolean;
  latencies: LatencyClock;
  alerts: AlertWatch;
};

/** Claims, starts the watcher and mines block after block until the run's end; returns how it ended. */
export async function runUntilPlannedEnd(
  o: { backlog?: boolean; maxBlocks?: number; minBlockIntervalMs?: number; signal?: AbortSignal },
  run: {
    bitcoin: DevnetBitcoin;
    market: FeeMarket;
    operator: DevnetOperator;
    plan: DevnetPlan;
    side: WatcherSide;
  },
  stops: StopStack,
  say: Say,
): Promise<RunEnd> {
  const { bitcoin, market, operator, plan } = run;
  const { watcher, registry, judgeClock } = run.side;
  // With `backlog`, every kick-off is confirmed before the watcher starts (a watcher catching up).
  const startWatcher = async () => {
    await watcher.start();
    stops.push(async () => watcher.stop(new AbortController().signal));
    judgeClock.start = performance.now();
  };
  // Otherwise the operator claims one epoch per Bitcoin block, as epochs come one after another on
  // a live system (claiming them all in one block would measure a burst, not the detection latency).
  const pending = [...plan.claims];
  if (o.backlog) {
    for (const c of pending.splice(0)) await operator.claim(c);
    say(`bitcoin: the operator published ${plan.claims.length} graphs and broadcast their kick-offs`);
    await bitcoin.mine(1);
    await startWatcher();
  } else {
    await startWatcher();
    say(`bitcoin: the operator publishes a graph and broadcasts a kick-off for each epoch, one per block`);
  }
  const probe = {
    tip: () => bitcoin.backend.getTipHeight(),
    watcherTip: () => watcher.lastPolledTip(),
    busyJobs: async () => {
      const c = await watcher.queue().queue.getJobCounts('waiting', 'active');
      return (c.waiting ?? 0) + (c.active ?? 0);
    },
  };
  const latencies = new LatencyClock(bitcoin, watcher.store, () =>
    operator.claims().map((c) => c.kickoffTxid),
  );
  const maxBlocks = o.maxBlocks ?? 120;
  const alerts = watchAlerts(registry);
  let blocks = 0;
  let finished = false;
  /** The block by which every claim had ended on Bitcoin (the watcher gets a grace period after it). */
  let claimsEndedAt: number | undefined;
  const longestWindow = Math.max(
    DEVNET_PARAMS.timelocks.challengeWindow,
    ...plan.claims.map((c) => c.challengeWindow),
  );
  const grace = DEVNET_PARAMS.timelocks.disproveWindow + longestWindow;
  while (blocks < maxBlocks && !o.signal?.aborted) {
    for (const line of await operator.react()) say(`  operator: ${line}`);
    const next = pending.shift();
    if (next) await operator.claim(next);
    const minedAt = Date.now();
    await market.mine();
    blocks++;
    const tip = await probe.tip();
    await latencies.blockMined(tip, minedAt);
    await settled(probe, tip, 30_000, () => latencies.sample());
    for (const line of await storyOfDisputes(watcher.store, latencies, tip)) say(line);
    await alerts.sample(tip);
    for (const a of alerts.raised().filter((x) => x.atBlock === tip)) say(`  alert ${a.name}: ${a.summary}`);
    if (await allSettled(operator.claims(), watcher.store, plan)) {
      finished = true;
      break;
    }
    // Every claim ended on Bitcoin but a dispute is still open: nothing more can happen on chain;
    // the watcher gets a grace period to notice, then the run ends (not settled).
    if (pending.length === 0 && claimsFinal(operator.claims(), plan)) {
      claimsEndedAt ??= blocks;
      if (blocks - claimsEndedAt >= grace) break;
    }
    const wait = (o.minBlockIntervalMs ?? 50) - (Date.now() - minedAt);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  return { blocks, finished, latencies, alerts };
}

const FINAL_CLAIM_STATES = new Set(['taken', 'paid-out', 'slashed', 'disproved']);

function claimsFinal(claims: { state: string }[], plan: DevnetPlan): boolean {
  return claims.length >= plan.claims.length && claims.every((c) => FINAL_CLAIM_STATES.has(c.state));
}

async function allSettled(
  claims: { state: string }[],
  store: { list(): Promise<DisputeRecord[]> },
  plan: DevnetPlan,
): Promise<boolean> {
  if (claims.length < plan.claims.length) return false;
  if (!claims.every((c) => FINAL_CLAIM_STATES.has(c.state))) return false;
  return (await store.list()).every((r) => r.state === 'resolved');
}
