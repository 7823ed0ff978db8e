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
