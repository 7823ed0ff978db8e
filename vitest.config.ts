import { defineConfig } from 'vitest/config';

// The default suite (`npm test`): must stay under 20 minutes on 2 cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.long.test.ts', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    // Redis on 127.0.0.1:6379: the running one, or a private one started for the run.
    globalSetup: ['test/global-redis.ts'],
  },
});
