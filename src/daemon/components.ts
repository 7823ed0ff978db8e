/**
 * The infrastructure components every daemon has: the operator HTTP server and the Redis connection.
 * Domain components (ingestion, Bitcoin poll, judge, queue workers) are added by later issues.
 */
import type { Logger } from 'pino';
import type { Component } from '../core/component.ts';
import type { HealthRegistry } from '../observability/health.ts';
import {
  type OperatorServer,
  type OperatorServerOptions,
  startOperatorServer,
} from '../observability/http-server.ts';
import { connectRedisAny } from '../store/connect.ts';
import type { RedisClient } from '../store/redis.ts';
import { closeRedis, type RedisRole, requireNoEviction } from '../store/redis.ts';

export type HttpComponent = Component & { server(): OperatorServer | undefined };

export function operatorHttpComponent(
  options: OperatorServerOptions & {
    /** Called once bound (useful with port 0). */
    onListening?: (server: OperatorServer) => void;
  },
): HttpComponent {
  let server: OperatorServer | undefined;
  return {
    name: 'http',
    server: () => server,
    async start() {
      server = await startOperatorServer(options);
      options.onListening?.(server);
    },
    async stop() {
      await server?.close();
      server = undefined;
    },
  };
}

export type RedisComponent = Component & {
  /** The connection; throws before start. */
  client(): RedisClient;
};

/** A Redis (or Redis Cluster) connection with a `redis` health check (PING answered). */
export function redisComponent(options: {
  url: string;
  role: RedisRole;
  health: HealthRegistry;
  logger: Logger;
  /**
   * Refuse to start unless Redis's maxmemory-policy is noeviction (exit 4): the daemon's job queues
   * (BullMQ) lose jobs and locks to eviction. Commands that only read Redis leave it off.
   */
  requireNoEviction?: boolean;
}): RedisComponent {
  let client: RedisClient | undefined;
  let unregister: (() => void) | undefined;
  return {
    name: 'redis',
    client() {
      if (!client) throw new Error('redis component used before start');
      return client;
    },
    async start() {
      client = await connectRedisAny(options.url, {
        role: options.role,
        name: 'vigil:daemon',
        logger: options.logger,
      });
      const c = client;
      if (options.requireNoEviction) {
        try {
          await requireNoEviction(c, options.url, options.logger);
        } catch (err) {
          // The daemon stops only components that started: this connection is ours to close.
          client = undefined;
          await closeRedis(c);
          throw err;
        }
      }
      unregister = options.health.register('redis', async () => {
        if (c.status !== 'ready') return { healthy: false, reason: `connection ${c.status}` };
        await c.ping();
        return { healthy: true };
      });
    },
    async stop() {
      unregister?.();
      if (client) await closeRedis(client);
      client = undefined;
    },
  };
}
