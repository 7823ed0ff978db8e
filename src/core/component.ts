/**
 * A part of a long-running process that the daemon starts and stops (src/daemon/runtime.ts). Here,
 * below both, so that components (the watcher, the Redis and HTTP components) are written without
 * depending on the daemon that composes them.
 */
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
