import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import {
  applyInput,
  computeStateRoot,
  createGenesisState,
  executorByName,
  type GovernanceState,
  getRewardTotals,
  reexecute,
} from '../../src/governance/index.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { checkInvariants } from './invariants.ts';

const hex = bytesToHex;
const RUNS = 12;
const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

function leafSnapshot(state: GovernanceState): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of state.leaves.ids()) out.set(id, hex(state.leaves.leaf(id)?.bytes ?? new Uint8Array()));
  return out;
}

describe('governance properties (fast-check over workload seeds)', () => {
  it('is deterministic: same inputs → same roots, with or without a trace', () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const w = generateWorkload({ seed, inputs: 150 });
        const a = reexecute(w.inputs, { genesis: w.genesis });
        const b = reexecute(w.inputs, { genesis: w.genesis, trace: true });
        expect(hex(a.root)).toBe(hex(b.root));
        expect(a.epochs.map((e) => hex(e.root))).toEqual(b.epochs.map((e) => hex(e.root)));
        for (const e of b.epochs)
          expect(hex(b.trace?.[e.stepIndex]?.root ?? new Uint8Array())).toBe(hex(e.root));
      }),
      { numRuns: RUNS },
    );
  });

  it('is deterministic across processes', () => {
    const seeds = [3, 1_000, 77_777];
    const script = fileURLToPath(new URL('./root-of-seed.ts', import.meta.url));
    const out = execFileSync(process.execPath, ['--import', 'tsx', script, ...seeds.map(String)], {
      encoding: 'utf8',
      env: { ...process.env, VIGIL_WORKLOAD_INPUTS: '200' },
    });
    const expected = seeds.map((seed) => {
      const w = generateWorkload({ seed, inputs: 200 });
      return hex(reexecute(w.inputs, { genesis: w.genesis }).root);
    });
    expect(out.trim().split('\n')).toEqual(expected);
  });

  it('changes the root iff some leaf changes, at every step', () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const w = generateWorkload({ seed, inputs: 60 });
        const state = createGenesisState(w.genesis);
        let root = hex(computeStateRoot(state));
        let leaves = leafSnapshot(state);
        // Mix in inputs the reference rejects (replays of earlier ones): they must change nothing.
        const feed = w.inputs.flatMap((input, i) => (i % 7 === 3 ? [input, input] : [input]));
        for (const input of feed) {
          applyInput(state, input);
          const nextRoot = hex(computeStateRoot(state));
          const nextLeaves = leafSnapshot(state);
          const leafChanged =
            nextLeaves.size !== leaves.size ||
            [...nextLeaves].some(([id, bytes]) => leaves.get(id) !== bytes);
          expect(nextRoot !== root).toBe(leafChanged);
          root = nextRoot;
          leaves = nextLeaves;
        }
      }),
      { numRuns: 6 },
    );
  });

  it('keeps the invariants after every step: power ≤ bonded, the cap, rewards paid ≤ issued, tallies ≤ bonded', () => {
    fc.assert(
      fc.property(seedArb, fc.constantFrom(1_000n, 2_000n, 3_333n, 10_000n), (seed, maxPowerBps) => {
        const w = generateWorkload({ seed, inputs: 250, params: { maxPowerBps } });
        const state = createGenesisState(w.genesis);
        let before = getRewardTotals(state);
        for (const input of w.inputs) {
          expect(applyInput(state, input).accepted).toBe(true);
          expect(checkInvariants(state, input.kind === 'endEpoch')).toEqual([]);
          const after = getRewardTotals(state);
          // within each step too: what is paid never exceeds what that step issued
          expect(after.paid - before.paid <= after.issued - before.issued).toBe(true);
          before = after;
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('the per-epoch reward bound catches a faulty executor that rounds rewards up', () => {
    const w = generateWorkload({ seed: 5, inputs: 400 });
    const state = createGenesisState(w.genesis);
    const fault = executorByName('rewards-rounded-up');
    let overpaid = 0;
    let before = getRewardTotals(state);
    for (const input of w.inputs) {
      applyInput(state, input, fault);
      const after = getRewardTotals(state);
      expect(after.paid + after.treasury).toBe(after.issued); // the books balance...
      if (after.paid - before.paid > after.issued - before.issued) overpaid++; // ...by draining the treasury
      before = after;
    }
    expect(overpaid).toBeGreaterThan(0);
  });
});
