/**
 * A local HTTP server on 127.0.0.1 that answers whatever a test scripts, to play a hostile Core RPC
 * node or Esplora server. Handlers get the path and, for POSTs, the JSON-RPC method.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Hostile = { url: string; requests: string[]; close: () => Promise<void> };

export type Handler = (what: { path: string; method: string | undefined }, res: ServerResponse) => void;

export async function startHostile(handler: Handler): Promise<Hostile> {
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let method: string | undefined;
      if (req.method === 'POST') {
        try {
          method = (JSON.parse(Buffer.concat(chunks).toString()) as { method?: string }).method;
        } catch {
          method = undefined;
        }
      }
      const path = req.url ?? '/';
      requests.push(method ?? path);
      handler({ path, method }, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A JSON-RPC 1.0 reply whose `result` is raw JSON text, so tests can send what JSON.stringify cannot (1e400). */
export function rpcResult(res: ServerResponse, resultJson: string): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(`{"result":${resultJson},"error":null,"id":1}`);
}

export function sendText(res: ServerResponse, text: string, type = 'application/json'): void {
  res.writeHead(200, { 'content-type': type });
  res.end(text);
}

/** Measures a promise's settling: its error (or value), wall time, and growth of heap plus ArrayBuffers (bodies live there). */
export async function measure<T>(
  fn: () => Promise<T>,
): Promise<{ error: unknown; value: T | undefined; ms: number; heapMiB: number }> {
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const before = used();
  const t0 = performance.now();
  let error: unknown;
  let value: T | undefined;
  try {
    value = await fn();
  } catch (err) {
    error = err;
  }
  return {
    error,
    value,
    ms: performance.now() - t0,
    heapMiB: (used() - before) / (1024 * 1024),
  };
}
