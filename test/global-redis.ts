/**
 * `npm test` on a machine where Redis is not running (issue #21): when nothing answers at
 * 127.0.0.1:6379, where the tests expect Redis, a private redis-server is started there for the run
 * (noeviction, no persistence, its files in a temporary directory) and stopped at the end. A Redis that
 * answers is used as it is.
 */
import { startPrivateRedis } from '../src/devnet/private-redis.ts';
import { probeRedis } from '../src/store/redis.ts';

const DEFAULT = 'redis://127.0.0.1:6379';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.VIGIL_TEST_REDIS_URL !== undefined) return undefined;
  try {
    await probeRedis(DEFAULT, 2000);
    return undefined;
  } catch {
    const own = await startPrivateRedis({ port: 6379 });
    process.stderr.write(`no Redis at ${DEFAULT}: started a private redis-server there for this run\n`);
    return () => own.stop();
  }
}
