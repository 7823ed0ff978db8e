/**
 * HTTP with a timeout on every request and retries for transient faults only.
 *
 * Node's fetch (undici) keeps connections alive by default, so one backend reuses its sockets.
 * A request that times out, cannot connect, gets a 5xx without a usable body, or gets a body that is
 * not what the protocol promises is a `TransientFault`; the retry loop backs off exponentially with
 * full jitter and finally raises `BackendUnavailableError`. Any other error passes through untouched.
 */
import { type BackendKind, BackendUnavailableError, TransientFault } from './errors.ts';

export type RetryPolicy = {
  /** Total tries, including the first. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per-request timeout. */
  timeoutMs: number;
};

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 5_000,
  timeoutMs: 15_000,
};

export type HttpResponse = { status: number; body: Uint8Array; text: () => string };

export async function fetchOnce(url: string, init: RequestInit, timeoutMs: number): Promise<HttpResponse> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new TransientFault(describeFetchError(err, timeoutMs), { cause: err });
  }
  try {
    const body = new Uint8Array(await res.arrayBuffer());
    return { status: res.status, body, text: () => new TextDecoder().decode(body) };
  } catch (err) {
    throw new TransientFault(`reading the response failed: ${describeFetchError(err, timeoutMs)}`, {
      cause: err,
    });
  }
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}

/** Exponential backoff with full jitter (AWS architecture blog's "full jitter"). */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * cap);
}

export async function withRetry<T>(
  backend: BackendKind,
  what: string,
  policy: RetryPolicy,
  fn: () => Promise<T>,
): Promise<T> {
  let last: TransientFault | undefined;
  for (let attempt = 0; attempt < policy.attempts; attempt++) {
    if (attempt > 0) await sleep(backoffDelay(policy, attempt - 1));
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof TransientFault)) throw err;
      last = err;
    }
  }
  throw new BackendUnavailableError(
    backend,
    `${what}: ${last?.message ?? 'unknown fault'}`,
    policy.attempts,
    {
      cause: last,
    },
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
