/**
 * Durable game records in Redis, with the dispute records' mechanics (store.ts): one hash per game, an
 * append-only event list, the set of idempotency keys applied, and an index by creation time, every
 * change one Lua script (the same `lua/open.lua` and `lua/change.lua`) so that a state move, its facts,
 * its event and its key land together. All keys share the prefix's hash tag (Redis Cluster).
 *
 * A transaction is written ahead with `onlyIfAbsent` on its graph id's field: the first writer wins, so
 * two runs that built the same move write one, and a move's Winternitz values are never signed twice.
 */
import type { RedisClient } from '../../store/redis.ts';
import { redisKey } from '../../store/redis.ts';
import { type ReplicaAck, waitForReplica } from '../../store/replication.ts';
import { DisputeCodecError, eventJson } from './codec.ts';
import {
  decodeGameEvent,
  decodeGameRecord,
  decodeSeenMove,
  encodeGamePatch,
  encodeSeenMove,
  GAME_RECORD_SCHEMA,
  sentField,
} from './game-codec.ts';
import {
  GAME_TRANSITIONS,
  type GameClaimFacts,
  type GameEvent,
  type GameNoteBody,
  type GamePatch,
  type GameRecord,
  type GameSeenMove,
  type GameState,
  gameStates,
} from './game-types.ts';
import type { DisputeOutcome } from './state-machine.ts';
import { applyChange, DisputeRecordError, IllegalTransitionError, openRecord } from './store.ts';
import type { Txid } from './types.ts';

/**
 * The id of Vigil's game as challenger `w` of one claim: deterministic and shaped for BullMQ job ids (no
 * ':' and never all digits).
 */
export function gameId(epoch: bigint, kickoffTxid: string, w: number): string {
  if (!/^[0-9a-f]{64}$/.test(kickoffTxid)) throw new RangeError(`Not a txid: ${kickoffTxid}`);
  if (!Number.isInteger(w) || w < 0) throw new RangeError(`Not a challenger index: ${w}`);
  return `g${epoch}-k${kickoffTxid.slice(0, 16)}-w${w}`;
}

export type GameChangeResult = { status: 'applied' | 'duplicate'; record: GameRecord };

/** At most this many versions of one move are kept: only the operator can sign one, and a few prove it. */
export const GAME_VERSIONS_KEPT = 4;

export class GameStore {
  private readonly redis: RedisClient;
  private readonly prefix: string;
  private readonly now: () => number;

  constructor(redis: RedisClient, prefix: string, options: { now?: () => number } = {}) {
    this.redis = redis;
    this.prefix = prefix;
    this.now = options.now ?? Date.now;
  }

  private keys(id: string): [string, string, string] {
    return [
      redisKey(this.prefix, 'game', id),
      redisKey(this.prefix, 'game', id, 'events'),
      redisKey(this.prefix, 'game', id, 'applied'),
    ];
  }

  /**
   * The versions seen of the operator's moves, one field `<move id>@<wtxid>` each: the equivocation
   * watch's evidence, kept until the game resolves.
   */
  private versionsKey(id: string): string {
    return redisKey(this.prefix, 'game', id, 'versions');
  }

  /**
   * Keeps `version` of operator move `moveId` unless that wtxid is kept already or the move has
   * `GAME_VERSIONS_KEPT` versions (HSETNX: two runs keep one copy). Waits for a replica where there is one,
   * as a write-ahead does: a version replaced in the mempool exists nowhere else.
   */
  async keepVersion(id: string, moveId: string, version: GameSeenMove): Promise<'kept' | 'known' | 'full'> {
    const key = this.versionsKey(id);
    const field = `${moveId}@${version.wtxid}`;
    const fields = await this.redis.hkeys(key);
    if (fields.includes(field)) return 'known';
    if (fields.filter((f) => f.startsWith(`${moveId}@`)).length >= GAME_VERSIONS_KEPT) return 'full';
    const set = await this.redis.hsetnx(key, field, Buffer.from(encodeSeenMove(version)));
    if (set === 1) await waitForReplica(this.redis, key, 2_000);
    return set === 1 ? 'kept' : 'known';
  }

  /** The wtxids kept of each operator move, by move id (field names only: cheap to read at every run). */
  async keptWtxids(id: string): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const f of await this.redis.hkeys(this.versionsKey(id))) {
      const at = f.lastIndexOf('@');
      if (at <= 0) continue;
      const move = f.slice(0, at);
      out.set(move, [...(out.get(move) ?? []), f.slice(at + 1)]);
    }
    return out;
  }

  /** One kept version of operator move `moveId`, by its wtxid. */
  async keptVersion(id: string, moveId: string, wtxid: string): Promise<GameSeenMove | undefined> {
    const field = `${moveId}@${wtxid}`;
    const raw = await this.redis.hgetBuffer(this.versionsKey(id), field);
    if (raw === null) return undefined;
    const kept = decodeSeenMove(id, `versions.${field}`, new Uint8Array(raw));
    if (kept.wtxid !== wtxid)
      throw new DisputeCodecError(`Game ${id}: versions.${field} holds a transaction of wtxid ${kept.wtxid}`);
    return kept;
  }

  /** Drops the kept versions of a game that has resolved: its end is on chain, the evidence served. */
  async dropVersions(id: string): Promise<void> {
    await this.redis.del(this.versionsKey(id));
  }

  private get indexKey(): string {
    return redisKey(this.prefix, 'games');
  }

  /** Waits until the writes made so far to game `id` are on a replica, where the primary has one. */
  replicated(id: string, timeoutMs = 2000): Promise<ReplicaAck> {
    return waitForReplica(this.redis, this.keys(id)[0], timeoutMs);
  }

  /** Opens the game in state `detected`; a second open of the same claim and w is a duplicate. */
  async open(facts: GameClaimFacts): Promise<GameChangeResult> {
    const id = gameId(facts.epoch, facts.kickoffTxid, facts.w);
    const at = this.now();
    const key = `open-${id}`;
    const event = {
      seq: 1,
      to: 'detected',
      ...eventJson({
        at,
        key,
        type: 'detected',
        detail: { epoch: facts.epoch, kickoffTxid: facts.kickoffTxid, w: facts.w },
      }),
    };
    const fields: [string, string][] = [
      ['epoch', facts.epoch.toString()],
      ['kickoffTxid', facts.kickoffTxid],
      ['kickoffHeight', String(facts.kickoffHeight)],
      ['w', String(facts.w)],
      ['document', facts.document],
      ['schema', String(GAME_RECORD_SCHEMA)],
    ];
    const status = await openRecord(this.redis, this.keys(id), this.indexKey, { id, at, event, key, fields });
    return { status, record: await this.require(id) };
  }

  /**
   * Moves the game to `to`; refuses edges GAME_TRANSITIONS does not have. With `from`, only from that
   * state (a compare-and-set: a move decided on a record another run has moved since is refused).
   */
  async transition(
    id: string,
    to: GameState,
    change: {
      key: string;
      reason: string;
      txid?: Txid;
      height?: number;
      patch?: GamePatch;
      outcome?: DisputeOutcome;
      from?: GameState;
    },
  ): Promise<GameChangeResult> {
    if (to === 'resolved' && change.outcome === undefined)
      throw new DisputeRecordError(`Resolving game ${id} needs an outcome`);
    const from = gameStates.filter(
      (s) => GAME_TRANSITIONS[s].includes(to) && (change.from === undefined || s === change.from),
    );
    const fields = [
      ...encodeGamePatch(change.patch ?? {}),
      ...(change.outcome === undefined ? [] : [['outcome', change.outcome] as [string, string]]),
    ];
    const detail = {
      reason: change.reason,
      ...(change.txid === undefined ? {} : { txid: change.txid }),
      ...(change.height === undefined ? {} : { height: change.height }),
    };
    const r = await this.apply(
      id,
      from.join(','),
      to,
      { type: 'transition', detail },
      change.key,
      fields,
      '',
    );
    if (r.startsWith('illegal:')) {
      throw new IllegalTransitionError(`Game ${id} cannot go from ${r.slice('illegal:'.length)} to ${to}`, {
        metaMessages: [`Allowed into ${to} from: ${from.join(', ') || 'nowhere'}.`],
      });
    }
    return { status: r as 'applied' | 'duplicate', record: await this.require(id) };
  }

  /**
   * Records a fact without a state change. With `onlyIfAbsent` (a graph id), the patch is written only
   * if no transaction is written ahead under that id yet: `taken` says another was first.
   */
  async note(
    id: string,
    event: GameNoteBody,
    change: { key: string; patch?: GamePatch; onlyIfAbsent?: string },
  ): Promise<{ status: 'applied' | 'duplicate' | 'taken'; record: GameRecord }> {
    const r = await this.apply(
      id,
      '*',
      '',
      event,
      change.key,
      encodeGamePatch(change.patch ?? {}),
      change.onlyIfAbsent === undefined ? '' : sentField(change.onlyIfAbsent),
    );
    return { status: r as 'applied' | 'duplicate' | 'taken', record: await this.require(id) };
  }

  private async apply(
    id: string,
    fromCsv: string,
    to: GameState | '',
    body: { type: string; detail?: object },
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
    if (r === 'missing') throw new DisputeRecordError(`No game ${id}`);
    return r;
  }

  async get(id: string): Promise<GameRecord | undefined> {
    const h = await this.redis.hgetall(this.keys(id)[0]);
    return h.state === undefined ? undefined : decodeGameRecord(h);
  }

  async require(id: string): Promise<GameRecord> {
    const r = await this.get(id);
    if (r === undefined) throw new DisputeRecordError(`No game ${id}`);
    return r;
  }

  async events(id: string): Promise<GameEvent[]> {
    const raw = await this.redis.lrange(this.keys(id)[1], 0, -1);
    return raw.map((s, i) => decodeGameEvent(id, s, i + 1));
  }

  /** Every game record, oldest first; one the codec refuses is named in `unreadable`, not fatal. */
  async listAll(): Promise<{ records: GameRecord[]; unreadable: { id: string; reason: string }[] }> {
    const ids = await this.redis.zrange(this.indexKey, '0', '-1');
    const records: GameRecord[] = [];
    const unreadable: { id: string; reason: string }[] = [];
    for (const id of ids) {
      try {
        const r = await this.get(id);
        if (r !== undefined) records.push(r);
      } catch (err) {
        if (!(err instanceof DisputeRecordError || err instanceof DisputeCodecError)) throw err;
        unreadable.push({ id, reason: err.message });
      }
    }
    return { records, unreadable };
  }

  /** Deletes every key of one game (tests only). */
  async remove(id: string): Promise<void> {
    await this.redis.del(...this.keys(id), this.versionsKey(id));
    await this.redis.zrem(this.indexKey, id);
  }
}
