/**
 * Bitcoin Core's JSON-RPC transport: auth (user/password or the cookie file), one timeout per request,
 * retries for transient faults, and JSON-RPC error objects turned into typed errors.
 *
 * Core answers an RPC error with HTTP 500 (or 404 for an unknown method) and a JSON body under
 * JSON-RPC 1.0, so the body is read before the status: only a body that is not a JSON-RPC reply is
 * judged by its status.
 */
import { readFile } from 'node:fs/promises';
import { secretScrubber, urlSecrets } from '../../core/redact.ts';
import { BackendRequestError, TransientFault } from './errors.ts';
import {
  type BodyLimit,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_RETRY_POLICY,
  fetchOnce,
  type RetryPolicy,
  withRetry,
} from './http.ts';

export type CoreRpcAuth = { user: string; password: string } | { cookieFile: string };

export type CoreRpcClientOptions = {
  /** e.g. http://127.0.0.1:18443; credentials in the URL (http://user:pass@host:port) are accepted. */
  url: string;
  auth?: CoreRpcAuth;
  /** Selects a loaded wallet (`/wallet/<name>`) for wallet RPCs. */
  wallet?: string;
  retry?: Partial<RetryPolicy>;
  /** Response bodies above this many bytes are refused while streaming (default 32 MiB). */
  maxResponseBytes?: number;
};

/** A JSON-RPC error object Core returned; callers that expect some codes catch this and branch on `code`. */
export class CoreRpcError extends BackendRequestError {
  override name = 'CoreRpcError';
  readonly rpcMessage: string;
  readonly method: string;
  constructor(method: string, code: number, message: string) {
    super('core-rpc', `${method}: ${message} (code ${code})`, code);
    this.rpcMessage = message;
    this.method = method;
  }
}

/** Codes that mean "try again later" (rpc/protocol.h). */
const TRANSIENT_RPC_CODES = new Set([
  -28, // RPC_IN_WARMUP
  -9, // RPC_CLIENT_NOT_CONNECTED
  -10, // RPC_CLIENT_IN_INITIAL_DOWNLOAD
]);

type JsonRpcReply = { result: unknown; error: { code: number; message: string } | null; id: unknown };

export class CoreRpcClient {
  readonly url: string;
  private readonly policy: RetryPolicy;
  private readonly limit: BodyLimit;
  private readonly auth: CoreRpcAuth | undefined;
  private authHeader: string | undefined;
  private nextId = 1;
  /**
   * Error texts without the credentials: the password and the header carrying it, in case a proxy's
   * error page echoes the request; the URL's own secrets are scrubbed by fetchOnce.
   */
  private scrub: (text: string) => string;

  constructor(options: CoreRpcClientOptions) {
    const parsed = new URL(options.url);
    let auth = options.auth;
    if (parsed.username !== '' && auth === undefined) {
      auth = { user: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
    }
    parsed.username = '';
    parsed.password = '';
    if (options.wallet !== undefined) parsed.pathname = `/wallet/${encodeURIComponent(options.wallet)}`;
    this.url = parsed.toString();
    this.auth = auth;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.scrub = secretScrubber([
      ...urlSecrets(options.url),
      ...(auth !== undefined && 'password' in auth ? credentialSecrets(auth.user, auth.password) : []),
    ]);
    this.limit = {
      backend: 'core-rpc',
      maxBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      scrub: (text) => this.scrub(text),
    };
  }

  /** Calls `method`; `timeoutMs` overrides the policy's timeout for slow calls such as scantxoutset. */
  async call<T>(method: string, params: unknown[] = [], timeoutMs?: number): Promise<T> {
    return withRetry('core-rpc', method, this.policy, async () => {
      const reply = await this.once(method, params, timeoutMs ?? this.policy.timeoutMs);
      return reply as T;
    });
  }

  private async once(method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
    const id = this.nextId++;
    const body = JSON.stringify({ jsonrpc: '1.0', id, method, params });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const authorization = await this.authorization(false);
    if (authorization) headers.authorization = authorization;
    let res = await fetchOnce(this.url, { method: 'POST', headers, body }, timeoutMs, this.limit);
    if (res.status === 401 && this.auth !== undefined && 'cookieFile' in this.auth) {
      // bitcoind writes a new cookie on every start: read it again once.
      const fresh = await this.authorization(true);
      if (fresh) headers.authorization = fresh;
      res = await fetchOnce(this.url, { method: 'POST', headers, body }, timeoutMs, this.limit);
    }
    if (res.status === 401 || res.status === 403) {
      throw new BackendRequestError('core-rpc', `authentication failed (HTTP ${res.status})`, res.status, {
        metaMessages: ['Check the RPC user/password or the cookie file path.'],
      });
    }
    const reply = parseReply(res.text());
    if (reply === undefined) {
      const shown = this.scrub(res.text().slice(0, 120));
      if (res.status >= 500 || res.status === 200 || res.status === 429) {
        throw new TransientFault(`${method}: unusable reply (HTTP ${res.status}): ${JSON.stringify(shown)}`);
      }
      throw new BackendRequestError('core-rpc', `${method}: HTTP ${res.status}: ${shown}`, res.status);
    }
    if (reply.error) {
      const message = this.scrub(reply.error.message);
      if (TRANSIENT_RPC_CODES.has(reply.error.code)) {
        throw new TransientFault(`${method}: ${message} (code ${reply.error.code})`);
      }
      throw new CoreRpcError(method, reply.error.code, message);
    }
    return reply.result;
  }

  private async authorization(refresh: boolean): Promise<string | undefined> {
    if (this.auth === undefined) return undefined;
    if (this.authHeader !== undefined && !refresh) return this.authHeader;
    let userPass: string;
    if ('cookieFile' in this.auth) {
      try {
        userPass = (await readFile(this.auth.cookieFile, 'utf8')).trim();
      } catch (err) {
        throw new BackendRequestError(
          'core-rpc',
          `cannot read the RPC cookie file ${this.auth.cookieFile}`,
          undefined,
          {
            cause: err,
          },
        );
      }
      // The cookie's password changes on every bitcoind start: scrubbed from the one in use.
      const colon = userPass.indexOf(':');
      if (colon !== -1) {
        const fromCookie = credentialSecrets(userPass.slice(0, colon), userPass.slice(colon + 1));
        this.scrub = secretScrubber([...urlSecrets(this.url), ...fromCookie]);
      }
    } else {
      userPass = `${this.auth.user}:${this.auth.password}`;
    }
    this.authHeader = `Basic ${Buffer.from(userPass).toString('base64')}`;
    return this.authHeader;
  }
}

/** A basic-auth password, and the header value that carries it (base64 decodes to it). */
function credentialSecrets(user: string, password: string): string[] {
  return [password, Buffer.from(`${user}:${password}`).toString('base64')];
}

function parseReply(text: string): JsonRpcReply | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (!('result' in v) && !('error' in v)) return undefined;
  const e = v.error;
  if (e !== null && e !== undefined) {
    if (typeof e !== 'object') return undefined;
    const { code, message } = e as Record<string, unknown>;
    if (typeof code !== 'number' || typeof message !== 'string') return undefined;
    return { result: null, error: { code, message }, id: v.id };
  }
  return { result: v.result, error: null, id: v.id };
}
