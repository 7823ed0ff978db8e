/**
 * The two sides of a narrowing game as the referee calls them (docs/protocol.md §24). Every method is one
 * move; `undefined` is silence, which the opponent answers with a timeout. A move that is malformed (the
 * wrong number of points, a value of the wrong size) cannot be signed into its presigned transaction, so
 * the referee treats it as silence too. Pure: no I/O.
 */
import type {
  AssertAttempt,
  RevealAttempt,
  RevealSite,
  TapeRevealAttempt,
  TapeRevealSite,
  WriteRevealAttempt,
  WriteRevealSite,
} from './leaves.ts';
import type { AssertMove, Query, Refusal, SearchView, StepReveal, TapeReveal, WriteReveal } from './moves.ts';

export type OperatorPlayer = {
  assert(): AssertMove | undefined;
  /** The values at `points` (the round's split points of view.segment), left to right. */
  answer(view: SearchView, points: readonly number[]): readonly Uint8Array[] | undefined;
  reveal(step: number): StepReveal | Refusal | undefined;
  /** The second search's values at `points` (its split points below the read's step). */
  answerRead(query: Query, view: SearchView, points: readonly number[]): readonly Uint8Array[] | undefined;
  revealWrite(query: Query, step: number): WriteReveal | Refusal | undefined;
  revealTape(step: number): TapeReveal | Refusal | undefined;
};

/** After a reveal the challenger disproves, asks for a read's or the tape's proof, or stays silent. */
export type RevealResponse = { readonly disprove: RevealAttempt } | { readonly request: Query };

export type ChallengerPlayer = {
  /** A leaf on the assert's output, or undefined to play the search. */
  onAssert(assert: AssertMove): AssertAttempt | undefined;
  /** The choice (0 … 2^bits − 1) after the operator's points of this round, or silence. */
  choose(view: SearchView, bits: number): number | undefined;
  onReveal(site: RevealSite, reveal: StepReveal): RevealResponse | undefined;
  chooseRead(query: Query, view: SearchView, bits: number, readStep: number): number | undefined;
  onWriteReveal(site: WriteRevealSite, reveal: WriteReveal): WriteRevealAttempt | undefined;
  onTapeReveal(site: TapeRevealSite, reveal: TapeReveal): TapeRevealAttempt | undefined;
};
