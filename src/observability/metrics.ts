/**
 * The Prometheus registry: one per process, handed to every component that records a figure. Metric
 * names carry the `vigil_` namespace and a unit suffix (`_seconds`, `_total`); the Node.js default
 * metrics keep their standard names so stock dashboards work.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { BuildInfo } from './build-info.ts';

export { type BuildInfo, buildInfo } from './build-info.ts';

export function createMetricsRegistry(build: BuildInfo): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const info = new Gauge({
    name: 'vigil_build_info',
    help: 'Always 1; the labels say which Vigil runs on which Node.js',
    labelNames: ['version', 'commit', 'node'] as const,
    registers: [registry],
  });
  info.set({ version: build.version, commit: build.commit ?? 'unknown', node: process.version }, 1);
  return registry;
}
