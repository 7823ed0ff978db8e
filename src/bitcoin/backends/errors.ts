/**
 * The three ways a backend request can fail, so callers never branch on message text:
 * - `BroadcastRejectedError`: the node looked at the transaction and refused it (Core's reject reason).
 * - `BackendUnavailableError`: transient (connection refused, timeout, 5xx, garbage body, node warming
 *   up); the backend retries these with backoff and jitter before surfacing them.
 * - `BackendRequestError`: permanent (bad auth, unknown method, invalid parameter); surfaced at once.
 */
import { VigilError, type VigilErrorOptions } from '../../core/errors.ts';

export type BackendKind = 'core-rpc' | 'esplora';

export class BackendError extends VigilError {
  override name = 'BackendError';
}

export class BroadcastRejectedError extends BackendError {
  override name = 'BroadcastRejectedError';
  /** Core's reject reason, e.g. "min relay fee not met, 100 < 141" or "txn-mempool-conflict". */
  readonly reason: string;
  /** Core's RPC error code (-25, -26, -27) when the backend reported one. */
  readonly code: number | undefined;
  readonly txid: string | undefined;

  constructor(reason: string, code: number | undefined, txid?: string, options: VigilErrorOptions = {}) {
    super(`Transaction rejected${txid ? ` (${txid})` : ''}: ${reason}`, {
      ...options,
      metaMessages: [
        ...(code === undefined ? [] : [`Core error code: ${code}`]),
        ...(options.metaMessages ?? []),
      ],
    });
    this.reason = reason;
    this.code = code;
    this.txid = txid;
  }
}

export class BackendUnavailableError extends BackendError {
  override name = 'BackendUnavailableError';
  readonly backend: BackendKind;
  readonly attempts: number;

  constructor(backend: BackendKind, what: string, attempts: number, options: VigilErrorOptions = {}) {
    super(`Bitcoin backend (${backend}) unavailable: ${what}`, {
      ...options,
      metaMessages: [`Tried ${attempts} time(s).`, ...(options.metaMessages ?? [])],
    });
    this.backend = backend;
    this.attempts = attempts;
  }
}

export class BackendRequestError extends BackendError {
  override name = 'BackendRequestError';
  readonly backend: BackendKind;
  /** Core's RPC error code or the HTTP status, when known. */
  readonly code: number | undefined;

  constructor(backend: BackendKind, what: string, code: number | undefined, options: VigilErrorOptions = {}) {
    super(`Bitcoin backend (${backend}) refused the request: ${what}`, options);
    this.backend = backend;
    this.code = code;
  }
}

/** Marks a failure as transient inside a backend; the retry loop turns the last one into `BackendUnavailableError`. */
export class TransientFault extends Error {
  override name = 'TransientFault';
}
