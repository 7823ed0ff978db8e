/**
 * The Prometheus registry: one per process, handed to every component that records a figure. Metric
 * names carry the `vigil_` namespace and a unit suffix (`_seconds`, `_total`); the Node.js default
 * metrics keep their standard names so stock dashboards work.
 */
import { readFileSync } from 'node:fs';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export type BuildInfo = {
  version: string;
  /** The git commit the build came from, when known (the Docker image sets VIGIL_BUILD_COMMIT). */
  commit?: string | undefined;
};

/** This build: the version from package.json, the commit from VIGIL_BUILD_COMMIT (set by the image). */
export function buildInfo(env: Record<string, string | undefined> = process.env): BuildInfo {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const commit = env.VIGIL_BUILD_COMMIT;
  return { version: pkg.version, commit: commit === undefined || commit === '' ? undefined : commit };
}

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
