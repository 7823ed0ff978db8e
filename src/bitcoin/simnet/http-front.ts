/**
 * The loopback HTTP server both simnet fronts share: a free port (or a fixed one), fault injection,
 * clean shutdown.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VigilError, type VigilErrorCategory } from '../../core/errors.ts';
import type { FaultInjector, Front } from './faults.ts';

export type FrontHandler = (
  req: IncomingMessage,
  body: Uint8Array,
  res: ServerResponse,
) => void | Promise<void>;

/** A fixed port a simnet front was asked to listen on is taken (or refused). */
export class SimnetPortError extends VigilError {
  override name = 'SimnetPortError';
  override readonly category: VigilErrorCategory = 'unavailable';
}

export type RunningFront = { url: string; close: () => Promise<void> };

export async function startFront(
  front: Front,
  faults: FaultInjector,
  callName: (req: IncomingMessage, body: Uint8Array) => string,
  handler: FrontHandler,
  port = 0,
): Promise<RunningFront> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      const fault = faults.take(front, callName(req, body));
      switch (fault) {
        case 'unavailable':
          res.writeHead(503, { 'content-type': 'text/plain' }).end('Work queue depth exceeded');
          return;
        case 'timeout':
          return; // never answered: the client's timeout must fire; closed on stop
        case 'garbage':
          res
            .writeHead(200, { 'content-type': 'text/html' })
            .end('<html><body>502 Bad Gateway</body></html>');
          return;
        case 'reset':
          req.socket.destroy();
          return;
        default:
          Promise.resolve(handler(req, body, res)).catch((err: unknown) => {
            if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(err instanceof Error ? err.message : String(err));
          });
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (port === 0) return reject(err);
      const why =
        err.code === 'EADDRINUSE' ? 'is in use' : `cannot be listened on (${err.code ?? err.message})`;
      reject(new SimnetPortError(`simnet ${front} front: port ${port} on 127.0.0.1 ${why}`, { cause: err }));
    });
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
