/**
 * The claims of the challenger registry judged for good (claim-games.ts `ClaimLedger`), in Redis: one hash
 * field per epoch, its value the outcome. A restart reads the registry from its start again; this is what
 * keeps it from judging, alerting on or holding a bond coin for those claims a second time.
 */
import { displayHexToHash } from '../bitcoin/tx/serialize.ts';
import { VigilError } from '../core/errors.ts';
import type { RedisClient } from '../store/redis.ts';
import {
  type ClaimDocumentStore,
  type ClaimJudgement,
  type ClaimLedger,
  type LapsedOutputs,
  outpointText,
} from './claim-games.ts';

export function redisClaimLedger(redis: RedisClient, prefix: string): ClaimLedger {
  const key = `${prefix}:claims:judged`;
  return {
    has: async (epoch) => (await redis.hexists(key, epoch.toString())) === 1,
    add: async (epoch, outcome: ClaimJudgement['outcome']) => {
      await redis.hset(key, epoch.toString(), outcome);
    },
  };
}

/**
 * Vigil's bond coins named in bundles (bundle-poster.ts `BondReservations`), in Redis: outpoint → epoch.
 * Written before the bundle is sent, so a coin is never named twice, even for claims a few blocks apart.
 */
export function redisBondReservations(redis: RedisClient, prefix: string) {
  const key = `${prefix}:claims:bond-coins`;
  const games = `${prefix}:claims:game-coins`;
  return {
    // Coins at the bond address a game holds for its fees (C_w's change, its children's outputs):
    // released only once their claim is judged for good, whether in a block yet or not.
    held: async (): Promise<Map<string, bigint>> => {
      const h = await redis.hgetall(games);
      return new Map(Object.entries(h).map(([coin, epoch]) => [coin, BigInt(epoch)]));
    },
    hold: async (coin: string, epoch: bigint): Promise<void> => {
      await redis.hset(games, coin, epoch.toString());
    },
    releaseHeld: async (coin: string): Promise<void> => {
      await redis.hdel(games, coin);
    },
    all: async (): Promise<Map<string, bigint>> => {
      const h = await redis.hgetall(key);
      return new Map(Object.entries(h).map(([coin, epoch]) => [coin, BigInt(epoch)]));
    },
    reserve: async (coin: string, epoch: bigint): Promise<void> => {
      await redis.hset(key, coin, epoch.toString());
    },
    release: async (coin: string): Promise<void> => {
      await redis.hdel(key, coin);
    },
  };
}

/**
 * The claim outputs of lapsed claims still watched (claim-games.ts `LapsedOutputs`), in Redis: one hash
 * field per epoch, its value `<txid in display order>:<vout>`. A field that is not an epoch, or a value
 * that is not an outpoint, is not Vigil's: it is refused, never queried.
 */
export function redisLapsedOutputs(redis: RedisClient, prefix: string): LapsedOutputs {
  const key = `${prefix}:claims:lapsed-outputs`;
  return {
    all: async () => {
      const out = new Map<bigint, { txid: Uint8Array; vout: number }>();
      for (const [epoch, outpoint] of Object.entries(await redis.hgetall(key))) {
        const m = /^([0-9a-f]{64}):(0|[1-9][0-9]{0,9})$/.exec(outpoint);
        if (!/^(0|[1-9][0-9]*)$/.test(epoch) || m === null) {
          throw new VigilError(`${key} holds ${epoch} → ${outpoint}, which is no epoch and claim outpoint`);
        }
        out.set(BigInt(epoch), { txid: displayHexToHash(m[1] as string), vout: Number(m[2]) });
      }
      return out;
    },
    add: async (epoch, claim) => {
      await redis.hset(key, epoch.toString(), outpointText(claim));
    },
    remove: async (epoch) => {
      await redis.hdel(key, epoch.toString());
    },
  };
}

/**
 * The claim documents of Vigil's games (claim-games.ts `ClaimDocumentStore`), in Redis: one string per
 * epoch and document hash, written before the game's record opens and kept as long as the records are
 * (a researcher replays a dispute from them). Whatever is read back is imported again, its hash checked
 * against the L2's commitment, so a value altered in Redis is refused, never played.
 */
export function redisClaimDocuments(redis: RedisClient, prefix: string): ClaimDocumentStore {
  const key = (epoch: bigint, hashHex: string) => `${prefix}:claims:document:${epoch}:${hashHex}`;
  return {
    get: async (epoch, hashHex) => (await redis.get(key(epoch, hashHex))) ?? undefined,
    put: async (epoch, hashHex, text) => {
      await redis.set(key(epoch, hashHex), text);
    },
  };
}
