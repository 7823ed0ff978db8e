/**
 * The trace commitment of GVM-1 (docs/protocol.md §22.4): a hash chain over the steps, each link the
 * first 20 bytes of BLAKE3 of one 64-byte block, so that a disprove leaf recomputes one link with one
 * BLAKE3 compression. Step i contributes what later steps depend on: its pc, its next pc and its write
 * (reads are checked against earlier writes, §22.5, so they need not be chained).
 *
 *   h_0     = BLAKE3(tapeRoot ‖ programHash)[0..20]
 *   h_{i+1} = BLAKE3(h_i ‖ be32(pc_i) ‖ be32(nextPc_i) ‖ be32(waddr_i) ‖ wvalue_i)[0..20]
 */
import { blake3Block64 } from '../core/blake3.ts';
import { CHAIN_BYTES, type StepRecord, smallBytes, WORD_BYTES, wordBytes } from './isa.ts';

/** The 64-byte block hashed for the link after `step`. */
export function chainMessage(h: Uint8Array, step: StepRecord): Uint8Array {
  if (h.length !== CHAIN_BYTES)
    throw new RangeError(`A chain value is ${CHAIN_BYTES} bytes, not ${h.length}`);
  const m = new Uint8Array(64);
  m.set(h, 0);
  m.set(smallBytes(step.pc), 20);
  m.set(smallBytes(step.nextPc), 24);
  m.set(smallBytes(step.w.addr), 28);
  m.set(wordBytes(step.w.value), 32);
  return m;
}

export function chainNext(h: Uint8Array, step: StepRecord): Uint8Array {
  return blake3Block64(chainMessage(h, step)).slice(0, CHAIN_BYTES);
}

/** The chain's first value binds the tape (the pre-state and the inputs) and the program. */
export function chainStart(tapeRoot: Uint8Array, programHash: Uint8Array): Uint8Array {
  if (tapeRoot.length !== WORD_BYTES || programHash.length !== WORD_BYTES) {
    throw new RangeError('The tape root and the program hash are 32 bytes each');
  }
  const m = new Uint8Array(64);
  m.set(tapeRoot, 0);
  m.set(programHash, 32);
  return blake3Block64(m).slice(0, CHAIN_BYTES);
}

/**
 * The padded chain of the narrowing game (docs/protocol.md §24.3): a trace of T steps has h_0 … h_T, and
 * every position past T repeats h_T, so a search over [0, 2^K] needs no hashing beyond the run.
 */
export function paddedChainValue(chain: readonly Uint8Array[], position: number): Uint8Array {
  if (chain.length === 0) throw new RangeError('An empty chain has no values (the run was not hashed)');
  if (!Number.isInteger(position) || position < 0) throw new RangeError(`Not a trace position: ${position}`);
  return chain[Math.min(position, chain.length - 1)] as Uint8Array;
}

/** h_0 … h_T of a list of step records, from a given h_0 (an operator's chain over its own records). */
export function chainOf(h0: Uint8Array, steps: readonly StepRecord[]): Uint8Array[] {
  const out = [h0];
  let h = h0;
  for (const step of steps) {
    h = chainNext(h, step);
    out.push(h);
  }
  return out;
}
