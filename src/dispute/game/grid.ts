/**
 * The search grid of the narrowing game (docs/protocol.md §24.2–24.3): how R rounds of n-ary search cut
 * the padded trace [0, 2^K] down to one step. Both searches (the first search over the whole trace, the
 * second over [0, i] for a read) use the same grid, so the choices of a search always spell one step
 * number in binary, most significant bits first, and script can rebuild it from the signed choices.
 * Pure: no I/O.
 */
import { VigilError } from '../../core/errors.ts';

export class SearchShapeError extends VigilError {
  override name = 'SearchShapeError';
}

/** n points per round (a power of two) and K, the trace bound T ≤ 2^K. */
export type SearchShape = { readonly pointsPerRound: number; readonly depth: number };

/** §24.2's table: n = 32 everywhere; K = 29 on mainnet, testnet and signet, 20 on regtest. */
export const MAINNET_SEARCH: SearchShape = { pointsPerRound: 32, depth: 29 };
export const REGTEST_SEARCH: SearchShape = { pointsPerRound: 32, depth: 20 };

/**
 * K ≤ 29: step numbers and T′ are committed as 4-byte values that a leaf reads below NONE = 2^29, so a
 * trace of 2^29 steps or more would make honest step numbers collide with NONE (an honest last write
 * at 2^29 would read as "never written") and with the sentinel above it.
 */
const MAX_DEPTH = 29;

export function validateShape(shape: SearchShape): void {
  const { pointsPerRound: n, depth: k } = shape;
  if (!Number.isInteger(n) || n < 2 || n > 1024 || (n & (n - 1)) !== 0) {
    throw new SearchShapeError(`Points per round must be a power of two from 2 to 1024, got ${n}`);
  }
  if (!Number.isInteger(k) || k < 1 || k > MAX_DEPTH) {
    throw new SearchShapeError(`The search depth K must be 1 .. ${MAX_DEPTH}, got ${k}`);
  }
}

/** Bits of the step number each round decides: log2 n for every round but the last, which takes the rest. */
export function roundBits(shape: SearchShape): number[] {
  validateShape(shape);
  const per = Math.log2(shape.pointsPerRound);
  const rounds = Math.ceil(shape.depth / per);
  return Array.from({ length: rounds }, (_, r) => (r < rounds - 1 ? per : shape.depth - per * (rounds - 1)));
}

export const searchRounds = (shape: SearchShape): number => roundBits(shape).length;

/** The trace positions [left, left + width] a search has narrowed to; width is a power of two. */
export type Segment = { readonly left: number; readonly width: number };

export const wholeTrace = (shape: SearchShape): Segment => {
  validateShape(shape);
  return { left: 0, width: 2 ** shape.depth };
};

function checkSplit(segment: Segment, bits: number): number {
  const parts = 2 ** bits;
  if (!Number.isInteger(bits) || bits < 1 || segment.width % parts !== 0 || segment.width < parts) {
    throw new SearchShapeError(`A segment of width ${segment.width} cannot be split into ${parts} parts`);
  }
  return parts;
}

/** The 2^bits − 1 interior points a round commits, left to right. */
export function splitPoints(segment: Segment, bits: number): number[] {
  const parts = checkSplit(segment, bits);
  const step = segment.width / parts;
  return Array.from({ length: parts - 1 }, (_, k) => segment.left + (k + 1) * step);
}

/** The sub-segment a choice c (0 ≤ c < 2^bits) names. */
export function narrow(segment: Segment, bits: number, choice: number): Segment {
  const parts = checkSplit(segment, bits);
  if (!Number.isInteger(choice) || choice < 0 || choice >= parts) {
    throw new SearchShapeError(`A choice among ${parts} segments is 0 .. ${parts - 1}, got ${choice}`);
  }
  const width = segment.width / parts;
  return { left: segment.left + choice * width, width };
}

/** The choice whose sub-segment holds position p (left ≤ p < left + width). */
export function choiceFor(segment: Segment, bits: number, p: number): number {
  const parts = checkSplit(segment, bits);
  if (!Number.isInteger(p) || p < segment.left || p >= segment.left + segment.width) {
    throw new SearchShapeError(`Position ${p} is outside [${segment.left}, ${segment.left + segment.width})`);
  }
  return Math.floor((p - segment.left) / (segment.width / parts));
}

/** The step the choices of a whole search spell (most significant bits first). */
export function stepOfChoices(shape: SearchShape, choices: readonly number[]): number {
  const bits = roundBits(shape);
  if (choices.length !== bits.length) {
    throw new SearchShapeError(
      `A search of ${bits.length} rounds has ${bits.length} choices, got ${choices.length}`,
    );
  }
  let segment = wholeTrace(shape);
  choices.forEach((c, r) => {
    segment = narrow(segment, bits[r] as number, c);
  });
  return segment.left;
}
