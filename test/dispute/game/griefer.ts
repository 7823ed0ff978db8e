/**
 * A griefing challenger for the soundness tests (docs/protocol.md §24): seeded random moves, steered to
 * tape steps and to reads' last writes so every part of the game is reached, and at every point where a
 * leaf could end the game it tries every leaf with every preimage it could attach (the honest ones and
 * perturbed ones), expecting each to fail, before it sends one anyway.
 */
import { expect } from 'vitest';
import { choiceFor, type SearchShape } from '../../../src/dispute/game/grid.ts';
import type { KeptRun } from '../../../src/dispute/game/honest-view.ts';
import {
  ASSERT_LEAVES,
  assertLeafSpends,
  revealAttempts,
  revealLeafSpends,
  tapeRevealAttempts,
  tapeRevealLeafSpends,
  writeRevealAttempts,
  writeRevealLeafSpends,
} from '../../../src/dispute/game/leaves.ts';
import type { GameContext, Preimage } from '../../../src/dispute/game/moves.ts';
import type { ChallengerPlayer } from '../../../src/dispute/game/players.ts';
import type { StepRecord } from '../../../src/machine/isa.ts';

/** A seeded xorshift giving floats in [0, 1), for the game tests. */
export function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

export type Tally = Map<string, number>;
export const bump = (t: Tally, k: string) => t.set(k, (t.get(k) ?? 0) + 1);

/** The preimages a griefer could attach for a chain value at position p: the honest one, and perturbed ones. */
function preimagesFor(honest: KeptRun, p: number, next: () => number): Preimage[] {
  const out: Preimage[] = [];
  if (p >= 1) {
    const k = Math.min(p, honest.steps.length);
    const h = honest.chain[k - 1] as Uint8Array;
    const record = honest.steps[k - 1] as StepRecord;
    out.push({ h, record });
    out.push({ h, record: { ...record, nextPc: record.nextPc + 1 } });
    out.push({ h, record: { ...record, pc: (record.pc + 1) % 4096 } });
    out.push({ h: Uint8Array.from(h, (b, i) => (i === 0 ? b ^ 1 : b)), record });
  }
  out.push({
    h: Uint8Array.from({ length: 20 }, () => Math.floor(next() * 256)),
    record: honest.steps[0] as StepRecord,
  });
  return out;
}

/** A griefing challenger: random moves, and every leaf tried (each must fail) before it picks one to send. */
export function griefer(
  ctx: GameContext,
  shape: SearchShape,
  honest: KeptRun,
  seed: number,
  tally: Tally,
): ChallengerPlayer {
  const next = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  let claimedSteps = 0;
  // The step the griefer steers the first search to: a tape step a third of the time (so tape paths are
  // asked for), else any step; the second search steers to around the read's real last write, or anywhere.
  const tapeSteps = honest.steps.flatMap((st, k) =>
    ctx.program.instructions[st.pc]?.op === 'tape' ? [k] : [],
  );
  const aim = next() < 0.35 ? pick(tapeSteps) : Math.floor(next() * honest.steps.length);
  let readAim = -1;
  /** A choice toward `toward` when it lies in the segment, else one that mostly stays below `end`. */
  const choose = (segment: { left: number; width: number }, bits: number, end: number, toward: number) => {
    if (next() < 0.1 || end <= segment.left) return Math.floor(next() * 2 ** bits);
    if (toward >= segment.left && toward < segment.left + segment.width && next() < 0.9) {
      return choiceFor(segment, bits, toward);
    }
    const hi = Math.min(segment.left + segment.width, end) - 1;
    return choiceFor(segment, bits, segment.left + Math.floor(next() * (hi - segment.left + 1)));
  };
  return {
    onAssert(assert) {
      claimedSteps = assert.steps;
      for (const leaf of ASSERT_LEAVES) {
        expect(assertLeafSpends(ctx, shape, assert, { leaf })).toBe(false);
      }
      return next() < 0.05 ? { leaf: pick(ASSERT_LEAVES) } : undefined;
    },
    choose: (view, bits) => choose(view.segment, bits, claimedSteps, aim),
    onReveal(site, reveal) {
      bump(tally, 'reveal');
      const attempts = revealAttempts([undefined, ...preimagesFor(honest, site.step, next)]);
      for (const a of attempts)
        expect(revealLeafSpends(ctx, site, reveal, a), JSON.stringify(a.leaf)).toBe(false);
      if (next() < 0.15) return { disprove: pick(attempts) };
      const q =
        ctx.program.instructions[reveal.record.pc]?.op === 'tape' && next() < 0.7
          ? 3
          : pick([1, 2, 3] as const);
      const last = q === 1 ? reveal.r1last : reveal.r2last;
      readAim = last < site.step ? last + Math.floor(next() * 3) - 1 : Math.floor(next() * site.step);
      return { request: q };
    },
    chooseRead: (_q, view, bits, readStep) => choose(view.segment, bits, readStep, readAim),
    onWriteReveal(site, reveal) {
      bump(tally, 'reveal′');
      const attempts = writeRevealAttempts(preimagesFor(honest, site.step + 1, next));
      for (const a of attempts) expect(writeRevealLeafSpends(site, reveal, a), a.leaf).toBe(false);
      return pick(attempts);
    },
    onTapeReveal(site, reveal) {
      bump(tally, 'tape reveal');
      const attempts = tapeRevealAttempts();
      for (const a of attempts) expect(tapeRevealLeafSpends(ctx, site, reveal, a), a.leaf).toBe(false);
      return pick(attempts);
    },
  };
}
