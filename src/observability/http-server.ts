/**
 * The operator HTTP server (node:http): `/healthz`, `/readyz`, `/metrics`. Loopback by default: it
 * tells whoever can reach it what Vigil watches, so exposing it is the operator's explicit choice.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { VigilError, type VigilErrorCategory } from '../core/errors.ts';
import type { HealthRegistry, HealthReport } from './health.ts';

export type OperatorServerOptions = {
  host: string;
  port: number;
  health: HealthRegistry;
  metrics: Registry;
  logger?: Logger | undefined;
  /** Host header names accepted besides the bind address and, on loopback, localhost (default none). */
  allowedHosts?: readonly string[] | undefined;
  /** Open connections at most; more are dropped on accept (default 32). */
  maxConnections?: number | undefined;
  /** A client that has not sent its headers within this is cut with 408 (default 5000 ms). */
  headersTimeoutMs?: number | undefined;
  /** A client that has not sent its whole request within this is cut with 408 (default 10000 ms). */
  requestTimeoutMs?: number | undefined;
};

export const HTTP_DEFAULTS = {
  maxConnections: 32,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
} as const;

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The host name of a Host header: lower case, without port, brackets or a trailing dot. */
export function hostOfHeader(header: string): string {
  const h = header.trim().toLowerCase();
  const name = h.startsWith('[')
    ? h.slice(1, h.indexOf(']') === -1 ? undefined : h.indexOf(']'))
    : h.replace(/:\d*$/, '');
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/**
 * DNS rebinding protection. A web page can make a browser on the operator's machine resolve its own
 * name to 127.0.0.1 and read this server, but the browser still sends that name as Host. So only names
 * that are really this server are served: the bind address, localhost names on a loopback bind, any IP
 * literal on a wildcard bind (0.0.0.0, ::; rebinding needs a name), and `http.allowedHosts`. A request
 * without Host (HTTP/1.0) comes from no browser, so it is served.
 */
export function hostPolicy(
  bindHost: string,
  extra: readonly string[] = [],
): (header: string | undefined) => boolean {
  const bind = hostOfHeader(bindHost);
  const wildcard = bind === '0.0.0.0' || bind === '::' || bind === '';
  const allowed = new Set([bind, ...extra.map(hostOfHeader)]);
  if (wildcard || isLoopback(bind)) for (const n of LOOPBACK_NAMES) allowed.add(n);
  return (header) => {
    if (header === undefined) return true;
    const host = hostOfHeader(header);
    return allowed.has(host) || (wildcard && isIP(host) !== 0);
  };
}

export type OperatorServer = {
  /** The bound address, e.g. `127.0.0.1`, and port (useful when 0 was asked for). */
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
};

export class HttpListenError extends VigilError {
  override name = 'HttpListenError';
  override readonly category: VigilErrorCategory = 'unavailable';
}

function sendJson(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(head ? undefined : text);
}

function sendReport(res: ServerResponse, report: HealthReport, head: boolean): void {
  sendJson(res, report.status === 'ok' ? 200 : 503, report, head);
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: OperatorServerOptions,
  hostAllowed: (header: string | undefined) => boolean,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const head = req.method === 'HEAD';
  if (!hostAllowed(req.headers.host)) {
    // 421 Misdirected Request: this server does not serve that name. The name is not echoed back.
    sendJson(res, 421, { error: 'host not allowed: add it to http.allowedHosts if it is this server' }, head);
    return;
  }
  if (req.method !== 'GET' && !head) {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  switch (path) {
    case '/healthz':
      sendReport(res, await options.health.health(), head);
      return;
    case '/readyz':
      sendReport(res, await options.health.readiness(), head);
      return;
    case '/metrics': {
      const text = await options.metrics.metrics();
      res.writeHead(200, {
        'content-type': options.metrics.contentType,
        'content-length': Buffer.byteLength(text),
      });
      res.end(head ? undefined : text);
      return;
    }
    default:
      sendJson(res, 404, { error: 'not found', paths: ['/healthz', '/readyz', '/metrics'] }, head);
  }
}

/** Starts listening; resolves once bound. `close()` stops accepting and drops idle keep-alive sockets. */
export async function startOperatorServer(options: OperatorServerOptions): Promise<OperatorServer> {
  const headersTimeout = options.headersTimeoutMs ?? HTTP_DEFAULTS.headersTimeoutMs;
  const requestTimeout = Math.max(headersTimeout, options.requestTimeoutMs ?? HTTP_DEFAULTS.requestTimeoutMs);
  const hostAllowed = hostPolicy(options.host, options.allowedHosts);
  const server: Server = createServer(
    {
      // A client trickling its headers (slowloris) holds a connection: these cut it with 408.
      headersTimeout,
      requestTimeout,
      // node checks those timeouts on this period (30 s by default, longer than the timeouts here).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    (req, res) => {
      handle(req, res, options, hostAllowed).catch((err: unknown) => {
        options.logger?.error({ err }, 'operator HTTP request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    },
  );
  server.keepAliveTimeout = 5000;
  // Connections past the cap are closed on accept, so a flood cannot exhaust file descriptors or memory.
  server.maxConnections = options.maxConnections ?? HTTP_DEFAULTS.maxConnections;
  let dropped = 0;
  let lastDropLog = 0;
  server.on('drop', () => {
    dropped++;
    // At most one line a minute: a flood must not become a log flood.
    if (Date.now() - lastDropLog < 60_000) return;
    lastDropLog = Date.now();
    options.logger?.warn(
      { dropped, maxConnections: server.maxConnections },
      'operator HTTP connection limit reached; dropping new connections',
    );
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        new HttpListenError(
          `operator HTTP cannot listen on ${options.host}:${options.port}: ${err.code ?? err.message}`,
          {
            cause: err,
            details: '',
            metaMessages: ['Set http.port (VIGIL_HTTP_PORT) to a free port, or 0 for any.'],
          },
        ),
      );
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const hostForUrl = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  options.logger?.info({ address: bound.address, port: bound.port }, 'operator HTTP listening');
  return {
    host: bound.address,
    port: bound.port,
    url: `http://${hostForUrl}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
