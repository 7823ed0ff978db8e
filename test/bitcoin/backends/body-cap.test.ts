/**
 * A hostile server streams an endless body (300 MB of digits and more): the backend stops reading at
 * the cap, refuses with a clear error, without retrying, in bounded memory and time, and the next
 * request on the same backend works.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreRpcBackend } from '../../../src/bitcoin/backends/core-rpc.ts';
import { BackendLiedError, BackendUnavailableError } from '../../../src/bitcoin/backends/errors.ts';
import { EsploraBackend } from '../../../src/bitcoin/backends/esplora.ts';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../../../src/bitcoin/backends/http.ts';
import { type Hostile, measure, rpcResult, sendText, startHostile } from './hostile-server.ts';

const RETRY = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 10_000 };
const DIGITS = Buffer.alloc(1024 * 1024, '9');
const MB300 = 300;

/** Writes 1 MiB chunks of digits as fast as the client reads them; `limit` chunks, or until the client leaves. */
function streamDigits(res: ServerResponse, prefix: string, limit: number, declare: boolean): void {
  res.writeHead(200, {
    'content-type': 'application/json',
    ...(declare ? { 'content-length': String(prefix.length + limit * DIGITS.length) } : {}),
  });
  res.write(prefix);
  let sent = 0;
  const pump = () => {
    while (sent < limit && !res.destroyed) {
      sent++;
      if (!res.write(DIGITS)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end();
  };
  res.on('close', () => {
    sent = limit;
  });
  pump();
}

describe('response bodies are capped', () => {
  let server: Hostile;
  beforeAll(async () => {
    server = await startHostile(({ path, method }, res) => {
      if (method === 'getblockcount' || path === '/blocks/tip/height') {
        // Both a JSON-RPC result and Esplora's plain-text height start with a digit stream.
        streamDigits(res, method ? '{"result":' : '', MB300, false);
      } else if (method === 'getbestblockhash') rpcResult(res, `"${'ab'.repeat(32)}"`);
      else if (path === '/blocks/tip/hash') sendText(res, 'cd'.repeat(32), 'text/plain');
      else if (path === '/declared/blocks/tip/height') streamDigits(res, '', MB300, true);
      else res.writeHead(404).end();
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('defaults to 32 MiB', () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(32 * 1024 * 1024);
  });

  it('esplora: refuses an endless body of digits at the cap, once, with bounded memory', async () => {
    const esplora = new EsploraBackend({
      baseUrl: server.url,
      retry: RETRY,
      maxResponseBytes: 4 * 1024 * 1024,
    });
    const before = server.requests.length;
    const r = await measure(() => esplora.getTipHeight());
    expect(r.error).toBeInstanceOf(BackendLiedError);
    expect(r.error).toBeInstanceOf(BackendUnavailableError);
    expect((r.error as BackendLiedError).lie).toBe('body-too-large');
    expect((r.error as BackendLiedError).shortMessage).toBe(
      'Bitcoin backend (esplora) gave a false answer: /blocks/tip/height: response body of more than 4194304 bytes exceeds the 4194304-byte cap',
    );
    // A lie is not retried.
    expect(server.requests.length - before).toBe(1);
    expect(r.ms).toBeLessThan(2000);
    expect(r.heapMiB).toBeLessThan(64);
    // Nothing else stopped: the same backend answers the next request.
    expect(await esplora.getTipHash()).toBe('cd'.repeat(32));
  });

  it('core-rpc: refuses an endless JSON-RPC body at the default cap, with bounded memory', async () => {
    const core = new CoreRpcBackend({ url: server.url, auth: { user: 'u', password: 'p' }, retry: RETRY });
    const r = await measure(() => core.getTipHeight());
    expect((r.error as BackendLiedError).lie).toBe('body-too-large');
    expect((r.error as BackendLiedError).shortMessage).toBe(
      'Bitcoin backend (core-rpc) gave a false answer: /: response body of more than 33554432 bytes exceeds the 33554432-byte cap',
    );
    expect(r.ms).toBeLessThan(2000);
    expect(r.heapMiB).toBeLessThan(64);
    expect(await core.getTipHash()).toBe('ab'.repeat(32));
  });

  it('refuses a declared Content-Length over the cap before reading the body', async () => {
    const esplora = new EsploraBackend({ baseUrl: `${server.url}/declared`, retry: RETRY });
    const r = await measure(() => esplora.getTipHeight());
    expect((r.error as BackendLiedError).shortMessage).toBe(
      `Bitcoin backend (esplora) gave a false answer: /declared/blocks/tip/height: response body of ${MB300 * DIGITS.length} bytes exceeds the 33554432-byte cap`,
    );
    expect(r.ms).toBeLessThan(2000);
    expect(r.heapMiB).toBeLessThan(64);
  });
});
