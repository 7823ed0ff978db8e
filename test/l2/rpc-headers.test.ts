/**
 * Header reads (L2Rpc.header / headers / headerIfExists) against a small local JSON-RPC server: a bad
 * header from a node is a retried RPC error naming the node and the block, never a header to check; long
 * ranges travel in batches of at most HEADERS_PER_CALL; a rate limit is retried, not taken for a range cap.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VigilError } from '../../src/core/errors.ts';
import {
  HEADERS_PER_CALL,
  isRangeTooLarge,
  isRateLimited,
  L2BadHeaderError,
  L2Rpc,
  L2RpcUnavailableError,
  RangeTooLargeError,
} from '../../src/l2/rpc.ts';
import { memoryLogger, metricValue, testMetrics } from './helpers.ts';

type Req = { id: number; method: string; params: unknown[] };
type Answer = { result?: unknown; error?: { code: number; message: string }; status?: number };

const hex = (n: bigint | number) => `0x${n.toString(16)}`;
const hashOf = (n: bigint) => `0x${n.toString(16).padStart(64, '0')}`;
const goodBlock = (n: bigint): Record<string, unknown> => ({
  number: hex(n),
  hash: hashOf(n + 1n),
  parentHash: hashOf(n),
  timestamp: hex(1_700_000_000n + n),
  gasLimit: hex(30_000_000),
  baseFeePerGas: hex(1_000_000_000),
  transactions: [],
});

/** A JSON-RPC server answering eth_getBlockByNumber through `answer`; it counts HTTP requests and items. */
function rpcServer() {
  let answer: (req: Req) => Answer = (req) => ({ result: goodBlock(BigInt(req.params[0] as string)) });
  const stats = { httpRequests: 0, items: 0, batchSizes: [] as number[] };
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      stats.httpRequests++;
      const parsed = JSON.parse(body) as Req | Req[];
      const list = Array.isArray(parsed) ? parsed : [parsed];
      stats.batchSizes.push(list.length);
      stats.items += list.length;
      const answers = list.map((r) => ({ r, a: answer(r) }));
      const status = answers.find((x) => x.a.status !== undefined)?.a.status;
      if (status !== undefined) {
        res.writeHead(status, { 'content-type': 'text/plain' }).end('Too Many Requests');
        return;
      }
      const out = answers.map(({ r, a }) =>
        a.error
          ? { jsonrpc: '2.0', id: r.id, error: a.error }
          : { jsonrpc: '2.0', id: r.id, result: a.result },
      );
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(Array.isArray(parsed) ? out : out[0]));
    });
  });
  return {
    server,
    stats,
    setAnswer: (f: (req: Req) => Answer) => {
      answer = f;
    },
    reset: () => {
      stats.httpRequests = 0;
      stats.items = 0;
      stats.batchSizes = [];
    },
  };
}

let srv: ReturnType<typeof rpcServer>;
let url = '';
beforeAll(async () => {
  srv = rpcServer();
  await new Promise<void>((resolve) => srv.server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(srv.server.address() as { port: number }).port}/v3/9aa3d95b3bc440fa88ea12eaa4456161`;
});
afterAll(() => {
  srv.server.close();
});

const fastRetry = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

describe('bad headers are RPC errors, not headers', () => {
  const cases: [string, (b: Record<string, unknown>) => void, RegExp][] = [
    ['gasLimit missing', (b) => delete b.gasLimit, /gasLimit is missing/],
    ['gasLimit not a quantity', (b) => (b.gasLimit = 'lots'), /gasLimit is "lots"/],
    ['number missing', (b) => delete b.number, /number is missing/],
    ['number of another block', (b) => (b.number = '0x1'), /its number is 1/],
    ['hash null', (b) => (b.hash = null), /hash is null/],
    ['parentHash short', (b) => (b.parentHash = '0x12'), /parentHash is "0x12"/],
    ['baseFeePerGas null', (b) => (b.baseFeePerGas = null), /baseFeePerGas is null/],
    ['baseFeePerGas garbage', (b) => (b.baseFeePerGas = 7), /baseFeePerGas is a number/],
  ];
  it.each(cases)(
    '%s: retried, then L2RpcUnavailableError naming the node and the block',
    async (_, spoil, why) => {
      srv.setAnswer((req) => {
        const b = goodBlock(BigInt(req.params[0] as string));
        spoil(b);
        return { result: b };
      });
      srv.reset();
      const m = testMetrics();
      const rpc = new L2Rpc({ urls: [url], retry: fastRetry, metrics: m.metrics });
      for (const read of [
        () => rpc.header(42n),
        () => rpc.headers(40n, 45n),
        () => rpc.headerIfExists(42n),
      ]) {
        const err = await read().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(L2RpcUnavailableError);
        const cause = (err as VigilError).walk((e) => e instanceof Error && e.name === 'L2BadHeaderError');
        expect(cause).toBeInstanceOf(Error);
        const text = (cause as Error).message;
        expect(text).toMatch(why);
        expect(text).toMatch(/block 4[0-5]/);
        expect(text).toContain(`127.0.0.1:${new URL(url).port}/v3/redacted`);
        expect(text).not.toContain('9aa3d95b3bc440fa88ea12eaa4456161');
      }
      // Each read tried maxAttempts times.
      expect(await metricValue(m.registry, 'vigil_l2_rpc_errors_total')).toBe(9);
      const kinds = (await m.registry.getSingleMetric('vigil_l2_rpc_errors_total')?.get())?.values;
      expect(kinds?.every((v) => v.labels.kind === 'header')).toBe(true);
    },
  );

  it('a node that answers null for a block it should have: retried; headerIfExists reads it as absent', async () => {
    srv.setAnswer(() => ({ result: null }));
    const rpc = new L2Rpc({ urls: [url], retry: fastRetry });
    const err = await rpc.headers(5n, 6n).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(L2RpcUnavailableError);
    expect((err as Error).message).toMatch(/bad header for block [56]: no such block/);
    expect(await rpc.headerIfExists(5n)).toBeUndefined();
  });

  it('a failover node with good headers carries the read', async () => {
    const good = rpcServer();
    await new Promise<void>((resolve) => good.server.listen(0, '127.0.0.1', resolve));
    try {
      srv.setAnswer((req) => {
        const b = goodBlock(BigInt(req.params[0] as string));
        delete b.gasLimit;
        return { result: b };
      });
      const goodUrl = `http://127.0.0.1:${(good.server.address() as { port: number }).port}/`;
      const log = memoryLogger();
      const rpc = new L2Rpc({ urls: [url, goodUrl], retry: fastRetry, logger: log.logger });
      const hs = await rpc.headers(10n, 12n);
      expect(hs.map((h) => h.gasLimit)).toEqual([30_000_000n, 30_000_000n, 30_000_000n]);
      expect(log.records.some((r) => r.msg === 'L2 RPC call failed' && r.kind === 'header')).toBe(true);
    } finally {
      good.server.close();
    }
  });

  it('a header without any baseFeePerGas field (pre-London) reads with baseFeePerGas undefined', async () => {
    srv.setAnswer((req) => {
      const b = goodBlock(BigInt(req.params[0] as string));
      delete b.baseFeePerGas;
      return { result: b };
    });
    const h = await new L2Rpc({ urls: [url], retry: fastRetry }).header(7n);
    expect(h).toEqual({
      number: 7n,
      hash: hashOf(8n),
      parentHash: hashOf(7n),
      timestamp: 1_700_000_007n,
      gasLimit: 30_000_000n,
      baseFeePerGas: undefined,
    });
  });

  it('L2BadHeaderError is an unavailable (retryable) error', () => {
    expect(new L2BadHeaderError('x').category).toBe('unavailable');
  });
});

describe('header ranges travel in chunks', () => {
  it(`250 headers: ${HEADERS_PER_CALL} per JSON-RPC batch, in order`, async () => {
    srv.setAnswer((req) => ({ result: goodBlock(BigInt(req.params[0] as string)) }));
    srv.reset();
    const hs = await new L2Rpc({ urls: [url], retry: fastRetry }).headers(1_000n, 1_249n);
    expect(hs.map((h) => h.number)).toEqual(Array.from({ length: 250 }, (_, i) => 1_000n + BigInt(i)));
    expect(srv.stats.batchSizes).toEqual([100, 100, 50]);
    expect(srv.stats.httpRequests).toBe(3);
  });

  it('one failing item re-fetches its chunk only', async () => {
    let failed = false;
    srv.setAnswer((req) => {
      const n = BigInt(req.params[0] as string);
      if (n === 1_150n && !failed) {
        failed = true;
        return { error: { code: -32000, message: 'header not found' } };
      }
      return { result: goodBlock(n) };
    });
    srv.reset();
    const hs = await new L2Rpc({ urls: [url], retry: fastRetry }).headers(1_000n, 1_249n);
    expect(hs).toHaveLength(250);
    expect(srv.stats.items).toBe(350);
    expect(srv.stats.batchSizes).toEqual([100, 100, 100, 50]);
  });
});

describe('a rate limit is not a range error', () => {
  const rateLimits = [
    'rate limit exceeded',
    'daily request count exceeded, request rate limited',
    'project ID request rate exceeded',
    'Your app has exceeded its compute units per second capacity',
    'Too many requests, please slow down',
  ];
  it.each(rateLimits)('%s (code -32005): classified as a rate limit, not a range', (message) => {
    const err = Object.assign(new Error('Request exceeds defined limit.'), {
      code: -32005,
      details: message,
    });
    expect(isRateLimited(err)).toBe(true);
    expect(isRangeTooLarge(err)).toBe(false);
  });
  it.each([
    'query returned more than 10000 results',
    'block range is too large',
    'Log response size exceeded',
    'logs limit exceeded',
  ])('%s: still a range', (message) => {
    const err = new Error('RPC error', { cause: new Error(message) });
    expect(isRateLimited(err)).toBe(false);
    expect(isRangeTooLarge(err)).toBe(true);
  });

  it('JSON-RPC "rate limit exceeded" on eth_getLogs: retried, then L2RpcUnavailableError (no RangeTooLargeError)', async () => {
    let n = 0;
    srv.setAnswer(() =>
      n++ < 2 ? { error: { code: -32005, message: 'rate limit exceeded' } } : { result: [] },
    );
    const m = testMetrics();
    const rpc = new L2Rpc({ urls: [url], retry: fastRetry, metrics: m.metrics });
    expect(await rpc.logs(['0x0000000000000000000000000000000000000001'], 1n, 5_000n)).toEqual([]);
    const kinds = (await m.registry.getSingleMetric('vigil_l2_rpc_errors_total')?.get())?.values ?? [];
    expect(kinds.map((v) => [v.labels.kind, v.value])).toEqual([['rate-limit', 2]]);

    srv.setAnswer(() => ({ error: { code: -32005, message: 'rate limit exceeded' } }));
    const err = await rpc.logs(['0x0000000000000000000000000000000000000001'], 1n, 5_000n).catch((e) => e);
    expect(err).toBeInstanceOf(L2RpcUnavailableError);
    expect(err).not.toBeInstanceOf(RangeTooLargeError);
  });

  it('HTTP 429: retried as a rate limit', async () => {
    srv.setAnswer(() => ({ status: 429 }));
    const m = testMetrics();
    const err = await new L2Rpc({ urls: [url], retry: fastRetry, metrics: m.metrics })
      .header(1n)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(L2RpcUnavailableError);
    const kinds = (await m.registry.getSingleMetric('vigil_l2_rpc_errors_total')?.get())?.values ?? [];
    expect(kinds.map((v) => v.labels.kind)).toEqual(['rate-limit']);
  });
});
