import { defineConfig } from 'vitest/config';
import { ISOLATED_TEST_FILES } from './test/isolated-files.ts';

// The default suite (`npm test`): must stay under 20 minutes on 2 cores.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    // Redis on 127.0.0.1:6379: the running one, or a private one started for the run.
    globalSetup: ['test/global-redis.ts'],
    setupFiles: ['test/setup-file.ts'],
    unstubEnvs: true,
    unstubGlobals: true,
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.long.test.ts', 'node_modules/**', ...ISOLATED_TEST_FILES],
          // A worker keeps the sources it loaded for its next file: loading them again for each of 230
          // files cost about a quarter of the suite's time. Only the test file itself is loaded afresh, so
          // state held by shared modules (caches, the exit code) carries over: test/setup-file.ts clears
          // what must not, and the files that replace a module run isolated below.
          isolate: false,
        },
      },
      {
        extends: true,
        test: { name: 'isolated', include: [...ISOLATED_TEST_FILES], isolate: true },
      },
    ],
  },
});
