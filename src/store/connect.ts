/**
 * The one way the program opens Redis: a `redis+cluster://` or `rediss+cluster://` URL gets a Redis
 * Cluster connection (redis-cluster.ts), any other URL a single-node one (redis.ts). Both come back as
 * a `RedisClient` that every durable component takes, probed and ready, with the same roles.
 */
import { type ConnectRedisOptions, connectRedis, type RedisClient } from './redis.ts';
import { connectRedisCluster, isClusterUrl } from './redis-cluster.ts';

/** A connection for `options.role` to the Redis, or the Redis Cluster, that `url` names. */
export function connectRedisAny(url: string, options: ConnectRedisOptions): Promise<RedisClient> {
  return isClusterUrl(url) ? connectRedisCluster(url, options) : connectRedis(url, options);
}
