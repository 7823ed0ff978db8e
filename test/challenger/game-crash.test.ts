/**
 * Vigil's game process SIGKILLed at seeded moments of a game with rounds and restarted (the many-seed
 * version is game-crash.long.test.ts): every run ends with the operator slashed at the reveal, each of
 * Vigil's transactions entered the mempool in one version only (one broadcast per move: no Winternitz
 * value signed twice), no deadline was missed (the operator never swept Vigil's pot), and the record's
 * history is complete.
 */
import { describe, expect, it } from 'vitest';
import { type CrashOutcome, gameCrashRun, gameKillPlan, VIGIL_TXS } from './game-crash-harness.ts';

export const SHORT_SEEDS = [3];

export function expectSound(out: CrashOutcome): void {
  const why = `${out.timeline.join('\n')}\n${out.logTail.slice(-40).join('\n')}`;
  expect(out.record.state, why).toBe('resolved');
  expect(out.record.outcome, why).toBe('operator-slashed');
  expect(out.record.end, why).toMatchObject({ site: 'reveal', by: 'slash:reveal' });
  expect(out.record.sent.size, why).toBe(VIGIL_TXS);
  for (const [id, t] of out.record.sent) expect(out.versions.get(t.txid)?.size, `${id}\n${why}`).toBe(1);
  expect(out.written, why).toBe(VIGIL_TXS);
  expect(out.transitions, why).toEqual(['challenged', 'confirmed', 'playing', 'resolved']);
}

describe('the game process killed mid-game', () => {
  for (const seed of SHORT_SEEDS) {
    it(`seed ${seed}: ${gameKillPlan(seed).length} SIGKILLs, one version of each move, the operator slashed`, async () => {
      const out = await gameCrashRun(seed);
      expectSound(out);
      expect(out.kills).toBe(gameKillPlan(seed).length);
    }, 240_000);
  }
});
