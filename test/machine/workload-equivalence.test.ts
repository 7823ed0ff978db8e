/**
 * The whole governance program against the reference model on seeded random workloads of every input
 * kind (issue #14 acceptance 2; docs/protocol.md §23): each workload runs from genesis as one tape (its
 * epochs one after another, endEpoch being an input like the others), with a share of inputs the model
 * rejects (repeated votes, queues short of quorum or approval, early or canceled executes). After every
 * input the machine's memory image is the model's state image word for word (so every per-input root is
 * equal), the run halts on the model's final root, and every step is execution-correct and every read
 * returns the last write (test/machine/equivalence.ts). 50 workloads in `npm test`; 500 in the long
 * suite (VIGIL_LONG=1, workload-equivalence.long.test.ts), or VIGIL_WORKLOAD_SEEDS of them.
 */
import { describe, expect, it } from 'vitest';
import { createGenesisState, INPUT_KINDS } from '../../src/governance/index.ts';
import { checkEquivalence, noFigures, seededWorkload } from './equivalence.ts';

const LONG = process.env.VIGIL_LONG === '1';
const SEED_COUNT = Number(process.env.VIGIL_WORKLOAD_SEEDS ?? (LONG ? 500 : 50));
const SEEDS = Array.from({ length: SEED_COUNT }, (_, i) => 1_000 + i);

describe('the governance program runs whole random workloads as the model does', () => {
  it(`image equal after every input, final root equal, every step and read correct (${SEED_COUNT} workloads)`, {
    timeout: 120_000 + 6_000 * SEED_COUNT,
  }, () => {
    const figures = noFigures();
    for (const seed of SEEDS) {
      const w = seededWorkload(seed);
      checkEquivalence(createGenesisState(w.genesis), w.inputs, figures);
    }
    // Every kind ran, and was both accepted and rejected where the generator makes rejections.
    for (const kind of INPUT_KINDS) {
      expect(figures.steps.get(`${kind} accepted`)?.length ?? 0, `${kind} accepted`).toBeGreaterThan(0);
    }
    for (const kind of ['vote', 'queue', 'execute'] as const) {
      expect(figures.steps.get(`${kind} rejected`)?.length ?? 0, `${kind} rejected`).toBeGreaterThan(0);
    }
    const table = [...figures.steps.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([label, xs]) => {
        const mean = Math.round(xs.reduce((s, x) => s + x, 0) / xs.length);
        return `${label}: n=${xs.length} mean=${mean} min=${Math.min(...xs)} max=${Math.max(...xs)}`;
      });
    console.info(
      `micro-steps per input over ${SEED_COUNT} workloads (accepted ${figures.accepted}, rejected ${figures.rejected}):\n  ${table.join('\n  ')}`,
    );
  });
});
