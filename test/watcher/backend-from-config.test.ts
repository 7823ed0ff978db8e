/**
 * `bitcoin.requestTimeoutMs` bounds every request of the backend the configuration names (it was parsed,
 * documented and then not passed on: every try waited the backends' own 15 s). A server that accepts the
 * connection and never answers shows which timeout each try used.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/load.ts';
import type { VigilConfig } from '../../src/config/schema.ts';
import { backendFromConfig } from '../../src/watcher/from-config.ts';

let server: Server;
let url: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = createServer((s) => {
    sockets.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  url = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

function configWith(backend: 'core-rpc' | 'esplora'): VigilConfig {
  const config = defaultConfig();
  return { ...config, bitcoin: { ...config.bitcoin, backend, url, requestTimeoutMs: 150 } };
}

describe('backendFromConfig', () => {
  it.each(['core-rpc', 'esplora'] as const)(
    '%s: each try gives up after bitcoin.requestTimeoutMs',
    async (backend) => {
      await expect(backendFromConfig(configWith(backend)).getTipHeight()).rejects.toThrow(
        /no answer within 150 ms/,
      );
    },
  );
});
