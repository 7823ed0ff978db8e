/**
 * The L2 JSON-RPC edge: one viem public client per URL (primary first, then fallbacks), every call retried
 * with exponential backoff and full jitter, rotating to the next URL after a failure. "Range too large"
 * answers are not retried here: they are classified so the log fetcher can shrink its range instead.
 */
import type { Logger } from 'pino';
import {
  type Address,
  type Block,
  createPublicClient,
  type Hash,
  type Hex,
  http,
  type Log,
  type PublicClient,
  type RpcTransactionReceipt,
  type Transaction,
  type TransactionReceipt,
} from 'viem';
import { redactError, redactText, redactUrl } from '../config/redact.ts';
import { VigilError, type VigilErrorCategory } from '../core/errors.ts';
import type { L2Metrics } from './metrics.ts';

export class L2RpcUnavailableError extends VigilError {
  override name = 'L2RpcUnavailableError';
  override readonly category: VigilErrorCategory = 'unavailable';
}

export class RangeTooLargeError extends VigilError {
  override name = 'RangeTooLargeError';
}

/** The node does not implement the method (JSON-RPC -32601): callers fall back to other methods. */
export class MethodNotFoundError extends VigilError {
  override name = 'MethodNotFoundError';
}

export type RetryPolicy = {
  /** Attempts per call before giving up with L2RpcUnavailableError (the ingester then pauses and retries). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
};

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 5_000 };

export type L2RpcOptions = {
  urls: readonly string[];
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  metrics?: L2Metrics;
  logger?: Logger;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
};

/**
 * A node answered a block header Vigil cannot use: the block is missing (the node lags behind the head
 * another node reported), or a field the header checks or the chain's linkage need is missing or not a
 * quantity / hash. The node is broken or behind, not the chain: the call is retried (on the next URL when
 * there are several) like any RPC failure, and never becomes a header-check violation
 * (docs/l2-ingestion.md "Header checks").
 */
export class L2BadHeaderError extends VigilError {
  override name = 'L2BadHeaderError';
  override readonly category: VigilErrorCategory = 'unavailable';
}

/**
 * What the ingester reads of an L2 block header: its place in the chain, and the two fields checked against
 * the governed rollup parameters (docs/l2-ingestion.md "Header checks"). A header without a baseFeePerGas
 * field at all (a pre-London chain) has `baseFeePerGas` undefined; one whose baseFeePerGas is present but
 * null or not a quantity is refused (L2BadHeaderError).
 */
export type BlockHeader = {
  number: bigint;
  hash: Hash;
  parentHash: Hash;
  timestamp: bigint;
  gasLimit: bigint;
  baseFeePerGas: bigint | undefined;
};

/**
 * Headers asked for in one retried call: one JSON-RPC batch (the transport batches up to 200 requests), so
 * a failed item re-fetches at most this many, and a provider capping its batches sees small ones.
 */
export const HEADERS_PER_CALL = 100n;

const QUANTITY = /^0x[0-9a-fA-F]{1,64}$/;
const HASH = /^0x[0-9a-fA-F]{64}$/;

function shown(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
  return `a ${typeof v}`;
}

/**
 * The header of block `expected` from a raw eth_getBlockByNumber answer of the node `node` (a redacted
 * URL). Null (no such block) and any malformed field throw L2BadHeaderError naming the node and the block.
 */
export function headerOf(raw: unknown, expected: bigint, node: string): BlockHeader {
  const bad = (what: string) =>
    new L2BadHeaderError(`L2 node ${node} answered a bad header for block ${expected}: ${what}`);
  if (raw === null || raw === undefined) throw bad('no such block (the node lags behind?)');
  if (typeof raw !== 'object') throw bad(`the answer is ${shown(raw)}`);
  const b = raw as Record<string, unknown>;
  const quantity = (field: string): bigint => {
    const v = b[field];
    if (typeof v !== 'string' || !QUANTITY.test(v)) throw bad(`${field} is ${shown(v)}`);
    return BigInt(v);
  };
  const hash = (field: string): Hash => {
    const v = b[field];
    if (typeof v !== 'string' || !HASH.test(v)) throw bad(`${field} is ${shown(v)}`);
    return v.toLowerCase() as Hash;
  };
  const number = quantity('number');
  if (number !== expected) throw bad(`its number is ${number}`);
  return {
    number,
    hash: hash('hash'),
    parentHash: hash('parentHash'),
    timestamp: quantity('timestamp'),
    gasLimit: quantity('gasLimit'),
    // Absent: a pre-London chain, counted as 0 by the checks. Present, it must be a quantity.
    baseFeePerGas: 'baseFeePerGas' in b ? quantity('baseFeePerGas') : undefined,
  };
}

// Providers word this differently: geth "query returned more than 10000 results", Alchemy "Log response size
// exceeded", Infura "query returned more than", others "block range is too large", "-32005", "logs limit
// exceeded". A rate limit is never a range (RATE_LIMIT_PATTERNS are checked first): shrinking the range
// would not help, waiting does.
const RANGE_PATTERNS = [
  /query returned more than/i,
  /range (is )?too (large|big|wide)/i,
  /block range/i,
  /response size (limit )?exceeded/i,
  /(log|logs|result|results|response|block|blocks|range|size) limit exceeded/i,
  /too many (results|logs|blocks)/i,
  /exceed(s|ed)? (the )?max(imum)? (block )?range/i,
];

// Infura "daily request count exceeded, request rate limited" / "project ID request rate exceeded" (both
// code −32005), Alchemy "exceeded its compute units per second capacity" (HTTP 429), QuickNode "request
// limit reached", others "rate limit exceeded", "too many requests".
const RATE_LIMIT_PATTERNS = [
  /rate[- ]?limit/i,
  /too many requests/i,
  /request rate/i,
  /request (count|limit)/i,
  /requests? per (second|minute)/i,
  /compute units/i,
  /throughput/i,
  /quota/i,
  /status(code)?:? 429\b/i,
];

function errorTexts(err: unknown): string[] {
  const texts: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 6 && e; i++) {
    if (e instanceof Error) {
      texts.push(e.message);
      const details = (e as { details?: unknown }).details;
      if (typeof details === 'string') texts.push(details);
      e = e.cause;
    } else break;
  }
  return texts;
}

/** A provider's rate limit (HTTP 429 or a text saying so): retried with backoff, never a range error. */
export function isRateLimited(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 6 && e instanceof Error; i++) {
    if ((e as { status?: unknown }).status === 429) return true;
    e = e.cause;
  }
  return errorTexts(err).some((t) => RATE_LIMIT_PATTERNS.some((re) => re.test(t)));
}

export function isRangeTooLarge(err: unknown): boolean {
  if (isRateLimited(err)) return false;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code === -32005) return true;
  return errorTexts(err).some((t) => RANGE_PATTERNS.some((re) => re.test(t)));
}

export function isMethodNotFound(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 6 && e; i++) {
    if ((e as { code?: unknown }).code === -32601) return true;
    if (e instanceof Error) {
      const details = (e as { details?: unknown }).details;
      const text = `${e.message} ${typeof details === 'string' ? details : ''}`;
      if (/method (not found|does not exist|is not available|not supported)|unsupported method/i.test(text))
        return true;
      e = e.cause;
    } else break;
  }
  return false;
}

function errorKind(err: unknown): string {
  if (err instanceof L2BadHeaderError) return 'header';
  if (isRateLimited(err)) return 'rate-limit';
  const name = err instanceof Error ? err.name : '';
  const msg = err instanceof Error ? err.message : String(err);
  if (/Timeout/i.test(name) || /timed? ?out/i.test(msg)) return 'timeout';
  if (/JSON|Unexpected token|parse/i.test(msg)) return 'parse';
  if (/HttpRequestError/.test(name) || /HTTP request failed/i.test(msg)) return 'http';
  if (/RpcError|RpcRequestError/.test(name)) return 'rpc';
  return 'other';
}

function firstLine(err: unknown): string {
  const m =
    err instanceof Error ? ((err as { shortMessage?: string }).shortMessage ?? err.message) : String(err);
  return m.split('\n')[0] ?? m;
}

export class L2Rpc {
  /** The configured URLs, secrets included: never log these; `redactUrl` each one first. */
  readonly urls: readonly string[];
  private readonly clients: PublicClient[];
  private readonly policy: RetryPolicy;
  private readonly metrics: L2Metrics | undefined;
  private readonly logger: Logger | undefined;
  private readonly random: () => number;
  private current = 0;

  constructor(options: L2RpcOptions) {
    if (options.urls.length === 0) throw new VigilError('no L2 RPC URL configured');
    this.urls = options.urls;
    this.clients = options.urls.map((url) =>
      createPublicClient({
        // Batching folds the cross-check's concurrent eth_calls into few HTTP requests.
        transport: http(url, {
          retryCount: 0,
          timeout: options.timeoutMs ?? 10_000,
          batch: { batchSize: 200, wait: 0 },
        }),
      }),
    );
    this.policy = { ...DEFAULT_RETRY, ...options.retry };
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.random = options.random ?? Math.random;
  }

  /** The client currently preferred (for callers that need a raw viem client, e.g. readContract). */
  get client(): PublicClient {
    return this.clients[this.current] as PublicClient;
  }

  /** The URL of one of the clients, redacted: how errors name the node that answered. */
  private nodeOf(client: PublicClient): string {
    return redactUrl(this.urls[this.clients.indexOf(client)] ?? '?');
  }

  /** Runs `fn` against the current client, retrying with backoff + jitter and rotating URLs on failure. */
  async call<T>(method: string, fn: (client: PublicClient) => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.policy.maxAttempts; attempt++) {
      const index = this.current;
      try {
        return await fn(this.clients[index] as PublicClient);
      } catch (err) {
        if (isRangeTooLarge(err)) {
          this.metrics?.rpcErrors.inc({ kind: 'range', method });
          throw new RangeTooLargeError(`${method}: the RPC refused the range`, { cause: redactError(err) });
        }
        if (isMethodNotFound(err)) {
          this.metrics?.rpcErrors.inc({ kind: 'method-not-found', method });
          throw new MethodNotFoundError(`${method}: the RPC does not implement it`, {
            cause: redactError(err),
          });
        }
        // viem quotes the request URL in its errors; the copy kept as the cause has it redacted.
        lastError = redactError(err);
        const kind = errorKind(err);
        this.metrics?.rpcErrors.inc({ kind, method });
        if (this.clients.length > 1) this.current = (index + 1) % this.clients.length;
        const cap = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (attempt - 1));
        const delay = Math.floor(this.random() * cap);
        this.logger?.warn(
          {
            method,
            attempt,
            kind,
            url: redactUrl(this.urls[index] as string),
            retryInMs: delay,
            err: redactText(firstLine(err)),
          },
          'L2 RPC call failed',
        );
        if (attempt < this.policy.maxAttempts) await new Promise((r) => setTimeout(r, delay));
      }
    }
    throw new L2RpcUnavailableError(`L2 RPC ${method} failed ${this.policy.maxAttempts} times`, {
      cause: lastError,
      metaMessages: [`URLs: ${this.urls.map(redactUrl).join(', ')}`],
    });
  }

  async blockNumber(): Promise<bigint> {
    return this.call('eth_blockNumber', (c) => c.getBlockNumber({ cacheTime: 0 }));
  }

  /** The header of block `number`; L2BadHeaderError (retried, then L2RpcUnavailableError) if unusable. */
  async header(number: bigint): Promise<BlockHeader> {
    return this.call('eth_getBlockByNumber', async (c) =>
      headerOf(await rawHeader(c, number), number, this.nodeOf(c)),
    );
  }

  /**
   * The headers of [from, to], in order: one retried call per HEADERS_PER_CALL blocks, whose requests are
   * issued together so the client's JSON-RPC batching carries them in one HTTP request.
   */
  async headers(from: bigint, to: bigint): Promise<BlockHeader[]> {
    const out: BlockHeader[] = [];
    for (let start = from; start <= to; start += HEADERS_PER_CALL) {
      const numbers: bigint[] = [];
      for (let n = start; n <= to && n < start + HEADERS_PER_CALL; n++) numbers.push(n);
      const chunk = await this.call('eth_getBlockByNumber', (c) =>
        Promise.all(numbers.map(async (n) => headerOf(await rawHeader(c, n), n, this.nodeOf(c)))),
      );
      out.push(...chunk);
    }
    return out;
  }

  /** The header at `number`, or undefined when the chain has no such block (it got shorter). */
  async headerIfExists(number: bigint): Promise<BlockHeader | undefined> {
    return this.call('eth_getBlockByNumber', async (c) => {
      const raw = await rawHeader(c, number);
      return raw === null ? undefined : headerOf(raw, number, this.nodeOf(c));
    });
  }

  async logs(addresses: readonly Address[], fromBlock: bigint, toBlock: bigint): Promise<Log[]> {
    return this.call('eth_getLogs', (c) => c.getLogs({ address: [...addresses], fromBlock, toBlock }));
  }

  /** Every receipt of one block (eth_getBlockReceipts); MethodNotFoundError when the node lacks it. */
  async blockReceipts(number: bigint): Promise<RpcTransactionReceipt[]> {
    const r = await this.call('eth_getBlockReceipts', (c) =>
      c.request({ method: 'eth_getBlockReceipts', params: [`0x${number.toString(16)}`] }),
    );
    if (!r) throw new VigilError(`eth_getBlockReceipts: no block ${number}`);
    return r;
  }

  /** One block with its full transactions. */
  async blockWithTransactions(number: bigint): Promise<Block<bigint, true>> {
    return this.call('eth_getBlockByNumber', (c) =>
      c.getBlock({ blockNumber: number, includeTransactions: true }),
    );
  }

  async transaction(hash: Hash): Promise<Transaction> {
    return this.call('eth_getTransactionByHash', (c) => c.getTransaction({ hash }));
  }

  /**
   * The top call of a mined transaction as the node's call tracer reports it (debug_traceTransaction with
   * `callTracer`, top call only): its revert data and error text. MethodNotFoundError when the node has
   * no debug namespace.
   */
  async traceTopCall(hash: Hash): Promise<{ output: Hex | undefined; error: string | undefined }> {
    const top = (await this.call('debug_traceTransaction', (c) =>
      rawRequest(c, 'debug_traceTransaction', [
        hash,
        { tracer: 'callTracer', tracerConfig: { onlyTopCall: true } },
      ]),
    )) as { output?: unknown; error?: unknown } | null;
    if (top === null || typeof top !== 'object')
      throw new VigilError(`debug_traceTransaction: no trace of ${hash}`);
    const output =
      typeof top.output === 'string' && /^0x[0-9a-fA-F]*$/.test(top.output) ? (top.output as Hex) : undefined;
    const error = typeof top.error === 'string' ? top.error.slice(0, 200) : undefined;
    return { output, error };
  }

  /**
   * Runs a call at a past block and returns its revert data (undefined data when it did not revert). Used
   * to learn why a transaction reverted when the node cannot trace it: the state is the parent block's, so
   * a transaction earlier in the same block is not seen (docs/l2-ingestion.md).
   */
  async callRevertData(
    call: { from: Address; to: Address; data: Hex; gas: bigint },
    blockNumber: bigint,
  ): Promise<{ reverted: boolean; data: Hex | undefined; error: string | undefined }> {
    return this.call('eth_call', async (c) => {
      try {
        await rawRequest(c, 'eth_call', [
          { from: call.from, to: call.to, data: call.data, gas: `0x${call.gas.toString(16)}` },
          `0x${blockNumber.toString(16)}`,
        ]);
        return { reverted: false, data: undefined, error: undefined };
      } catch (err) {
        const found = revertOf(err);
        if (!found) throw err;
        return { reverted: true, ...found };
      }
    });
  }

  async receipt(hash: Hash): Promise<TransactionReceipt> {
    return this.call('eth_getTransactionReceipt', (c) => c.getTransactionReceipt({ hash }));
  }
}

/**
 * The revert carried by a JSON-RPC error of eth_call (code 3 "execution reverted" with its data, or a
 * -32000 text naming a revert or out-of-gas); undefined for any other failure, which is retried.
 */
function revertOf(err: unknown): { data: Hex | undefined; error: string } | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e !== null && typeof e === 'object'; depth++) {
    const o = e as { code?: unknown; data?: unknown; message?: unknown; details?: unknown; cause?: unknown };
    const text = typeof o.details === 'string' ? o.details : typeof o.message === 'string' ? o.message : '';
    const data = typeof o.data === 'string' && /^0x[0-9a-fA-F]*$/.test(o.data) ? (o.data as Hex) : undefined;
    if (o.code === 3 || data !== undefined) return { data: data ?? '0x', error: text.slice(0, 200) };
    if (/execution reverted|out ?of ?gas|revert/i.test(text) && o.code !== undefined) {
      return { data: undefined, error: text.slice(0, 200) };
    }
    e = o.cause;
  }
  return undefined;
}

/** eth_getBlockByNumber without transactions, as the node answered it (null: no such block). */
function rawHeader(client: PublicClient, number: bigint): Promise<unknown> {
  return rawRequest(client, 'eth_getBlockByNumber', [`0x${number.toString(16)}`, false]);
}

/** A JSON-RPC request outside viem's typed public schema (debug_*, eth_call with a raw error). */
function rawRequest(client: PublicClient, method: string, params: readonly unknown[]): Promise<unknown> {
  const request = client.request as unknown as (args: {
    method: string;
    params: readonly unknown[];
  }) => Promise<unknown>;
  return request({ method, params });
}
