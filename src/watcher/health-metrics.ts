/**
 * The gauges behind the watcher's health checks, so that the alerts in config/alerts.yml fire on the
 * same facts /healthz answers 503 on, without anyone having to scrape /healthz.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export type WatcherHealthMetrics = {
  lastPollSuccess: Gauge<never>;
  pollFailures: Counter<'step'>;
  deadlineAtRisk: Gauge<'dispute' | 'state' | 'deadline'>;
  walletSpendable: Gauge<never>;
  walletRequired: Gauge<never>;
};

function existing<T>(registry: Registry, name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

/** Registers the gauges once per registry (a second call returns the same instances). */
export function watcherHealthMetrics(registry: Registry): WatcherHealthMetrics {
  const r = [registry];
  return {
    lastPollSuccess:
      existing(registry, 'vigil_watcher_last_poll_success_timestamp_seconds') ??
      new Gauge({
        name: 'vigil_watcher_last_poll_success_timestamp_seconds',
        help: 'When this process, holding the follow lease, last completed a poll with every step successful (0: never)',
        registers: r,
      }),
    pollFailures:
      existing(registry, 'vigil_watcher_poll_failures_total') ??
      new Counter({
        name: 'vigil_watcher_poll_failures_total',
        help: 'Steps of the follow poll that failed (step: sync, tip, graphs, judge, redrive, wallet, deadlines, gauges)',
        labelNames: ['step'],
        registers: r,
      }),
    deadlineAtRisk:
      existing(registry, 'vigil_watcher_deadline_at_risk') ??
      new Gauge({
        name: 'vigil_watcher_deadline_at_risk',
        help: '1 while an open dispute is within the safety margin of a deadline it has not met (any state)',
        labelNames: ['dispute', 'state', 'deadline'],
        registers: r,
      }),
    walletSpendable:
      existing(registry, 'vigil_watcher_wallet_spendable_sats') ??
      new Gauge({
        name: 'vigil_watcher_wallet_spendable_sats',
        help: 'Confirmed, mature watcher wallet coins not committed to a stored challenge (mode challenge)',
        registers: r,
      }),
    walletRequired:
      existing(registry, 'vigil_watcher_challenge_funding_required_sats') ??
      new Gauge({
        name: 'vigil_watcher_challenge_funding_required_sats',
        help: 'Sats the next challenge needs from the wallet: amount - connector + fee at the cap + reserve',
        registers: r,
      }),
  };
}
