/** Many-seed runs of the governance properties (`npm run test:long`). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import {
  applyInput,
  createGenesisState,
  FAULTS,
  firstDivergence,
  getRewardTotals,
  reexecute,
} from '../../src/governance/index.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { checkInvariants } from './invariants.ts';

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/**
 * Faults that break a precondition: only a feed holding an input an honest contract reverts (a queue
 * without quorum, an early execute...) exercises them, so valid workloads never do.
 */
const NEEDS_INVALID_FEED = new Set([
  'quorum-not-checked',
  'approval-threshold-off-by-one',
  'canceled-proposal-executed',
  'timelock-ignored',
  'vote-counted-twice',
]);

describe('governance, many seeds', () => {
  it('invariants hold after every step of 300 workloads', () => {
    fc.assert(
      fc.property(
        seedArb,
        fc.constantFrom(100n, 1_000n, 3_333n, 10_000n),
        fc.constantFrom(1n, 2n, 4n, 100n),
        (seed, maxPowerBps, maxValidators) => {
          const w = generateWorkload({ seed, inputs: 600, params: { maxPowerBps, maxValidators } });
          const s = createGenesisState(w.genesis);
          let before = getRewardTotals(s);
          for (const input of w.inputs) {
            expect(applyInput(s, input).accepted).toBe(true);
            expect(checkInvariants(s, input.kind === 'endEpoch')).toEqual([]);
            const after = getRewardTotals(s);
            expect(after.paid - before.paid <= after.issued - before.issued).toBe(true);
            before = after;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('roots with and without a trace agree on 200 workloads', () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const w = generateWorkload({ seed, inputs: 500 });
        const a = reexecute(w.inputs, { genesis: w.genesis });
        const b = reexecute(w.inputs, { genesis: w.genesis, trace: true });
        expect(bytesToHex(a.root)).toBe(bytesToHex(b.root));
      }),
      { numRuns: 200 },
    );
  });

  it('each fault, when it diverges, does so at a step that evaluated its rule; valid feeds reach most faults', () => {
    const caught = new Map<string, number>();
    for (let seed = 100; seed < 140; seed++) {
      const w = generateWorkload({ seed, inputs: 500 });
      const ref = reexecute(w.inputs, { genesis: w.genesis, trace: true });
      for (const fault of FAULTS) {
        const bad = reexecute(w.inputs, { genesis: w.genesis, trace: true, executor: fault });
        const d = firstDivergence(ref.trace ?? [], bad.trace ?? []);
        if (!d) continue;
        expect(d.rules).toContain(fault.breaks);
        caught.set(fault.name, (caught.get(fault.name) ?? 0) + 1);
      }
    }
    for (const fault of FAULTS) {
      if (NEEDS_INVALID_FEED.has(fault.name)) expect(caught.get(fault.name) ?? 0, fault.name).toBe(0);
      else expect(caught.get(fault.name) ?? 0, fault.name).toBeGreaterThan(0);
    }
  });
});
