/**
 * Bitcoin Core's JSON-RPC over HTTP, served by simnet: the methods of `rpc-methods.ts` behind Core's
 * HTTP behaviour (JSON-RPC 1.0: 500 for errors, 404 for an unknown method, batches), and HTTP basic
 * auth.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimChain } from './chain.ts';
import type { FaultInjector } from './faults.ts';
import { type RunningFront, startFront } from './http-front.ts';
import { type RpcMethods, rpcMethods } from './rpc-methods.ts';
import { TxReject } from './rules.ts';
import { RpcError } from './sendraw.ts';
import { SimChainError } from './types.ts';

export type RpcFrontOptions = { user: string; password: string };

export async function startRpcFront(
  chain: SimChain,
  faults: FaultInjector,
  auth: RpcFrontOptions,
  port = 0,
): Promise<RunningFront> {
  const methods = rpcMethods(chain);
  const expected = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
  const callName = (_req: IncomingMessage, body: Uint8Array): string => {
    try {
      const parsed = JSON.parse(new TextDecoder().decode(body)) as { method?: unknown };
      return `rpc:${String(parsed.method)}`;
    } catch {
      return 'rpc:?';
    }
  };
  return startFront(
    'rpc',
    faults,
    callName,
    (req, body, res) => {
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="jsonrpc"' }).end();
        return;
      }
      let request: unknown;
      try {
        request = JSON.parse(new TextDecoder().decode(body));
      } catch {
        reply(res, 500, { result: null, error: { code: -32700, message: 'Parse error' }, id: null });
        return;
      }
      if (Array.isArray(request)) {
        const out = request.map((r) => handle(methods, r).body);
        reply(res, 200, out);
        return;
      }
      const { status, body: out } = handle(methods, request);
      reply(res, status, out);
    },
    port,
  );
}

function handle(methods: RpcMethods, request: unknown): { status: number; body: unknown } {
  const r = (request ?? {}) as { method?: unknown; params?: unknown; id?: unknown };
  const id = r.id ?? null;
  const fn = typeof r.method === 'string' ? methods[r.method] : undefined;
  if (!fn)
    return { status: 404, body: { result: null, error: { code: -32601, message: 'Method not found' }, id } };
  try {
    const result = fn(Array.isArray(r.params) ? r.params : []);
    return { status: 200, body: { result: result ?? null, error: null, id } };
  } catch (err) {
    if (err instanceof RpcError)
      return { status: 500, body: { result: null, error: { code: err.code, message: err.message }, id } };
    if (err instanceof SimChainError || err instanceof TxReject) {
      return { status: 500, body: { result: null, error: { code: -1, message: err.message }, id } };
    }
    const message = err instanceof Error ? err.message : String(err);
    return { status: 500, body: { result: null, error: { code: -32603, message }, id } };
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}
