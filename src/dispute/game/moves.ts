/**
 * The moves of one narrowing game (docs/protocol.md §24.3–24.5) as values: what each side commits at each
 * turn, before any of it is Winternitz-signed into a transaction. The referee (referee.ts) plays them,
 * the leaf twins (leaves.ts) judge them. Pure: no I/O.
 */
import type { Access, StepRecord } from '../../machine/isa.ts';
import type { Program } from '../../machine/program.ts';
import type { Segment } from './grid.ts';

/** What the kick-off and the graph fix before any move: the program, the pre-state and the claim. */
export type GameContext = {
  readonly program: Program;
  /**
   * The pre-state image root and the inputs root I_e as the kick-off commits them: the h_0 and tape
   * leaves take these as given. A committed image root other than `agreedImageRoot` is disproved at the
   * assert (the image-root leaf). The inputs root only verifiers can check against the L2 (§22.8):
   * Vigil's rule refuses to play over another one (`UnchallengeableClaimError`).
   */
  readonly imageRoot: Uint8Array;
  readonly inputsRoot: Uint8Array;
  /**
   * The pre-state image root the graph fixes as a constant: the previous epoch's root (§24.11 fix 5).
   * Without it nothing binds the committed image root, and an operator that commits a false pre-state
   * and runs consistently from it would win every game.
   */
  readonly agreedImageRoot: Uint8Array;
  /** R′, the state root the kick-off claims, as the word the halting step must read. */
  readonly claimedRoot: bigint;
};

/** The operator's assert, shared by every game of the claim: T′, h_0, h_{2^K} (= h_T′) and round 1's points. */
export type AssertMove = {
  readonly steps: number;
  readonly h0: Uint8Array;
  readonly hEnd: Uint8Array;
  readonly points: readonly Uint8Array[];
};

/**
 * The reveal at the end of the first search (§24.4): step i's record, the step each read's value was
 * last written at (`NONE` when never), and h_i and h_{i+1} signed again.
 */
export type StepReveal = {
  readonly record: StepRecord;
  readonly r1last: number;
  readonly r2last: number;
  readonly h: Uint8Array;
  readonly hNext: Uint8Array;
};

/** reveal′ at the end of the second search (§24.5): h_j, h_{j+1} and what step j chained. */
export type WriteReveal = {
  readonly h: Uint8Array;
  readonly hNext: Uint8Array;
  readonly pc: number;
  readonly nextPc: number;
  readonly w: Access;
};

/**
 * The tape path of a `tape` step (§24.5, q = 3): its position, the nodes from the word (node_0) up to
 * its half's root (node_29), and the 29 siblings in between.
 */
export type TapeReveal = {
  readonly position: number;
  readonly nodes: readonly Uint8Array[];
  readonly siblings: readonly Uint8Array[];
};

/**
 * The operator's answer to a move it need not answer with values, each checked by a small leaf from what
 * is already signed: the challenger's choices spell a step the search may not end at (at or past T′ in
 * the first search, at or past i in the second), or it asked for the tape path of a step that is not a
 * `tape` step. The operator then takes the bond. Without these an honest operator could not answer such
 * a move (no record links h_T to itself; a `mov` has no tape path) and would lose to a griefer.
 */
export type Refusal = { readonly refuse: 'past-end' | 'not-a-tape-step' };

/** The requests after a reveal: the second search for read 1 or 2, or the tape path. */
export type Query = 1 | 2 | 3;

/** Which data a challenger attaches to a leaf that needs a preimage (pc link, wrong predecessor). */
export type Preimage = { readonly h: Uint8Array; readonly record: StepRecord };

/** A search's state as both sides see it: the segment and every value committed in it so far. */
export type SearchView = {
  readonly round: number;
  readonly segment: Segment;
  /** Position → committed chain value (the ends of the trace included). */
  readonly committed: ReadonlyMap<number, Uint8Array>;
};
