/**
 * Redaction for everything Vigil prints about its configuration. The config holds references to
 * secrets (file paths, env variable names), not secrets; what can still carry one is a URL (a Redis
 * password, an RPC provider's API key in the path or query), so URLs are scrubbed.
 */
export const REDACTED = '<redacted>';

/** Key names that must never hold a value in the config file: their values are secrets. */
export const INLINE_SECRET_KEY =
  /^(password|passwd|pass|secret|private_?key|privkey|key|wif|seed|mnemonic|xprv|tprv|api_?key|auth_?token|cookie)$/i;

// A path segment that looks like a provider API key: long, and mixing letters and digits.
function looksLikeApiKey(segment: string): boolean {
  return segment.length >= 16 && /[a-z]/i.test(segment) && /\d/.test(segment) && /^[\w-]+$/.test(segment);
}

/** The URL with its password, query values and API-key-like path segments replaced; other text as is. */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (!url.host) return text;
  let changed = false;
  if (url.password) {
    url.password = 'redacted';
    changed = true;
  } else if (url.username && looksLikeApiKey(url.username)) {
    // Some providers take the key as the user name alone (`https://<key>@host`).
    url.username = 'redacted';
    changed = true;
  }
  const segments = url.pathname.split('/');
  const scrubbed = segments.map((s) => (looksLikeApiKey(s) ? 'redacted' : s));
  if (scrubbed.some((s, i) => s !== segments[i])) {
    url.pathname = scrubbed.join('/');
    changed = true;
  }
  for (const k of [...url.searchParams.keys()]) {
    url.searchParams.set(k, 'redacted');
    changed = true;
  }
  return changed ? url.toString() : text;
}

/** A deep copy with every URL-shaped string scrubbed and every inline-secret-named key redacted. */
export function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = INLINE_SECRET_KEY.test(k) ? REDACTED : redactValue(v);
    return out;
  }
  return value;
}

// A URL with a scheme inside free text (an error message, a JSON log line). It ends at whitespace, a
// quote, a backslash (a JSON escape) or angle brackets; trailing punctuation is left to the sentence.
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'`\\<>]+/gi;

/**
 * `text` with every URL in it passed through redactUrl. For messages that may quote a URL (viem puts
 * the request URL in its errors), so a secret in one cannot reach a log line or an error.
 */
export function redactText(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT, (match) => {
    const trail = /[.,;:)\]]+$/.exec(match)?.[0] ?? '';
    const url = trail === '' ? match : match.slice(0, -trail.length);
    return redactUrl(url) + trail;
  });
}

/**
 * A copy of `err` safe to keep as a cause: message, stack and viem's `details`/`shortMessage` with URLs
 * redacted, the cause chain copied the same way (at most 8 deep). Name and `code` are kept, since
 * callers classify errors by them; anything else (request bodies, headers) is dropped.
 */
export function redactError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return typeof err === 'string' ? redactText(err) : err;
  const copy = new Error(redactText(err.message));
  copy.name = err.name;
  copy.stack = err.stack === undefined ? undefined : redactText(err.stack);
  const extra = copy as Error & { code?: unknown; details?: unknown; shortMessage?: unknown };
  const from = err as Error & { code?: unknown; details?: unknown; shortMessage?: unknown };
  if (from.code !== undefined) extra.code = from.code;
  if (typeof from.details === 'string') extra.details = redactText(from.details);
  if (typeof from.shortMessage === 'string') extra.shortMessage = redactText(from.shortMessage);
  if (err.cause !== undefined && depth < 8) copy.cause = redactError(err.cause, depth + 1);
  return copy;
}
