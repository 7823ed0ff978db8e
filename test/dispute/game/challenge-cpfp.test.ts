/**
 * What a child of w's challenge pays (challenge-cpfp.ts `planChallengeChild`): the package reaches the
 * rate asked and the least total, a child replacing another pays BIP-125's increment, and the cap, the
 * change, the absolute cap and Core's maxfeerate each hold it back, named.
 */
import { describe, expect, it } from 'vitest';
import {
  type ChildPlanInput,
  packageRate,
  planChallengeChild,
} from '../../../src/dispute/game/challenge-cpfp.ts';

const parent = { fee: 300n, vsize: 300, change: 100_000n };
const base: ChildPlanInput = {
  parent,
  childVsize: 111,
  previous: undefined,
  rate: 20_000n,
  cap: 500_000n,
  incremental: 1_000n,
  maxFee: 5_000_000n,
};

const childOf = (p: ChildPlanInput) => {
  const plan = planChallengeChild(p);
  if (plan.kind !== 'child') throw new Error(`expected a child, got ${JSON.stringify(plan)}`);
  return plan;
};

describe('the child of w’s challenge', () => {
  it('lifts the package to the rate asked, and no further', () => {
    const plan = childOf(base);
    expect(plan.fee).toBe(20n * 411n - 300n);
    expect(plan.rate).toBeGreaterThanOrEqual(20_000n);
    expect(packageRate(parent, 111, plan.fee - 1n)).toBeLessThan(20_000n);
    expect(plan.limited).toBeUndefined();
  });

  it('pays the least total when that asks more than the rate', () => {
    const plan = childOf({ ...base, leastTotal: 50_000n });
    expect(300n + plan.fee).toBe(50_000n);
  });

  it('replacing a child pays its fee plus the incremental fee for its size, or waits when it pays enough', () => {
    const first = childOf(base);
    expect(planChallengeChild({ ...base, previous: first.fee }).kind).toBe('wait');
    const higher = childOf({ ...base, previous: first.fee, rate: first.rate + 1n });
    expect(higher.fee).toBe(first.fee + 111n);
    const much = childOf({ ...base, previous: first.fee, rate: 60_000n });
    expect(much.fee).toBe(60n * 411n - 300n);
  });

  it('never lifts the package past the cap, and says so', () => {
    const rich = { ...base, parent: { ...parent, change: 1_000_000n }, rate: 900_000n };
    const plan = childOf(rich);
    expect(plan.rate).toBeLessThanOrEqual(500_000n);
    expect(packageRate(rich.parent, 111, plan.fee + 1n)).toBeGreaterThan(500_000n);
    expect(plan.limited).toMatch(/cap \(500000 sat\/kvB\)/);
    const atCap = planChallengeChild({ ...rich, previous: plan.fee });
    expect(atCap).toEqual({ kind: 'capped', reason: expect.stringMatching(/cap/) });
  });

  it('leaves 330 sats of the change, and keeps to the absolute cap', () => {
    const small = { ...parent, change: 5_000n };
    const plan = childOf({ ...base, parent: small });
    expect(plan.fee).toBe(4_670n);
    expect(plan.limited).toMatch(/change holds 5000 sats/);
    const capped = childOf({ ...base, maxFee: 2_000n });
    expect(capped.fee).toBe(2_000n);
    expect(capped.limited).toMatch(/at most 2000 sats/);
    expect(planChallengeChild({ ...base, parent: { ...parent, change: 330n } }).kind).toBe('capped');
  });

  it('keeps the child’s own rate under Core’s default maxfeerate (10,000 sat/vB)', () => {
    const plan = childOf({
      ...base,
      parent: { ...parent, change: 100_000_000n },
      rate: 5_000_000n,
      cap: 6_000_000n,
    });
    expect(plan.fee).toBe(10_000n * 111n);
    expect(plan.limited).toMatch(/maxfeerate/);
  });
});
