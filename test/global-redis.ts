/**
 * `npm test` on a machine where Redis is not running (issue #21): when nothing listens on
 * 127.0.0.1:6379, where the tests expect Redis, a private redis-server is started there for the run
 * (noeviction, no persistence, its files in a temporary directory) and stopped at the end. Whatever
 * listens there is left alone: a Redis that refuses the tests says so in the tests.
 */
import { connect } from 'node:net';
import { startPrivateRedis } from '../src/devnet/private-redis.ts';

function nothingListens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.VIGIL_TEST_REDIS_URL !== undefined) return undefined;
  if (!(await nothingListens(6379))) return undefined;
  const own = await startPrivateRedis({ port: 6379 });
  process.stderr.write(
    'nothing listened on 127.0.0.1:6379: started a private redis-server there for this run\n',
  );
  return () => own.stop();
}
