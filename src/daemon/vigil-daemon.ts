/**
 * The composition every long-running Vigil command shares: logger, metrics, health, Redis, the operator
 * HTTP server, then the domain components the command adds (ingestion, Bitcoin poll, judge, workers: issue
 * #8). Infrastructure is started first and stopped last.
 */
import { setFlagsFromString } from 'node:v8';
import type { VigilConfig } from '../config/schema.ts';
import { redisUrlFromConfig } from '../config/secrets.ts';
import type { Component } from '../core/component.ts';
import { HealthRegistry } from '../observability/health.ts';
import { componentLogger, createLogger, type Logger } from '../observability/logger.ts';
import { buildInfo, createMetricsRegistry } from '../observability/metrics.ts';
import {
  type HttpComponent,
  operatorHttpComponent,
  type RedisComponent,
  redisComponent,
} from './components.ts';
import { type DaemonOutcome, type ImmediateExit, runDaemon } from './runtime.ts';

export type DaemonBase = {
  config: VigilConfig;
  logger: Logger;
  health: HealthRegistry;
  metrics: ReturnType<typeof createMetricsRegistry>;
  redis: RedisComponent;
  http: HttpComponent;
};

/** Reads the Redis password when one is configured: throws SecretUnavailableError (exit 3) if unreadable. */
export function createDaemonBase(config: VigilConfig): DaemonBase {
  const logger = createLogger({ level: config.log.level, format: config.log.format, base: { app: 'vigil' } });
  const health = new HealthRegistry();
  const metrics = createMetricsRegistry(buildInfo());
  const redis = redisComponent({
    url: redisUrlFromConfig(config),
    role: 'command',
    // The daemon runs BullMQ queues, which lose jobs and locks on a Redis that evicts keys.
    requireNoEviction: true,
    health,
    logger: componentLogger(logger, 'redis'),
  });
  const http = operatorHttpComponent({
    host: config.http.host,
    port: config.http.port,
    allowedHosts: config.http.allowedHosts,
    maxConnections: config.http.maxConnections,
    headersTimeoutMs: config.http.headersTimeoutMs,
    requestTimeoutMs: config.http.requestTimeoutMs,
    health,
    metrics,
    logger: componentLogger(logger, 'http'),
  });
  return { config, logger, health, metrics, redis, http };
}

/**
 * Runs Redis + HTTP + the components `domain` builds until SIGINT/SIGTERM; resolves with how the stop
 * ended. The caller exits the process accordingly (abandoned work must not keep the process alive), and
 * `exitNow` ends it at once on a second signal or an uncaught error.
 */
export async function runVigilDaemon(
  config: VigilConfig,
  domain: (base: DaemonBase) => Component[],
  exitNow: (why: ImmediateExit) => void,
): Promise<DaemonOutcome> {
  limitHeapGrowth(config.memory.heapGrowthPercent);
  const base = createDaemonBase(config);
  return runDaemon({
    components: [base.redis, base.http, ...domain(base)],
    graceMs: config.shutdown.graceMs,
    logger: base.logger,
    health: base.health,
    exitNow,
  });
}

/**
 * V8 sizes the heap after each full collection at up to 4× what survived it. A daemon whose live set is
 * some 60 MiB, with every epoch's re-execution as garbage, then held 230 MiB of heap it mostly did not
 * use, and the soak's RSS swung by 150 MiB with it. A smaller factor holds the heap near what is live for
 * a few more collections (the daemon's CPU goes to waiting on nodes, not to its collector). V8 reads the
 * flag at every resize, so setting it once the process runs takes effect from the next collection.
 */
export function limitHeapGrowth(percent: number): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
