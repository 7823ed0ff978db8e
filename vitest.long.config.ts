import { defineConfig } from 'vitest/config';

// Long runs (many seeds, crash loops, soaks): `npm run test:long`.
export default defineConfig({
  test: {
    include: ['test/**/*.long.test.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 1,
    // Redis on 127.0.0.1:6379: the running one, or a private one started for the run.
    globalSetup: ['test/global-redis.ts'],
  },
});
