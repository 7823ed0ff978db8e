/**
 * Every row of Bitcoin Core's script_tests.json (only one-element comment rows are not cases), run
 * through verifyScript with Core's crediting/spending transactions and the real signature checker;
 * the expected error is matched exactly. As in Core's DoTest, each row is also re-run with flags
 * removed (passing rows) or added (failing rows), which must not change the verdict (4 tries per row
 * here, 64 in script-tests.long.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { baseFlags, cases, perturbedFlagFailures, rows, run } from './script-tests-harness.ts';

describe('script_tests.json', () => {
  it('has the expected number of cases', () => {
    expect(cases.length).toBeGreaterThan(1200);
    expect(rows.length - cases.length).toBe(rows.filter((r) => r.length === 1).length);
  });

  it.each(
    cases.map(
      (c) => [`#${c.line} ${c.scriptSig} | ${c.scriptPubKey} [${c.flags}] → ${c.expected}`, c] as const,
    ),
  )('%s', (_name, c) => {
    expect(run(c, baseFlags(c)), c.comment).toBe(c.expected);
    expect(perturbedFlagFailures(c, 4, c.line * 2654435761)).toEqual([]);
  });
});
