/**
 * The long version of game-crash.test.ts: VIGIL_LONG=1 runs 24 seeds besides the short test's (4
 * otherwise), each with 1–3 SIGKILLs of Vigil's game process at seeded moments, checked as the short
 * test checks its own.
 */
import { describe, expect, it } from 'vitest';
import { expectSound, gameCrashRun, gameKillPlan, SHORT_SEEDS } from './game-crash-harness.ts';

const COUNT = process.env.VIGIL_LONG === '1' ? 24 : 4;
const seeds = Array.from({ length: COUNT + SHORT_SEEDS.length }, (_, i) => 100 + i)
  .filter((s) => !SHORT_SEEDS.includes(s))
  .slice(0, COUNT);

describe('the game process killed mid-game, many seeds', () => {
  const totals = { kills: 0, runs: 0, afterWrite: 0 };
  for (const seed of seeds) {
    it(`seed ${seed}: ${JSON.stringify(gameKillPlan(seed))}`, async () => {
      const out = await gameCrashRun(seed);
      console.log(`seed ${seed}: ${out.kills} kills, ${out.blocks} blocks\n  ${out.timeline.join('\n  ')}`);
      expectSound(out);
      expect(out.kills).toBe(gameKillPlan(seed).length);
      totals.kills += out.kills;
      totals.runs++;
      totals.afterWrite += gameKillPlan(seed).filter((k) => k.sent !== 'boot' && k.delayMs < 40).length;
    }, 300_000);
  }
  it('every seed ran', () => {
    console.log(
      `game crash runs: ${totals.runs}, SIGKILLs: ${totals.kills}, within 40 ms of a write-ahead: ${totals.afterWrite}`,
    );
    expect(totals.runs).toBe(seeds.length);
  });
});
