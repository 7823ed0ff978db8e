import { VigilError } from '../core/errors.ts';
import type { DaemonOutcome, ImmediateExit } from '../daemon/runtime.ts';

/** Process exit codes. Stable: scripts and CI depend on them. Documented in README. */
export const ExitCode = {
  /** Success; for verdict commands: everything checked passed. */
  Ok: 0,
  /** The command ran and its answer is negative (an invalid transaction, an unexpected devnet outcome). */
  Failed: 1,
  /** Bad command-line usage. */
  Usage: 2,
  /** The configuration is invalid. */
  Config: 3,
  /** A service Vigil needs (Redis, an RPC endpoint) is not reachable. */
  Unavailable: 4,
  /** An unexpected internal error (a bug: please report it). */
  Internal: 70,
  /** A second SIGINT during the daemon's shutdown: exited at once (128 + 2). */
  SecondSigint: 130,
  /** A second SIGTERM during the daemon's shutdown: exited at once (128 + 15). */
  SecondSigterm: 143,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The exit code of a command that ended with `err`: the one place where a kind of failure becomes a
 * code. A VigilError's `category` decides (src/core/errors.ts); anything else is a bug (70).
 */
export function exitCodeFor(err: unknown): ExitCode {
  if (!(err instanceof VigilError)) return ExitCode.Internal;
  switch (err.category) {
    case 'usage':
      return ExitCode.Usage;
    case 'config':
      return ExitCode.Config;
    case 'unavailable':
      return ExitCode.Unavailable;
    case 'failed':
      return ExitCode.Failed;
  }
}

/** The exit code of a daemon that stopped: 0 when it stopped cleanly, 1 when in-flight work was abandoned. */
export function exitCodeForDaemon(outcome: DaemonOutcome): ExitCode {
  return outcome === 'clean' ? ExitCode.Ok : ExitCode.Failed;
}

/**
 * The exit code of a daemon that must end at once: 128 + the signal number for a second SIGINT or
 * SIGTERM (130, 143), 70 for an error that escaped every component.
 */
export function exitCodeForImmediateExit(why: ImmediateExit): ExitCode {
  if (why.reason === 'fatal') return ExitCode.Internal;
  if (why.signal === 'SIGINT') return ExitCode.SecondSigint;
  if (why.signal === 'SIGTERM') return ExitCode.SecondSigterm;
  return ExitCode.Failed;
}
