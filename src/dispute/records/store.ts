/**
 * Durable dispute records in Redis: one hash per dispute, an append-only event list, an index sorted
 * by creation time, and the set of idempotency keys already applied. Every change is one Lua script,
 * so a transition, its event and its idempotency key land together or not at all; all keys of a
 * dispute share the prefix's hash tag, so the scripts also run on Redis Cluster.
 *
 * Re-applying a change with the same idempotency key is a no-op that reports `duplicate`: that is what
 * lets every queue job run twice.
 */
import type { Redis } from 'ioredis';
import { VigilError } from '../../core/errors.ts';
import { redisKey } from '../../store/redis.ts';
import {
  canTransition,
  type DisputeOutcome,
  type DisputeState,
  disputeStates,
  isTerminal,
} from './state-machine.ts';

export class DisputeRecordError extends VigilError {
  override name = 'DisputeRecordError';
}

export class IllegalTransitionError extends DisputeRecordError {
  override name = 'IllegalTransitionError';
}

export type DisputeEvent = {
  seq: number;
  /** Milliseconds since the epoch. */
  at: number;
  type: string;
  from?: DisputeState;
  to?: DisputeState;
  /** The idempotency key that applied it. */
  key: string;
  detail?: Record<string, unknown>;
};

export type DisputeRecord = {
  id: string;
  epoch: bigint;
  kickoffTxid: string;
  kickoffHeight: number;
  state: DisputeState;
  version: number;
  createdAt: number;
  updatedAt: number;
  outcome: DisputeOutcome | undefined;
  /** Free-form string fields set along the way (challenge txid and bytes, deadlines, verdict...). */
  fields: Record<string, string>;
};

export type OpenDispute = {
  id: string;
  epoch: bigint;
  kickoffTxid: string;
  kickoffHeight: number;
  fields?: Record<string, string>;
  detail?: Record<string, unknown>;
};

export type ChangeResult = { status: 'applied' | 'duplicate'; record: DisputeRecord };

const CORE_FIELDS = new Set([
  'id',
  'epoch',
  'kickoffTxid',
  'kickoffHeight',
  'state',
  'version',
  'createdAt',
  'updatedAt',
  'outcome',
]);

// KEYS: record, events, applied, index. ARGV: id, now, createdJson, eventJson, key, ...fieldPairs
const OPEN_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'duplicate' end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'state', 'detected', 'version', '1', 'createdAt', ARGV[2], 'updatedAt', ARGV[2])
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[5])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
return 'applied'
`;

// KEYS: record, events, applied. ARGV: key, allowedFromCsv (or '*' for no state change), to, now, eventJson,
// onlyIfAbsentField (or ''), ...fieldPairs
const CHANGE_SCRIPT = `
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return 'duplicate' end
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'missing' end
if ARGV[2] ~= '*' then
  local ok = false
  for s in string.gmatch(ARGV[2], '[^,]+') do if s == state then ok = true end end
  if not ok then return 'illegal:' .. state end
end
if ARGV[6] ~= '' and redis.call('HEXISTS', KEYS[1], ARGV[6]) == 1 then return 'taken' end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'state', ARGV[3]) end
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[4])
local event = cjson.decode(ARGV[5])
if ARGV[3] ~= '' then event['from'] = state; event['to'] = ARGV[3] end
redis.call('RPUSH', KEYS[2], cjson.encode(event))
redis.call('SADD', KEYS[3], ARGV[1])
return 'applied'
`;

function toRecord(h: Record<string, string>): DisputeRecord {
  const state = h.state as DisputeState;
  if (!disputeStates.includes(state)) throw new DisputeRecordError(`Dispute ${h.id} has an unknown state`);
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (!CORE_FIELDS.has(k)) fields[k] = v;
  return {
    id: h.id as string,
    epoch: BigInt(h.epoch ?? '0'),
    kickoffTxid: h.kickoffTxid ?? '',
    kickoffHeight: Number(h.kickoffHeight ?? '0'),
    state,
    version: Number(h.version ?? '0'),
    createdAt: Number(h.createdAt ?? '0'),
    updatedAt: Number(h.updatedAt ?? '0'),
    outcome: h.outcome === undefined ? undefined : (h.outcome as DisputeOutcome),
    fields,
  };
}

const pairs = (fields: Record<string, string>): string[] => Object.entries(fields).flat();

export class DisputeStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly now: () => number;

  constructor(redis: Redis, prefix: string, options: { now?: () => number } = {}) {
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

  private get indexKey(): string {
    return redisKey(this.prefix, 'disputes');
  }

  /** Opens the dispute in state `detected`; a second open of the same id is a duplicate. */
  async open(input: OpenDispute): Promise<ChangeResult> {
    const at = this.now();
    const key = `open-${input.id}`;
    const event: DisputeEvent = { seq: 1, at, type: 'detected', to: 'detected', key, detail: input.detail };
    const fields = {
      epoch: input.epoch.toString(),
      kickoffTxid: input.kickoffTxid,
      kickoffHeight: String(input.kickoffHeight),
      ...input.fields,
    };
    const status = (await this.redis.eval(
      OPEN_SCRIPT,
      4,
      ...this.keys(input.id),
      this.indexKey,
      input.id,
      String(at),
      '',
      JSON.stringify(event),
      key,
      ...pairs(fields),
    )) as 'applied' | 'duplicate';
    return { status, record: await this.require(input.id) };
  }

  /** Moves the dispute to `to`; refuses edges the state machine does not have. */
  async transition(
    id: string,
    to: DisputeState,
    change: {
      key: string;
      detail?: Record<string, unknown>;
      fields?: Record<string, string>;
      outcome?: DisputeOutcome;
    },
  ): Promise<ChangeResult> {
    const from = disputeStates.filter((s) => canTransition(s, to));
    if (to === 'resolved' && change.outcome === undefined) {
      throw new DisputeRecordError(`Resolving dispute ${id} needs an outcome`);
    }
    const fields = { ...change.fields, ...(change.outcome ? { outcome: change.outcome } : {}) };
    const r = await this.apply(id, from.join(','), to, 'transition', change.key, change.detail, fields, '');
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
   * the fields are written only if that field is not set yet: the write-ahead of a transaction, so that
   * two processes that built two different challenges agree on the first one stored.
   */
  async note(
    id: string,
    type: string,
    change: {
      key: string;
      detail?: Record<string, unknown>;
      fields?: Record<string, string>;
      onlyIfAbsent?: string;
    },
  ): Promise<{ status: 'applied' | 'duplicate' | 'taken'; record: DisputeRecord }> {
    const r = await this.apply(
      id,
      '*',
      '',
      type,
      change.key,
      change.detail,
      change.fields ?? {},
      change.onlyIfAbsent ?? '',
    );
    return { status: r as 'applied' | 'duplicate' | 'taken', record: await this.require(id) };
  }

  private async apply(
    id: string,
    fromCsv: string,
    to: DisputeState | '',
    type: string,
    key: string,
    detail: Record<string, unknown> | undefined,
    fields: Record<string, string>,
    onlyIfAbsent: string,
  ): Promise<string> {
    const at = this.now();
    // `seq` is the list position and `from`/`to` are filled in by the script, under its atomicity.
    const event = { at, type, key, ...(detail === undefined ? {} : { detail }) };
    const r = (await this.redis.eval(
      CHANGE_SCRIPT,
      3,
      ...this.keys(id),
      key,
      fromCsv,
      to,
      String(at),
      JSON.stringify(event),
      onlyIfAbsent,
      ...pairs(fields),
    )) as string;
    if (r === 'missing') throw new DisputeRecordError(`No dispute ${id}`);
    return r;
  }

  async get(id: string): Promise<DisputeRecord | undefined> {
    const h = await this.redis.hgetall(this.keys(id)[0]);
    return h.state === undefined ? undefined : toRecord(h);
  }

  async require(id: string): Promise<DisputeRecord> {
    const r = await this.get(id);
    if (!r) throw new DisputeRecordError(`No dispute ${id}`);
    return r;
  }

  async events(id: string): Promise<DisputeEvent[]> {
    const raw = await this.redis.lrange(this.keys(id)[1], 0, -1);
    return raw.map((s, i) => ({ ...(JSON.parse(s) as DisputeEvent), seq: i + 1 }));
  }

  /** Every dispute, oldest first. */
  async list(): Promise<DisputeRecord[]> {
    const ids = await this.redis.zrange(this.indexKey, '0', '-1');
    const out: DisputeRecord[] = [];
    for (const id of ids) {
      const r = await this.get(id);
      if (r) out.push(r);
    }
    return out;
  }

  /** Disputes that are not resolved: the ones the queue still has work for. */
  async active(): Promise<DisputeRecord[]> {
    return (await this.list()).filter((r) => !isTerminal(r.state));
  }

  /** Deletes every key of one dispute (tests and `vigil disputes` never call it on live data). */
  async remove(id: string): Promise<void> {
    await this.redis.del(...this.keys(id));
    await this.redis.zrem(this.indexKey, id);
  }
}
