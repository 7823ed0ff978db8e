/** A loopback JSON-RPC proxy in front of anvil whose failures the test controls. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultMode =
  | 'ok'
  | 'http-500'
  | 'timeout'
  | 'malformed'
  | 'rpc-error'
  | 'reset'
  /** JSON-RPC −32005 "rate limit exceeded" (Infura's code for a rate limit, and for a range cap). */
  | 'rate-limit'
  /** Forwarded, but every block header answered lacks its gasLimit (a broken or lagging node). */
  | 'bad-header'
  /** An eth_call at a past block answered with the head's state (seen on anvil under load). */
  | 'stale-call';

export type FaultyProxy = {
  url: string;
  /** The mode for the next requests; a function gets each request's method and params. */
  setMode: (mode: FaultMode | ((method: string, params: unknown[]) => FaultMode | 'range')) => void;
  /** Refuse eth_getLogs spanning more than `blocks` blocks, like a provider's range cap. */
  setLogRangeCap: (blocks: number | undefined) => void;
  /** Answer these methods with JSON-RPC -32601 "method not found", like a node that lacks them. */
  setUnsupported: (methods: readonly string[]) => void;
  counts: Record<string, number>;
  close: () => Promise<void>;
};

type RpcBody = { id: unknown; method: string; params?: unknown[] };

export async function startFaultyProxy(upstream: string): Promise<FaultyProxy> {
  let mode: FaultMode | ((method: string, params: unknown[]) => FaultMode | 'range') = 'ok';
  let rangeCap: number | undefined;
  let unsupported = new Set<string>();
  const counts: Record<string, number> = {};
  const hung = new Set<ServerResponse>();

  const tooWide = (body: RpcBody): boolean => {
    if (rangeCap === undefined || body.method !== 'eth_getLogs') return false;
    const f = (body.params?.[0] ?? {}) as { fromBlock?: string; toBlock?: string };
    if (!f.fromBlock || !f.toBlock) return false;
    return Number(BigInt(f.toBlock) - BigInt(f.fromBlock)) + 1 > rangeCap;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const parsed = JSON.parse(raw) as RpcBody | RpcBody[];
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    const method = first?.method ?? '?';
    const m = typeof mode === 'function' ? mode(method, first?.params ?? []) : mode;
    counts[m] = (counts[m] ?? 0) + 1;
    const bodies = Array.isArray(parsed) ? parsed : [parsed];
    if (m === 'range' || bodies.some(tooWide)) {
      counts.range = (counts.range ?? 0) + 1;
      const errs = bodies.map((b) => ({
        jsonrpc: '2.0',
        id: b.id,
        error: { code: -32602, message: 'query returned more than 10000 results' },
      }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(Array.isArray(parsed) ? errs : errs[0]));
      return;
    }
    switch (m) {
      case 'http-500':
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('upstream exploded');
        return;
      case 'timeout':
        hung.add(res);
        return; // never answered; the client's timeout fires
      case 'reset':
        req.socket.destroy();
        return;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"jsonrpc":"2.0","id":1,"result":"0x1');
        return;
      case 'bad-header': {
        const up = (await (
          await fetch(upstream, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: raw,
          })
        ).json()) as { id: unknown; result?: unknown } | { id: unknown; result?: unknown }[];
        const answers = Array.isArray(up) ? up : [up];
        for (const a of answers) {
          const asked = bodies.find((b) => b.id === a.id);
          if (asked?.method === 'eth_getBlockByNumber' && a.result !== null && typeof a.result === 'object')
            delete (a.result as Record<string, unknown>).gasLimit;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(up));
        return;
      }
      case 'stale-call': {
        const stale = bodies.map((b) =>
          b.method === 'eth_call' && Array.isArray(b.params) ? { ...b, params: [b.params[0], 'latest'] } : b,
        );
        const up = await fetch(upstream, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(Array.isArray(parsed) ? stale : stale[0]),
        });
        const text = await up.text();
        res.writeHead(up.status, { 'content-type': 'application/json' });
        res.end(text);
        return;
      }
      case 'rpc-error':
      case 'rate-limit': {
        const error =
          m === 'rpc-error'
            ? { code: -32000, message: 'header not found' }
            : { code: -32005, message: 'rate limit exceeded' };
        const errs = bodies.map((b) => ({ jsonrpc: '2.0', id: b.id, error }));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(Array.isArray(parsed) ? errs : errs[0]));
        return;
      }
      default: {
        if (bodies.some((b) => unsupported.has(b.method))) {
          counts.unsupported = (counts.unsupported ?? 0) + 1;
          const forward = bodies.filter((b) => !unsupported.has(b.method));
          const answered =
            forward.length === 0
              ? []
              : ((await (
                  await fetch(upstream, {
                    method: 'POST',
                    headers: { 'content-type': 'application/json' },
                    body: JSON.stringify(forward),
                  })
                ).json()) as { id: unknown }[]);
          const out = bodies.map(
            (b) =>
              answered.find((a) => a.id === b.id) ?? {
                jsonrpc: '2.0',
                id: b.id,
                error: { code: -32601, message: `Method not found: ${b.method}` },
              },
          );
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(Array.isArray(parsed) ? out : out[0]));
          return;
        }
        const up = await fetch(upstream, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: raw,
        });
        res.writeHead(up.status, { 'content-type': 'application/json' });
        res.end(await up.text());
      }
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    setMode: (m) => {
      mode = m;
    },
    setLogRangeCap: (b) => {
      rangeCap = b;
    },
    setUnsupported: (methods) => {
      unsupported = new Set(methods);
    },
    counts,
    close: async () => {
      for (const r of hung) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
