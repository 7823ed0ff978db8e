/**
 * `npm test` shares loaded sources between the files a worker runs (vitest.config.ts); a file that
 * replaces a module with `vi.mock` (or the clock, with fake timers) must run isolated, or the sources it
 * tests keep the module another file loaded first. This keeps test/isolated-files.ts complete and free of
 * files that are gone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ISOLATED_TEST_FILES } from '../isolated-files.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

function testFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? testFiles(join(dir, e.name))
      : e.name.endsWith('.test.ts') && !e.name.endsWith('.long.test.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

describe('the files npm test runs isolated', () => {
  it('are exactly the files that replace a module or the clock', () => {
    const mocking = testFiles('test')
      .filter((f) => /\bvi\.(mock|doMock|useFakeTimers)\(/.test(readFileSync(join(REPO, f), 'utf8')))
      .map((f) => relative('.', f))
      .sort();
    expect(mocking.length).toBeGreaterThan(0);
    expect([...ISOLATED_TEST_FILES].sort()).toEqual(mocking);
  });
});
