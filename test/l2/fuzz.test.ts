/**
 * The differential fuzzer, one short seed (issue #20): random and mutated transactions to every governance
 * entry point on anvil, ingested with the reference model; the chain and the model agree on every one.
 */
import { describe, expect, it } from 'vitest';
import { runFuzz } from './fuzz.ts';

describe('differential fuzzer (short seed)', () => {
  it('finds no disagreement between the contracts and the model', { timeout: 120_000 }, async () => {
    const r = await runFuzz({ seed: 20, transactions: 300 });
    expect(r.disagreements).toEqual([]);
    expect(r.faults).toEqual([]);
    expect(r.checks).toBeGreaterThanOrEqual(5);
    expect(r.checksOk).toBe(r.checks);
    expect(r.transactions).toBeGreaterThanOrEqual(280);
    // Not vacuous: many kinds of accepted inputs and of refusals actually occurred.
    expect(Object.keys(r.inputs).length).toBeGreaterThanOrEqual(8);
    const kinds = new Set(Object.keys(r.refusals).map((k) => k.split(':')[1]));
    expect(kinds.size).toBeGreaterThanOrEqual(4);
    expect(kinds).toContain('governance');
    expect(Object.keys(r.rules).length).toBeGreaterThanOrEqual(5);
    expect(r.undecodable).toBeGreaterThan(0);
  });
});
