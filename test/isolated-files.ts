/**
 * Test files that need a module registry of their own: they replace a module with `vi.mock`, which only
 * reaches the sources if the sources are loaded afresh for that file. Every other file of `npm test`
 * shares its worker's loaded sources with the files before it (vitest.config.ts), which saves loading
 * them again per file. `test/architecture/isolated-files.test.ts` keeps this list complete.
 */
export const ISOLATED_TEST_FILES: readonly string[] = [
  'test/dispute/graph-governed-window.test.ts',
  'test/watcher/graph-registry-swap.test.ts',
];
