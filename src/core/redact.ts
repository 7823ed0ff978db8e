/**
 * Redaction of URLs and of the text and errors that quote them. A URL can carry a secret (a password, a
 * provider's API key in the path or query), and errors from HTTP clients quote the URL they asked. Here,
 * in core/, so that the Bitcoin backends and the L2 client scrub their errors with the same rule as the
 * configuration printer (src/config/redact.ts re-exports it).
 */
// A path segment that looks like a provider API key: long, and mixing letters and digits.
function looksLikeApiKey(segment: string): boolean {
  return segment.length >= 16 && /[a-z]/i.test(segment) && /\d/.test(segment) && /^[\w-]+$/.test(segment);
}

// `scheme://user:password@` at the start of a text the URL parser refuses (a host list, a bad port).
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#\s]*)@/i;

/**
 * The credentials of something URL-shaped that `URL` cannot parse (`redis://:pw@h1:1,h2:2`, a port out of
 * range): a configuration error quotes exactly such a value, and must not quote its password.
 */
function redactUserinfo(text: string): string {
  const m = USERINFO.exec(text);
  if (m === null) return text;
  const [whole, scheme, userinfo] = m as unknown as [string, string, string];
  const colon = userinfo.indexOf(':');
  let safe: string;
  if (colon >= 0) safe = `${userinfo.slice(0, colon)}:redacted`;
  else if (looksLikeApiKey(userinfo)) safe = 'redacted';
  else return text;
  return `${scheme}${safe}@${text.slice(whole.length)}`;
}

/** The URL with its password, query values and API-key-like path segments replaced; other text as is. */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return redactUserinfo(text);
  }
  if (!url.host) return redactUserinfo(text);
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
 * Literal secrets shorter than this are left to the URL rule alone: replacing a short password
 * everywhere in a text would mangle it (`pass` inside `password`) without protecting much.
 */
const MIN_LITERAL_SECRET = 6;

/**
 * The secrets a URL carries as literal strings: its password (or an API-key-like user name), its
 * API-key-like path segments and its query values, each as written and decoded. For scrubbing texts
 * that may quote them without the URL around them (a proxy's error page echoing the request path).
 */
export function urlSecrets(text: string): string[] {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return [];
  }
  const out: string[] = [];
  if (url.password) out.push(url.password);
  else if (url.username && looksLikeApiKey(url.username)) out.push(url.username);
  for (const segment of url.pathname.split('/')) if (looksLikeApiKey(segment)) out.push(segment);
  for (const [, value] of url.searchParams) out.push(value, encodeURIComponent(value));
  return out.flatMap((s) => {
    let decoded = s;
    try {
      decoded = decodeURIComponent(s);
    } catch {
      // Not valid percent-encoding: the text as written is all there is to look for.
    }
    return decoded === s ? [s] : [s, decoded];
  });
}

/**
 * A text redactor: redactText, then every literal of `secrets` (of at least 6 characters) replaced by
 * `redacted`, longest first so that a secret containing another is replaced whole.
 */
export function secretScrubber(secrets: Iterable<string>): (text: string) => string {
  const literals = [...new Set(secrets)]
    .filter((s) => s.length >= MIN_LITERAL_SECRET)
    .sort((a, b) => b.length - a.length);
  return (text: string): string => {
    let out = redactText(text);
    for (const secret of literals) if (out.includes(secret)) out = out.split(secret).join('redacted');
    return out;
  };
}

/**
 * A copy of `err` safe to keep as a cause: message, stack and viem's `details`/`shortMessage` with URLs
 * redacted, the cause chain copied the same way (at most 8 deep). Name and `code` are kept, since
 * callers classify errors by them; anything else (request bodies, headers) is dropped.
 */
export function redactError(err: unknown, depth = 0): unknown {
  return scrubError(err, redactText, depth);
}

/** redactError with another text redactor (a secretScrubber that also knows literal secrets). */
export function scrubError(err: unknown, scrub: (text: string) => string, depth = 0): unknown {
  if (!(err instanceof Error)) return typeof err === 'string' ? scrub(err) : err;
  const copy = new Error(scrub(err.message));
  copy.name = err.name;
  copy.stack = err.stack === undefined ? undefined : scrub(err.stack);
  const extra = copy as Error & { code?: unknown; details?: unknown; shortMessage?: unknown };
  const from = err as Error & { code?: unknown; details?: unknown; shortMessage?: unknown };
  if (from.code !== undefined) extra.code = from.code;
  if (typeof from.details === 'string') extra.details = scrub(from.details);
  if (typeof from.shortMessage === 'string') extra.shortMessage = scrub(from.shortMessage);
  if (err.cause !== undefined && depth < 8) copy.cause = scrubError(err.cause, scrub, depth + 1);
  return copy;
}
