/**
 * Durable dispute records in Redis: one hash per dispute, an append-only event list, an index sorted
 * by creation time, and the set of idempotency keys already applied. Every change is one Lua script
 * (`lua/open.lua`, `lua/change.lua`), so a transition, its event and its idempotency key land together
 * or not at all; all keys of a dispute share the prefix's hash tag, so the scripts also run on Redis
 * Cluster. The record and its events are typed (`types.ts`); their Redis form is `codec.ts`'s alone.
 *
 * Re-applying a change with the same idempotency key is a no-op that reports `duplicate`: that is what
 * lets every queue job run twice.
 */
import { VigilError } from '../../core/errors.ts';
import type { RedisClient } from '../../store/redis.ts';
import { redisKey } from '../../store/redis.ts';
import { type ReplicaAck, waitForReplica } from '../../store/replication.ts';
import { redisScript, runScript } from '../../store/scripts.ts';
import {
  DisputeCodecError,
  decodeEvent,
  decodeRecord,
  encodePatch,
  eventJson,
  RECORD_SCHEMA,
  WRITE_AHEAD_FIELD,
} from './codec.ts';
import {
  canTransition,
  type DisputeOutcome,
  type DisputeState,
  disputeStates,
  isTerminal,
} from './state-machine.ts';
import type {
  DisputeEvent,
  DisputePatch,
  DisputeRecord,
  NoteBody,
  OpenedFacts,
  TransitionDetail,
  Txid,
  WriteAheadSlot,
} from './types.ts';

export type * from './types.ts';
export { asBlockHash, asTxid, isTxid } from './types.ts';

export class DisputeRecordError extends VigilError {
  override name = 'DisputeRecordError';
}

export class IllegalTransitionError extends DisputeRecordError {
  override name = 'IllegalTransitionError';
}

export type OpenDispute = {
  id: string;
  epoch: bigint;
  kickoffTxid: Txid;
  kickoffHeight: number;
  opened: OpenedFacts;
  detail?: { epoch: bigint; kickoffTxid: Txid };
};

export type ChangeResult = { status: 'applied' | 'duplicate'; record: DisputeRecord };

const OPEN = redisScript('vigilDisputeOpen', new URL('./lua/open.lua', import.meta.url), 4);
const CHANGE = redisScript('vigilDisputeChange', new URL('./lua/change.lua', import.meta.url), 3);

/**
 * Runs `lua/change.lua` on one record's keys (hash, events, applied keys): the state move if `to` is set
 * (allowed from `fromCsv`, or '*' for a note), the fields, the event and the idempotency key, together.
 * Returns the script's answer: 'applied', 'duplicate', 'missing', 'taken' or 'illegal:<state>'.
 */
export async function applyChange(
  redis: RedisClient,
  keys: readonly [string, string, string],
  change: {
    key: string;
    fromCsv: string;
    to: string;
    at: number;
    body: { type: string; detail?: object | undefined };
    onlyIfAbsent: string;
    fields: readonly [string, string][];
  },
): Promise<string> {
  // `seq` is the list position and `from`/`to` are filled in by the script, under its atomicity.
  const event = eventJson({ ...change.body, at: change.at, key: change.key });
  return (await runScript(redis, CHANGE, keys, [
    change.key,
    change.fromCsv,
    change.to,
    String(change.at),
    JSON.stringify(event),
    change.onlyIfAbsent,
    ...change.fields.flat(),
  ])) as string;
}

/** Runs `lua/open.lua`: a record opened once, with its first event, key and place in `index`. */
export async function openRecord(
  redis: RedisClient,
  keys: readonly [string, string, string],
  index: string,
  open: {
    id: string;
    at: number;
    event: Record<string, unknown>;
    key: string;
    fields: readonly [string, string][];
  },
): Promise<'applied' | 'duplicate'> {
  return (await runScript(
    redis,
    OPEN,
    [...keys, index],
    [open.id, String(open.at), '', JSON.stringify(open.event), open.key, ...open.fields.flat()],
  )) as 'applied' | 'duplicate';
}

export class DisputeStore {
  private readonly redis: RedisClient;
  private readonly prefix: string;
  private readonly now: () => number;
  /** Disputes read in a terminal state, and that state: final, so never read again by `active`/`census`. */
  private readonly settled = new Map<string, DisputeState>();

  constructor(redis: RedisClient, prefix: string, options: { now?: () => number } = {}) {
    this.redis = redis;
    this.prefix = prefix;
    this.now = options.now ?? Date.now;
  }

  private keys(id: string): [string, string, string] {
    return [
      redisKey(this.prefix, 'dispute', id),
      redisKey(this.prefix, 'dispute', id, 'events'),
      redisKey(this.prefix, 'dispute', id, 'applied'),
    ];
  }

  /**
   * Waits (up to `timeoutMs`) until the writes made so far to dispute `id` are on a replica, where the
   * primary has one (src/store/replication.ts).
   */
  replicated(id: string, timeoutMs = 2000): Promise<ReplicaAck> {
    return waitForReplica(this.redis, this.keys(id)[0], timeoutMs);
  }

  private get indexKey(): string {
    return redisKey(this.prefix, 'disputes');
  }

  /** Opens the dispute in state `detected`; a second open of the same id is a duplicate. */
  async open(input: OpenDispute): Promise<ChangeResult> {
    const at = this.now();
    const key = `open-${input.id}`;
    const event = {
      seq: 1,
      to: 'detected',
      ...eventJson({ at, key, type: 'detected', ...(input.detail ? { detail: input.detail } : {}) }),
    };
    const fields: [string, string][] = [
      ['epoch', input.epoch.toString()],
      ['kickoffTxid', input.kickoffTxid],
      ['kickoffHeight', String(input.kickoffHeight)],
      ['schema', String(RECORD_SCHEMA)],
      ...encodePatch({ opened: input.opened }),
    ];
    const status = await openRecord(this.redis, this.keys(input.id), this.indexKey, {
      id: input.id,
      at,
      event,
      key,
      fields,
    });
    return { status, record: await this.require(input.id) };
  }

  /** Moves the dispute to `to`; refuses edges the state machine does not have. */
  async transition(
    id: string,
    to: DisputeState,
    change: {
      key: string;
      detail?: TransitionDetail;
      patch?: DisputePatch;
      outcome?: DisputeOutcome;
    },
  ): Promise<ChangeResult> {
    const from = disputeStates.filter((s) => canTransition(s, to));
    if (to === 'resolved' && change.outcome === undefined) {
      throw new DisputeRecordError(`Resolving dispute ${id} needs an outcome`);
    }
    const fields = [
      ...encodePatch(change.patch ?? {}),
      ...(change.outcome ? [['outcome', change.outcome] as [string, string]] : []),
    ];
    const body = { type: 'transition' as const, ...(change.detail ? { detail: change.detail } : {}) };
    const r = await this.apply(id, from.join(','), to, body, change.key, fields, '');
    if (r.startsWith('illegal:')) {
      const current = r.slice('illegal:'.length);
      throw new IllegalTransitionError(`Dispute ${id} cannot go from ${current} to ${to}`, {
        metaMessages: [`Allowed into ${to} from: ${from.join(', ') || 'nowhere'}.`],
      });
    }
    return { status: r as 'applied' | 'duplicate', record: await this.require(id) };
  }

  /**
   * Records a fact without a state change (a broadcast, a rebroadcast, a bump). With `onlyIfAbsent`,
   * the patch is written only if that slot's transaction is not stored yet: the write-ahead of a
   * transaction, so that two processes that built two different ones agree on the first one stored.
   */
  async note(
    id: string,
    event: NoteBody,
    change: { key: string; patch?: DisputePatch; onlyIfAbsent?: WriteAheadSlot },
  ): Promise<{ status: 'applied' | 'duplicate' | 'taken'; record: DisputeRecord }> {
    const r = await this.apply(
      id,
      '*',
      '',
      event,
      change.key,
      encodePatch(change.patch ?? {}),
      change.onlyIfAbsent === undefined ? '' : WRITE_AHEAD_FIELD[change.onlyIfAbsent],
    );
    return { status: r as 'applied' | 'duplicate' | 'taken', record: await this.require(id) };
  }

  private async apply(
    id: string,
    fromCsv: string,
    to: DisputeState | '',
    body: NoteBody | { type: 'transition'; detail?: TransitionDetail },
    key: string,
    fields: [string, string][],
    onlyIfAbsent: string,
  ): Promise<string> {
    const r = await applyChange(this.redis, this.keys(id), {
      key,
      fromCsv,
      to,
      at: this.now(),
      body,
      onlyIfAbsent,
      fields,
    });
    if (r === 'missing') throw new DisputeRecordError(`No dispute ${id}`);
    return r;
  }

  async get(id: string): Promise<DisputeRecord | undefined> {
    const h = await this.redis.hgetall(this.keys(id)[0]);
    return h.state === undefined ? undefined : decodeRecord(h);
  }

  async require(id: string): Promise<DisputeRecord> {
    const r = await this.get(id);
    if (!r) throw new DisputeRecordError(`No dispute ${id}`);
    return r;
  }

  async events(id: string): Promise<DisputeEvent[]> {
    const raw = await this.redis.lrange(this.keys(id)[1], 0, -1);
    return raw.map((s, i) => decodeEvent(id, s, i + 1));
  }

  /**
   * Every dispute Vigil can read, oldest first. A record the codec refuses (corrupted, or written by
   * something else) is left out and named in `unreadable` instead of failing the whole list: one bad
   * record must not hide every other dispute from the poll, the gauges and `vigil disputes`.
   */
  async list(): Promise<DisputeRecord[]> {
    return (await this.listAll()).records;
  }

  /** The readable records, and the ids of those the codec refused with its reason. */
  async listAll(): Promise<{ records: DisputeRecord[]; unreadable: { id: string; reason: string }[] }> {
    const ids = await this.redis.zrange(this.indexKey, '0', '-1');
    const records: DisputeRecord[] = [];
    const unreadable: { id: string; reason: string }[] = [];
    for (const id of ids) {
      try {
        const r = await this.get(id);
        if (r) records.push(r);
      } catch (err) {
        if (!(err instanceof DisputeRecordError || err instanceof DisputeCodecError)) throw err;
        unreadable.push({ id, reason: err.message });
      }
    }
    return { records, unreadable };
  }

  /**
   * Disputes that are not resolved: the ones the queue still has work for. Called at every poll, so it
   * reads only the records it has not yet seen in a terminal state (a terminal state never changes):
   * its cost follows the open disputes, not the whole history (a resolved record is ~65 KB).
   */
  async active(): Promise<DisputeRecord[]> {
    return (await this.openRecords()).records;
  }

  /**
   * How many disputes are in each state, and the records the codec refuses, reading only the records
   * not yet seen terminal (the others are counted from memory).
   */
  async census(): Promise<{
    counts: Map<DisputeState, number>;
    unreadable: { id: string; reason: string }[];
  }> {
    const { records, unreadable, ids } = await this.openRecords();
    const counts = new Map<DisputeState, number>();
    const add = (state: DisputeState) => counts.set(state, (counts.get(state) ?? 0) + 1);
    for (const r of records) add(r.state);
    for (const id of ids) {
      const state = this.settled.get(id);
      if (state !== undefined) add(state);
    }
    return { counts, unreadable };
  }

  /** The index's ids, and every record among them not seen terminal before (those now terminal are remembered). */
  private async openRecords(): Promise<{
    ids: string[];
    records: DisputeRecord[];
    unreadable: { id: string; reason: string }[];
  }> {
    const ids = await this.redis.zrange(this.indexKey, '0', '-1');
    const records: DisputeRecord[] = [];
    const unreadable: { id: string; reason: string }[] = [];
    for (const id of ids) {
      if (this.settled.has(id)) continue;
      let r: DisputeRecord | undefined;
      try {
        r = await this.get(id);
      } catch (err) {
        if (!(err instanceof DisputeRecordError || err instanceof DisputeCodecError)) throw err;
        unreadable.push({ id, reason: err.message });
        continue;
      }
      if (!r) continue;
      if (isTerminal(r.state)) this.settled.set(id, r.state);
      else records.push(r);
    }
    return { ids, records, unreadable };
  }

  /** Deletes every key of one dispute (tests and `vigil disputes` never call it on live data). */
  async remove(id: string): Promise<void> {
    this.settled.delete(id);
    await this.redis.del(...this.keys(id));
    await this.redis.zrem(this.indexKey, id);
  }
}
