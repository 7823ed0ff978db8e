import { describe, expect, it } from 'vitest';
import { DisputeCodecError, decodeRecord } from '../../src/dispute/records/codec.ts';
import type { DisputeRecord } from '../../src/dispute/records/store.ts';
import {
  type DeadlineChainFacts,
  deadlineHealth,
  deadlineRisks,
  followHealth,
  gameDeadlineHealth,
  nearDeadline,
} from '../../src/watcher/health.ts';

/** A record as Redis would hold it: what its state needs (a challenge once challenged...) and `fields`. */
const rec = (
  state: DisputeRecord['state'],
  fields: Record<string, string>,
  id = `e1-k${state}`,
): DisputeRecord =>
  decodeRecord({
    id,
    epoch: '1',
    kickoffTxid: '00'.repeat(32),
    kickoffHeight: '90',
    state,
    version: '1',
    createdAt: '0',
    updatedAt: '0',
    graph: '{}',
    verdict: '{}',
    assertTimeoutFrom: '100',
    ...(state === 'detected' ? {} : { challengeTxid: '11'.repeat(32) }),
    ...(state === 'disproved' ? { disprovedTxid: '22'.repeat(32), disprovedBy: 'vigil' } : {}),
    ...(state === 'resolved' ? { outcome: 'operator-slashed' } : {}),
    ...fields,
  });

const detected = (challengeBy: number) => rec('detected', { challengeBy: String(challengeBy) });
const challenged = (challengeBy: number) => rec('challenged', { challengeBy: String(challengeBy) });
const asserted = (disproveBy?: number) =>
  rec('asserted', {
    challengeBy: '95',
    ...(disproveBy === undefined ? {} : { disproveBy: String(disproveBy) }),
  });

describe('/healthz: following Bitcoin', () => {
  it.each([
    { name: 'lease free', f: { holder: null, lastPollOk: 1000 }, healthy: false },
    { name: 'another process follows', f: { holder: 'other', lastPollOk: undefined }, healthy: true },
    { name: 'we follow, recent poll', f: { holder: 'me', lastPollOk: 9_500 }, healthy: true },
    { name: 'we hold the lease but polls fail', f: { holder: 'me', lastPollOk: 1_000 }, healthy: false },
    { name: 'we hold the lease, never polled', f: { holder: 'me', lastPollOk: undefined }, healthy: false },
  ])('follow: $name → healthy $healthy', ({ f, healthy }) => {
    expect(followHealth({ ...f, self: 'me', now: 10_000, maxAgeMs: 3000 }).healthy).toBe(healthy);
  });

  it('names the failure that stopped the polls from completing, and how long ago one did', () => {
    const h = followHealth({
      holder: 'me',
      self: 'me',
      lastPollOk: 1_000,
      lastFailure: { at: 9_000, reason: 'judge: epoch 4: facts exploded' },
      now: 10_000,
      maxAgeMs: 3000,
    });
    expect(h).toEqual({
      healthy: false,
      reason:
        'this process holds the lease but has not completed a poll for 9 s (last failure: judge: epoch 4: facts exploded)',
    });
  });

  it('a failure older than the last completed poll explains nothing and is not named', () => {
    const h = followHealth({
      holder: 'me',
      self: 'me',
      lastPollOk: 5_000,
      lastFailure: { at: 4_000, reason: 'sync: old news' },
      now: 10_000,
      maxAgeMs: 3000,
    });
    expect(h.healthy).toBe(false);
    if (!h.healthy) expect(h.reason).not.toContain('old news');
  });

  it('a failed poll does not turn health red until the last completed one is older than the max age', () => {
    const f = { holder: 'me', self: 'me', lastPollOk: 8_000, lastFailure: { at: 9_900, reason: 'tip: x' } };
    expect(followHealth({ ...f, now: 10_000, maxAgeMs: 3000 }).healthy).toBe(true);
    expect(followHealth({ ...f, now: 11_001, maxAgeMs: 3000 }).healthy).toBe(false);
  });
});

describe('/healthz: deadlines in every state', () => {
  const tip = 100;
  const margin = 6;
  const facts = (id: string, f: DeadlineChainFacts) => new Map([[id, f]]);

  it('only disputes within the margin need a chain read, and only the one their state races', () => {
    expect(nearDeadline(detected(120), tip, margin)).toBeUndefined();
    expect(nearDeadline(detected(105), tip, margin)).toMatchObject({ needs: 'nothing', left: 4 });
    expect(nearDeadline(challenged(120), tip, margin)).toBeUndefined();
    expect(nearDeadline(challenged(105), tip, margin)).toMatchObject({
      needs: 'connector-a',
      deadline: 'challenge',
      by: 105,
    });
    expect(nearDeadline(asserted(120), tip, margin)).toBeUndefined();
    expect(nearDeadline(asserted(103), tip, margin)).toMatchObject({
      needs: 'asserted-stake',
      deadline: 'disprove',
      left: 2,
    });
    // Before the assert is in a block there is no disprove deadline (T_d counts from its block).
    expect(nearDeadline(asserted(), tip, margin)).toBeUndefined();
    // The challenge is at depth from `confirmed` on: the take can never be valid again.
    for (const state of ['confirmed', 'timed-out', 'disproved', 'resolved'] as const) {
      expect(nearDeadline(rec(state, { challengeBy: '95', disproveBy: '99' }), tip, margin)).toBeUndefined();
    }
    expect(nearDeadline(rec('detected', {}), tip, margin)).toBeUndefined();
    // A height that is not an integer is not read as one: the codec refuses the record.
    expect(() => rec('detected', { challengeBy: 'soon' })).toThrow(DisputeCodecError);
  });

  it.each([
    { name: 'no disputes', records: [], healthy: true },
    { name: 'detected, far from the deadline', records: [detected(120)], healthy: true },
    { name: 'detected, within the margin', records: [detected(105)], healthy: false },
    { name: 'detected, deadline passed', records: [detected(99)], healthy: false },
  ])('detected: $name → healthy $healthy', ({ records, healthy }) => {
    const h = deadlineHealth(records, tip, margin);
    expect(h.healthy).toBe(healthy);
    if (!h.healthy) expect(h.reason).toContain('e1-kdetected (detected: challenge not broadcast');
  });

  it.each([
    {
      name: 'connector A spent in a block',
      f: { connectorA: { spent: true, confirmed: true } },
      healthy: true,
      why: '',
    },
    {
      name: 'the challenge only in the mempool',
      f: { connectorA: { spent: true, confirmed: false } },
      healthy: false,
      why: 'challenge not confirmed; 4 blocks left before the challenge deadline (height 105)',
    },
    {
      name: 'connector A unspent (the stripped copy of the simnet attack)',
      f: { connectorA: { spent: false } },
      healthy: false,
      why: 'connector A unspent',
    },
    {
      name: 'the chain could not be read',
      f: { error: 'ECONNREFUSED' },
      healthy: false,
      why: 'connector A not readable (ECONNREFUSED)',
    },
  ] satisfies { name: string; f: DeadlineChainFacts; healthy: boolean; why: string }[])(
    'challenged within the margin, $name → healthy $healthy',
    ({ f, healthy, why }) => {
      const r = challenged(105);
      const h = deadlineHealth([r], tip, margin, facts(r.id, f));
      expect(h.healthy).toBe(healthy);
      if (!h.healthy) {
        expect(h.reason).toContain('e1-kchallenged (challenged: ');
        expect(h.reason).toContain(why);
      }
    },
  );

  it('challenged without any chain fact fails closed; far from the deadline it is not read at all', () => {
    expect(deadlineHealth([challenged(105)], tip, margin).healthy).toBe(false);
    expect(deadlineHealth([challenged(108)], tip, margin)).toEqual({ healthy: true });
  });

  it('challenged past the deadline with connector A unspent says the deadline passed', () => {
    const r = challenged(99);
    const [risk] = deadlineRisks([r], tip, margin, facts(r.id, { connectorA: { spent: false } }));
    expect(risk).toMatchObject({ id: r.id, state: 'challenged', deadline: 'challenge', left: -2 });
    expect(risk?.why).toContain('the challenge deadline (height 99) has passed');
  });

  it.each([
    {
      name: 'D unspent',
      f: { assertedStake: { spent: false } },
      healthy: false,
      why: 'asserted stake unspent',
    },
    {
      name: 'a disprove in a block',
      f: { assertedStake: { spent: true, confirmed: true, byPayout: false } },
      healthy: true,
      why: '',
    },
    {
      name: 'a disprove in the mempool',
      f: { assertedStake: { spent: true, confirmed: false, byPayout: false } },
      healthy: false,
      why: 'disprove not confirmed',
    },
    {
      name: 'the payout spent D',
      f: { assertedStake: { spent: true, confirmed: true, byPayout: true } },
      healthy: false,
      why: 'payout',
    },
    {
      name: 'no answer',
      f: { error: 'timeout' },
      healthy: false,
      why: 'asserted stake not readable (timeout)',
    },
  ] satisfies { name: string; f: DeadlineChainFacts; healthy: boolean; why: string }[])(
    'asserted near T_d, $name → healthy $healthy',
    ({ f, healthy, why }) => {
      const r = asserted(104);
      const h = deadlineHealth([r], tip, margin, facts(r.id, f));
      expect(h.healthy).toBe(healthy);
      if (!h.healthy) {
        expect(h.reason).toContain('e1-kasserted (asserted: ');
        expect(h.reason).toContain(why);
        expect(h.reason).toContain('3 blocks left before the disprove deadline (height 104)');
      }
    },
  );

  it('lists every dispute at risk, and only those', () => {
    const a = rec('challenged', { challengeBy: '103' }, 'e1-ka');
    const b = rec('challenged', { challengeBy: '103' }, 'e2-kb');
    const c = rec('detected', { challengeBy: '150' }, 'e3-kc');
    const d = rec('asserted', { disproveBy: '101' }, 'e4-kd');
    const f = new Map<string, DeadlineChainFacts>([
      ['e1-ka', { connectorA: { spent: false } }],
      ['e2-kb', { connectorA: { spent: true, confirmed: true } }],
      ['e4-kd', { assertedStake: { spent: false } }],
    ]);
    const risks = deadlineRisks([a, b, c, d], tip, margin, f);
    expect(risks.map((r) => [r.id, r.deadline, r.left])).toEqual([
      ['e1-ka', 'challenge', 2],
      ['e4-kd', 'disprove', 0],
    ]);
    const h = deadlineHealth([a, b, c, d], tip, margin, f);
    expect(h.healthy).toBe(false);
    if (!h.healthy) {
      expect(h.reason).toMatch(/^deadline at risk for e1-ka \(challenged: .*\), e4-kd \(asserted: .*\)$/);
      expect(h.reason).toContain('0 blocks left');
    }
  });
});

describe('/healthz: a game whose move Vigil owes', () => {
  const game = (
    owes: 'vigil' | 'operator' | 'none',
    dueBy: number,
    state: 'playing' | 'resolved' = 'playing',
  ) => ({
    id: 'g3-k0011223344556677-w0',
    state,
    progress: { moves: 4, owes, at: 'choice2', dueBy },
  });
  it('is 503 once t / 3 blocks or fewer are left, as VigilGameDeadlineNear counts them, and never for the operator’s move', () => {
    // t = 72: the move is due at 1,000; blocks left before the next block are 1000 - (tip + 1).
    expect(gameDeadlineHealth([game('vigil', 1_000)], 974, 72)).toEqual({ healthy: true });
    const late = gameDeadlineHealth([game('vigil', 1_000)], 975, 72);
    expect(late).toMatchObject({
      healthy: false,
      reason: expect.stringMatching(/g3-k0011223344556677-w0 \(choice2 by 1000\)/),
    });
    expect(gameDeadlineHealth([game('vigil', 1_000)], 1_200, 72).healthy).toBe(false);
    expect(gameDeadlineHealth([game('operator', 1_000)], 999, 72)).toEqual({ healthy: true });
    expect(gameDeadlineHealth([game('none', 1_000)], 999, 72)).toEqual({ healthy: true });
    expect(gameDeadlineHealth([game('vigil', 1_000, 'resolved')], 999, 72)).toEqual({ healthy: true });
    expect(gameDeadlineHealth([], 999, 72)).toEqual({ healthy: true });
  });
});
