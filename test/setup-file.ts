/**
 * Runs around every test file of `npm test`. Workers keep the sources they loaded between files
 * (vitest.config.ts), so what a file leaves in the process reaches the next one: the CLI's exit code
 * (`main()` returns `process.exitCode` when a command set it) is cleared after each file.
 */
import { afterAll } from 'vitest';

afterAll(() => {
  process.exitCode = undefined;
});
