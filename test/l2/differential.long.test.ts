/**
 * The full differential run: seeded workloads totalling well over 200 epochs and thousands of inputs,
 * replayed on anvil; at every epoch end the contracts' state equals the reference model's, every input
 * the model accepts succeeds on chain (its receipt is checked), and ingestion decodes the workload back
 * exactly.
 */
import { describe, expect, it } from 'vitest';
import { runDifferential } from './differential-run.ts';

const SEEDS = [101, 202, 303, 404, 505];
let epochs = 0;
let inputs = 0;

describe('contracts vs reference model (long)', () => {
  it.each(SEEDS)('seed %i', { timeout: 900_000 }, async (seed) => {
    const r = await runDifferential({ seed, inputs: 1_500, epochLength: 25 }, { checkReceipts: true });
    expect(r.reverted).toEqual([]);
    expect(r.faults).toEqual([]);
    expect(r.firstMismatch).toBeUndefined();
    expect(r.checksOk).toBe(r.epochsChecked);
    epochs += r.epochsChecked;
    inputs += r.inputs;
    process.stdout.write(
      `seed ${seed}: ${r.inputs} inputs, ${r.epochsChecked} epochs checked, ${r.blocks} blocks\n`,
    );
  });

  it('covered at least 200 epochs and thousands of inputs in total', () => {
    process.stdout.write(`total: ${inputs} inputs, ${epochs} epochs\n`);
    expect(epochs).toBeGreaterThanOrEqual(200);
    expect(inputs).toBeGreaterThanOrEqual(5_000);
  });
});
