/**
 * Vigil's side of a narrowing game (docs/protocol.md §24.3–24.5): the challenger's rule, playing from the
 * honest run of the epoch. In the first search it aims at the step before the first committed point that
 * differs from the honest chain (never past T′ − 1), so the left end of its segment is always honest; at
 * the reveal it takes the first leaf whose twin spends, else asks for the proof of the read or tape word
 * that is wrong; in the second search it aims at the write the read depends on while the operator's
 * points agree with the honest chain, and at the last point where they rejoin it once they do not.
 * It never builds a disprove its twin does not accept. Pure: no I/O.
 */
import { equalBytes } from '../../core/bytes.ts';
import { VigilError } from '../../core/errors.ts';
import { NONE, TAPE_LIMIT } from '../../machine/isa.ts';
import { choiceFor, type SearchShape, splitPoints } from './grid.ts';
import type { HonestView } from './honest-view.ts';
import {
  ASSERT_LEAVES,
  type AssertAttempt,
  assertLeafSpends,
  revealAttempts,
  revealLeafSpends,
  tapeRevealAttempts,
  tapeRevealLeafSpends,
  writeRevealAttempts,
  writeRevealLeafSpends,
} from './leaves.ts';
import type { GameContext, Preimage, Query, SearchView } from './moves.ts';
import type { ChallengerPlayer } from './players.ts';

/**
 * The honest preimage of the honest chain value at position p ≥ 1: the step before it (the halt past the
 * end of a run that halts; a cut run is never asked past its cut, since T′ ≤ 2^K).
 */
function honestPreimage(honest: HonestView, p: number): Preimage {
  const k = Math.min(p, honest.stepCount);
  return { h: honest.chainAt(k - 1), record: honest.stepAt(k - 1) };
}

const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));

/**
 * The kick-off committed an inputs root the game cannot dispute: verifiers check it against the L2, not
 * script (§22.8), and every leaf takes it as given, so a game over it would be lost. The claim must be
 * answered outside the game. (Another pre-state image root is disproved in the game, by the image-root
 * leaf against the root the graph fixes.)
 */
export class UnchallengeableClaimError extends VigilError {
  override name = 'UnchallengeableClaimError';
}

export function ruleChallenger(ctx: GameContext, shape: SearchShape, honest: HonestView): ChallengerPlayer {
  // A cut view answers for the steps of its own search only: past them it would pad what a deeper
  // search's claim covers.
  if (honest.cut && honest.stepCount !== 2 ** shape.depth) {
    throw new RangeError(`A run cut at ${honest.stepCount} steps cannot play a search of 2^${shape.depth}`);
  }
  if (!equalBytes(ctx.inputsRoot, honest.tape.inputRoot)) {
    throw new UnchallengeableClaimError(
      "The kick-off commits another inputs root than the epoch's inputs: the game cannot dispute it",
    );
  }
  if (!equalBytes(ctx.agreedImageRoot, honest.tape.imageRoot)) {
    throw new UnchallengeableClaimError(
      "The graph fixes another pre-state image root than the previous epoch's: the game cannot dispute the claim",
    );
  }
  const honestAt = (p: number) => honest.chainAt(p);
  let claimedSteps = 0;
  /** The second search's target m = max(ℓ, m*) (−1 for NONE), set by the request. */
  let target = -1;

  return {
    onAssert(assert) {
      claimedSteps = assert.steps;
      for (const leaf of ASSERT_LEAVES) {
        const attempt: AssertAttempt = { leaf };
        if (assertLeafSpends(ctx, shape, assert, attempt)) return attempt;
      }
      return undefined;
    },

    choose(view: SearchView, bits: number) {
      let first = Number.POSITIVE_INFINITY;
      for (const p of [...view.committed.keys()].sort((a, b) => a - b)) {
        if (!equalBytes(view.committed.get(p) as Uint8Array, honestAt(p))) {
          first = p;
          break;
        }
      }
      const { left, width } = view.segment;
      const aim = Math.min(first - 1, claimedSteps - 1);
      return choiceFor(view.segment, bits, clamp(aim, left, left + width - 1));
    },

    onReveal(site, reveal) {
      const i = site.step;
      const attempts = revealAttempts([i === 0 ? undefined : honestPreimage(honest, i)]);
      for (const attempt of attempts) {
        if (revealLeafSpends(ctx, site, reveal, attempt)) return { disprove: attempt };
      }
      const { record } = reveal;
      for (const q of [1, 2] as const) {
        const read = q === 1 ? record.r1 : record.r2;
        if (read.addr === NONE) continue;
        const memory = honest.memoryBefore(i, read.addr);
        if (read.value !== memory.value) {
          const claimed = q === 1 ? reveal.r1last : reveal.r2last;
          target = Math.max(claimed === NONE ? -1 : claimed, memory.writer);
          return { request: q };
        }
      }
      const ins = ctx.program.instructions[record.pc];
      if (ins?.op === 'tape' && record.r1.value < BigInt(TAPE_LIMIT)) {
        if (record.w.value !== honest.tape.word(Number(record.r1.value))) return { request: 3 };
      }
      return undefined;
    },

    chooseRead(_q: Query, view: SearchView, bits: number, readStep: number) {
      const { segment, committed } = view;
      const valueAt = (p: number) => committed.get(Math.min(p, readStep)) as Uint8Array;
      const starts = [segment.left, ...splitPoints(segment, bits).filter((p) => p < readStep)];
      const astray = starts.filter((p) => !equalBytes(valueAt(p), honestAt(p)));
      if (astray.length === 0) {
        // Target mode: both ends honest, m inside.
        const right = Math.min(segment.left + segment.width, readStep);
        return choiceFor(segment, bits, clamp(target, segment.left, right - 1));
      }
      // Rejoin mode: the last point off the honest chain; the next one (or the clipped right end) is on it.
      return choiceFor(segment, bits, Math.max(...astray));
    },

    onWriteReveal(site, reveal) {
      const attempts = writeRevealAttempts([honestPreimage(honest, site.step + 1)]);
      return attempts.find((a) => writeRevealLeafSpends(site, reveal, a));
    },

    onTapeReveal(site, reveal) {
      const attempts = tapeRevealAttempts();
      return attempts.find((a) => tapeRevealLeafSpends(ctx, site, reveal, a));
    },
  };
}
