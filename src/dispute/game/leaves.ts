/**
 * The TypeScript twins of the narrowing game's disprove leaves (docs/protocol.md §24.4–24.5): for each
 * leaf, exactly when a challenger's spend of it is valid, given what the operator committed and what the
 * challenger attaches. The referee accepts a disprove only through these, the challenger's rule builds
 * one only when its twin says it spends, and the Bitcoin scripts of #15 are tested against them.
 *
 * Soundness rests on every twin being false on an honest operator's commitments whatever the challenger
 * chose and attached (test/dispute/game/soundness.test.ts), completeness on the rule always finding one
 * that is true against a false claim (completeness.test.ts). Pure: no I/O.
 */
import { equalBytes } from '../../core/bytes.ts';
import { chainNext, chainStart } from '../../machine/chain.ts';
import {
  type Access,
  ADDRESS_LIMIT,
  NONE,
  type StepRecord,
  TAPE_HALF_DEPTH,
  TAPE_LIMIT,
  wordBytes,
} from '../../machine/isa.ts';
import { programHash } from '../../machine/program.ts';
import { isWrongStep } from '../../machine/semantics.ts';
import { nodeHash, tapeRoot } from '../../machine/tape.ts';
import type { SearchShape } from './grid.ts';
import type { AssertMove, GameContext, Preimage, StepReveal, TapeReveal, WriteReveal } from './moves.ts';

export type ReadSlot = 1 | 2;

const h0Cache = new WeakMap<GameContext, Uint8Array>();

/** h_0 as the kick-off's two roots and the graph's program fix it (§22.4). */
export function expectedH0(ctx: GameContext): Uint8Array {
  let h0 = h0Cache.get(ctx);
  if (h0 === undefined) {
    h0 = chainStart(tapeRoot(ctx.imageRoot, ctx.inputsRoot), programHash(ctx.program));
    h0Cache.set(ctx, h0);
  }
  return h0;
}

/**
 * Leaves on the assert's output Q_w, spendable as soon as the assert confirms: h_0 against the kick-off's
 * roots, T′ in range, and the kick-off's image root against the root the graph fixes.
 */
export type AssertAttempt =
  | { readonly leaf: 'h0' }
  | { readonly leaf: 'length' }
  | { readonly leaf: 'image-root' };

/** Every assert leaf, in the order Vigil's rule tries them. */
export const ASSERT_LEAVES: readonly AssertAttempt['leaf'][] = ['image-root', 'h0', 'length'];

export function assertLeafSpends(
  ctx: GameContext,
  shape: SearchShape,
  assert: AssertMove,
  attempt: AssertAttempt,
): boolean {
  switch (attempt.leaf) {
    case 'h0':
      return !equalBytes(assert.h0, expectedH0(ctx));
    case 'length':
      return assert.steps < 1 || assert.steps > 2 ** shape.depth;
    case 'image-root':
      return !equalBytes(ctx.imageRoot, ctx.agreedImageRoot);
  }
}

/** Where the first search ended: step i (from the choices), T′, and the points committed at i and i + 1. */
export type RevealSite = {
  readonly step: number;
  readonly claimedSteps: number;
  readonly committedH: Uint8Array;
  readonly committedHNext: Uint8Array;
};

export type RevealAttempt =
  | { readonly leaf: 'resign'; readonly side: 'h' | 'hNext' }
  | { readonly leaf: 'chain-link' }
  | { readonly leaf: 'pc-link'; readonly preimage?: Preimage }
  | { readonly leaf: 'pc-range' }
  | { readonly leaf: 'execution' }
  | { readonly leaf: 'unwritten-read'; readonly read: ReadSlot }
  | { readonly leaf: 'future-read'; readonly read: ReadSlot }
  | { readonly leaf: 'last-step' }
  | { readonly leaf: 'early-halt' };

/** A re-signed end of the final segment differs from the point it repeats (both searches' resign leaves). */
const resigned = (
  side: 'h' | 'hNext',
  reveal: { readonly h: Uint8Array; readonly hNext: Uint8Array },
  site: { readonly committedH: Uint8Array; readonly committedHNext: Uint8Array },
): boolean =>
  side === 'h' ? !equalBytes(reveal.h, site.committedH) : !equalBytes(reveal.hNext, site.committedHNext);

const readOf = (record: StepRecord, slot: ReadSlot): Access => (slot === 1 ? record.r1 : record.r2);
const lastOf = (reveal: StepReveal, slot: ReadSlot): number => (slot === 1 ? reveal.r1last : reveal.r2last);
const isHalt = (ctx: GameContext, pc: number): boolean => ctx.program.instructions[pc]?.op === 'halt';

/** Whether the preimage hashes to `target`: a leaf recomputes one chain link from it. */
const linksTo = (preimage: Preimage, target: Uint8Array): boolean =>
  equalBytes(chainNext(preimage.h, preimage.record), target);

export function revealLeafSpends(
  ctx: GameContext,
  site: RevealSite,
  reveal: StepReveal,
  attempt: RevealAttempt,
): boolean {
  const { record } = reveal;
  const length = ctx.program.instructions.length;
  switch (attempt.leaf) {
    case 'resign':
      return resigned(attempt.side, reveal, site);
    case 'chain-link':
      return !equalBytes(chainNext(reveal.h, record), reveal.hNext);
    case 'pc-link':
      // Step 0 starts at the entry point; any later step at the next pc of the record h_i commits to,
      // and no step follows a halt (the run ends at its first one). The second condition is what
      // disproves a claim that runs on past the honest halt, where the honest chain only repeats h_T.
      if (site.step === 0) return record.pc !== 0;
      return (
        attempt.preimage !== undefined &&
        linksTo(attempt.preimage, reveal.h) &&
        (attempt.preimage.record.nextPc !== record.pc || isHalt(ctx, attempt.preimage.record.pc))
      );
    case 'pc-range':
      return record.pc >= length;
    case 'execution': {
      const ins = ctx.program.instructions[record.pc];
      return ins !== undefined && isWrongStep(record.pc, ins, record);
    }
    case 'unwritten-read': {
      const read = readOf(record, attempt.read);
      return read.addr !== NONE && lastOf(reveal, attempt.read) === NONE && read.value !== 0n;
    }
    case 'future-read': {
      const last = lastOf(reveal, attempt.read);
      return readOf(record, attempt.read).addr !== NONE && last !== NONE && last >= site.step;
    }
    case 'last-step':
      return (
        site.step === site.claimedSteps - 1 &&
        (!isHalt(ctx, record.pc) || record.r1.value !== ctx.claimedRoot)
      );
    case 'early-halt':
      return site.step < site.claimedSteps - 1 && isHalt(ctx, record.pc);
  }
}

/** Where the second search ended: step j, the read it serves (step i, address, value, ℓ), the points at j and j + 1. */
export type WriteRevealSite = {
  readonly step: number;
  readonly readStep: number;
  readonly address: number;
  readonly value: bigint;
  readonly lastWrite: number;
  readonly committedH: Uint8Array;
  readonly committedHNext: Uint8Array;
};

export type WriteRevealAttempt =
  | { readonly leaf: 'resign'; readonly side: 'h' | 'hNext' }
  | { readonly leaf: 'chain-link' }
  | { readonly leaf: 'wrong-predecessor'; readonly preimage: Preimage }
  /** RV1: step ℓ wrote the address, but not the value read. */
  | { readonly leaf: 'read-value' }
  /** RV2: a write to the address after ℓ and before the read. */
  | { readonly leaf: 'later-write' }
  /** RV3: step ℓ did not write the address. */
  | { readonly leaf: 'not-a-write' };

export function writeRevealLeafSpends(
  site: WriteRevealSite,
  reveal: WriteReveal,
  attempt: WriteRevealAttempt,
): boolean {
  // A read that names no address is the execution leaves' business; every RV leaf checks a ≠ NONE.
  const isRead = site.address !== NONE;
  switch (attempt.leaf) {
    case 'resign':
      return resigned(attempt.side, reveal, site);
    case 'chain-link':
      return !equalBytes(
        chainNext(reveal.h, { pc: reveal.pc, nextPc: reveal.nextPc, w: reveal.w, r1: NO_READ, r2: NO_READ }),
        reveal.hNext,
      );
    case 'wrong-predecessor':
      return linksTo(attempt.preimage, reveal.hNext) && !equalBytes(attempt.preimage.h, reveal.h);
    case 'read-value':
      return (
        isRead &&
        site.step === site.lastWrite &&
        reveal.w.addr === site.address &&
        reveal.w.value !== site.value
      );
    case 'later-write':
      return (
        isRead &&
        (site.lastWrite === NONE || site.lastWrite < site.step) &&
        site.step < site.readStep &&
        reveal.w.addr === site.address
      );
    case 'not-a-write':
      return isRead && site.step === site.lastWrite && reveal.w.addr !== site.address;
  }
}

/** The chain does not hash reads, so a write reveal's link is recomputed with none. */
const NO_READ: Access = { addr: NONE, value: 0n };

/** The tape path of step i: its record (r1 value = position, write = the word) and the kick-off's roots. */
export type TapeRevealSite = { readonly record: StepRecord };

export type TapeRevealAttempt =
  | { readonly leaf: 'tape-position' }
  | { readonly leaf: 'tape-word' }
  | { readonly leaf: 'tape-level'; readonly level: number }
  | { readonly leaf: 'tape-top' };

/** A tape reveal has 30 nodes and 29 siblings of 32 bytes; anything else cannot be signed into the move. */
export function isWellFormedTapeReveal(reveal: TapeReveal): boolean {
  return (
    Number.isInteger(reveal.position) &&
    reveal.position >= 0 &&
    reveal.position < 2 ** 32 &&
    reveal.nodes.length === TAPE_HALF_DEPTH + 1 &&
    reveal.siblings.length === TAPE_HALF_DEPTH &&
    [...reveal.nodes, ...reveal.siblings].every((n) => n.length === 32)
  );
}

export function tapeRevealLeafSpends(
  ctx: GameContext,
  site: TapeRevealSite,
  reveal: TapeReveal,
  attempt: TapeRevealAttempt,
): boolean {
  const node = (j: number) => reveal.nodes[j] as Uint8Array;
  switch (attempt.leaf) {
    case 'tape-position':
      return site.record.r1.value !== BigInt(reveal.position);
    case 'tape-word':
      return !equalBytes(node(0), wordBytes(site.record.w.value));
    case 'tape-level': {
      const j = attempt.level;
      if (!Number.isInteger(j) || j < 0 || j >= TAPE_HALF_DEPTH) return false;
      // A position past the tape has no path: every level's leaf spends (as the script does).
      if (reveal.position >= TAPE_LIMIT) return true;
      const sibling = reveal.siblings[j] as Uint8Array;
      const left = Math.floor(reveal.position / 2 ** j) % 2 === 0;
      const parent = left ? nodeHash(node(j), sibling) : nodeHash(sibling, node(j));
      return !equalBytes(parent, node(j + 1));
    }
    case 'tape-top': {
      if (reveal.position >= TAPE_LIMIT) return true;
      const root = reveal.position < ADDRESS_LIMIT ? ctx.imageRoot : ctx.inputsRoot;
      return !equalBytes(node(TAPE_HALF_DEPTH), root);
    }
  }
}

/**
 * Every reveal leaf in the order Vigil's rule tries them, the pc link once per preimage given (none at
 * step 0, where it needs none). The griefing tests try the same list.
 */
export function revealAttempts(preimages: readonly (Preimage | undefined)[]): RevealAttempt[] {
  return [
    { leaf: 'resign', side: 'h' },
    { leaf: 'resign', side: 'hNext' },
    { leaf: 'chain-link' },
    ...preimages.map(
      (preimage): RevealAttempt =>
        preimage === undefined ? { leaf: 'pc-link' } : { leaf: 'pc-link', preimage },
    ),
    { leaf: 'pc-range' },
    { leaf: 'execution' },
    { leaf: 'unwritten-read', read: 1 },
    { leaf: 'unwritten-read', read: 2 },
    { leaf: 'future-read', read: 1 },
    { leaf: 'future-read', read: 2 },
    { leaf: 'last-step' },
    { leaf: 'early-halt' },
  ];
}

/** Every reveal′ leaf in the order Vigil's rule tries them, the wrong predecessor once per preimage. */
export function writeRevealAttempts(preimages: readonly Preimage[]): WriteRevealAttempt[] {
  return [
    { leaf: 'resign', side: 'h' },
    { leaf: 'resign', side: 'hNext' },
    { leaf: 'chain-link' },
    ...preimages.map((preimage): WriteRevealAttempt => ({ leaf: 'wrong-predecessor', preimage })),
    { leaf: 'read-value' },
    { leaf: 'later-write' },
    { leaf: 'not-a-write' },
  ];
}

/** Every tape-path leaf: the position, the word, each level, the top. */
export function tapeRevealAttempts(): TapeRevealAttempt[] {
  return [
    { leaf: 'tape-position' },
    { leaf: 'tape-word' },
    ...Array.from(
      { length: TAPE_HALF_DEPTH },
      (_, level): TapeRevealAttempt => ({ leaf: 'tape-level', level }),
    ),
    { leaf: 'tape-top' },
  ];
}
