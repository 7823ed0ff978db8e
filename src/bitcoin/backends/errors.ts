/**
 * The three ways a backend request can fail, so callers never branch on message text:
 * - `BroadcastRejectedError`: the node looked at the transaction and refused it (Core's reject reason).
 * - `BackendUnavailableError`: transient (connection refused, timeout, 5xx, garbage body, node warming
 *   up); the backend retries these with backoff and jitter before surfacing them.
 * - `BackendRequestError`: permanent (bad auth, unknown method, invalid parameter); surfaced at once.
 * - `BackendLiedError` (a `BackendUnavailableError`): the reply is well-formed but provably false (bytes
 *   that do not hash to what was asked, a number out of range, an oversized body). Not retried: the
 *   backend may be hostile, and asking it again only spends time. Callers that already treat
 *   unavailable data as "no answer" need nothing more.
 */
import { VigilError, type VigilErrorCategory, type VigilErrorOptions } from '../../core/errors.ts';

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
  override readonly category: VigilErrorCategory = 'unavailable';
  readonly backend: BackendKind;
  readonly attempts: number;

  constructor(
    backend: BackendKind,
    what: string,
    attempts: number,
    options: VigilErrorOptions = {},
    headline = `Bitcoin backend (${backend}) unavailable: ${what}`,
  ) {
    super(headline, {
      ...options,
      metaMessages: [`Tried ${attempts} time(s).`, ...(options.metaMessages ?? [])],
    });
    this.backend = backend;
    this.attempts = attempts;
  }
}

/** What a backend got provably wrong; stable, for logs and metrics. */
export type BackendLie =
  | 'tx-hash-mismatch'
  | 'block-hash-mismatch'
  | 'merkle-root-mismatch'
  | 'witness-commitment-mismatch'
  | 'outspend-mismatch'
  | 'out-of-range'
  | 'body-too-large';

/**
 * The backend answered something checkably false. It is a `BackendUnavailableError` on purpose: the
 * answer is no answer, and nothing in it may be taken as truth about the chain.
 */
export class BackendLiedError extends BackendUnavailableError {
  override name = 'BackendLiedError';
  readonly lie: BackendLie;

  constructor(backend: BackendKind, lie: BackendLie, what: string, options: VigilErrorOptions = {}) {
    super(backend, what, 1, options, `Bitcoin backend (${backend}) gave a false answer: ${what}`);
    this.lie = lie;
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
