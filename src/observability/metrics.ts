/**
 * The Prometheus registry: one per process, handed to every component that records a figure. Metric
 * names carry the `vigil_` namespace and a unit suffix (`_seconds`, `_total`); the Node.js default
 * metrics keep their standard names so stock dashboards work, except three that are not valid
 * Prometheus names (below). `promtool check metrics` passes on the whole scrape
 * (test/watcher/health-components.test.ts).
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { BuildInfo } from './build-info.ts';
import { registerLiveHeapGauge } from './live-heap.ts';

export { type BuildInfo, buildInfo } from './build-info.ts';

/**
 * prom-client's gauges that break Prometheus's naming rule (a `_total` suffix is for counters; `promtool
 * check metrics` refuses them). Each is the sum of the by-type gauge of the same name without the suffix
 * (`nodejs_active_handles{type}`...), which stays: `sum(nodejs_active_handles)` is the same figure.
 */
export const DROPPED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

export function createMetricsRegistry(build: BuildInfo): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  registerLiveHeapGauge(registry);
  const info = new Gauge({
    name: 'vigil_build_info',
    help: 'Always 1; the labels say which Vigil runs on which Node.js',
    labelNames: ['version', 'commit', 'node'] as const,
    registers: [registry],
  });
  info.set({ version: build.version, commit: build.commit ?? 'unknown', node: process.version }, 1);
  return registry;
}
