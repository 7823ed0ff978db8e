/**
 * The operator HTTP server (node:http): `/healthz`, `/readyz`, `/metrics`. Loopback by default: it
 * tells whoever can reach it what Vigil watches, so exposing it is the operator's explicit choice.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ExitCode } from '../cli/exit-codes.ts';
import { VigilError } from '../core/errors.ts';
import type { HealthRegistry, HealthReport } from './health.ts';

export type OperatorServerOptions = {
  host: string;
  port: number;
  health: HealthRegistry;
  metrics: Registry;
  logger?: Logger | undefined;
};

export type OperatorServer = {
  /** The bound address, e.g. `127.0.0.1`, and port (useful when 0 was asked for). */
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
};

export class HttpListenError extends VigilError {
  override name = 'HttpListenError';
  readonly exitCode = ExitCode.Unavailable;
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
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const head = req.method === 'HEAD';
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
  const server: Server = createServer((req, res) => {
    handle(req, res, options).catch((err: unknown) => {
      options.logger?.error({ err }, 'operator HTTP request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.keepAliveTimeout = 5000;
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
