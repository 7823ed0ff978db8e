/**
 * The daemon's lifecycle: start components in order, and on SIGINT/SIGTERM stop them in reverse order.
 *
 * Stopping a component means: take no new work, finish what is in flight, release connections. All of
 * it shares one grace period (`shutdown.graceMs`); when it runs out, the signal handed to `stop` aborts
 * and the remaining components are told to let go at once. Infrastructure (Redis, the HTTP server) is
 * started first so it is stopped last, after the workers that need it have drained.
 *
 * The daemon reports how it ended (a DaemonOutcome), or asks its caller to end the process at once (an
 * ImmediateExit: a second signal, an uncaught error); the CLI turns both into exit codes
 * (src/cli/exit-codes.ts).
 */
import type { Logger } from 'pino';
import type { Component } from '../core/component.ts';
import type { HealthRegistry } from '../observability/health.ts';

/**
 * How a stop ended: `clean` when every component stopped in time; `abandoned` when in-flight work was
 * given up (the grace period ran out, or a component failed to stop).
 */
export type DaemonOutcome = 'clean' | 'abandoned';

/** Why the process must end now, without waiting: a second signal during the shutdown, or an uncaught error. */
export type ImmediateExit = { reason: 'second-signal'; signal: NodeJS.Signals } | { reason: 'fatal' };

export type DaemonOptions = {
  components: readonly Component[];
  graceMs: number;
  logger: Logger;
  /** When given, the daemon registers readiness `daemon`: ready once started, not ready while stopping. */
  health?: HealthRegistry | undefined;
};

export type RunDaemonOptions = DaemonOptions & {
  /** Ends the process at once (the caller picks the exit code): on a second signal, or an uncaught error. */
  exitNow: (why: ImmediateExit) => void;
};

/** How long components may take to let go once the grace period has run out. */
const AFTER_GRACE_MS = 2000;

export class Daemon {
  readonly #options: DaemonOptions;
  readonly #started: Component[] = [];
  #state: 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' = 'idle';
  #stopping: Promise<DaemonOutcome> | undefined;
  #stopRequested = false;
  #startLoop: Promise<unknown> | undefined;
  #resolveStopped!: (outcome: DaemonOutcome) => void;
  /** Resolves with how the stop ended once every component has stopped. */
  readonly stopped: Promise<DaemonOutcome>;

  constructor(options: DaemonOptions) {
    this.#options = options;
    this.stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
    options.health?.registerReadiness('daemon', () =>
      this.#state === 'running'
        ? { healthy: true }
        : { healthy: false, reason: this.#state === 'stopping' ? 'shutting down' : `daemon ${this.#state}` },
    );
  }

  get state(): string {
    return this.#state;
  }

  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new Error(`daemon cannot start from state ${this.#state}`);
    this.#state = 'starting';
    this.#startLoop = this.#startAll();
    // A shutdown during start ends the start too: a component still starting when the shutdown's grace
    // period ran out is abandoned, not waited for.
    const failure = await Promise.race([this.#startLoop, this.stopped.then(() => undefined)]);
    if (failure !== undefined) {
      await this.shutdown('start failed');
      throw failure;
    }
    if (this.#state === 'starting') {
      this.#state = 'running';
      this.#options.logger.info({ components: this.#started.map((c) => c.name) }, 'vigil started');
    }
  }

  /** Starts components in order until one fails (returns its error) or a shutdown is requested. */
  async #startAll(): Promise<unknown> {
    const { logger } = this.#options;
    for (const component of this.#options.components) {
      if (this.#stopRequested) return undefined;
      try {
        await component.start();
      } catch (err) {
        logger.error({ component: component.name, err }, 'component failed to start; stopping the others');
        return err ?? new Error(`component ${component.name} failed to start`);
      }
      this.#started.push(component);
      logger.debug({ component: component.name }, 'component started');
    }
    return undefined;
  }

  /** Stops everything once; later calls return the same promise. */
  shutdown(reason: string): Promise<DaemonOutcome> {
    this.#stopping ??= this.#stop(reason).then((outcome) => {
      this.#state = 'stopped';
      this.#resolveStopped(outcome);
      return outcome;
    });
    return this.#stopping;
  }

  async #stop(reason: string): Promise<DaemonOutcome> {
    this.#stopRequested = true;
    this.#state = 'stopping';
    const { logger, graceMs } = this.#options;
    const grace = new AbortController();
    const graceTimer = setTimeout(() => grace.abort(new Error('shutdown grace period over')), graceMs);
    const graceOver = new Promise<void>((resolve) => grace.signal.addEventListener('abort', () => resolve()));
    // A signal during start: the component being started may finish starting within the grace period, and
    // is then stopped too. One still starting when it ends (a preflight retrying an unreachable node for
    // minutes) is abandoned: the grace period bounds the whole shutdown, start included.
    const startEnded = await Promise.race([
      Promise.resolve(this.#startLoop).then(() => true),
      graceOver.then(() => false),
    ]);
    if (!startEnded) {
      logger.error(
        { graceMs },
        'grace period over while a component was still starting; abandoning its start',
      );
    }
    logger.info({ reason, graceMs }, 'shutting down: intake stopped, waiting for in-flight work');
    let outcome: DaemonOutcome = 'clean';
    const pending = [...this.#started].reverse();
    for (const [i, component] of pending.entries()) {
      const afterGrace = grace.signal.aborted;
      const limit = afterGrace
        ? new Promise<void>((resolve) => setTimeout(resolve, AFTER_GRACE_MS).unref())
        : graceOver;
      let finished = false;
      let failed = false;
      try {
        await Promise.race([
          Promise.resolve()
            .then(() => component.stop(grace.signal))
            .then(() => {
              finished = true;
            }),
          limit,
        ]);
      } catch (err) {
        failed = true;
        outcome = 'abandoned';
        logger.error({ component: component.name, err }, 'component failed to stop cleanly');
      }
      if (!afterGrace && grace.signal.aborted) {
        logger.error(
          { component: component.name, remaining: pending.slice(i).map((c) => c.name), graceMs },
          'grace period over before this component finished; abandoning its in-flight work',
        );
      } else if (!finished && !failed) {
        logger.error({ component: component.name }, `component did not let go within ${AFTER_GRACE_MS} ms`);
      }
      if (finished) logger.debug({ component: component.name }, 'component stopped');
    }
    clearTimeout(graceTimer);
    // Work was abandoned when the grace period ran out, even if every stop() then returned.
    if (grace.signal.aborted) outcome = 'abandoned';
    this.#started.length = 0;
    if (outcome === 'clean') logger.info('vigil stopped cleanly');
    return outcome;
  }
}

/**
 * Starts the daemon, stops it on SIGINT/SIGTERM, and resolves with how the stop ended. A second signal
 * during the shutdown ends the process at once through `exitNow`.
 */
export async function runDaemon(options: RunDaemonOptions): Promise<DaemonOutcome> {
  const daemon = new Daemon(options);
  const { exitNow } = options;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      options.logger.warn({ signal }, 'second signal: exiting now without waiting for in-flight work');
      exitNow({ reason: 'second-signal', signal });
      return;
    }
    signalled = true;
    void daemon.shutdown(signal);
  };
  // A bug that escapes every component: log it where the operator looks, then exit as an internal error
  // (the supervisor restarts Vigil; jobs are idempotent and resume).
  const onFatal = (err: unknown) => {
    options.logger.fatal({ err }, 'uncaught error: exiting');
    exitNow({ reason: 'fatal' });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  try {
    await daemon.start();
    return await daemon.stopped;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
  }
}
