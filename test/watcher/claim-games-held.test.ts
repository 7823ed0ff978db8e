/**
 * The epochs the registry's claims and games hold against pruning (claim-games.ts `heldEpoch`): unknown
 * before the first `retain`, the lowest of the followed claims and open games after it, and unknown
 * again once `forgetOpen` is called, as the watcher does when it takes the lease over again (another
 * process may have opened games meanwhile that its last list lacks).
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { EsploraBackend } from '../../src/bitcoin/backends/esplora.ts';
import { claimParameters } from '../../src/dispute/game/claim-parameters.ts';
import { GameStore } from '../../src/dispute/records/game-store.ts';
import type { ClaimRegistration } from '../../src/l2/challenger-registry.ts';
import { createClaimGames } from '../../src/watcher/claim-games.ts';
import { REDIS_URL } from '../../testkit/queue/scenario.ts';

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
afterAll(() => redis.quit());

function gamesFollowing(epochs: readonly bigint[]) {
  const followed = epochs.map((epoch) => ({ epoch }) as Pick<ClaimRegistration, 'epoch'>);
  return createClaimGames({
    follower: {
      claims: () => followed as ClaimRegistration[],
      claim: () => undefined,
      forget: () => {},
    },
    registry: `0x${'11'.repeat(20)}`,
    documentOf: async () => undefined,
    endedEpoch: () => undefined,
    // Never asked: nothing here reads the chain.
    backend: new EsploraBackend({ baseUrl: 'http://127.0.0.1:9/api', retry: { attempts: 1 } }),
    network: 'regtest',
    params: claimParameters('regtest'),
    operator: new Uint8Array(32).fill(2),
    committee: [],
    identity: undefined,
    store: new GameStore(redis, `{vigil-held-${Date.now()}}`),
    track: async () => {},
    confirmations: 1,
  });
}

describe('the epochs claims and games hold against pruning', () => {
  it('unknown before the first retain, the lowest held after it, and unknown again once forgotten', () => {
    const games = gamesFollowing([9n, 7n]);
    expect(games.heldEpoch()).toBe('unknown');
    games.retain([{ id: 'g5', epoch: 5n }]);
    expect(games.heldEpoch()).toBe(5n);
    games.forgetOpen();
    expect(games.heldEpoch()).toBe('unknown');
    // The next retain lists the records again: a game the last list lacked now holds its epoch.
    games.retain([
      { id: 'g5', epoch: 5n },
      { id: 'g3', epoch: 3n },
    ]);
    expect(games.heldEpoch()).toBe(3n);
    games.retain([]);
    expect(games.heldEpoch()).toBe(7n);
    expect(gamesFollowing([]).heldEpoch()).toBe('unknown');
  });
});
