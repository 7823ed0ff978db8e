/**
 * Records already in Redis still load: the raw keys written by the code before the record was typed
 * (test/fixtures/dispute-records-v1.json, schema 1) are put back into Redis as they were, and read
 * through today's store. Every field must come back typed and equal to what the old code meant by its
 * string, and encode back to the very same string.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../../src/core/bytes.ts';
import { decodeRecord, encodeRecord, eventJson } from '../../../src/dispute/records/codec.ts';
import { DisputeStore } from '../../../src/dispute/records/store.ts';
import type { DisputeRecord, Txid } from '../../../src/dispute/records/types.ts';
import { deleteKeysByPrefix, redisKey } from '../../../src/store/redis.ts';

type FixtureDispute = {
  name: string;
  hash: Record<string, string>;
  events: string[];
  applied: string[];
  indexScore: string;
};
const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/dispute-records-v1.json', import.meta.url), 'utf8'),
) as { schemaVersion: number; blobs: Record<string, string>; disputes: FixtureDispute[] };

const raw = (d: FixtureDispute): Record<string, string> =>
  Object.fromEntries(
    Object.entries(d.hash).map(([k, v]) => [
      k,
      v.startsWith('$blob:') ? (fixture.blobs[v.slice('$blob:'.length)] as string) : v,
    ]),
  );

const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : bytesToHex(b));
const str = (v: bigint | number | undefined) => (v === undefined ? undefined : String(v));

/** What the old code meant by each field it wrote, read from the typed record: the same string. */
const meaning: Record<string, (r: DisputeRecord) => string | undefined> = {
  id: (r) => r.id,
  epoch: (r) => r.epoch.toString(),
  kickoffTxid: (r) => r.kickoffTxid,
  kickoffHeight: (r) => String(r.kickoffHeight),
  state: (r) => r.state,
  version: (r) => String(r.version),
  createdAt: (r) => String(r.createdAt),
  updatedAt: (r) => String(r.updatedAt),
  outcome: (r) => r.outcome,
  graph: (r) => r.opened.graph,
  verdict: (r) => r.opened.verdict,
  seenAt: (r) => str(r.opened.seenAt),
  challengeBy: (r) => str(r.opened.challengeBy),
  assertTimeoutFrom: (r) => str(r.opened.assertTimeoutFrom),
  expectedTrace: (r) =>
    r.opened.expectedTrace === undefined ? undefined : JSON.stringify(r.opened.expectedTrace),
  diagnosis: (r) => r.opened.diagnosis,
  challengeTxid: (r) => r.challenge.txid,
  challengeRaw: (r) => hex(r.challenge.raw),
  challengeFee: (r) => str(r.challenge.fee),
  challengeFeeRate: (r) => str(r.challenge.feeRate),
  challengeVersions: (r) =>
    r.challenge.versions === undefined
      ? undefined
      : JSON.stringify(
          r.challenge.versions.map((v) => ({
            txid: v.txid,
            raw: bytesToHex(v.raw),
            fee: String(v.fee),
            feeRate: String(v.feeRate),
          })),
        ),
  challengeCoins: (r) =>
    r.challenge.coins === undefined
      ? undefined
      : JSON.stringify(
          r.challenge.coins.map((c) => ({ txid: c.txid, vout: c.vout, value: String(c.value) })),
        ),
  challengeSentHeight: (r) => str(r.challenge.sentHeight),
  challengedBy: (r) => r.challenge.by,
  foreignSeenHeight: (r) => str(r.challenge.foreignSeenHeight),
  challengeSeenIn: (r) =>
    r.challenge.seenIn ? `${r.challenge.seenIn.txid}@${r.challenge.seenIn.blockHash}` : undefined,
  timeoutTxid: (r) => r.timeout.txid,
  timeoutRaw: (r) => hex(r.timeout.raw),
  timeoutFee: (r) => str(r.timeout.fee),
  assertHeight: (r) => str(r.assert.height),
  disproveBy: (r) => str(r.assert.disproveBy),
  disproveTxid: (r) => r.disprove.txid,
  disproveRaw: (r) => hex(r.disprove.raw),
  disproveFee: (r) => str(r.disprove.fee),
  disproveStep: (r) => str(r.disprove.step),
  disproveSentHeight: (r) => str(r.disprove.sentHeight),
  disproveImpossible: (r) => r.disprove.impossible,
  disprovedTxid: (r) => r.disproved.txid,
  disprovedBy: (r) => r.disproved.by,
  disprovedStep: (r) => str(r.disproved.step),
  dryRunTxid: (r) => r.dryRun.challenge?.txid,
  dryRunRaw: (r) => hex(r.dryRun.challenge?.raw),
  dryRunDisproveTxid: (r) => r.dryRun.disprove?.txid,
  dryRunDisproveRaw: (r) => hex(r.dryRun.disprove?.raw),
};

const prefix = `{vigil-test-${randomUUID()}}`;
let redis: Redis;

beforeAll(() => {
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
});
afterAll(async () => {
  await deleteKeysByPrefix(redis, prefix);
  await redis.quit();
});

/** Puts one fixture dispute back into Redis under its own prefix, key for key. */
async function load(d: FixtureDispute, i: number): Promise<{ store: DisputeStore; id: string }> {
  const p = `${prefix}-${i}`;
  const id = d.hash.id as string;
  await redis.hset(redisKey(p, 'dispute', id), raw(d));
  if (d.events.length > 0) await redis.rpush(redisKey(p, 'dispute', id, 'events'), ...d.events);
  if (d.applied.length > 0) await redis.sadd(redisKey(p, 'dispute', id, 'applied'), ...d.applied);
  await redis.zadd(redisKey(p, 'disputes'), d.indexScore, id);
  return { store: new DisputeStore(redis, p, { now: () => 1_800_000_000_000 }), id };
}

describe('records written before the typed record (schema 1) still load', () => {
  it('the fixture covers every state and every outcome the old code wrote', () => {
    expect(fixture.schemaVersion).toBe(1);
    const states = new Set(fixture.disputes.map((d) => d.hash.state));
    expect([...states].sort()).toEqual(
      ['asserted', 'challenged', 'confirmed', 'detected', 'disproved', 'resolved', 'timed-out'].sort(),
    );
    const fields = new Set(fixture.disputes.flatMap((d) => Object.keys(d.hash)));
    expect([...fields].filter((f) => !(f in meaning))).toEqual([]);
    expect(Object.keys(meaning).filter((f) => !fields.has(f))).toEqual([]);
  });

  it.each(fixture.disputes.map((d, i) => ({ d, i, name: d.name })))('$name', async ({ d, i }) => {
    const { store, id } = await load(d, i);
    const rec = await store.require(id);
    const h = raw(d);
    expect(rec.schema).toBe(1);
    expect(rec.state).toBe(h.state);
    for (const [field, value] of Object.entries(h)) {
      expect({ field, value: meaning[field]?.(rec) }).toEqual({ field, value });
    }
    // Typed, not strings: amounts bigint, heights numbers, bytes Uint8Array.
    if (h.challengeFee !== undefined) expect(typeof rec.challenge.fee).toBe('bigint');
    if (h.challengeRaw !== undefined) expect(rec.challenge.raw).toBeInstanceOf(Uint8Array);
    if (h.challengeSentHeight !== undefined) expect(typeof rec.challenge.sentHeight).toBe('number');
    if (h.disproveStep !== undefined) expect(typeof rec.disprove.step).toBe('number');
    // Encoded again, the record is the hash it was read from (schema aside: 1 is written as absent).
    const again = encodeRecord(rec);
    expect(again.schema).toBe('1');
    delete again.schema;
    expect(again).toEqual(h);
    expect(decodeRecord(encodeRecord(rec))).toEqual(rec);

    const events = await store.events(id);
    expect(events).toHaveLength(d.events.length);
    events.forEach((e, n) => {
      const stored = JSON.parse(d.events[n] as string) as Record<string, unknown>;
      expect(e.seq).toBe(n + 1);
      expect(e.type).toBe(stored.type);
      expect(e.from).toBe(stored.from);
      expect(e.to).toBe(stored.to);
      const { seq: _s, from: _f, to: _t, ...rest } = stored;
      expect(eventJson(e)).toEqual(rest);
      const detail = (e.detail ?? {}) as Record<string, unknown>;
      for (const k of ['fee', 'feeRate', 'estimate', 'epoch'])
        if (detail[k] !== undefined) expect(typeof detail[k]).toBe('bigint');
    });
  });

  it('an old record takes new changes: idempotency keys still hold, and it stays readable', async () => {
    const d = fixture.disputes.find((x) => x.hash.state === 'challenged') as FixtureDispute;
    const { store, id } = await load(d, 1000);
    const before = await store.require(id);
    // The key of a change the old code already applied is a duplicate for the new code too.
    const appliedKey = d.applied.find((k) => k.startsWith('built-')) as string;
    const dup = await store.note(
      id,
      { type: 'challenge-built', detail: { txid: before.challenge.txid as Txid, fee: 1n, vsize: 1 } },
      { key: appliedKey, patch: { challenge: { fee: 1n } } },
    );
    expect(dup.status).toBe('duplicate');
    expect(dup.record).toEqual(before);
    const r = await store.note(
      id,
      { type: 'broadcast', detail: { txid: before.challenge.txid as Txid } },
      { key: 'after-upgrade' },
    );
    expect(r.status).toBe('applied');
    expect(r.record.version).toBe(before.version + 1);
    expect((await store.events(id)).at(-1)).toMatchObject({ type: 'broadcast', key: 'after-upgrade' });
  });

  it('a schema newer than this code is refused, not misread', () => {
    const h = raw(fixture.disputes[0] as FixtureDispute);
    expect(() => decodeRecord({ ...h, schema: '3' })).toThrow(/schema 3/);
  });
});
