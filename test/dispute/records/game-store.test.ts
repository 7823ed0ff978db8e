/**
 * The game records' store on real Redis: a state move can be made a compare-and-set on the state it was
 * decided in (a run that read a record another run has moved since is refused, not applied from the new
 * state), the `refunding` state's edges, and the first version kept of an operator move.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTx, serializeTx, wtxidHex } from '../../../src/bitcoin/tx/serialize.ts';
import { GAME_VERSIONS_KEPT, GameStore } from '../../../src/dispute/records/game-store.ts';
import { IllegalTransitionError } from '../../../src/dispute/records/store.ts';
import { asTxid } from '../../../src/dispute/records/types.ts';
import { deleteKeysByPrefix } from '../../../src/store/redis.ts';
import { REDIS_URL } from '../../../testkit/queue/scenario.ts';

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
const prefix = `{vigil-test-${randomUUID()}}`;
const store = new GameStore(redis, prefix);
afterAll(async () => {
  await deleteKeysByPrefix(redis, prefix);
  await redis.quit();
});

const open = (epoch: bigint) =>
  store.open({
    epoch,
    kickoffTxid: asTxid('ab'.repeat(32)),
    kickoffHeight: 100,
    w: 0,
    document: '00'.repeat(32),
  });

describe('the game store', () => {
  it('moves only from the state a run read, when asked to', async () => {
    const { record } = await open(1n);
    await store.transition(record.id, 'challenged', { key: 'c', reason: 'sent' });
    await store.transition(record.id, 'confirmed', { key: 'f', reason: 'deep' });
    // A run that read `challenged` decides `confirmed → refunding`-worthy facts too late: refused, since the
    // record is no longer in the state it decided on.
    await expect(
      store.transition(record.id, 'refunding', {
        key: 'r-stale',
        reason: 'stale',
        outcome: 'operator-slashed',
        from: 'challenged',
      }),
    ).rejects.toThrow(IllegalTransitionError);
    // Without `from`, every state allowed into `refunding` is accepted.
    const r = await store.transition(record.id, 'refunding', {
      key: 'r',
      reason: 'another assert-timeout took S',
      outcome: 'operator-slashed',
      from: 'confirmed',
    });
    expect(r.status).toBe('applied');
    expect(r.record.state).toBe('refunding');
    expect(r.record.outcome).toBe('operator-slashed');
  });

  it('lets a refunding game go back to confirmed (its end left the chain) or on to resolved, nowhere else', async () => {
    const { record } = await open(2n);
    for (const [to, key] of [
      ['challenged', 'c'],
      ['confirmed', 'f'],
      ['refunding', 'r'],
    ] as const)
      await store.transition(record.id, to, { key, reason: to, outcome: 'operator-slashed' });
    await expect(store.transition(record.id, 'playing', { key: 'p', reason: 'no' })).rejects.toThrow(
      IllegalTransitionError,
    );
    await store.transition(record.id, 'confirmed', { key: 'back', reason: 'reorg', from: 'refunding' });
    await store.transition(record.id, 'refunding', {
      key: 'r2',
      reason: 'again',
      outcome: 'operator-slashed',
    });
    const done = await store.transition(record.id, 'resolved', {
      key: 'done',
      reason: 'refund at depth',
      outcome: 'operator-slashed',
      from: 'refunding',
    });
    expect(done.record.state).toBe('resolved');
    expect((await store.events(record.id)).filter((e) => e.type === 'transition').map((e) => e.to)).toEqual([
      'challenged',
      'confirmed',
      'refunding',
      'confirmed',
      'refunding',
      'resolved',
    ]);
  });

  it('keeps each version of an operator move once, a few at most, and refuses bytes that are not a transaction', async () => {
    const { record } = await open(3n);
    const raw = (lockTime: number) =>
      serializeTx({
        version: 2,
        inputs: [
          { prevTxid: new Uint8Array(32), vout: 0, scriptSig: new Uint8Array(), sequence: 0, witness: [] },
        ],
        outputs: [{ value: 1n, script: Uint8Array.of(0x51) }],
        locktime: lockTime,
      });
    const version = (lockTime: number) => ({ wtxid: wtxidHex(parseTx(raw(lockTime))), raw: raw(lockTime) });
    expect(await store.keepVersion(record.id, 'answer2', version(1))).toBe('kept');
    // The same bytes again (another run): kept once.
    expect(await store.keepVersion(record.id, 'answer2', version(1))).toBe('known');
    expect(await store.keepVersion(record.id, 'answer2', version(2))).toBe('kept');
    expect(await store.keepVersion(record.id, 'assert', version(3))).toBe('kept');
    const kept = await store.keptWtxids(record.id);
    expect([...kept.keys()].sort()).toEqual(['answer2', 'assert']);
    expect(kept.get('answer2')?.sort()).toEqual([version(1).wtxid, version(2).wtxid].sort());
    expect(kept.get('assert')).toEqual([version(3).wtxid]);
    expect((await store.keptVersion(record.id, 'answer2', version(2).wtxid))?.raw).toEqual(raw(2));
    expect(await store.keptVersion(record.id, 'answer3', version(2).wtxid)).toBeUndefined();
    for (let t = 4; t < 4 + GAME_VERSIONS_KEPT - 2; t++)
      expect(await store.keepVersion(record.id, 'answer2', version(t))).toBe('kept');
    expect(await store.keepVersion(record.id, 'answer2', version(99))).toBe('full');
    // A field whose bytes are not a transaction, or another one than its name says, is refused by name.
    const key = `${prefix}:game:${record.id}:versions`;
    await redis.hset(key, `answer3@${'ab'.repeat(32)}`, Buffer.from([1, 2, 3]));
    await expect(store.keptVersion(record.id, 'answer3', 'ab'.repeat(32))).rejects.toThrow(
      /versions\.answer3@(ab)+ is not a transaction/,
    );
    await redis.hset(key, `answer4@${'cd'.repeat(32)}`, Buffer.from(raw(1)));
    await expect(store.keptVersion(record.id, 'answer4', 'cd'.repeat(32))).rejects.toThrow(
      /holds a transaction of wtxid/,
    );
    await store.dropVersions(record.id);
    expect(await store.keptWtxids(record.id)).toEqual(new Map());
  });
});
