/**
 * HTTP with a timeout on every request and retries for transient faults only.
 *
 * Node's fetch (undici) keeps connections alive by default, so one backend reuses its sockets.
 * A request that times out, cannot connect, gets a 5xx without a usable body, or gets a body that is
 * not what the protocol promises is a `TransientFault`; the retry loop backs off exponentially with
 * full jitter and finally raises `BackendUnavailableError`. Any other error passes through untouched.
 *
 * Bodies are read as a stream and counted: one above the cap is refused as soon as the cap is crossed,
 * so a hostile server streaming gigabytes costs at most the cap in memory, not the whole body.
 */
import { scrubError, secretScrubber, urlSecrets } from '../../core/redact.ts';
import { type BackendKind, BackendLiedError, BackendUnavailableError, TransientFault } from './errors.ts';

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

/**
 * The largest response body a backend accepts by default. The largest honest reply Vigil asks for is a
 * block as hex inside JSON (a 4 MB block is 8 MB of hex), so 32 MiB leaves room and still bounds memory.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/**
 * Who is asking (for the error), how many body bytes they accept, and how their error texts are
 * scrubbed: fetch errors quote the URL asked, which may carry an API key or a password (default:
 * the secrets of the URL asked; a backend that knows more, such as a password sent in a header, adds
 * its own scrubber).
 */
export type BodyLimit = { backend: BackendKind; maxBytes: number; scrub?: (text: string) => string };

/** The URL's own secrets scrubbed, then the caller's. */
function scrubberFor(url: string, limit: BodyLimit): (text: string) => string {
  const own = secretScrubber(urlSecrets(url));
  const extra = limit.scrub;
  return extra === undefined ? own : (text) => extra(own(text));
}

export type HttpResponse = { status: number; body: Uint8Array; text: () => string };

export async function fetchOnce(
  url: string,
  init: RequestInit,
  timeoutMs: number,
  limit: BodyLimit,
): Promise<HttpResponse> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const scrub = scrubberFor(url, limit);
    throw new TransientFault(scrub(describeFetchError(err, timeoutMs)), { cause: scrubError(err, scrub) });
  }
  const body = await readCapped(res, url, timeoutMs, limit);
  return { status: res.status, body, text: () => new TextDecoder().decode(body) };
}

async function readCapped(
  res: Response,
  url: string,
  timeoutMs: number,
  limit: BodyLimit,
): Promise<Uint8Array> {
  const scrub = scrubberFor(url, limit);
  // The path of the configured base URL is in it, and may hold an API key.
  const path = scrub(new URL(url).pathname);
  const tooLarge = (seen: string) =>
    new BackendLiedError(
      limit.backend,
      'body-too-large',
      `${path}: response body ${seen} exceeds the ${limit.maxBytes}-byte cap`,
    );
  // A declared length over the cap is refused before a byte of the body is read.
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit.maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(`of ${declared} bytes`);
  }
  const reader = res.body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit.maxBytes) {
        // Cancelling drops the connection rather than draining what the server still wants to send.
        await reader.cancel().catch(() => undefined);
        throw tooLarge(`of more than ${limit.maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof BackendLiedError) throw err;
    throw new TransientFault(scrub(`reading the response failed: ${describeFetchError(err, timeoutMs)}`), {
      cause: scrubError(err, scrub),
    });
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const body = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
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
