/**
 * The one place where a dispute record meets its Redis form: a hash of strings per dispute and a list
 * of JSON events. Everything else reads and writes the typed record (`types.ts`).
 *
 * Schema versions (the hash's `schema` field; absent means 1):
 * - 1: written before the record was typed: the same hash layout, without `schema`.
 * - 2: written through this codec. Same layout and encodings, so a record moves between versions
 *   without a migration step; a schema above 2 is a newer Vigil's and is refused, not misread.
 *
 * Encodings: bigints and integers as decimal strings, bytes as lowercase hex, lists as JSON (the
 * challenge versions' and coins' amounts as decimal strings), `challengeSeenIn` as `txid@blockHash`.
 * Event details are JSON with bigints as decimal strings; `seq` is the list position.
 */
import { bytesToHex, hexToBytes } from '../../core/bytes.ts';
import { VigilError } from '../../core/errors.ts';
import { type DisputeOutcome, type DisputeState, disputeOutcomes, disputeStates } from './state-machine.ts';
import {
  asBlockHash,
  asTxid,
  type ChallengeFacts,
  type ChallengeVersion,
  type CommittedCoin,
  type DisputeEvent,
  type DisputeEventType,
  type DisputeFacts,
  type DisputePatch,
  type DisputeRecord,
  type WriteAheadSlot,
} from './types.ts';

export class DisputeCodecError extends VigilError {
  override name = 'DisputeCodecError';
}

/** The schema this code writes. */
export const RECORD_SCHEMA = 2;

/** Hash fields the store itself maintains (the Lua scripts write them). */
export const CORE_FIELDS = [
  'id',
  'epoch',
  'kickoffTxid',
  'kickoffHeight',
  'state',
  'version',
  'createdAt',
  'updatedAt',
  'outcome',
  'schema',
] as const;

/** The hash field each write-ahead slot guards. */
export const WRITE_AHEAD_FIELD: Readonly<Record<WriteAheadSlot, string>> = {
  challenge: 'challengeTxid',
  timeout: 'timeoutTxid',
  disprove: 'disproveTxid',
};

export const eventTypes: readonly DisputeEventType[] = [
  'detected',
  'transition',
  'challenge-built',
  'challenge-rebuilt',
  'challenge-bumped',
  'challenge-withheld',
  'challenge-conflicted',
  'challenge-followed',
  'challenge-in-block',
  'dry-run-built',
  'broadcast',
  'rebroadcast',
  'disprove-rebroadcast',
  'send-conflict',
  'send-refused',
  'fee-capped',
  'timeout-built',
  'timeout-followed',
  'assert-timeout-rebuilt',
  'disprove-rebuilt',
  'disprove-window',
  'disprove-built',
  'disprove-broadcast',
  'disprove-impossible',
  'disprove-withheld',
  'diagnosed',
];

// ---- scalars -----------------------------------------------------------------------------------------

const INT = /^-?\d+$/;

export function int(id: string, field: string, s: string): number {
  const n = Number(s);
  if (!INT.test(s) || !Number.isSafeInteger(n)) {
    throw new DisputeCodecError(`Dispute ${id}: ${field} is not an integer (${JSON.stringify(s)})`);
  }
  return n;
}

export function big(id: string, field: string, s: string): bigint {
  if (!INT.test(s)) {
    throw new DisputeCodecError(`Dispute ${id}: ${field} is not an integer (${JSON.stringify(s)})`);
  }
  return BigInt(s);
}

function checked<T>(id: string, field: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new DisputeCodecError(`Dispute ${id}: ${field} cannot be read`, { cause: err });
  }
}

export const txidOf = (id: string, field: string, s: string) => checked(id, field, () => asTxid(s));
export const bytesOf = (id: string, field: string, s: string) => checked(id, field, () => hexToBytes(s));

function by(id: string, field: string, s: string): 'vigil' | 'other' {
  if (s !== 'vigil' && s !== 'other') throw new DisputeCodecError(`Dispute ${id}: ${field} is ${s}`);
  return s;
}

// ---- the record ------------------------------------------------------------------------------------

type Hash = Record<string, string>;

/** Pairs to HSET for what `patch` sets; groups and fields it leaves undefined are not touched. */
export function encodePatch(patch: DisputePatch): [string, string][] {
  const out: [string, string][] = [];
  const put = (field: string, v: string | number | bigint | undefined) => {
    if (v !== undefined) out.push([field, String(v)]);
  };
  const hex = (field: string, v: Uint8Array | undefined) => {
    if (v !== undefined) out.push([field, bytesToHex(v)]);
  };
  const o = patch.opened;
  if (o) {
    put('graph', o.graph);
    put('verdict', o.verdict);
    put('seenAt', o.seenAt);
    put('challengeBy', o.challengeBy);
    put('assertTimeoutFrom', o.assertTimeoutFrom);
    if (o.expectedTrace !== undefined) out.push(['expectedTrace', JSON.stringify(o.expectedTrace)]);
    put('diagnosis', o.diagnosis);
  }
  const c = patch.challenge;
  if (c) {
    put('challengeTxid', c.txid);
    hex('challengeRaw', c.raw);
    put('challengeFee', c.fee);
    put('challengeFeeRate', c.feeRate);
    if (c.versions !== undefined)
      out.push(['challengeVersions', JSON.stringify(c.versions.map(versionJson))]);
    if (c.coins !== undefined)
      out.push([
        'challengeCoins',
        JSON.stringify(c.coins.map((x) => ({ txid: x.txid, vout: x.vout, value: String(x.value) }))),
      ]);
    put('challengeSentHeight', c.sentHeight);
    put('challengedBy', c.by);
    put('foreignSeenHeight', c.foreignSeenHeight);
    if (c.seenIn !== undefined) out.push(['challengeSeenIn', `${c.seenIn.txid}@${c.seenIn.blockHash}`]);
  }
  const t = patch.timeout;
  if (t) {
    put('timeoutTxid', t.txid);
    hex('timeoutRaw', t.raw);
    put('timeoutFee', t.fee);
  }
  const a = patch.assert;
  if (a) {
    put('assertHeight', a.height);
    put('disproveBy', a.disproveBy);
  }
  const d = patch.disprove;
  if (d) {
    put('disproveTxid', d.txid);
    hex('disproveRaw', d.raw);
    put('disproveStep', d.step);
    put('disproveFee', d.fee);
    put('disproveSentHeight', d.sentHeight);
    put('disproveImpossible', d.impossible);
  }
  const x = patch.disproved;
  if (x) {
    put('disprovedTxid', x.txid);
    put('disprovedBy', x.by);
    put('disprovedStep', x.step);
  }
  const r = patch.dryRun;
  if (r?.challenge) {
    put('dryRunTxid', r.challenge.txid);
    hex('dryRunRaw', r.challenge.raw);
  }
  if (r?.disprove) {
    put('dryRunDisproveTxid', r.disprove.txid);
    hex('dryRunDisproveRaw', r.disprove.raw);
  }
  return out;
}

const versionJson = (v: ChallengeVersion) => ({
  txid: v.txid,
  raw: bytesToHex(v.raw),
  fee: String(v.fee),
  feeRate: String(v.feeRate),
});

export function decodeJson(id: string, field: string, s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch (err) {
    throw new DisputeCodecError(`Dispute ${id}: ${field} is not JSON`, { cause: err });
  }
}

function decodeVersions(id: string, s: string): ChallengeVersion[] {
  const list = decodeJson(id, 'challengeVersions', s);
  if (!Array.isArray(list)) throw new DisputeCodecError(`Dispute ${id}: challengeVersions is not a list`);
  return list.map((v: { txid: string; raw: string; fee: string; feeRate: string }) => ({
    txid: txidOf(id, 'challengeVersions', v.txid),
    raw: bytesOf(id, 'challengeVersions', v.raw),
    fee: big(id, 'challengeVersions', v.fee),
    feeRate: big(id, 'challengeVersions', v.feeRate),
  }));
}

function decodeCoins(id: string, s: string): CommittedCoin[] {
  const list = decodeJson(id, 'challengeCoins', s);
  if (!Array.isArray(list)) throw new DisputeCodecError(`Dispute ${id}: challengeCoins is not a list`);
  return list.map((c: { txid: string; vout: number; value: string }) => ({
    txid: txidOf(id, 'challengeCoins', c.txid),
    vout: c.vout,
    value: big(id, 'challengeCoins', c.value),
  }));
}

function decodeTrace(id: string, s: string): string[] {
  const list = decodeJson(id, 'expectedTrace', s);
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
    throw new DisputeCodecError(`Dispute ${id}: expectedTrace is not a list of hex roots`);
  }
  return list;
}

/** Drops the keys whose value is undefined, so that decoded records compare equal to built ones. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function decodeFacts(id: string, h: Hash): DisputeFacts {
  const opt = <T>(field: string, f: (id: string, field: string, s: string) => T): T | undefined => {
    const s = h[field];
    return s === undefined ? undefined : f(id, field, s);
  };
  const str = (_id: string, _f: string, s: string) => s;
  const required = <T>(field: string, f: (id: string, field: string, s: string) => T): T => {
    const v = opt(field, f);
    if (v === undefined) throw new DisputeCodecError(`Dispute ${id} has no ${field}`);
    return v;
  };
  const seenIn = h.challengeSeenIn;
  const [seenTxid, seenBlock] = seenIn === undefined ? [] : seenIn.split('@');
  const challenge: ChallengeFacts = defined({
    txid: opt('challengeTxid', txidOf),
    raw: opt('challengeRaw', bytesOf),
    fee: opt('challengeFee', big),
    feeRate: opt('challengeFeeRate', big),
    versions: opt('challengeVersions', (i, _f, s) => decodeVersions(i, s)),
    coins: opt('challengeCoins', (i, _f, s) => decodeCoins(i, s)),
    sentHeight: opt('challengeSentHeight', int),
    by: opt('challengedBy', by),
    foreignSeenHeight: opt('foreignSeenHeight', int),
    seenIn:
      seenIn === undefined
        ? undefined
        : {
            txid: txidOf(id, 'challengeSeenIn', seenTxid ?? ''),
            blockHash: checked(id, 'challengeSeenIn', () => asBlockHash(seenBlock ?? '')),
          },
  });
  const dryTxid = opt('dryRunTxid', txidOf);
  const dryRaw = opt('dryRunRaw', bytesOf);
  const dryDTxid = opt('dryRunDisproveTxid', txidOf);
  const dryDRaw = opt('dryRunDisproveRaw', bytesOf);
  return {
    opened: defined({
      graph: required('graph', str),
      verdict: required('verdict', str),
      seenAt: opt('seenAt', int),
      challengeBy: opt('challengeBy', int),
      assertTimeoutFrom: opt('assertTimeoutFrom', int),
      expectedTrace: opt('expectedTrace', (i, _f, s) => decodeTrace(i, s)),
      diagnosis: opt('diagnosis', str),
    }),
    challenge,
    timeout: defined({
      txid: opt('timeoutTxid', txidOf),
      raw: opt('timeoutRaw', bytesOf),
      fee: opt('timeoutFee', big),
    }),
    assert: defined({ height: opt('assertHeight', int), disproveBy: opt('disproveBy', int) }),
    disprove: defined({
      txid: opt('disproveTxid', txidOf),
      raw: opt('disproveRaw', bytesOf),
      fee: opt('disproveFee', big),
      step: opt('disproveStep', int),
      sentHeight: opt('disproveSentHeight', int),
      impossible: opt('disproveImpossible', str),
    }),
    disproved: defined({
      txid: opt('disprovedTxid', txidOf),
      by: opt('disprovedBy', by),
      step: opt('disprovedStep', int),
    }),
    dryRun: defined({
      challenge: dryTxid !== undefined && dryRaw !== undefined ? { txid: dryTxid, raw: dryRaw } : undefined,
      disprove:
        dryDTxid !== undefined && dryDRaw !== undefined ? { txid: dryDTxid, raw: dryDRaw } : undefined,
    }),
  };
}

/** A record from its Redis hash (any schema up to `RECORD_SCHEMA`). */
export function decodeRecord(h: Hash): DisputeRecord {
  const id = h.id;
  if (id === undefined) throw new DisputeCodecError('A dispute record without an id');
  const schema = h.schema === undefined ? 1 : int(id, 'schema', h.schema);
  if (schema < 1 || schema > RECORD_SCHEMA) {
    throw new DisputeCodecError(
      `Dispute ${id} has schema ${schema}; this Vigil reads 1 to ${RECORD_SCHEMA}`,
      {
        metaMessages: ['A newer Vigil wrote it: run that version, or restore the record from before it ran.'],
      },
    );
  }
  const state = h.state as DisputeState;
  if (!disputeStates.includes(state)) throw new DisputeCodecError(`Dispute ${id} has an unknown state`);
  const need = (field: string): string => {
    const v = h[field];
    if (v === undefined) throw new DisputeCodecError(`Dispute ${id} has no ${field}`);
    return v;
  };
  const base = {
    id,
    epoch: big(id, 'epoch', need('epoch')),
    kickoffTxid: txidOf(id, 'kickoffTxid', need('kickoffTxid')),
    kickoffHeight: int(id, 'kickoffHeight', need('kickoffHeight')),
    version: int(id, 'version', need('version')),
    createdAt: int(id, 'createdAt', need('createdAt')),
    updatedAt: int(id, 'updatedAt', need('updatedAt')),
    schema,
    ...decodeFacts(id, h),
  };
  if (state === 'resolved') {
    const outcome = h.outcome as DisputeOutcome;
    if (!disputeOutcomes.includes(outcome))
      throw new DisputeCodecError(`Dispute ${id} is resolved without a known outcome`);
    return { ...base, state, outcome };
  }
  if (state === 'detected') return { ...base, state, outcome: undefined };
  const txid = base.challenge.txid;
  if (txid === undefined) throw new DisputeCodecError(`Dispute ${id} is ${state} without a challenge txid`);
  const challenge = { ...base.challenge, txid };
  if (state === 'disproved') {
    const { txid: dTxid, by: dBy } = base.disproved;
    if (dTxid === undefined || dBy === undefined)
      throw new DisputeCodecError(`Dispute ${id} is disproved without the disprove that did it`);
    return {
      ...base,
      challenge,
      state,
      outcome: undefined,
      disproved: { ...base.disproved, txid: dTxid, by: dBy },
    };
  }
  return { ...base, challenge, state, outcome: undefined };
}

/** The whole hash of a record (what `decodeRecord` reads back to an equal record). */
export function encodeRecord(r: DisputeRecord): Hash {
  const h: Hash = {
    id: r.id,
    epoch: r.epoch.toString(),
    kickoffTxid: r.kickoffTxid,
    kickoffHeight: String(r.kickoffHeight),
    state: r.state,
    version: String(r.version),
    createdAt: String(r.createdAt),
    updatedAt: String(r.updatedAt),
    schema: String(r.schema),
  };
  if (r.outcome !== undefined) h.outcome = r.outcome;
  for (const [k, v] of encodePatch(r)) h[k] = v;
  return h;
}

// ---- events ----------------------------------------------------------------------------------------

/** Detail keys that hold amounts (and the epoch): decimal strings in Redis, bigints in memory. */
const BIGINT_KEYS = new Set(['fee', 'feeRate', 'estimate', 'epoch']);

/** The JSON object an event is stored as (bigints as decimal strings), without `seq`, `from`, `to`. */
export function eventJson(e: {
  type: string;
  detail?: object | undefined;
  at: number;
  key: string;
}): Record<string, unknown> {
  const detail =
    e.detail === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(e.detail).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v]),
        );
  return { at: e.at, type: e.type, key: e.key, ...(detail === undefined ? {} : { detail }) };
}

/** An event as JSON for people and bundles: what Redis holds, with its position. */
export function eventToJson(e: DisputeEvent): Record<string, unknown> {
  const { seq, from, to } = e;
  const j = eventJson(e);
  return {
    seq,
    at: j.at,
    type: j.type,
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    key: j.key,
    ...(j.detail === undefined ? {} : { detail: j.detail }),
  };
}

/** One event from its JSON string, at list position `seq`. */
export function decodeEvent(id: string, text: string, seq: number): DisputeEvent {
  const raw = decodeJson(id, `event ${seq}`, text) as {
    at: number;
    type: string;
    key: string;
    from?: string;
    to?: string;
    detail?: Record<string, unknown>;
  };
  if (!(eventTypes as readonly string[]).includes(raw.type)) {
    throw new DisputeCodecError(`Dispute ${id}: event ${seq} has an unknown type ${raw.type}`);
  }
  for (const s of [raw.from, raw.to]) {
    if (s !== undefined && !(disputeStates as readonly string[]).includes(s))
      throw new DisputeCodecError(`Dispute ${id}: event ${seq} names an unknown state ${s}`);
  }
  const detail = decodeDetail(id, seq, raw.detail);
  const event = {
    seq,
    at: raw.at,
    type: raw.type,
    key: raw.key,
    ...(raw.from === undefined ? {} : { from: raw.from }),
    ...(raw.to === undefined ? {} : { to: raw.to }),
    ...(detail === undefined ? {} : { detail }),
  };
  return event as DisputeEvent;
}

/** An event's stored detail with its amounts (and epoch) back as bigints. */
export function decodeDetail(
  id: string,
  seq: number,
  detail: Record<string, unknown> | null | undefined,
): Record<string, unknown> | undefined {
  if (detail === undefined || detail === null) return undefined;
  return Object.fromEntries(
    Object.entries(detail).map(([k, v]) => [
      k,
      BIGINT_KEYS.has(k) && typeof v === 'string' ? big(id, `event ${seq} ${k}`, v) : v,
    ]),
  );
}
