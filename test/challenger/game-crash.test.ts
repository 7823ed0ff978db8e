/**
 * Vigil's game process SIGKILLed at seeded moments of a game with rounds and restarted (the many-seed
 * version is game-crash.long.test.ts): every run ends with the operator slashed at the reveal, each of
 * Vigil's transactions entered the mempool in one version only (one broadcast per move: no Winternitz
 * value signed twice), no deadline was missed (the operator never swept Vigil's pot), and the record's
 * history is complete.
 */
import { describe, expect, it } from 'vitest';
import { expectSound, gameCrashRun, gameKillPlan, SHORT_SEEDS } from './game-crash-harness.ts';

describe('the game process killed mid-game', () => {
  for (const seed of SHORT_SEEDS) {
    it(`seed ${seed}: ${gameKillPlan(seed).length} SIGKILLs, one version of each move, the operator slashed`, async () => {
      const out = await gameCrashRun(seed);
      expectSound(out);
      expect(out.kills).toBe(gameKillPlan(seed).length);
    }, 240_000);
  }
});
