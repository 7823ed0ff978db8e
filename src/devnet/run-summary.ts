/** The end of a devnet run: every dispute as the watcher's store has it, the wallet's spend, the summary. */

import type { DisputeRecord } from '../dispute/records/store.ts';
import type { L2DevnetRun } from '../l2/devnet.ts';
import type { LatencyClock } from './latency-clock.ts';
import type { DevnetOperator } from './operator.ts';
import type { DevnetPlan } from './plan.ts';
import { DEVNET_PARAMS, WATCHER_MAX_FEE_RATE_SAT_VB } from './run-context.ts';
import type { RunEnd } from './run-loop.ts';
import type { OperatorChoice } from './run-operator.ts';
import { asDiagnosis } from './run-story.ts';
import type { WatcherSide } from './run-watcher.ts';
import { type DevnetSummary, type DisputeSummary, summarise } from './summary.ts';

/** The run's summary; closes the watcher's wallet ledger (its spend is part of it). */
export async function summariseRun(r: {
  plan: DevnetPlan;
  choice: OperatorChoice;
  l2Run: L2DevnetRun;
  operator: DevnetOperator;
  side: WatcherSide;
  end: RunEnd;
}): Promise<DevnetSummary> {
  const { plan, choice, operator, end } = r;
  const { watcher, wallet, verdicts, judgeClock } = r.side;
  const { latencies, alerts } = end;
  const records = await watcher.store.list();
  const disputes: DisputeSummary[] = [];
  for (const d of records) disputes.push(disputeSummary(d, await watcher.store.events(d.id), latencies));
  const spend = await wallet.close(
    disputes.length,
    DEVNET_PARAMS.challengeAmount,
    WATCHER_MAX_FEE_RATE_SAT_VB,
  );
  return summarise({
    plan,
    verdicts,
    disputes,
    finished: end.finished,
    blocks: end.blocks,
    fault: choice.faultName,
    behaviour: choice.behaviour,
    strategy: choice.strategy.name,
    operatorClaims: operator.claims().map((c) => ({ epoch: c.epoch, state: c.state })),
    walletSpend: spend,
    alerts: alerts.raised(),
    alertsNotEvaluated: alerts.notEvaluated,
    l2ExecutionFaults: r.l2Run.executionFaults,
    sequencerDeviations: r.l2Run.sequencerDeviations,
    latenciesMs: latencies.values(),
    judgedPerSecond:
      judgeClock.end > judgeClock.start
        ? plan.claims.length / ((judgeClock.end - judgeClock.start) / 1000)
        : undefined,
    l2IngestedPerSecond:
      judgeClock.l2CaughtUp > judgeClock.start
        ? plan.claims.length / ((judgeClock.l2CaughtUp - judgeClock.start) / 1000)
        : undefined,
  });
}

function disputeSummary(
  r: DisputeRecord,
  events: readonly { to?: string; detail?: Record<string, unknown> }[],
  latencies: LatencyClock,
): DisputeSummary {
  // The last confirmation is the one that held: a reorg may send the dispute back to `challenged`.
  const confirmed = [...events].reverse().find((e) => e.to === 'confirmed');
  const d = asDiagnosis(r.opened.diagnosis);
  return {
    id: r.id,
    epoch: r.epoch,
    step: d?.step,
    rule: d?.rule,
    fault: d?.fault,
    kickoffTxid: r.kickoffTxid,
    challengeTxid: r.challenge.txid,
    challengeConfirmed: confirmed !== undefined,
    challengeConfirmedAt: typeof confirmed?.detail?.height === 'number' ? confirmed.detail.height : undefined,
    challengeDeadline: r.opened.challengeBy,
    finalState: r.state,
    outcome: r.outcome,
    latencyMs: latencies.latencyOf(r.kickoffTxid),
  };
}
