/**
 * The daemon's lifecycle: start components in order, and on SIGINT/SIGTERM stop them in reverse order.
 *
 * Stopping a component means: take no new work, finish what is in flight, release connections. All of
 * it shares one grace period (`shutdown.graceMs`); when it runs out, the signal handed to `stop` aborts
 * and the remaining components are told to let go at once. Infrastructure (Redis, the HTTP server) is
 * started first so it is stopped last, after the workers that need it have drained.
 *
 * Exit codes: 0 after a clean stop; 1 when the grace period ran out or a component failed to stop; a
 * second signal exits at once with 128 + the signal number (130 for SIGINT, 143 for SIGTERM).
 */
import type { Logger } from 'pino';
import { ExitCode } from '../cli/exit-codes.ts';
import type { HealthRegistry } from '../observability/health.ts';

export type Component = {
  name: string;
  /** Begin work. A component that throws here aborts the start; those already started are stopped. */
  start(): Promise<void> | void;
  /**
   * Stop intake, let in-flight work finish, release resources. `signal` aborts when the grace period is
   * over: then give up on the remaining work and return quickly.
   */
  stop(signal: AbortSignal): Promise<void> | void;
};

export type DaemonOptions = {
  components: readonly Component[];
  graceMs: number;
  logger: Logger;
  /** When given, the daemon registers readiness `daemon`: ready once started, not ready while stopping. */
  health?: HealthRegistry | undefined;
  /** Called on the second signal; defaults to process.exit. */
  exitNow?: (code: number) => void;
};

const SECOND_SIGNAL_EXIT: Record<string, number> = {
  SIGINT: ExitCode.SecondSigint,
  SIGTERM: ExitCode.SecondSigterm,
};

/** How long components may take to let go once the grace period has run out. */
const AFTER_GRACE_MS = 2000;

export class Daemon {
  readonly #options: DaemonOptions;
  readonly #started: Component[] = [];
  #state: 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' = 'idle';
  #stopping: Promise<number> | undefined;
  #stopRequested = false;
  #startLoop: Promise<unknown> | undefined;
  #resolveStopped!: (code: number) => void;
  /** Resolves with the exit code once every component has stopped. */
  readonly stopped: Promise<number>;

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
    const failure = await this.#startLoop;
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
  shutdown(reason: string): Promise<number> {
    this.#stopping ??= this.#stop(reason).then((code) => {
      this.#state = 'stopped';
      this.#resolveStopped(code);
      return code;
    });
    return this.#stopping;
  }

  async #stop(reason: string): Promise<number> {
    this.#stopRequested = true;
    this.#state = 'stopping';
    const { logger, graceMs } = this.#options;
    // A signal during start: let the component being started finish starting, then stop it too.
    await this.#startLoop;
    logger.info({ reason, graceMs }, 'shutting down: intake stopped, waiting for in-flight work');
    const grace = new AbortController();
    const graceTimer = setTimeout(() => grace.abort(new Error('shutdown grace period over')), graceMs);
    const graceOver = new Promise<void>((resolve) => grace.signal.addEventListener('abort', () => resolve()));
    let code: number = ExitCode.Ok;
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
        code = ExitCode.Failed;
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
    if (grace.signal.aborted) code = ExitCode.Failed;
    this.#started.length = 0;
    if (code === ExitCode.Ok) logger.info('vigil stopped cleanly');
    return code;
  }
}

/**
 * Starts the daemon, stops it on SIGINT/SIGTERM, and resolves with the process exit code. A second
 * signal during the shutdown exits at once (128 + signal number).
 */
export async function runDaemon(options: DaemonOptions): Promise<number> {
  const daemon = new Daemon(options);
  const exitNow = options.exitNow ?? ((code: number) => process.exit(code));
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      options.logger.warn({ signal }, 'second signal: exiting now without waiting for in-flight work');
      exitNow(SECOND_SIGNAL_EXIT[signal] ?? ExitCode.Failed);
      return;
    }
    signalled = true;
    void daemon.shutdown(signal);
  };
  // A bug that escapes every component: log it where the operator looks, then exit as an internal error
  // (the supervisor restarts Vigil; jobs are idempotent and resume).
  const onFatal = (err: unknown) => {
    options.logger.fatal({ err }, 'uncaught error: exiting');
    exitNow(ExitCode.Internal);
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
