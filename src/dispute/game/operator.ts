/**
 * An operator that plays a narrowing game from a trace of its own (docs/protocol.md §24): it commits its
 * padded chain, reveals its records with the true last-write steps of their reads, and refuses only what
 * a refusal leaf lets it refuse. Given the honest run it is the honest operator; given the run of a
 * faulty build (src/machine/programs/faults.ts), chained from the honest h_0, it is an operator that lies
 * consistently to keep a wrong root. The devnet's lying operators start from it and change single moves.
 * Pure: no I/O.
 */
import { chainOf, paddedChainValue } from '../../machine/chain.ts';
import { NONE, type StepRecord, TAPE_HALF_DEPTH, wordBytes } from '../../machine/isa.ts';
import type { Program } from '../../machine/program.ts';
import { readIndex } from '../../machine/reads.ts';
import { nodeHash, type Tape } from '../../machine/tape.ts';
import { roundBits, type SearchShape, splitPoints, wholeTrace } from './grid.ts';
import type { StepReveal, TapeReveal, WriteReveal } from './moves.ts';
import type { OperatorPlayer } from './players.ts';

export type OperatorTrace = {
  readonly program: Program;
  readonly steps: readonly StepRecord[];
  /** The h_0 it commits (the honest one, or its trace is disproved at the assert). */
  readonly h0: Uint8Array;
  readonly tape: Tape;
};

/** The nodes from a tape word up to its half's root, as a tape reveal commits them. */
export function tapeRevealOf(tape: Tape, position: number): TapeReveal {
  const path = tape.path(position);
  const siblings = path.slice(0, TAPE_HALF_DEPTH);
  const nodes = [wordBytes(tape.word(position))];
  for (let j = 0; j < TAPE_HALF_DEPTH; j++) {
    const node = nodes[j] as Uint8Array;
    const sibling = siblings[j] as Uint8Array;
    nodes.push(Math.floor(position / 2 ** j) % 2 === 0 ? nodeHash(node, sibling) : nodeHash(sibling, node));
  }
  return { position, nodes, siblings };
}

/** The operator player of a trace, and the chain it commits (h_0 … h_T). */
export function traceOperator(
  shape: SearchShape,
  trace: OperatorTrace,
): OperatorPlayer & { chain: Uint8Array[] } {
  const { steps, program, tape } = trace;
  const chain = chainOf(trace.h0, steps);
  const reads = readIndex(steps);
  const at = (p: number) => paddedChainValue(chain, p);
  /** The step the last reveal named: the second search stays below it. */
  let readStep = 0;
  return {
    chain,
    assert() {
      const points = splitPoints(wholeTrace(shape), roundBits(shape)[0] as number);
      return { steps: steps.length, h0: trace.h0, hEnd: at(steps.length), points: points.map(at) };
    },
    answer(_view, points) {
      return points.map(at);
    },
    reveal(i): StepReveal | { refuse: 'past-end' } {
      if (i >= steps.length) return { refuse: 'past-end' };
      readStep = i;
      return {
        record: steps[i] as StepRecord,
        r1last: reads.lastWrite(i, 1) ?? NONE,
        r2last: reads.lastWrite(i, 2) ?? NONE,
        h: at(i),
        hNext: at(i + 1),
      };
    },
    answerRead(_q, _view, points) {
      return points.map(at);
    },
    revealWrite(_q, j): WriteReveal | { refuse: 'past-end' } {
      if (j >= readStep) return { refuse: 'past-end' };
      const step = steps[j] as StepRecord;
      return { h: at(j), hNext: at(j + 1), pc: step.pc, nextPc: step.nextPc, w: step.w };
    },
    revealTape(i) {
      const step = steps[i] as StepRecord;
      if (program.instructions[step.pc]?.op !== 'tape' || step.w.addr === NONE)
        return { refuse: 'not-a-tape-step' };
      return tapeRevealOf(tape, Number(step.r1.value));
    },
  };
}
