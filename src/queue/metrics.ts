/**
 * The watcher's metrics: what an operator alerts on (deadlines, unavailable verdicts near them, the
 * chains being followed) and what explains it (verdicts, disputes by state, queue depths, failures).
 * Names carry the `vigil_` namespace and a unit suffix; config/alerts.yml is written against them.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type WatcherMetrics = {
  epochsJudged: Counter<never>;
  verdicts: Counter<'outcome'>;
  disputes: Gauge<'state'>;
  challengeLatency: Histogram<never>;
  deadlineBlocksLeft: Gauge<'dispute' | 'deadline'>;
  queueJobs: Gauge<'queue' | 'state'>;
  jobFailures: Counter<'queue' | 'dispute_job' | 'kind'>;
  broadcasts: Counter<'tx' | 'result'>;
  chainFollowed: Gauge<'chain'>;
  feeBumps: Counter<never>;
  feeCapped: Gauge<'dispute'>;
  disproveImpossible: Gauge<'dispute' | 'reason'>;
  sendRefused: Counter<'tx' | 'kind'>;
  sendConflicts: Counter<'tx' | 'action'>;
  disputeRecordMissing: Gauge<'dispute'>;
  gameMoves: Counter<'side' | 'kind'>;
  gamePosition: Gauge<'dispute'>;
  gameDeadlineBlocks: Gauge<'dispute' | 'owes'>;
  gameMoveBlocks: Gauge<'dispute'>;
  gameOutbid: Gauge<'dispute' | 'tx'>;
  gameFailing: Gauge<'dispute'>;
  falseClaimsUnchallengeable: Counter<never>;
  bundlesNotPosted: Counter<'reason'>;
};

function existing<T>(registry: Registry, name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

/** Registers the metrics once per registry (a second call returns the same instances). */
export function watcherMetrics(registry: Registry): WatcherMetrics {
  const r = [registry];
  return {
    epochsJudged:
      existing(registry, 'vigil_epochs_judged_total') ??
      new Counter({ name: 'vigil_epochs_judged_total', help: 'Epoch commitments judged', registers: r }),
    verdicts:
      existing(registry, 'vigil_verdicts_total') ??
      new Counter({
        name: 'vigil_verdicts_total',
        help: 'Verdicts by outcome (valid, fraud, unavailable)',
        labelNames: ['outcome'],
        registers: r,
      }),
    disputes:
      existing(registry, 'vigil_disputes') ??
      new Gauge({ name: 'vigil_disputes', help: 'Disputes by state', labelNames: ['state'], registers: r }),
    challengeLatency:
      existing(registry, 'vigil_challenge_latency_seconds') ??
      new Histogram({
        name: 'vigil_challenge_latency_seconds',
        help: 'Time from a fraudulent kick-off seen at depth to its challenge broadcast',
        buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
        registers: r,
      }),
    deadlineBlocksLeft:
      existing(registry, 'vigil_dispute_deadline_blocks_left') ??
      new Gauge({
        name: 'vigil_dispute_deadline_blocks_left',
        help: 'Blocks left before a dispute deadline passes (negative: missed)',
        labelNames: ['dispute', 'deadline'],
        registers: r,
      }),
    queueJobs:
      existing(registry, 'vigil_queue_jobs') ??
      new Gauge({
        name: 'vigil_queue_jobs',
        help: 'Jobs per queue and state (waiting, active, delayed, failed)',
        labelNames: ['queue', 'state'],
        registers: r,
      }),
    jobFailures:
      existing(registry, 'vigil_job_failures_total') ??
      new Counter({
        name: 'vigil_job_failures_total',
        help: 'Failed job attempts (kind: retry or permanent)',
        // Not `job`: Prometheus keeps that name for the scrape job and would rename ours to exported_job.
        labelNames: ['queue', 'dispute_job', 'kind'],
        registers: r,
      }),
    broadcasts:
      existing(registry, 'vigil_broadcasts_total') ??
      new Counter({
        name: 'vigil_broadcasts_total',
        help: 'Transactions sent by Vigil (result: sent, rebroadcast, rejected, dry-run)',
        labelNames: ['tx', 'result'],
        registers: r,
      }),
    chainFollowed:
      existing(registry, 'vigil_chain_followed') ??
      new Gauge({
        name: 'vigil_chain_followed',
        help: '1 when some process holds the lease and follows the chain, 0 otherwise',
        labelNames: ['chain'],
        registers: r,
      }),
    feeBumps:
      existing(registry, 'vigil_challenge_fee_bumps_total') ??
      new Counter({
        name: 'vigil_challenge_fee_bumps_total',
        help: 'Challenge replacements (RBF) written and sent',
        registers: r,
      }),
    feeCapped:
      existing(registry, 'vigil_challenge_fee_capped') ??
      new Gauge({
        name: 'vigil_challenge_fee_capped',
        help: '1 while a challenge lags the fee estimate but already pays the configured cap',
        labelNames: ['dispute'],
        registers: r,
      }),
    disproveImpossible:
      existing(registry, 'vigil_disprove_impossible') ??
      new Gauge({
        name: 'vigil_disprove_impossible',
        help: '1 while an operator asserted and Vigil can disprove no step (reason: why); 0 once resolved',
        labelNames: ['dispute', 'reason'],
        registers: r,
      }),
    sendRefused:
      existing(registry, 'vigil_send_refused_total') ??
      new Counter({
        name: 'vigil_send_refused_total',
        help: 'Transactions Vigil will not send or the node refused for good (kind: refused, fee-cap); each one alerts',
        labelNames: ['tx', 'kind'],
        registers: r,
      }),
    sendConflicts:
      existing(registry, 'vigil_send_conflicts_total') ??
      new Counter({
        name: 'vigil_send_conflicts_total',
        help: 'Times something Vigil sent did not take effect (conflicted, evicted, fee too low) and what it did (action)',
        labelNames: ['tx', 'action'],
        registers: r,
      }),
    gameMoves:
      existing(registry, 'vigil_game_moves_total') ??
      new Counter({
        name: 'vigil_game_moves_total',
        help: "A game's transactions: Vigil's written and sent (side vigil, kind: its role), the operator's seen at depth (side operator, kind move)",
        labelNames: ['side', 'kind'],
        registers: r,
      }),
    gamePosition:
      existing(registry, 'vigil_game_round') ??
      new Gauge({
        name: 'vigil_game_round',
        help: "A game's position: its moves at depth after the assert (0: asserted, no move yet)",
        labelNames: ['dispute'],
        registers: r,
      }),
    gameDeadlineBlocks:
      existing(registry, 'vigil_game_deadline_blocks') ??
      new Gauge({
        name: 'vigil_game_deadline_blocks',
        help: "Blocks until the side that owes a game's next move (owes) can be timed out by the other (negative: it can now)",
        labelNames: ['dispute', 'owes'],
        registers: r,
      }),
    gameMoveBlocks:
      existing(registry, 'vigil_game_move_blocks') ??
      new Gauge({
        name: 'vigil_game_move_blocks',
        help: "t, the blocks each side of a game has for its move (the graph's): VigilGameDeadlineNear fires at t / 3 left",
        labelNames: ['dispute'],
        registers: r,
      }),
    gameOutbid:
      existing(registry, 'vigil_game_outbid') ??
      new Gauge({
        name: 'vigil_game_outbid',
        help: "1 while Vigil's game transaction (tx: game-slash, game-timeout, game-assert-timeout) at the top of its presigned fee ladder is refused for its fee: a conflicting transaction pays more in all (a move pinned behind a large child). It waits for fees to fall",
        labelNames: ['dispute', 'tx'],
        registers: r,
      }),
    gameFailing:
      existing(registry, 'vigil_game_failing_seconds') ??
      new Gauge({
        name: 'vigil_game_failing_seconds',
        help: "Seconds since a game's runs in this process began to fail one after another (gone once one completes)",
        labelNames: ['dispute'],
        registers: r,
      }),
    falseClaimsUnchallengeable:
      existing(registry, 'vigil_false_claims_unchallengeable_total') ??
      new Counter({
        name: 'vigil_false_claims_unchallengeable_total',
        help: 'Claims Vigil judged false, or whose graph it refused, in which it has no game it can play: it cannot challenge them',
        registers: r,
      }),
    bundlesNotPosted:
      existing(registry, 'vigil_bundles_not_posted_total') ??
      new Counter({
        name: 'vigil_bundles_not_posted_total',
        help: 'Claims that list Vigil for which it posted no bundle, by reason (no-bond-coin, window-closed, refused): it has no game in them',
        labelNames: ['reason'],
        registers: r,
      }),
    disputeRecordMissing:
      existing(registry, 'vigil_dispute_record_missing') ??
      new Gauge({
        name: 'vigil_dispute_record_missing',
        help: '1 while a dispute has jobs but no record in Redis, or a record Vigil cannot read (lost or corrupt state: never counted as resolved)',
        labelNames: ['dispute'],
        registers: r,
      }),
  };
}
