/**
 * A secret in the configured backend URL (an Esplora provider's key in the path or the query, a basic
 * auth password) or in Core's RPC credentials never reaches an error or a log line: not through a fetch
 * error quoting the URL, nor through a server's error page echoing the request.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreRpcBackend } from '../../../src/bitcoin/backends/core-rpc.ts';
import {
  BackendLiedError,
  BackendRequestError,
  BackendUnavailableError,
  BroadcastRejectedError,
} from '../../../src/bitcoin/backends/errors.ts';
import { EsploraBackend } from '../../../src/bitcoin/backends/esplora.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import type { Hostile } from './hostile-server.ts';

const FAST_RETRY = { attempts: 2, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 2000 };

const PATH_KEY = 'k3y5ecretPathSegment0123';
const QUERY_KEY = 'Qu3rySecretValue99';
const PASSWORD = 'Pa55wordSecretXyz';
const CORE_PASSWORD = 'C0reRpcSecretPass';
const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');
const SECRETS = [
  PATH_KEY,
  QUERY_KEY,
  PASSWORD,
  CORE_PASSWORD,
  basic('vigil', PASSWORD),
  basic('vigil', CORE_PASSWORD),
];

/** Everything an error carries: message, stack, cause chain, extra fields; and what the logger writes of it. */
function everything(err: unknown): string {
  let logged = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logged += chunk.toString();
      cb();
    },
  });
  createLogger({ level: 'info', format: 'json', destination: stream }).error({ err }, 'backend failed');
  return `${inspect(err, { depth: 20 })}\n${JSON.stringify(err)}\n${logged}`;
}

function expectNoSecret(err: unknown): void {
  expect(err).toBeInstanceOf(Error);
  const text = everything(err);
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

/** A port nothing listens on (a server was there a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Esplora: a key in the base URL', () => {
  let echo: Hostile;
  const seen: { path: string; authorization: string | undefined }[] = [];

  beforeAll(async () => {
    // Echoes the request line back, as some proxies' error pages do, with the status the path asks for.
    const server = createServer((req, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
      const url = req.url ?? '';
      const echoed = `no route for ${req.method} ${url} (http://${req.headers.host}${url})`;
      if (url.includes('/blocks/tip/height')) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(echoed);
      } else if (url.includes('/blocks/tip/hash')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(echoed);
      } else if (url.includes('/fee-estimates')) {
        res.writeHead(403, { 'content-type': 'text/plain' });
        res.end(echoed);
      } else if (url.includes('/tx') && req.method === 'POST') {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(`sendrawtransaction RPC error -26: ${echoed}`);
      } else if (url.includes('/block/')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '999999999' });
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ echoed }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    echo = {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      requests: [],
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  });
  afterAll(async () => {
    await echo.close();
  });

  const base = () => `${echo.url}/${PATH_KEY}/api?apikey=${QUERY_KEY}`;

  it('keeps the query after each API path, and sends credentials as basic auth', async () => {
    const u = new URL(base());
    u.username = 'vigil';
    u.password = PASSWORD;
    const esplora = new EsploraBackend({ baseUrl: u.toString(), retry: FAST_RETRY });
    await esplora.getUtxos('bcrt1qanything').catch(() => undefined);
    const last = seen.at(-1);
    expect(last?.path).toBe(`/${PATH_KEY}/api/address/bcrt1qanything/utxo?apikey=${QUERY_KEY}`);
    expect(last?.authorization).toBe(`Basic ${basic('vigil', PASSWORD)}`);
  });

  it('a 5xx page echoing the request', async () => {
    const err = await new EsploraBackend({ baseUrl: base(), retry: FAST_RETRY })
      .getTipHeight()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toContain('HTTP 500 no route for GET');
    expectNoSecret(err);
  });

  it('a 4xx page echoing the request', async () => {
    const err = await new EsploraBackend({ baseUrl: base(), retry: FAST_RETRY })
      .estimateFee(2)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendRequestError);
    expect((err as Error).message).toContain('HTTP 403');
    expectNoSecret(err);
  });

  it('an unexpected 200 body echoing the request', async () => {
    const err = await new EsploraBackend({ baseUrl: base(), retry: FAST_RETRY })
      .getTipHash()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expectNoSecret(err);
  });

  it('a broadcast refusal echoing the request', async () => {
    // A coinbase-shaped minimal transaction: the backend decodes it for its txid before sending.
    const raw = Uint8Array.from(
      Buffer.from(
        '01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff0151ffffffff0100000000000000000151' +
          '00000000',
        'hex',
      ),
    );
    const err = await new EsploraBackend({ baseUrl: base(), retry: FAST_RETRY })
      .broadcast(raw)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BroadcastRejectedError);
    expect((err as BroadcastRejectedError).code).toBe(-26);
    expectNoSecret(err);
  });

  it('an oversize body (the error names the path)', async () => {
    const err = await new EsploraBackend({ baseUrl: base(), retry: FAST_RETRY })
      .getBlock('00'.repeat(32))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendLiedError);
    expect((err as BackendLiedError).lie).toBe('body-too-large');
    expect((err as Error).message).toContain('/redacted/api/block/');
    expectNoSecret(err);
  });

  it('a server that is not there, with a password in the URL', async () => {
    const u = new URL(`http://127.0.0.1:${await closedPort()}/${PATH_KEY}/api?apikey=${QUERY_KEY}`);
    u.username = 'vigil';
    u.password = PASSWORD;
    const err = await new EsploraBackend({ baseUrl: u.toString(), retry: FAST_RETRY })
      .getTipHeight()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expectNoSecret(err);
  });
});

describe('Core RPC: basic auth', () => {
  let hostile: Hostile;
  const echoes: string[] = [];

  beforeAll(async () => {
    // A proxy in front of Core that answers 502 with a dump of the request, headers included.
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        const method = (JSON.parse(body) as { method: string }).method;
        const dump = `${req.method} ${req.url} authorization=${req.headers.authorization}`;
        echoes.push(dump);
        if (method === 'getblockcount') {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`bad gateway: ${dump}`);
        } else if (method === 'getbestblockhash') {
          res.writeHead(418, { 'content-type': 'text/plain' });
          res.end(`refused: ${dump}`);
        } else {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ result: null, error: { code: -1, message: `failed: ${dump}` }, id: 1 }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    hostile = {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      requests: [],
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  });
  afterAll(async () => {
    await hostile.close();
  });

  const withPassword = (url: string) => {
    const u = new URL(url);
    u.username = 'vigil';
    u.password = CORE_PASSWORD;
    return u.toString();
  };

  it.each([
    ['a garbage 5xx', (c: CoreRpcBackend) => c.getTipHeight(), BackendUnavailableError],
    ['a 4xx that is not JSON-RPC', (c: CoreRpcBackend) => c.getTipHash(), BackendRequestError],
    ['a JSON-RPC error', (c: CoreRpcBackend) => c.estimateFee(2), BackendRequestError],
  ] as const)('%s echoing the Authorization header', async (_name, call, kind) => {
    for (const core of [
      new CoreRpcBackend({
        url: hostile.url,
        auth: { user: 'vigil', password: CORE_PASSWORD },
        retry: FAST_RETRY,
      }),
      new CoreRpcBackend({ url: withPassword(hostile.url), retry: FAST_RETRY }),
    ]) {
      const before = echoes.length;
      const err = await call(core).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(kind);
      // The server did get (and echo) the credentials: the test would see a leak.
      expect(echoes.slice(before).join('\n')).toContain(basic('vigil', CORE_PASSWORD));
      expect(everything(err)).toContain('redacted');
      expectNoSecret(err);
    }
  });

  it('a node that is not there, with the password in the URL', async () => {
    const core = new CoreRpcBackend({
      url: withPassword(`http://127.0.0.1:${await closedPort()}`),
      retry: FAST_RETRY,
    });
    const err = await core.getTipHeight().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expectNoSecret(err);
  });
});
