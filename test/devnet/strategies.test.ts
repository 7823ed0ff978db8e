/**
 * Every operator strategy of `vigil devnet --operator` end to end, on a short workload where the
 * commission-not-taken fault bites: the run is as expected exactly when the operator ends as the
 * strategy's plan says (slashed by disprove, by assert-timeout, either, or — when no dispute can start —
 * Vigil alerts with a reason), Vigil's wallet pays at most the challenge amount per dispute plus fees at
 * its cap, and no honest epoch is accused. Each test also checks the attack really happened (its line
 * in the story), so a strategy that silently did nothing cannot pass.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDevnet } from '../../src/devnet/run.ts';
import { STRATEGIES } from '../../src/devnet/strategies/index.ts';
import { findBitingSeed } from './fault-seeds.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
const FAULT = 'commission-not-taken';
const EPOCHS = 3;
let redis: Redis;
beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
});
afterAll(async () => {
  await redis.quit();
});

/** The story line that proves each attack was carried out, not just configured. */
const EVIDENCE: Record<string, RegExp> = {
  assert: /broadcast the assert/,
  'never-assert': /challenged by .*; it will not assert/,
  'strip-and-steal': /stripped Vigil's challenge .* of connector A/,
  'pin-connector-a': /pinned connector A with its own challenge/,
  'take-at-first-block': /its first valid block — broadcast the take/,
  'assert-last-block': /broadcast the assert/,
  'wrong-root-0': /broadcast the assert/,
  'wrong-root-1': /broadcast the assert/,
  'wrong-root-2': /broadcast the assert/,
  'winternitz-equivocation': /equivocates — the mempool's kick-off reveals root/,
  'graph-malformed': /operator graph .*refused/,
  'graph-oversize': /operator graph .*refused|FRAUD/,
  'graph-late': /published its graph late/,
  'fee-spike': /a fee spike to \d+ sat\/vB/,
  'lying-backend-hide-spends': /hostile Esplora front \(hide-spends\)/,
  'lying-backend-fake-confirmations': /hostile Esplora front \(fake-confirmations\)/,
  'lying-backend-garbage': /hostile Esplora front \(garbage\)/,
};

describe('vigil devnet --operator <strategy>', () => {
  const bite = findBitingSeed(FAULT, EPOCHS);

  it('has a doc line, an expected end and a piece of evidence for every strategy', () => {
    for (const s of STRATEGIES) {
      expect(s.doc.length).toBeGreaterThan(20);
      expect(EVIDENCE[s.name], s.name).toBeDefined();
    }
    expect(new Set(STRATEGIES.map((s) => s.name)).size).toBe(STRATEGIES.length);
  });

  // assert-last-block and never-assert wait out the whole assert window (45 to 70 s each in CI): the long
  // suite runs them (strategies.long.test.ts); every other strategy runs here. The assert-timeout they end
  // in is also played by the dispute jobs in test/challenger/challenge.test.ts, and the game's in
  // test/challenger/game-play.test.ts.
  const slow = new Set(process.env.VIGIL_LONG === '1' ? [] : ['assert-last-block', 'never-assert']);
  for (const strategy of STRATEGIES.filter((s) => !slow.has(s.name))) {
    it(`${strategy.name}: the operator ends ${strategy.expect}, Vigil pays within its allowance, no honest epoch accused`, async () => {
      const story: string[] = [];
      const s = await runDevnet({
        redis,
        redisUrl: REDIS_URL,
        epochs: EPOCHS,
        seed: bite.seed,
        fault: FAULT,
        strategy: strategy.name,
        say: (l) => story.push(l),
      });
      expect(story.join('\n')).toMatch(EVIDENCE[strategy.name] as RegExp);
      expect(s.strategy).toBe(strategy.name);
      expect(s.expect).toBe(strategy.expect);
      // No honest epoch (those before the fault bites) is disputed or ends slashed.
      expect(s.disputes.every((d) => d.epoch >= bite.epoch)).toBe(true);
      for (const e of s.operatorEnds.filter((x) => !x.fraud)) expect(e.end).toBe('not-slashed');
      // Vigil's wallet: at most the challenge amount per dispute plus fees at its cap.
      const w = s.walletSpend;
      expect(w).toBeDefined();
      expect((w as NonNullable<typeof w>).spent <= (w as NonNullable<typeof w>).allowance).toBe(true);
      const wrong = s.operatorEnds.filter((x) => x.fraud);
      expect(wrong.length).toBeGreaterThan(0);
      const names = s.alerts.map((a) => a.name);
      const explaining = names.filter((n) => n !== 'VigilFraudDetected');
      switch (strategy.expect) {
        case 'slashed-by-disprove':
        case 'slashed-by-timeout':
          for (const e of wrong) expect(e.end, `epoch ${e.epoch}`).toBe(strategy.expect);
          expect(names).toContain('VigilFraudDetected');
          break;
        case 'slashed':
          for (const e of wrong) expect(e.end, `epoch ${e.epoch}`).not.toBe('not-slashed');
          break;
        case 'cannot-start-alert':
          expect(explaining.length, `alerts raised: ${names.join(', ') || 'none'}`).toBeGreaterThan(0);
          break;
        case 'slashed-or-alert':
          if (wrong.some((e) => e.end === 'not-slashed'))
            expect(explaining.length, `alerts raised: ${names.join(', ') || 'none'}`).toBeGreaterThan(0);
          break;
      }
      expect(s.problems).toEqual([]);
      expect(s.ok).toBe(true);
    }, 120_000);
  }
});
