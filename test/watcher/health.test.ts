import { describe, expect, it } from 'vitest';
import type { DisputeRecord } from '../../src/dispute/records/store.ts';
import { deadlineHealth, followHealth } from '../../src/watcher/health.ts';

const rec = (state: DisputeRecord['state'], challengeBy: number): DisputeRecord => ({
  id: `e1-k${state}`,
  epoch: 1n,
  kickoffTxid: '00'.repeat(32),
  kickoffHeight: challengeBy - 5,
  state,
  version: 1,
  createdAt: 0,
  updatedAt: 0,
  outcome: undefined,
  fields: { challengeBy: String(challengeBy) },
});

describe('/healthz checks of the watcher', () => {
  it.each([
    { name: 'lease free', f: { holder: null, lastPollOk: 1000 }, healthy: false },
    { name: 'another process follows', f: { holder: 'other', lastPollOk: undefined }, healthy: true },
    { name: 'we follow, recent poll', f: { holder: 'me', lastPollOk: 9_500 }, healthy: true },
    { name: 'we hold the lease but polls fail', f: { holder: 'me', lastPollOk: 1_000 }, healthy: false },
    { name: 'we hold the lease, never polled', f: { holder: 'me', lastPollOk: undefined }, healthy: false },
  ])('follow: $name → healthy $healthy', ({ f, healthy }) => {
    expect(followHealth({ ...f, self: 'me', now: 10_000, maxAgeMs: 3000 }).healthy).toBe(healthy);
  });

  it.each([
    { name: 'no disputes', records: [], tip: 100, healthy: true },
    { name: 'detected, far from the deadline', records: [rec('detected', 120)], tip: 100, healthy: true },
    { name: 'detected, within the margin', records: [rec('detected', 105)], tip: 100, healthy: false },
    { name: 'detected, deadline passed', records: [rec('detected', 99)], tip: 100, healthy: false },
    {
      name: 'challenged near the deadline is safe',
      records: [rec('challenged', 101)],
      tip: 100,
      healthy: true,
    },
  ])('deadlines: $name → healthy $healthy', ({ records, tip, healthy }) => {
    const h = deadlineHealth(records, tip, 6);
    expect(h.healthy).toBe(healthy);
    if (!h.healthy) expect(h.reason).toContain('e1-kdetected');
  });
});
