/**
 * `vigil replay`'s engine on real bundles of a devnet run (test/fixtures/replay/, written by
 * `vigil devnet --fault delegator-override-ignored --epochs 3 --seed 1 --export-bundles`): the fraud
 * located at the fault's step and rule and the watcher agreed with; the honest epoch valid; and, what
 * matters most, a tampered bundle never replays as if nothing happened: each change is caught by the
 * check it must trip.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTx, serializeTx } from '../../src/bitcoin/tx/serialize.ts';
import type { GovernanceInput } from '../../src/governance/index.ts';
import type { DisputeBundleV2 } from '../../src/replay/bundle.ts';
import { parseBundle, serializeBundle } from '../../src/replay/bundle-codec.ts';
import { replayBundle } from '../../src/replay/engine.ts';
import { formatReplayText, replayJson, replayPassed } from '../../src/replay/format.ts';

const load = (name: string): DisputeBundleV2 => {
  const path = new URL(`../fixtures/replay/${name}`, import.meta.url);
  return parseBundle(readFileSync(path, 'utf8'), name);
};
const fraud = () => load('fraud-exported.json');

describe('replaying real bundles', () => {
  it('locates the fraud at its step and rule, with the leaves it wrote wrong, and agrees with the watcher', () => {
    const r = replayBundle(fraud());
    expect(r.verdict.outcome).toBe('fraud');
    expect(r.verdict.challengeable).toBe(true);
    expect(r.divergence).toMatchObject({
      found: true,
      fault: 'delegator-override-ignored',
      rule: 'vote.override',
      step: 25,
      inputKind: 'vote',
    });
    if (!r.divergence.found) throw new Error('unreachable');
    expect(r.divergence.leaves.map((l) => l.kind)).toEqual(['proposal', 'vote']);
    expect(r.divergence.expectedRoot).not.toBe(r.divergence.claimedRoot);
    expect(r.steps[25]?.expectedRoot).toBe(r.divergence.expectedRoot);
    expect(r.steps[24]?.claimedRoot).toBe(r.steps[24]?.expectedRoot);
    expect(r.graph.imported).toBe(true);
    expect(r.transactions.map((t) => t.role)).toEqual([
      'claim',
      'kickoff',
      'challenge',
      'assert',
      'disprove',
    ]);
    expect(r.transactions.every((t) => t.ok && t.height !== undefined)).toBe(true);
    expect(r.checkpoints.disproveStep).toBe(1);
    expect(r.agreement).toEqual({ compared: true, agrees: true, differences: [], notRecorded: [] });
    expect(r.consistency).toEqual([]);
    expect(r.transactions.every((t) => t.problems.length === 0)).toBe(true);
    expect(replayPassed(r)).toBe(false);
    expect(r.timeline.deadlines.map((d) => d.name)).toEqual([
      'challenge by',
      'assert timeout from',
      'disprove by',
    ]);
  });

  it('the same epoch fetched from the chains replays to the same verdict and divergence', () => {
    const a = replayBundle(fraud());
    const b = replayBundle(load('fraud-fetched.json'));
    expect(b.verdict).toEqual(a.verdict);
    expect(b.divergence).toEqual(a.divergence);
    expect(b.agreement.compared).toBe(false);
  });

  it('an honest epoch replays as valid and passes', () => {
    const r = replayBundle(load('valid-fetched.json'));
    expect(r.verdict.outcome).toBe('valid');
    expect(r.roots.kickoff).toBe(r.roots.vigil);
    expect(r.divergence.found).toBe(false);
    expect(r.transactions.map((t) => t.role)).toEqual(['claim', 'kickoff', 'take']);
    expect(replayPassed(r)).toBe(true);
  });

  it('is deterministic: two replays print the same bytes, text and JSON', () => {
    const a = replayBundle(fraud());
    const b = replayBundle(fraud());
    expect(replayJson(b)).toBe(replayJson(a));
    expect(formatReplayText(b)).toBe(formatReplayText(a));
    expect(formatReplayText(a)).toContain('first divergent step 25 of the epoch');
  });

  it('round-trips through the codec unchanged', () => {
    const b = fraud();
    expect(parseBundle(serializeBundle(b))).toEqual(b);
  });
});

describe('a tampered bundle is caught by the check it must trip', () => {
  it('a witness changed (the txid stays): that input fails in the interpreter and the chain checks fail', () => {
    const b = fraud();
    const t = b.transactions.find((x) => x.role === 'disprove');
    if (t === undefined) throw new Error('no disprove in the fixture');
    const tx = parseTx(t.raw);
    const w = tx.inputs[0]?.witness[0];
    if (w === undefined || w.length === 0) throw new Error('no witness item to change');
    w[0] = (w[0] as number) ^ 1;
    t.raw = serializeTx(tx);
    const r = replayBundle(b);
    const check = r.transactions.find((x) => x.role === 'disprove');
    expect(check?.ok).toBe(false);
    expect(check?.inputs[0]?.ok).toBe(false);
    expect(r.chainChecksOk).toBe(false);
    expect(replayPassed(r)).toBe(false);
  });

  it('a prevout changed: the spend no longer verifies', () => {
    const b = fraud();
    const t = b.transactions.find((x) => x.role === 'challenge');
    const p = t?.prevouts[0];
    if (p === undefined) throw new Error('no challenge prevout');
    p.value += 1n;
    const r = replayBundle(b);
    expect(r.transactions.find((x) => x.role === 'challenge')?.ok).toBe(false);
  });

  it('a governance input changed: the replay finds another root and says it differs from the watcher', () => {
    const b = fraud();
    // The vote at the divergent step: the reference accepts it, so its support counts.
    const i = b.governance.epochStart + 25;
    const vote = b.governance.inputs[i] as Extract<GovernanceInput, { kind: 'vote' }>;
    b.governance.inputs[i] = { ...vote, support: vote.support === 'for' ? 'against' : 'for' };
    const r = replayBundle(b);
    expect(r.agreement.compared && !r.agreement.agrees).toBe(true);
    if (!r.agreement.compared) throw new Error('unreachable');
    expect(r.agreement.differences.some((d) => d.startsWith('checkpoints'))).toBe(true);
  });

  it("the operator's key changed: the graph is refused and no verdict is reached", () => {
    const b = fraud();
    b.graph.expectations.operator = new Uint8Array(32).fill(7);
    const r = replayBundle(b);
    expect(r.graph.imported).toBe(false);
    expect(r.graph.error).toBeDefined();
    expect(r.verdict.outcome).toBe('unavailable');
    expect(r.chainChecksOk).toBe(false);
    expect(r.agreement.compared && r.agreement.agrees).toBe(false);
  });

  it("the watcher's recorded verdict and step changed: each difference is listed", () => {
    const b = fraud();
    if (b.watcher === undefined) throw new Error('the exported fixture has a watcher record');
    b.watcher.verdict.outcome = 'valid';
    if (b.watcher.diagnosis?.fault !== undefined) b.watcher.diagnosis.step += 1;
    const r = replayBundle(b);
    if (!r.agreement.compared) throw new Error('compared');
    expect(r.agreement.agrees).toBe(false);
    expect(r.agreement.differences.some((d) => d.startsWith('verdict'))).toBe(true);
    expect(r.agreement.differences.some((d) => d.startsWith('step'))).toBe(true);
  });

  it('a transaction whose prevout is not its parent output in the bundle: a problem, and the chain checks fail', () => {
    const b = fraud();
    const t = b.transactions.find((x) => x.role === 'assert');
    const p = t?.prevouts[0];
    if (p === undefined) throw new Error('no assert prevout');
    // The script is changed to one the witness would satisfy only in a made-up world; the value too.
    p.value += 5n;
    const r = replayBundle(b);
    const check = r.transactions.find((x) => x.role === 'assert');
    expect(check?.problems.some((m) => m.includes('is not output 1 of kickoff'))).toBe(true);
    expect(r.chainChecksOk).toBe(false);
  });

  it('a role the graph does not give, a child confirmed before its parent, a relative timelock not met', () => {
    const b = fraud();
    const challenge = b.transactions.find((x) => x.role === 'challenge');
    const disprove = b.transactions.find((x) => x.role === 'disprove');
    const assert = b.transactions.find((x) => x.role === 'assert');
    if (!challenge || !disprove || !assert?.confirmation || !disprove.confirmation)
      throw new Error('fixture');
    challenge.role = 'take';
    disprove.confirmation = { ...disprove.confirmation, height: assert.confirmation.height - 1 };
    const r = replayBundle(b);
    const byRole = (role: string) =>
      r.transactions.find((x) => x.txid === b.transactions.find((t) => t.role === role)?.txid);
    expect(byRole('take')?.problems.join()).toContain('the graph outputs it spends make it challenge');
    expect(byRole('disprove')?.problems.join()).toContain('before its parent');
    expect(r.chainChecksOk).toBe(false);
  });

  it('a transaction paying out more than it spends is a problem even when its scripts verify', () => {
    const b = fraud();
    const t = b.transactions.find((x) => x.role === 'claim');
    if (t === undefined) throw new Error('fixture');
    // The claim's parents are outside the bundle: lower what its prevouts claim to hold.
    for (const p of t.prevouts) p.value = 1n;
    const r = replayBundle(b);
    expect(r.transactions.find((x) => x.role === 'claim')?.problems.join()).toMatch(
      /pays out \d+ sat but spends/,
    );
  });

  it('the epoch start moved: the bundle contradicts itself', () => {
    const b = fraud();
    b.governance.epochStart += 1;
    const r = replayBundle(b);
    expect(r.consistency.length).toBeGreaterThan(0);
    expect(r.chainChecksOk).toBe(false);
  });

  it('a record that omits what it decided is not counted as agreement: each gap is named', () => {
    const b = fraud();
    if (b.watcher === undefined) throw new Error('fixture');
    b.watcher.diagnosis = undefined;
    b.watcher.expectedTrace = [];
    b.watcher.kickoffHeight += 5;
    const r = replayBundle(b);
    if (!r.agreement.compared) throw new Error('compared');
    expect(r.agreement.notRecorded).toHaveLength(2);
    expect(r.agreement.differences.join()).toContain('kick-off height');
    expect(r.agreement.agrees).toBe(false);
  });

  it('the assert and disprove removed while the record says slashed: the outcome differs', () => {
    const b = fraud();
    b.transactions = b.transactions.filter((t) => t.role !== 'assert' && t.role !== 'disprove');
    const r = replayBundle(b);
    if (!r.agreement.compared) throw new Error('compared');
    expect(r.agreement.differences.join()).toContain('outcome');
  });

  it('the L2 commitment made to agree with Vigil: the replay reports the equivocation with the kick-off', () => {
    const b = fraud();
    const c = b.l2.commitment;
    if (c === undefined) throw new Error('the fixture has a commitment');
    const honest = replayBundle(load('fraud-exported.json')).roots.vigil;
    c.stateRoot = Uint8Array.from(Buffer.from(honest.slice(2), 'hex'));
    const r = replayBundle(b);
    expect(r.verdict.equivocation).toBe(true);
    expect(r.verdict.reasons.map((x) => x.code)).toContain('equivocation');
    expect(r.agreement.compared && r.agreement.agrees).toBe(false);
  });
});
