/**
 * The differential fuzzer, long (issue #20, acceptance 2): ≥ 20,000 random and mutated transactions over
 * 10 seeds, each seed on a fresh anvil with its own genesis, senders and pacing limit; zero disagreements
 * between the contracts and the reference model. Prints the counts by kind of transaction and of refusal.
 */
import { describe, expect, it } from 'vitest';
import { type FuzzResult, MUTATIONS, runFuzz, TX_KINDS } from './fuzz.ts';

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const PER_SEED = 2_000;
const results: FuzzResult[] = [];

const add = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
};

describe('differential fuzzer (long)', () => {
  it.each(SEEDS)('seed %i', { timeout: 900_000 }, async (seed) => {
    const r = await runFuzz({ seed, transactions: PER_SEED });
    results.push(r);
    console.log(
      `seed ${seed}: ${r.transactions} transactions (${r.unsent} unsent), ${r.blocks} blocks, ` +
        `${r.checks} epoch ends cross-checked, ${r.disagreements.length} disagreements, ${r.durationMs} ms`,
    );
    if (r.disagreements.length > 0) console.log(r.disagreements.slice(0, 20).join('\n'));
    expect(r.disagreements).toEqual([]);
    expect(r.faults).toEqual([]);
    expect(r.checksOk).toBe(r.checks);
  });

  it('covered ≥ 20,000 transactions over ≥ 10 seeds; the counts', () => {
    const total = results.reduce((s, r) => s + r.transactions, 0);
    const byKind = TX_KINDS.map((k) => {
      const o = { kind: k, sent: 0, accepted: 0, reverted: 0 };
      for (const r of results) {
        o.sent += r.byKind[k].sent;
        o.accepted += r.byKind[k].accepted;
        o.reverted += r.byKind[k].reverted;
      }
      return o;
    });
    const byMutation = MUTATIONS.map((k) => {
      const o = { mutation: k, sent: 0, accepted: 0, reverted: 0 };
      for (const r of results) {
        o.sent += r.byMutation[k].sent;
        o.accepted += r.byMutation[k].accepted;
        o.reverted += r.byMutation[k].reverted;
      }
      return o;
    });
    const refusals: Record<string, number> = {};
    const rules: Record<string, number> = {};
    const inputs: Record<string, number> = {};
    const ruleMismatches: Record<string, number> = {};
    for (const r of results) {
      add(refusals, r.refusals);
      add(rules, r.rules);
      add(inputs, r.inputs);
      add(ruleMismatches, r.ruleMismatches);
    }
    const byRefusal: Record<string, number> = {};
    for (const [k, v] of Object.entries(refusals)) {
      const kind = k.split(':')[1] as string;
      byRefusal[kind] = (byRefusal[kind] ?? 0) + v;
    }
    byRefusal['undecodable (no model input)'] = results.reduce((s, r) => s + r.undecodable, 0);
    console.log(
      `\n${total} transactions, ${results.length} seeds, ${results.reduce((s, r) => s + r.durationMs, 0)} ms`,
    );
    console.log(`epoch ends cross-checked: ${results.reduce((s, r) => s + r.checks, 0)}`);
    console.log('\nby kind of transaction');
    console.table(byKind);
    console.log('by mutation');
    console.table(byMutation);
    console.log('accepted inputs (model accepted)');
    console.table(inputs);
    console.log('refused transactions by kind of refusal');
    console.table(byRefusal);
    console.log('refused transactions by input and refusal');
    console.table(refusals);
    console.log('governance refusals by rule (the model rejected each)');
    console.table(rules);
    console.log('rule named by the model ≠ rule named by the contract (informative)');
    console.table(ruleMismatches);
    expect(results.length).toBeGreaterThanOrEqual(10);
    expect(total).toBeGreaterThanOrEqual(20_000);
  });
});
