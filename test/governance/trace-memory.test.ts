import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { applyInput, computeStateRoot, createGenesisState, reexecute } from '../../src/governance/index.ts';
import { generateWorkload } from '../../src/governance/workload.ts';

/**
 * A trace's roots are views into shared slabs. A daemon re-executes every epoch it judges with a trace
 * and keeps a few roots of each (the checkpoints), so the slab a short trace allocates is what each of
 * those epochs costs (the soak found 128 KiB slabs behind six-step traces: 32 MiB for 256 kept epochs).
 */
describe('trace memory', () => {
  it('backs a short trace with a small slab', () => {
    const w = generateWorkload({ seed: 3, inputs: 6 });
    const r = reexecute(w.inputs, { genesis: w.genesis, trace: true });
    expect(r.trace).toHaveLength(6);
    for (const step of r.trace ?? []) expect(step.root.buffer.byteLength).toBeLessThanOrEqual(16 * 32);
  });

  it('grows slabs geometrically to at most 4,096 roots, every root the state root after its step', () => {
    const w = generateWorkload({ seed: 8, inputs: 10_000 });
    const r = reexecute(w.inputs, { genesis: w.genesis, trace: true });
    const trace = r.trace ?? [];
    expect(trace).toHaveLength(10_000);
    const slabs = new Set(trace.map((s) => s.root.buffer));
    for (const slab of slabs) expect(slab.byteLength).toBeLessThanOrEqual(4096 * 32);
    // Nine slabs of 16, 32, …, 4,096 roots hold 8,176; a tenth of 4,096 holds the rest.
    expect(slabs.size).toBe(10);
    const state = createGenesisState(w.genesis);
    for (let i = 0; i < 2_000; i++) {
      applyInput(state, w.inputs[i] as (typeof w.inputs)[number]);
      expect(bytesToHex(trace[i]?.root ?? new Uint8Array())).toBe(bytesToHex(computeStateRoot(state)));
    }
  });
});
