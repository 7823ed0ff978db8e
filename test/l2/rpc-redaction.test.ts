import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactError, redactText, redactUrl } from '../../src/config/redact.ts';
import { L2Rpc, L2RpcUnavailableError } from '../../src/l2/rpc.ts';
import { createLogger } from '../../src/observability/logger.ts';

// Known secrets in every place a provider puts one: basic auth, the path, the query, the user name.
const PASSWORD = 'hunter2-basic-auth-pw';
const PATH_KEY = '9aa3d95b3bc440fa88ea12eaa4456161';
const QUERY_KEY = 'q7Zk2mN8pL4xR9vT1wY6';
const USER_KEY = 'u5Hj8kL2mN4pQ7rS9tV1xZ3';
const SECRETS = [PASSWORD, PATH_KEY, QUERY_KEY, USER_KEY];

function capture(): { stream: Writable; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => out };
}

/** Every text an error can put in front of someone: message, stack, causes, util.inspect, JSON. */
function everyText(err: unknown): string {
  const parts: string[] = [inspect(err, { depth: 10 })];
  let e: unknown = err;
  for (let i = 0; i < 10 && e instanceof Error; i++) {
    parts.push(e.message, e.stack ?? '', JSON.stringify(e));
    e = e.cause;
  }
  return parts.join('\n');
}

let server: Server;
let port = 0;
beforeAll(async () => {
  // An RPC that always fails with 500: viem's error quotes the URL it called.
  server = createServer((_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => {
  server.close();
});

describe('L2 RPC URLs never reach a log line or an error in the clear', () => {
  it.each(['json', 'pretty'] as const)(
    'failing calls (%s logs): URLs redacted, the endpoints still named',
    async (format) => {
      const urls = [
        `http://vigil:${PASSWORD}@127.0.0.1:${port}/v3/${PATH_KEY}`,
        `http://127.0.0.1:${port}/rpc?apikey=${QUERY_KEY}`,
        `http://${USER_KEY}@127.0.0.1:${port}/`,
      ];
      const out = capture();
      const logger = createLogger({ level: 'debug', format, destination: out.stream });
      const rpc = new L2Rpc({ urls, logger, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
      const err = await rpc.blockNumber().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(L2RpcUnavailableError);
      logger.error({ err }, 'giving up');
      const logs = out.text();
      const errorText = everyText(err);
      for (const secret of SECRETS) {
        expect(logs).not.toContain(secret);
        expect(errorText).not.toContain(secret);
      }
      // Still useful: the host and the redacted places are there.
      expect(logs).toContain(`127.0.0.1:${port}/v3/redacted`);
      expect(logs).toContain('apikey=redacted');
      expect((err as Error).message).toContain(
        `URLs: http://vigil:redacted@127.0.0.1:${port}/v3/redacted, http://127.0.0.1:${port}/rpc?apikey=redacted, http://redacted@127.0.0.1:${port}/`,
      );
      expect(logs.match(/L2 RPC call failed/g)).toHaveLength(3);
    },
  );

  it('the logger redacts a URL in any field or message, whoever logged it', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', format: 'json', destination: out.stream });
    logger.info(
      { endpoint: `https://mainnet.example/v2/${PATH_KEY}` },
      `calling https://u:${PASSWORD}@h.example/x`,
    );
    logger.warn({ nested: { deep: [`wss://h.example/ws?token=${QUERY_KEY}`] } }, 'plain message');
    const lines = out
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]?.endpoint).toBe('https://mainnet.example/v2/redacted');
    expect(lines[0]?.msg).toBe('calling https://u:redacted@h.example/x');
    expect(lines[1]?.nested).toEqual({ deep: ['wss://h.example/ws?token=redacted'] });
    for (const secret of SECRETS) expect(out.text()).not.toContain(secret);
  });
});

describe('redactText and redactError', () => {
  it('redact every URL in free text and keep the sentence around it', () => {
    expect(
      redactText(
        `HTTP request failed.\nURL: http://a:${PASSWORD}@h:1/v3/${PATH_KEY}.\nRequest body: {"x":1}`,
      ),
    ).toBe('HTTP request failed.\nURL: http://a:redacted@h:1/v3/redacted.\nRequest body: {"x":1}');
    expect(redactText(`("https://h/?k=${QUERY_KEY}")`)).toBe('("https://h/?k=redacted")');
    expect(redactText('no url here: 127.0.0.1:8545')).toBe('no url here: 127.0.0.1:8545');
    expect(redactUrl(`https://${USER_KEY}@h.example/`)).toBe('https://redacted@h.example/');
    expect(redactUrl('https://alice@h.example/')).toBe('https://alice@h.example/');
  });

  it('redactError copies the chain with name and code kept', () => {
    const inner = Object.assign(new Error(`fetch http://u:${PASSWORD}@h/`), { code: -32005 });
    const outer = Object.assign(new Error('outer', { cause: inner }), {
      details: `at https://h/v3/${PATH_KEY}`,
      shortMessage: 'short',
    });
    outer.name = 'HttpRequestError';
    const copy = redactError(outer) as Error & { details: string; cause: Error & { code: number } };
    expect(copy.name).toBe('HttpRequestError');
    expect(copy.details).toBe('at https://h/v3/redacted');
    expect(copy.cause.code).toBe(-32005);
    expect(copy.cause.message).toBe('fetch http://u:redacted@h/');
    for (const secret of SECRETS) expect(everyText(copy)).not.toContain(secret);
  });

  it('bounded: a megabyte of text with thousands of URLs is redacted in well under a second', () => {
    const text = `x http://u:${PASSWORD}@h/ `.repeat(30_000);
    const started = performance.now();
    const out = redactText(text);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(out).not.toContain(PASSWORD);
  });
});
