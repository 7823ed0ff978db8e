/**
 * The referee of one narrowing game (docs/protocol.md §24): plays an operator against one challenger,
 * move by move, as the presigned transactions of the game let them, and says who wins. It enforces only
 * what Bitcoin enforces: a move that is missing or cannot be signed into its transaction is silence (the
 * opponent takes its timeout), a disprove counts only when its leaf's twin (leaves.ts) says it spends, a
 * refusal only when its leaf's condition holds. It trusts neither side. Pure: no I/O.
 */
import { CHAIN_BYTES, NONE, type StepRecord, WORD_MAX } from '../../machine/isa.ts';
import { narrow, roundBits, type SearchShape, type Segment, splitPoints, wholeTrace } from './grid.ts';
import {
  assertLeafSpends,
  isWellFormedTapeReveal,
  type RevealSite,
  revealLeafSpends,
  tapeRevealLeafSpends,
  type WriteRevealSite,
  writeRevealLeafSpends,
} from './leaves.ts';
import type { GameContext, Refusal, SearchView, StepReveal, TapeReveal, WriteReveal } from './moves.ts';
import type { ChallengerPlayer, OperatorPlayer } from './players.ts';

export type GameSide = 'operator' | 'challenger';

/** One move as the game's history shows it (`vigil disputes show`, replays). */
export type GameMove = {
  readonly side: GameSide;
  readonly move: string;
  readonly round?: number;
  readonly detail?: string;
};

export type GameOutcome = {
  readonly winner: GameSide;
  /** disproved: a leaf spent; timeout: the loser was silent (or sent what cannot be signed); refused: a refusal leaf spent. */
  readonly end: 'disproved' | 'timeout' | 'refused';
  /** The leaf that ended it (disproved, refused), or the move the loser did not make (timeout). */
  readonly at: string;
  /** The step the first search ended at, and the second search's, when reached. */
  readonly step?: number;
  readonly writeStep?: number;
  readonly moves: readonly GameMove[];
};

const isChainValue = (v: unknown): v is Uint8Array => v instanceof Uint8Array && v.length === CHAIN_BYTES;
const isU32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
const isWord = (w: bigint) => typeof w === 'bigint' && w >= 0n && w <= WORD_MAX;
const isAccess = (a: { addr: number; value: bigint }) => isU32(a.addr) && isWord(a.value);

function wellFormedPoints(
  values: readonly Uint8Array[] | undefined,
  count: number,
): values is readonly Uint8Array[] {
  return values !== undefined && values.length === count && values.every(isChainValue);
}

function wellFormedRecord(r: StepRecord): boolean {
  return isU32(r.pc) && isU32(r.nextPc) && isAccess(r.r1) && isAccess(r.r2) && isAccess(r.w);
}

const isRefusal = (m: object): m is Refusal => 'refuse' in m;

/** Plays one game to its end. */
export function playGame(
  ctx: GameContext,
  shape: SearchShape,
  operator: OperatorPlayer,
  challenger: ChallengerPlayer,
): GameOutcome {
  const moves: GameMove[] = [];
  const log = (side: GameSide, move: string, round?: number, detail?: string) =>
    moves.push({
      side,
      move,
      ...(round === undefined ? {} : { round }),
      ...(detail === undefined ? {} : { detail }),
    });
  const end = (o: Omit<GameOutcome, 'moves'>): GameOutcome => ({ ...o, moves });
  const timeout = (loser: GameSide, at: string, extra: Partial<GameOutcome> = {}) =>
    end({ winner: loser === 'operator' ? 'challenger' : 'operator', end: 'timeout', at, ...extra });

  const bits = roundBits(shape);
  const top = 2 ** shape.depth;

  // The assert: T′, h_0, h_{2^K} and round 1's points.
  const assert = operator.assert();
  const firstPoints = splitPoints(wholeTrace(shape), bits[0] as number);
  if (
    assert === undefined ||
    !isU32(assert.steps) ||
    !isChainValue(assert.h0) ||
    !isChainValue(assert.hEnd) ||
    !wellFormedPoints(assert.points, firstPoints.length)
  ) {
    return timeout('operator', 'assert');
  }
  log('operator', 'assert', 1, `T′ = ${assert.steps}`);
  const early = challenger.onAssert(assert);
  if (early !== undefined) {
    log('challenger', 'disprove', undefined, early.leaf);
    return assertLeafSpends(ctx, shape, assert, early)
      ? end({ winner: 'challenger', end: 'disproved', at: early.leaf })
      : timeout('challenger', `choice 1 (its ${early.leaf} disprove does not spend)`);
  }

  // The first search.
  const committed = new Map<number, Uint8Array>([
    [0, assert.h0],
    [top, assert.hEnd],
  ]);
  for (const [k, p] of firstPoints.entries()) committed.set(p, assert.points[k] as Uint8Array);
  let segment: Segment = wholeTrace(shape);
  for (let r = 0; r < bits.length; r++) {
    const b = bits[r] as number;
    if (r > 0) {
      const points = splitPoints(segment, b);
      const values = operator.answer({ round: r + 1, segment, committed }, points);
      if (!wellFormedPoints(values, points.length)) return timeout('operator', `answer ${r + 1}`);
      for (const [k, p] of points.entries()) committed.set(p, values[k] as Uint8Array);
      log('operator', 'answer', r + 1);
    }
    const choice = challenger.choose({ round: r + 1, segment, committed }, b);
    if (choice === undefined || !Number.isInteger(choice) || choice < 0 || choice >= 2 ** b) {
      return timeout('challenger', `choice ${r + 1}`);
    }
    segment = narrow(segment, b, choice);
    log('challenger', 'choice', r + 1, `segment [${segment.left}, ${segment.left + segment.width}]`);
  }
  const i = segment.left;

  // The reveal of step i.
  const reveal = operator.reveal(i);
  if (reveal === undefined) return timeout('operator', 'reveal', { step: i });
  if (isRefusal(reveal)) {
    return reveal.refuse === 'past-end' && i >= assert.steps
      ? end({ winner: 'operator', end: 'refused', at: 'past-end', step: i })
      : timeout('operator', 'reveal', { step: i });
  }
  if (
    !wellFormedRecord(reveal.record) ||
    !isU32(reveal.r1last) ||
    !isU32(reveal.r2last) ||
    !isChainValue(reveal.h) ||
    !isChainValue(reveal.hNext)
  ) {
    return timeout('operator', 'reveal', { step: i });
  }
  log('operator', 'reveal', undefined, `step ${i} at pc ${reveal.record.pc}`);
  const site: RevealSite = {
    step: i,
    claimedSteps: assert.steps,
    committedH: committed.get(i) as Uint8Array,
    committedHNext: committed.get(i + 1) as Uint8Array,
  };
  const response = challenger.onReveal(site, reveal);
  if (response === undefined) return timeout('challenger', 'after the reveal', { step: i });
  if ('disprove' in response) {
    log('challenger', 'disprove', undefined, response.disprove.leaf);
    return revealLeafSpends(ctx, site, reveal, response.disprove)
      ? end({ winner: 'challenger', end: 'disproved', at: response.disprove.leaf, step: i })
      : timeout('challenger', `after the reveal (its ${response.disprove.leaf} disprove does not spend)`, {
          step: i,
        });
  }
  log('challenger', 'request', undefined, `q = ${response.request}`);
  if (response.request === 3)
    return playTapePath(ctx, operator, challenger, reveal, i, { log, end, timeout });
  return playReadSearch(shape, operator, challenger, assert.h0, reveal, i, response.request, {
    log,
    end,
    timeout,
  });
}

type Tools = {
  log: (side: GameSide, move: string, round?: number, detail?: string) => void;
  end: (o: Omit<GameOutcome, 'moves'>) => GameOutcome;
  timeout: (loser: GameSide, at: string, extra?: Partial<GameOutcome>) => GameOutcome;
};

function playTapePath(
  ctx: GameContext,
  operator: OperatorPlayer,
  challenger: ChallengerPlayer,
  reveal: StepReveal,
  i: number,
  { log, end, timeout }: Tools,
): GameOutcome {
  const path = operator.revealTape(i);
  if (path === undefined) return timeout('operator', 'tape reveal', { step: i });
  if (isRefusal(path)) {
    const ins = ctx.program.instructions[reveal.record.pc];
    // A step that is not a `tape` step, or a `tape` step that faulted, wrote no tape word to prove.
    return path.refuse === 'not-a-tape-step' && (ins?.op !== 'tape' || reveal.record.w.addr === NONE)
      ? end({ winner: 'operator', end: 'refused', at: 'not-a-tape-step', step: i })
      : timeout('operator', 'tape reveal', { step: i });
  }
  if (!isWellFormedTapeReveal(path)) return timeout('operator', 'tape reveal', { step: i });
  log('operator', 'tape reveal', undefined, `position ${path.position}`);
  const site = { record: reveal.record };
  const attempt = challenger.onTapeReveal(site, path as TapeReveal);
  if (attempt === undefined) return timeout('challenger', 'after the tape reveal', { step: i });
  log('challenger', 'disprove', undefined, attempt.leaf);
  return tapeRevealLeafSpends(ctx, site, path, attempt)
    ? end({ winner: 'challenger', end: 'disproved', at: attempt.leaf, step: i })
    : timeout('challenger', `after the tape reveal (its ${attempt.leaf} disprove does not spend)`, {
        step: i,
      });
}

/**
 * The second search (§24.5) for read q of step i: over the same grid, with every point at or past i
 * standing for the reveal's h_i, the operator moving first in each round.
 */
function playReadSearch(
  shape: SearchShape,
  operator: OperatorPlayer,
  challenger: ChallengerPlayer,
  h0: Uint8Array,
  reveal: StepReveal,
  i: number,
  q: 1 | 2,
  { log, end, timeout }: Tools,
): GameOutcome {
  const bits = roundBits(shape);
  const committed = new Map<number, Uint8Array>([
    [0, h0],
    [i, reveal.h],
  ]);
  let segment: Segment = wholeTrace(shape);
  for (let r = 0; r < bits.length; r++) {
    const b = bits[r] as number;
    const points = splitPoints(segment, b).filter((p) => p < i);
    const view: SearchView = { round: r + 1, segment, committed };
    const values = operator.answerRead(q, view, points);
    if (!wellFormedPoints(values, points.length)) return timeout('operator', `answer′ ${r + 1}`, { step: i });
    for (const [k, p] of points.entries()) committed.set(p, values[k] as Uint8Array);
    log('operator', 'answer′', r + 1);
    const choice = challenger.chooseRead(q, view, b, i);
    if (choice === undefined || !Number.isInteger(choice) || choice < 0 || choice >= 2 ** b) {
      return timeout('challenger', `choice′ ${r + 1}`, { step: i });
    }
    segment = narrow(segment, b, choice);
    log('challenger', 'choice′', r + 1, `segment [${segment.left}, ${segment.left + segment.width}]`);
  }
  const j = segment.left;
  const written = operator.revealWrite(q, j);
  if (written === undefined) return timeout('operator', 'reveal′', { step: i, writeStep: j });
  if (isRefusal(written)) {
    return written.refuse === 'past-end' && j >= i
      ? end({ winner: 'operator', end: 'refused', at: 'past-end', step: i, writeStep: j })
      : timeout('operator', 'reveal′', { step: i, writeStep: j });
  }
  if (
    !isChainValue(written.h) ||
    !isChainValue(written.hNext) ||
    !isU32(written.pc) ||
    !isU32(written.nextPc) ||
    !isAccess(written.w)
  ) {
    return timeout('operator', 'reveal′', { step: i, writeStep: j });
  }
  log('operator', 'reveal′', undefined, `step ${j}`);
  const read = q === 1 ? reveal.record.r1 : reveal.record.r2;
  const site: WriteRevealSite = {
    step: j,
    readStep: i,
    address: read.addr,
    value: read.value,
    lastWrite: q === 1 ? reveal.r1last : reveal.r2last,
    // Every grid point at or past i stands for the reveal's h_i (§24.5): the operator signs h_i there.
    committedH: committed.get(Math.min(j, i)) as Uint8Array,
    committedHNext: committed.get(Math.min(j + 1, i)) as Uint8Array,
  };
  const attempt = challenger.onWriteReveal(site, written as WriteReveal);
  if (attempt === undefined) return timeout('challenger', 'after reveal′', { step: i, writeStep: j });
  log('challenger', 'disprove', undefined, attempt.leaf);
  return writeRevealLeafSpends(site, written, attempt)
    ? end({ winner: 'challenger', end: 'disproved', at: attempt.leaf, step: i, writeStep: j })
    : timeout('challenger', `after reveal′ (its ${attempt.leaf} disprove does not spend)`, {
        step: i,
        writeStep: j,
      });
}
