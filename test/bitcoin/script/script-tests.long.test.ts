/** script_tests.json with 64 flag perturbations per row (Core's DoTest does 16 random ones per run). */
import { describe, expect, it } from 'vitest';
import { cases, perturbedFlagFailures } from './script-tests-harness.ts';

describe('script_tests.json flag perturbations (long)', () => {
  it.each(cases.map((c) => [`#${c.line} → ${c.expected}`, c] as const))('%s', (_name, c) => {
    expect(perturbedFlagFailures(c, 64, c.line * 40503 + 7)).toEqual([]);
  });
});
