/**
 * Differential tests on a real anvil: seeded workloads from the governance generator (valid inputs that
 * reach the rules' boundaries) are replayed as transactions. Every input the model accepts must succeed on
 * chain, ingestion must decode exactly the workload back, and the contracts' state read with eth_call must
 * equal the model's at every epoch end. The ≥200-epoch run is differential.long.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { runDifferential } from './differential-run.ts';

describe('contracts vs reference model (default slice)', () => {
  it.each([1, 2])('seed %i: same state at every epoch end', async (seed) => {
    const r = await runDifferential({ seed, inputs: 300, epochLength: 25 });
    expect(r.reverted).toEqual([]);
    expect(r.faults).toEqual([]);
    expect(r.firstMismatch).toBeUndefined();
    expect(r.epochsChecked).toBeGreaterThanOrEqual(5);
    expect(r.checksOk).toBe(r.epochsChecked);
  });
});
