/**
 * An operator that plays a narrowing game from a run of its own (docs/protocol.md §24): it commits its
 * padded chain, reveals its records with the true last-write steps of their reads, and refuses only what
 * a refusal leaf lets it refuse. Given the honest run it is the honest operator; given the run of a
 * faulty build (src/machine/programs/faults.ts), chained from the honest h_0, it is an operator that lies
 * consistently to keep a wrong root. The devnet's lying operators start from it and change single moves.
 * Pure: no I/O.
 */
import { chainOf } from '../../machine/chain.ts';
import { NONE, type StepRecord, TAPE_HALF_DEPTH, wordBytes } from '../../machine/isa.ts';
import type { Program } from '../../machine/program.ts';
import { nodeHash, type Tape } from '../../machine/tape.ts';
import { roundBits, type SearchShape, splitPoints, wholeTrace } from './grid.ts';
import { type HonestView, viewOfRun } from './honest-view.ts';
import type { Refusal, StepReveal, TapeReveal, WriteReveal } from './moves.ts';
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

/**
 * The operator player of a run held as a view (honest-view.ts): the honest operator of an epoch of any
 * length, since a checkpointed view answers without keeping the run's records.
 */
export function viewOperator(shape: SearchShape, program: Program, view: HonestView): OperatorPlayer {
  /** The step the last reveal named: the second search stays below it. */
  let readStep = 0;
  const lastWrite = (i: number, addr: number) => {
    if (addr === NONE) return NONE;
    const { writer } = view.memoryBefore(i, addr);
    return writer < 0 ? NONE : writer;
  };
  return {
    assert() {
      const points = splitPoints(wholeTrace(shape), roundBits(shape)[0] as number);
      return {
        steps: view.stepCount,
        h0: view.chainAt(0),
        hEnd: view.chainAt(view.stepCount),
        points: points.map((p) => view.chainAt(p)),
      };
    },
    answer: (_view, points) => points.map((p) => view.chainAt(p)),
    reveal(i): StepReveal | Refusal {
      if (i >= view.stepCount) return { refuse: 'past-end' };
      readStep = i;
      const record = view.stepAt(i);
      return {
        record,
        r1last: lastWrite(i, record.r1.addr),
        r2last: lastWrite(i, record.r2.addr),
        h: view.chainAt(i),
        hNext: view.chainAt(i + 1),
      };
    },
    answerRead: (_q, _view, points) => points.map((p) => view.chainAt(p)),
    revealWrite(_q, j): WriteReveal | Refusal {
      if (j >= readStep) return { refuse: 'past-end' };
      const step = view.stepAt(j);
      return { h: view.chainAt(j), hNext: view.chainAt(j + 1), pc: step.pc, nextPc: step.nextPc, w: step.w };
    },
    revealTape(i) {
      const step = view.stepAt(i);
      if (program.instructions[step.pc]?.op !== 'tape' || step.w.addr === NONE)
        return { refuse: 'not-a-tape-step' };
      return tapeRevealOf(view.tape, Number(step.r1.value));
    },
  };
}

/** The operator player of a list of records chained from a given h_0, and the chain it commits. */
export function traceOperator(
  shape: SearchShape,
  trace: OperatorTrace,
): OperatorPlayer & { chain: Uint8Array[] } {
  const chain = chainOf(trace.h0, trace.steps);
  const last = trace.steps.at(-1);
  const view = viewOfRun({ steps: trace.steps, chain, tape: trace.tape, result: last?.r1.value ?? 0n });
  return { ...viewOperator(shape, trace.program, view), chain };
}
