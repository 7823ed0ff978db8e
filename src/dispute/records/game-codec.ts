/**
 * The one place where a game record meets its Redis form (game-types.ts): a hash of strings and a list of
 * JSON events, with the dispute codec's scalar encodings (decimal integers, lowercase hex bytes).
 *
 * Fields: `epoch`, `kickoffTxid`, `kickoffHeight`, `w`, `document`, one `sent.<graph id>` per transaction
 * written ahead (JSON: role, txid, raw hex, fee, height), `progress` and `end` (JSON), and the store's own
 * (`id`, `state`, `version`, `createdAt`, `updatedAt`, `outcome`, `schema`). Schema 1.
 */
import { parseTx, txidHex, wtxidHex } from '../../bitcoin/tx/serialize.ts';
import { bytesToHex } from '../../core/bytes.ts';
import {
  big,
  bytesOf,
  DisputeCodecError,
  decodeDetail,
  decodeJson,
  eventJson,
  int,
  txidOf,
} from './codec.ts';
import {
  type GameEndFacts,
  type GameEvent,
  type GameEventType,
  type GamePatch,
  type GameProgressFacts,
  type GameRecord,
  type GameSeenMove,
  type GameSentTx,
  type GameState,
  type GameTxRole,
  gameStates,
} from './game-types.ts';
import { type DisputeOutcome, disputeOutcomes } from './state-machine.ts';

export const GAME_RECORD_SCHEMA = 1;

/** The hash field a transaction written ahead under graph id `id` lives in: the write-ahead slot. */
export const sentField = (id: string): string => `sent.${id}`;

const ROLES: readonly GameTxRole[] = [
  'game-challenge',
  'game-move',
  'game-slash',
  'game-timeout',
  'game-assert-timeout',
  'game-refund',
  'game-challenge-cpfp',
  'game-move-cpfp',
];

export const gameEventTypes: readonly GameEventType[] = [
  'detected',
  'transition',
  'tx-written',
  'broadcast',
  'rebroadcast',
  'dry-run-built',
  'move-seen',
  'version-kept',
  'equivocation',
  'turn',
  'conceded',
  'send-conflict',
  'send-refused',
  'fee-capped',
];

type Hash = Record<string, string>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function objectField(id: string, field: string, s: string): Record<string, unknown> {
  const v = decodeJson(id, field, s);
  if (!isObject(v)) throw new DisputeCodecError(`Game ${id}: ${field} is not an object`);
  return v;
}

function stringIn(id: string, field: string, v: unknown): string {
  if (typeof v !== 'string') throw new DisputeCodecError(`Game ${id}: ${field} is not a string`);
  return v;
}

function intIn(id: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw new DisputeCodecError(`Game ${id}: ${field} is not an integer`);
  return v;
}

function encodeSent(tx: GameSentTx): string {
  return JSON.stringify({
    role: tx.role,
    txid: tx.txid,
    raw: bytesToHex(tx.raw),
    fee: tx.fee.toString(),
    height: tx.height,
  });
}

function decodeSent(id: string, field: string, s: string): GameSentTx {
  const o = objectField(id, field, s);
  const role = stringIn(id, `${field}.role`, o.role);
  if (!(ROLES as readonly string[]).includes(role))
    throw new DisputeCodecError(`Game ${id}: ${field} has an unknown role ${role}`);
  const txid = txidOf(id, `${field}.txid`, stringIn(id, `${field}.txid`, o.txid));
  const raw = bytesOf(id, `${field}.raw`, stringIn(id, `${field}.raw`, o.raw));
  // The bytes are what is broadcast and the txid what is looked up: a record where they disagree would
  // make Vigil take an absent transaction for one already sent.
  let hashed: string;
  try {
    hashed = txidHex(parseTx(raw));
  } catch (err) {
    throw new DisputeCodecError(`Game ${id}: ${field}.raw is not a transaction`, { cause: err });
  }
  if (hashed !== txid)
    throw new DisputeCodecError(`Game ${id}: ${field}.raw hashes to ${hashed}, not ${txid}`);
  const fee = big(id, `${field}.fee`, stringIn(id, `${field}.fee`, o.fee));
  if (fee < 0n) throw new DisputeCodecError(`Game ${id}: ${field}.fee is negative`);
  return { role: role as GameTxRole, txid, raw, fee, height: intIn(id, `${field}.height`, o.height) };
}

/**
 * The first version seen of an operator move, as kept in the game's `versions` hash (one field per move
 * id, written once): the transaction's raw bytes, witness included (binary: a move is 70–140 kB, and hex
 * would double it). Its wtxid is computed from them, so it cannot disagree with them.
 */
export function encodeSeenMove(m: GameSeenMove): Uint8Array {
  return m.raw;
}

export function decodeSeenMove(id: string, field: string, raw: Uint8Array): GameSeenMove {
  try {
    return { wtxid: wtxidHex(parseTx(raw)), raw };
  } catch (err) {
    throw new DisputeCodecError(`Game ${id}: ${field} is not a transaction`, { cause: err });
  }
}

function decodeProgress(id: string, s: string): GameProgressFacts {
  const o = objectField(id, 'progress', s);
  const owes = stringIn(id, 'progress.owes', o.owes);
  if (owes !== 'vigil' && owes !== 'operator' && owes !== 'none')
    throw new DisputeCodecError(`Game ${id}: progress.owes is ${owes}`);
  if (o.last !== undefined && !isObject(o.last))
    throw new DisputeCodecError(`Game ${id}: progress.last is not an object`);
  const last = o.last;
  return {
    moves: intIn(id, 'progress.moves', o.moves),
    owes,
    ...(last === undefined
      ? {}
      : {
          last: {
            id: stringIn(id, 'progress.last.id', last.id),
            height: intIn(id, 'progress.last.height', last.height),
          },
        }),
    ...(o.at === undefined ? {} : { at: stringIn(id, 'progress.at', o.at) }),
    ...(o.dueBy === undefined ? {} : { dueBy: intIn(id, 'progress.dueBy', o.dueBy) }),
  };
}

function decodeEnd(id: string, s: string): GameEndFacts {
  const o = objectField(id, 'end', s);
  return {
    txid: txidOf(id, 'end.txid', stringIn(id, 'end.txid', o.txid)),
    by: stringIn(id, 'end.by', o.by),
    site: stringIn(id, 'end.site', o.site),
    height: intIn(id, 'end.height', o.height),
  };
}

/** Pairs to HSET for what `patch` sets. */
export function encodeGamePatch(patch: GamePatch): [string, string][] {
  const out: [string, string][] = [];
  for (const [gid, tx] of patch.sent ?? []) out.push([sentField(gid), encodeSent(tx)]);
  if (patch.progress !== undefined) out.push(['progress', JSON.stringify(patch.progress)]);
  if (patch.end !== undefined) out.push(['end', JSON.stringify(patch.end)]);
  return out;
}

/** A game record from its Redis hash. */
export function decodeGameRecord(h: Hash): GameRecord {
  const id = h.id;
  if (id === undefined) throw new DisputeCodecError('A game record without an id');
  const need = (f: string): string => {
    const v = h[f];
    if (v === undefined) throw new DisputeCodecError(`Game ${id}: ${f} is missing`);
    return v;
  };
  const schema = int(id, 'schema', need('schema'));
  if (schema < 1 || schema > GAME_RECORD_SCHEMA)
    throw new DisputeCodecError(`Game ${id}: schema ${schema} is not one this Vigil reads`);
  const state = need('state');
  if (!(gameStates as readonly string[]).includes(state))
    throw new DisputeCodecError(`Game ${id}: unknown state ${state}`);
  const outcome = h.outcome;
  if (outcome !== undefined && !(disputeOutcomes as readonly string[]).includes(outcome))
    throw new DisputeCodecError(`Game ${id}: unknown outcome ${outcome}`);
  const sent = new Map<string, GameSentTx>();
  for (const [field, value] of Object.entries(h)) {
    if (field.startsWith('sent.')) sent.set(field.slice('sent.'.length), decodeSent(id, field, value));
  }

  return {
    id,
    state: state as GameState,
    outcome: outcome as DisputeOutcome | undefined,
    epoch: big(id, 'epoch', need('epoch')),
    kickoffTxid: txidOf(id, 'kickoffTxid', need('kickoffTxid')),
    kickoffHeight: int(id, 'kickoffHeight', need('kickoffHeight')),
    w: int(id, 'w', need('w')),
    document: need('document'),
    sent,
    progress: h.progress === undefined ? undefined : decodeProgress(id, h.progress),
    end: h.end === undefined ? undefined : decodeEnd(id, h.end),
    version: int(id, 'version', need('version')),
    createdAt: int(id, 'createdAt', need('createdAt')),
    updatedAt: int(id, 'updatedAt', need('updatedAt')),
    schema,
  };
}

/** One event from its JSON string, at list position `seq`. */
export function decodeGameEvent(id: string, text: string, seq: number): GameEvent {
  const raw = objectField(id, `event ${seq}`, text);
  const type = stringIn(id, `event ${seq} type`, raw.type);
  if (!(gameEventTypes as readonly string[]).includes(type))
    throw new DisputeCodecError(`Game ${id}: event ${seq} has an unknown type ${type}`);
  for (const s of [raw.from, raw.to]) {
    if (s !== undefined && !(gameStates as readonly string[]).includes(String(s)))
      throw new DisputeCodecError(`Game ${id}: event ${seq} names an unknown state ${String(s)}`);
  }
  const detail = decodeDetail(id, seq, isObject(raw.detail) ? raw.detail : undefined);
  return {
    seq,
    at: intIn(id, `event ${seq} at`, raw.at),
    type,
    key: stringIn(id, `event ${seq} key`, raw.key),
    ...(raw.from === undefined ? {} : { from: raw.from }),
    ...(raw.to === undefined ? {} : { to: raw.to }),
    ...(detail === undefined ? {} : { detail }),
  } as GameEvent;
}

/** An event as JSON for people and bundles. */
export function gameEventToJson(e: GameEvent): Record<string, unknown> {
  const j = eventJson(e);
  return {
    seq: e.seq,
    at: j.at,
    type: j.type,
    ...(e.from === undefined ? {} : { from: e.from }),
    ...(e.to === undefined ? {} : { to: e.to }),
    key: j.key,
    ...(j.detail === undefined ? {} : { detail: j.detail }),
  };
}
