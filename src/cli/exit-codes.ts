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
  /** The command exists but its implementation lands with a later release. */
  NotImplemented: 5,
  /** An unexpected internal error (a bug: please report it). */
  Internal: 70,
  /** A second SIGINT during the daemon's shutdown: exited at once (128 + 2). */
  SecondSigint: 130,
  /** A second SIGTERM during the daemon's shutdown: exited at once (128 + 15). */
  SecondSigterm: 143,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
