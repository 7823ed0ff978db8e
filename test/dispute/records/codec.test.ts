/**
 * The record codec round-trips every state and every event kind: whatever a typed record or event
 * holds, its Redis form reads back equal.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../../src/core/bytes.ts';
import {
  DisputeCodecError,
  decodeEvent,
  decodeRecord,
  encodeRecord,
  eventJson,
  eventTypes,
  RECORD_SCHEMA,
} from '../../../src/dispute/records/codec.ts';
import { disputeOutcomes, disputeStates } from '../../../src/dispute/records/state-machine.ts';
import {
  asBlockHash,
  asTxid,
  type DisputeEvent,
  type DisputeFacts,
  type DisputeRecord,
  type EventBody,
} from '../../../src/dispute/records/types.ts';

const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(bytesToHex);
const txid = hash32.map(asTxid);
const blockHash = hash32.map(asBlockHash);
const bytes = fc.uint8Array({ minLength: 0, maxLength: 80 });
const sats = fc.bigInt({ min: 0n, max: 2_100_000_000_000_000n });
const height = fc.integer({ min: 0, max: 2_000_000 });
const ms = fc.integer({ min: 0, max: 4_102_444_800_000 });
const text = fc.string({ maxLength: 40 });
const by = fc.constantFrom('vigil' as const, 'other' as const);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

/** Records hold no keys whose value is undefined (as the decoder builds them). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const version = fc.record({ txid, raw: bytes, fee: sats, feeRate: sats });

const facts: fc.Arbitrary<DisputeFacts> = fc.record({
  opened: fc
    .record({
      graph: text,
      verdict: text,
      seenAt: opt(ms),
      challengeBy: opt(height),
      assertTimeoutFrom: opt(height),
      expectedTrace: opt(fc.array(hash32, { maxLength: 5 })),
      diagnosis: opt(text),
    })
    .map(defined),
  challenge: fc
    .record({
      txid: opt(txid),
      raw: opt(bytes),
      fee: opt(sats),
      feeRate: opt(sats),
      versions: opt(fc.array(version, { maxLength: 3 })),
      coins: opt(fc.array(fc.record({ txid, vout: fc.nat(1000), value: sats }), { maxLength: 3 })),
      sentHeight: opt(height),
      by: opt(by),
      foreignSeenHeight: opt(height),
      seenIn: opt(fc.record({ txid, blockHash })),
    })
    .map(defined),
  timeout: fc.record({ txid: opt(txid), raw: opt(bytes), fee: opt(sats) }).map(defined),
  assert: fc.record({ height: opt(height), disproveBy: opt(height) }).map(defined),
  disprove: fc
    .record({
      txid: opt(txid),
      raw: opt(bytes),
      fee: opt(sats),
      step: opt(fc.nat(64)),
      sentHeight: opt(height),
      impossible: opt(fc.constantFrom('no-expected-trace', 'circuit-disagrees')),
    })
    .map(defined),
  disproved: fc.record({ txid: opt(txid), by: opt(by), step: opt(fc.nat(64)) }).map(defined),
  dryRun: fc
    .record({
      challenge: opt(fc.record({ txid, raw: bytes })),
      disprove: opt(fc.record({ txid, raw: bytes })),
    })
    .map(defined),
});

/** A record in any state, with what that state guarantees. */
const record: fc.Arbitrary<DisputeRecord> = fc
  .record({
    facts,
    state: fc.constantFrom(...disputeStates),
    outcome: fc.constantFrom(...disputeOutcomes),
    challengeTxid: txid,
    disprovedTxid: txid,
    disprovedBy: by,
    id: fc.stringMatching(/^e[0-9]{1,6}-k[0-9a-f]{16}$/),
    epoch: fc.bigInt({ min: 0n, max: 2n ** 64n }),
    kickoffTxid: txid,
    kickoffHeight: height,
    version: fc.integer({ min: 1, max: 10_000 }),
    createdAt: ms,
    updatedAt: ms,
    schema: fc.integer({ min: 1, max: RECORD_SCHEMA }),
  })
  .map(({ facts: f, state, outcome, challengeTxid, disprovedTxid, disprovedBy, ...base }) => {
    const common = { ...base, ...f };
    const challenge = { ...f.challenge, txid: f.challenge.txid ?? challengeTxid };
    switch (state) {
      case 'detected':
        return { ...common, state, outcome: undefined };
      case 'resolved':
        return { ...common, state, outcome };
      case 'disproved':
        return {
          ...common,
          challenge,
          state,
          outcome: undefined,
          disproved: { ...f.disproved, txid: disprovedTxid, by: disprovedBy },
        };
      default:
        return { ...common, challenge, state, outcome: undefined };
    }
  });

const built = fc.record({ txid, fee: sats, vsize: fc.integer({ min: 1, max: 100_000 }) });
const sentTx = fc.constantFrom('challenge' as const, 'assert-timeout' as const, 'disprove' as const);

/** One arbitrary per event kind: every kind is drawn. */
const bodies: Record<EventBody['type'], fc.Arbitrary<EventBody>> = {
  detected: fc.record({
    type: fc.constant('detected'),
    detail: fc.record({ epoch: sats, kickoffTxid: txid }),
  }),
  transition: fc.record({
    type: fc.constant('transition'),
    detail: fc
      .record({
        txid: opt(txid),
        ours: opt(fc.boolean()),
        by: opt(by),
        blockHash: opt(blockHash),
        height: opt(height),
        reason: opt(text),
        step: opt(fc.nat(64)),
        take: opt(txid),
        lostDisprove: opt(txid),
        disproveImpossible: opt(text),
      })
      .map(defined),
  }),
  'challenge-built': fc.record({ type: fc.constant('challenge-built'), detail: built }),
  'challenge-rebuilt': fc.record({
    type: fc.constant('challenge-rebuilt'),
    detail: fc.record({ txid, fee: sats, vsize: height, replaces: text, reason: text }),
  }),
  'challenge-bumped': fc.record({
    type: fc.constant('challenge-bumped'),
    detail: fc
      .record({ txid, fee: sats, vsize: height, replaces: text, feeRate: sats, estimate: opt(sats) })
      .map(defined),
  }),
  'challenge-withheld': fc.record({
    type: fc.constant('challenge-withheld'),
    detail: fc.record({ mode: text }),
  }),
  'challenge-conflicted': fc.record({
    type: fc.constant('challenge-conflicted'),
    detail: fc.record({ by: txid }),
  }),
  'challenge-followed': fc.record({
    type: fc.constant('challenge-followed'),
    detail: fc.record({ txid, replacedBy: opt(txid), blockHash: opt(blockHash) }).map(defined),
  }),
  'challenge-in-block': fc.record({
    type: fc.constant('challenge-in-block'),
    detail: fc.record({ txid, blockHash, height }),
  }),
  'dry-run-built': fc.record({
    type: fc.constant('dry-run-built'),
    detail: fc
      .record({
        txid,
        fee: sats,
        vsize: height,
        step: opt(fc.nat(64)),
        tx: opt(fc.constant('disprove' as const)),
      })
      .map(defined),
  }),
  broadcast: fc.record({ type: fc.constant('broadcast'), detail: fc.record({ txid }) }),
  rebroadcast: fc.record({ type: fc.constant('rebroadcast'), detail: fc.record({ txid }) }),
  'disprove-rebroadcast': fc.record({
    type: fc.constant('disprove-rebroadcast'),
    detail: fc.record({ txid }),
  }),
  'send-conflict': fc.record({
    type: fc.constant('send-conflict'),
    detail: fc
      .record({
        tx: sentTx,
        txid,
        kind: opt(fc.constantFrom('conflict' as const, 'fee-too-low' as const)),
        reason: text,
      })
      .map(defined),
  }),
  'send-refused': fc.record({
    type: fc.constant('send-refused'),
    detail: fc.record({
      tx: sentTx,
      txid,
      kind: fc.constantFrom('refused' as const, 'fee-cap' as const, 'check' as const),
      reason: text,
    }),
  }),
  'fee-capped': fc.record({
    type: fc.constant('fee-capped'),
    detail: fc
      .record({
        txid: fc.oneof(txid, fc.constant('none')),
        tx: opt(sentTx),
        feeRate: opt(sats),
        reason: text,
      })
      .map(defined),
  }),
  'timeout-built': fc.record({ type: fc.constant('timeout-built'), detail: built }),
  'timeout-followed': fc.record({
    type: fc.constant('timeout-followed'),
    detail: fc.record({ txid, replaces: txid }),
  }),
  'assert-timeout-rebuilt': fc.record({
    type: fc.constant('assert-timeout-rebuilt'),
    detail: fc.record({ replaces: txid, txid, fee: sats, reason: text }),
  }),
  'disprove-rebuilt': fc.record({
    type: fc.constant('disprove-rebuilt'),
    detail: fc.record({ replaces: txid, txid, fee: sats, reason: text }),
  }),
  'disprove-window': fc.record({
    type: fc.constant('disprove-window'),
    detail: fc.record({ assertTxid: txid, assertHeight: height, disproveBy: height }),
  }),
  'disprove-built': fc.record({
    type: fc.constant('disprove-built'),
    detail: fc.record({ txid, fee: sats, vsize: height, step: fc.nat(64) }),
  }),
  'disprove-broadcast': fc.record({
    type: fc.constant('disprove-broadcast'),
    detail: fc.record({ txid, step: fc.nat(64) }),
  }),
  'disprove-impossible': fc.record({
    type: fc.constant('disprove-impossible'),
    detail: fc.record({ code: text, reason: text, step: opt(fc.nat(64)) }).map(defined),
  }),
  'disprove-withheld': fc.record({
    type: fc.constant('disprove-withheld'),
    detail: fc.record({ step: fc.nat(64), mode: text, reason: text }),
  }),
  diagnosed: fc.record({
    type: fc.constant('diagnosed'),
    // A JSON value as JSON has it: `fc.jsonValue()` may give -0, which no JSON text can hold (it reads
    // back as 0), so the property would fail on JSON itself rather than on the codec, one seed in ~20.
    detail: fc.record({ diagnosis: fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown) }),
  }),
};

const event: fc.Arbitrary<DisputeEvent> = fc
  .record({
    body: fc.oneof(...Object.values(bodies)),
    seq: fc.integer({ min: 1, max: 1000 }),
    at: ms,
    key: text,
    from: opt(fc.constantFrom(...disputeStates)),
    to: opt(fc.constantFrom(...disputeStates)),
  })
  .map(({ body, from, to, ...rest }) => ({ ...body, ...rest, ...defined({ from, to }) }));

describe('the dispute record codec', () => {
  it('round-trips every state', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(record, (r) => {
        seen.add(r.state);
        const h = encodeRecord(r);
        for (const v of Object.values(h)) expect(typeof v).toBe('string');
        expect(decodeRecord(h)).toEqual(r);
      }),
      { numRuns: 500 },
    );
    expect([...seen].sort()).toEqual([...disputeStates].sort());
  });

  it('round-trips every event kind through its JSON, as Redis stores it', () => {
    expect(Object.keys(bodies).sort()).toEqual([...eventTypes].sort());
    fc.assert(
      fc.property(event, (e) => {
        const stored = JSON.stringify({
          ...eventJson(e),
          ...(e.from === undefined ? {} : { from: e.from }),
          ...(e.to === undefined ? {} : { to: e.to }),
        });
        expect(decodeEvent('e1-k0', stored, e.seq)).toEqual(e);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses what it cannot read instead of guessing', () => {
    const base = {
      id: 'e1-k1',
      epoch: '1',
      kickoffTxid: '11'.repeat(32),
      kickoffHeight: '9',
      state: 'challenged',
      version: '2',
      createdAt: '0',
      updatedAt: '0',
      graph: '{}',
      verdict: '{}',
      challengeTxid: '22'.repeat(32),
    };
    expect(decodeRecord(base).state).toBe('challenged');
    const { challengeTxid: _, ...noChallenge } = base;
    expect(() => decodeRecord(noChallenge)).toThrow(/without a challenge txid/);
    expect(() => decodeRecord({ ...base, state: 'resolved' })).toThrow(/outcome/);
    expect(() => decodeRecord({ ...base, challengeFee: '1.5' })).toThrow(DisputeCodecError);
    expect(() => decodeRecord({ ...base, challengeTxid: 'xyz' })).toThrow(DisputeCodecError);
    expect(() => decodeRecord({ ...base, state: 'lost' })).toThrow(/unknown state/);
    expect(() => decodeEvent('e1-k1', JSON.stringify({ at: 0, type: 'nope', key: 'k' }), 1)).toThrow(
      /unknown type/,
    );
  });
});
