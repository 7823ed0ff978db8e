import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disputeBundle } from '../../../src/dispute/records/bundle.ts';
import {
  blocksLeft,
  deadlineLevel,
  disproveBy,
  disputeDeadlines,
} from '../../../src/dispute/records/deadlines.ts';
import {
  canTransition,
  type DisputeState,
  disputeId,
  disputeStates,
  TRANSITIONS,
} from '../../../src/dispute/records/state-machine.ts';
import {
  asTxid,
  type DisputePatch,
  DisputeStore,
  IllegalTransitionError,
  type OpenedFacts,
} from '../../../src/dispute/records/store.ts';
import { redisKey } from '../../../src/store/redis.ts';

const prefix = `{vigil-test-${randomUUID()}}`;
let redis: Redis;
let store: DisputeStore;
const txid = (n: number) => asTxid(n.toString(16).padStart(64, '0'));
const opened: OpenedFacts = { graph: '{}', verdict: '{}', challengeBy: 105, assertTimeoutFrom: 112 };
/** What a move into `to` records, as the jobs do: the challenge it follows, the disprove that won. */
const patchInto = (to: DisputeState): DisputePatch | undefined =>
  to === 'challenged'
    ? { challenge: { txid: txid(0xc4) } }
    : to === 'disproved'
      ? { disproved: { txid: txid(0xd5), by: 'vigil' } }
      : undefined;
let n = 0;
const fresh = async (state: DisputeState = 'detected') => {
  n++;
  const id = disputeId(BigInt(n), txid(n));
  await store.open({ id, epoch: BigInt(n), kickoffTxid: txid(n), kickoffHeight: 100, opened });
  // Walk the shortest legal path to `state`.
  const path: Record<DisputeState, DisputeState[]> = {
    detected: [],
    challenged: ['challenged'],
    confirmed: ['challenged', 'confirmed'],
    asserted: ['challenged', 'confirmed', 'asserted'],
    'timed-out': ['challenged', 'confirmed', 'timed-out'],
    disproved: ['challenged', 'confirmed', 'asserted', 'disproved'],
    resolved: ['resolved'],
  };
  for (const s of path[state]) {
    await store.transition(id, s, {
      key: `walk-${s}`,
      outcome: s === 'resolved' ? 'withdrawn' : undefined,
      patch: patchInto(s),
    });
  }
  return id;
};

beforeAll(() => {
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  store = new DisputeStore(redis, prefix);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('dispute ids', () => {
  it('are deterministic, BullMQ-safe (no ":" and not all digits)', () => {
    const id = disputeId(7n, 'ab'.repeat(32));
    expect(id).toBe(disputeId(7n, 'ab'.repeat(32)));
    expect(id).not.toContain(':');
    expect(/^\d+$/.test(id)).toBe(false);
    expect(() => disputeId(7n, 'xyz')).toThrow(RangeError);
  });
});

describe('dispute records in Redis', () => {
  it('opens once: a second open is a duplicate and changes nothing', async () => {
    const id = disputeId(1000n, txid(1000));
    const a = await store.open({
      id,
      epoch: 1000n,
      kickoffTxid: txid(1000),
      kickoffHeight: 5,
      opened: { ...opened, verdict: '1' },
    });
    const b = await store.open({
      id,
      epoch: 1000n,
      kickoffTxid: txid(1000),
      kickoffHeight: 5,
      opened: { ...opened, verdict: '2' },
    });
    expect(a.status).toBe('applied');
    expect(b.status).toBe('duplicate');
    expect(b.record.opened.verdict).toBe('1');
    expect(b.record.state).toBe('detected');
    expect(b.record.epoch).toBe(1000n);
    expect((await store.events(id)).map((e) => e.type)).toEqual(['detected']);
  });

  // Every (from, to) pair: legal edges apply, the others are refused and leave the record untouched.
  const pairs = disputeStates.flatMap((from) => disputeStates.map((to) => ({ from, to })));
  it.each(pairs)('$from → $to', async ({ from, to }) => {
    const id = await fresh(from);
    const before = await store.require(id);
    const change = {
      key: `t-${from}-${to}`,
      outcome: to === 'resolved' ? ('operator-slashed' as const) : undefined,
      patch: patchInto(to),
    };
    if (canTransition(from, to)) {
      const r = await store.transition(id, to, change);
      expect(r.status).toBe('applied');
      expect(r.record.state).toBe(to);
      expect(r.record.version).toBe(before.version + 1);
      const last = (await store.events(id)).at(-1);
      expect(last).toMatchObject({ type: 'transition', from, to, key: change.key });
    } else {
      await expect(store.transition(id, to, change)).rejects.toBeInstanceOf(IllegalTransitionError);
      const after = await store.require(id);
      expect(after).toEqual(before);
    }
  });

  it('the table has the documented shape: one terminal state, every state reachable from detected', () => {
    const reach = new Set<DisputeState>(['detected']);
    for (let i = 0; i < disputeStates.length; i++)
      for (const s of [...reach]) for (const t of TRANSITIONS[s]) reach.add(t);
    expect([...reach].sort()).toEqual([...disputeStates].sort());
    expect(disputeStates.filter((s) => TRANSITIONS[s].length === 0)).toEqual(['resolved']);
  });

  it('re-applying a change with the same key is a no-op, even after the state moved on', async () => {
    const id = await fresh('detected');
    const first = await store.transition(id, 'challenged', {
      key: 'broadcast-1',
      patch: { challenge: { txid: asTxid('aa'.repeat(32)) } },
    });
    const again = await store.transition(id, 'challenged', {
      key: 'broadcast-1',
      patch: { challenge: { txid: asTxid('bb'.repeat(32)) } },
    });
    expect(first.status).toBe('applied');
    expect(again.status).toBe('duplicate');
    await store.transition(id, 'confirmed', { key: 'confirm-1' });
    const late = await store.transition(id, 'challenged', { key: 'broadcast-1' });
    expect(late.status).toBe('duplicate');
    expect(late.record.state).toBe('confirmed');
    expect(late.record.challenge.txid).toBe('aa'.repeat(32));
    expect((await store.events(id)).map((e) => e.key)).toEqual([`open-${id}`, 'broadcast-1', 'confirm-1']);
  });

  it('resolving needs an outcome', async () => {
    const id = await fresh('detected');
    await expect(store.transition(id, 'resolved', { key: 'r' })).rejects.toThrow(/outcome/);
    const r = await store.transition(id, 'resolved', { key: 'r', outcome: 'withdrawn' });
    expect(r.record.outcome).toBe('withdrawn');
  });

  it('write-ahead: the first stored transaction wins, concurrent writers agree on it', async () => {
    const id = await fresh('detected');
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.note(
          id,
          { type: 'challenge-built', detail: { txid: txid(0x700 + i), fee: 100n, vsize: 150 } },
          {
            key: `built-${i}`,
            patch: { challenge: { txid: txid(0x700 + i), raw: Uint8Array.of(i) } },
            onlyIfAbsent: 'challenge',
          },
        ),
      ),
    );
    expect(results.filter((r) => r.status === 'applied')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'taken')).toHaveLength(7);
    const rec = await store.require(id);
    const winner = rec.challenge.txid as string;
    expect(rec.challenge.raw).toEqual(Uint8Array.of(Number.parseInt(winner, 16) - 0x700));
    expect((await store.events(id)).filter((e) => e.type === 'challenge-built')).toHaveLength(1);
  });

  it('concurrent transitions from one state: exactly one applies', async () => {
    const id = await fresh('confirmed');
    const outcomes = await Promise.allSettled([
      store.transition(id, 'asserted', { key: 'a' }),
      store.transition(id, 'timed-out', { key: 'b' }),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected');
    expect(rejected?.status === 'rejected' && rejected.reason).toBeInstanceOf(IllegalTransitionError);
  });

  it('lists disputes oldest first and filters the active ones', async () => {
    const all = await store.list();
    expect(all.length).toBeGreaterThan(10);
    const times = all.map((r) => r.createdAt);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const active = await store.active();
    expect(active.every((r) => r.state !== 'resolved')).toBe(true);
    expect(active.length).toBe(all.filter((r) => r.state !== 'resolved').length);
  });

  it('a poll reads only the records not yet seen resolved; the census counts every state', async () => {
    const own = new DisputeStore(redis, `{vigil-test-${randomUUID()}}`);
    const ids: string[] = [];
    for (const [i, state] of (['detected', 'challenged', 'resolved', 'resolved'] as const).entries()) {
      const id = disputeId(BigInt(900 + i), txid(900 + i));
      await own.open({ id, epoch: BigInt(900 + i), kickoffTxid: txid(900 + i), kickoffHeight: 100, opened });
      if (state !== 'detected')
        await own.transition(id, state, {
          key: `census-${state}`,
          outcome: state === 'resolved' ? 'withdrawn' : undefined,
          patch: patchInto(state),
        });
      ids.push(id);
    }
    const reads: string[] = [];
    const get = own.get.bind(own);
    own.get = async (id: string) => {
      reads.push(id);
      return get(id);
    };
    expect((await own.active()).map((r) => r.id)).toEqual(ids.slice(0, 2));
    expect(reads).toEqual(ids);
    reads.length = 0;
    // The resolved ones are known for good: not read again, still counted.
    expect((await own.active()).map((r) => r.id)).toEqual(ids.slice(0, 2));
    const { counts, unreadable } = await own.census();
    expect(reads).toEqual([...ids.slice(0, 2), ...ids.slice(0, 2)]);
    expect(Object.fromEntries(counts)).toEqual({ detected: 1, challenged: 1, resolved: 2 });
    expect(unreadable).toEqual([]);
    // One resolving later is read once more, then remembered too.
    await own.transition(ids[1] as string, 'resolved', { key: 'census-late', outcome: 'withdrawn' });
    expect((await own.active()).map((r) => r.id)).toEqual([ids[0]]);
    expect(Object.fromEntries((await own.census()).counts)).toEqual({ detected: 1, resolved: 3 });
    for (const id of ids) await own.remove(id);
  });
});

describe('deadlines from chain heights', () => {
  const t = { challengeWindow: 6, assertWindow: 12, disproveWindow: 6 };
  it('the challenge must confirm before the take becomes valid', () => {
    const d = disputeDeadlines(100, t);
    // take (CSV 6) is valid in block 106: the challenge must be in block ≤ 105.
    expect(d).toEqual({ challengeBy: 105, assertTimeoutFrom: 112 });
    expect(blocksLeft(d.challengeBy, 104)).toBe(0);
    expect(blocksLeft(d.challengeBy, 105)).toBe(-1);
  });
  it('a disprove must confirm before the payout becomes valid (T_d from the assert block)', () => {
    // payout (CSV 6) spends the assert of block 120 from block 126: the disprove must be in ≤ 125.
    expect(disproveBy(120, t.disproveWindow)).toBe(125);
  });
  it.each([
    { tip: 60, level: 'ok' },
    { tip: 69, level: 'warn' },
    { tip: 92, level: 'critical' },
    { tip: 104, level: 'critical' },
    { tip: 105, level: 'missed' },
  ] as const)('tip $tip → $level', ({ tip, level }) => {
    expect(deadlineLevel(105, tip, { warnBlocks: 36, criticalBlocks: 12 })).toBe(level);
  });
});

describe('the export bundle', () => {
  it("carries the disprove, its deadline, Vigil's trace and the diagnosis", async () => {
    const id = await fresh('asserted');
    const trace = ['00'.repeat(32), '11'.repeat(32)];
    await store.note(
      id,
      { type: 'disprove-built', detail: { txid: asTxid('aa'.repeat(32)), step: 1, fee: 500n, vsize: 300 } },
      {
        key: 'bundle-disprove',
        patch: {
          disprove: { txid: asTxid('aa'.repeat(32)), raw: Uint8Array.of(2, 0) },
          assert: { disproveBy: 125 },
          opened: { expectedTrace: trace, diagnosis: JSON.stringify({ step: 3, rule: 'vote.weight' }) },
        },
      },
    );
    const latest = await store.require(id);
    const b = disputeBundle(latest, await store.events(id), new Date(0));
    expect(b.transactions.disprove).toEqual({ txid: 'aa'.repeat(32), hex: '0200' });
    expect(b.dispute.deadlines.disproveBy).toBe(125);
    expect(b.expectedTrace).toEqual(trace);
    expect(b.diagnosis).toEqual({ step: 3, rule: 'vote.weight' });
    expect(b.history.at(-1)?.type).toBe('disprove-built');
  });
});

describe('a record the codec refuses', () => {
  it('is named apart by listAll, and every other dispute still lists', async () => {
    const good = await fresh('challenged');
    const bad = await fresh('detected');
    // Corrupt one field the way a stray write or a foreign tool could.
    await redis.hset(redisKey(prefix, 'dispute', bad), 'challengeBy', 'soon');
    const { records, unreadable } = await store.listAll();
    expect(unreadable.map((u) => u.id)).toEqual([bad]);
    expect(unreadable[0]?.reason).toMatch(/challengeBy/);
    expect(records.map((r) => r.id)).toContain(good);
    expect(records.map((r) => r.id)).not.toContain(bad);
    expect((await store.list()).map((r) => r.id)).toContain(good);
    await store.remove(bad);
  });
});
