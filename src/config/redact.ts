/**
 * Redaction for everything Vigil prints about its configuration. The config holds references to
 * secrets (file paths, env variable names), not secrets; what can still carry one is a URL (a Redis
 * password, an RPC provider's API key in the path or query), so URLs are scrubbed.
 */
import { redactUrl } from '../core/redact.ts';

// The URL, text and error redaction lives in core/, shared with code below config/ (the Bitcoin backends).
export { redactError, redactText, redactUrl } from '../core/redact.ts';

export const REDACTED = '<redacted>';

/** Key names that must never hold a value in the config file: their values are secrets. */
export const INLINE_SECRET_KEY =
  /^(password|passwd|pass|secret|private_?key|privkey|key|wif|seed|mnemonic|xprv|tprv|api_?key|auth_?token|cookie)$/i;

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
