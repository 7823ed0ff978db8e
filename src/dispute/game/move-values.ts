/**
 * The moves of the pure game (moves.ts) as the labelled values their transactions sign (the key plan's
 * labels, key-plan.ts), and back: what a mover signs for a move, and what a reader takes a confirmed
 * move to say. Pure: no I/O.
 */
import { VigilError } from '../../core/errors.ts';
import {
  fieldValue,
  SMALL_BYTES,
  STEP_FIELDS,
  type StepRecord,
  smallBytes,
  WORD_BYTES,
  wordBytes,
} from '../../machine/isa.ts';
import type { AssertMove, StepReveal, TapeReveal, WriteReveal } from './moves.ts';

export class MoveValueError extends VigilError {
  override name = 'MoveValueError';
}

/** A move's values by label, as signed (or as read off a confirmed move). */
export type MoveValues = ReadonlyMap<string, Uint8Array>;

function get(values: MoveValues, label: string, bytes: number): Uint8Array {
  const v = values.get(label);
  if (v === undefined) throw new MoveValueError(`The move has no value ${label}`);
  if (v.length !== bytes) throw new MoveValueError(`${label} is ${v.length} bytes, not ${bytes}`);
  return v;
}

const small = (values: MoveValues, label: string): number => {
  const b = get(values, label, SMALL_BYTES);
  return (
    ((b[0] as number) * 2 ** 24 + (((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number))) >>>
    0
  );
};

const word = (values: MoveValues, label: string): bigint => {
  let w = 0n;
  for (const byte of get(values, label, WORD_BYTES)) w = (w << 8n) | BigInt(byte);
  return w;
};

/** The assert's values: T′, h_0, h_{2^K} and round 1's points. */
export function assertValues(a: AssertMove): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>([
    ['steps', smallBytes(a.steps)],
    ['h0', a.h0],
    ['hEnd', a.hEnd],
  ]);
  a.points.forEach((p, k) => {
    m.set(`round1.point${k + 1}`, p);
  });
  return m;
}

export function assertFromValues(values: MoveValues, points: number, chainBytes: number): AssertMove {
  return {
    steps: small(values, 'steps'),
    h0: get(values, 'h0', chainBytes),
    hEnd: get(values, 'hEnd', chainBytes),
    points: Array.from({ length: points }, (_, k) => get(values, `round1.point${k + 1}`, chainBytes)),
  };
}

/** An answer's (`answer`) or answer′'s (`answer′`) values: its points, left to right. */
export function answerValues(
  prefix: string,
  round: number,
  points: readonly Uint8Array[],
): Map<string, Uint8Array> {
  return new Map(points.map((p, k) => [`${prefix}${round}.point${k + 1}`, p]));
}

export function answerFromValues(
  values: MoveValues,
  prefix: string,
  round: number,
  points: number,
  chainBytes: number,
): Uint8Array[] {
  return Array.from({ length: points }, (_, k) => get(values, `${prefix}${round}.point${k + 1}`, chainBytes));
}

/** A choice's value (`choice` or `choice′`), with choice 1's echo of T′. */
export function choiceValues(
  prefix: string,
  round: number,
  choice: number,
  steps?: number,
): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>([[`${prefix}${round}`, Uint8Array.of(choice)]]);
  if (steps !== undefined) m.set('echo.steps', smallBytes(steps));
  return m;
}

export const choiceFromValues = (values: MoveValues, prefix: string, round: number): number =>
  get(values, `${prefix}${round}`, 1)[0] as number;

/** The reveal's values and its echoes of the challenger's choices (round → choice). */
export function revealValues(r: StepReveal, choices: ReadonlyMap<number, number>): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  for (const f of STEP_FIELDS) m.set(`record.${f}`, fieldValue(r.record, f));
  m.set('r1last', smallBytes(r.r1last));
  m.set('r2last', smallBytes(r.r2last));
  m.set('h', r.h);
  m.set('hNext', r.hNext);
  for (const [round, c] of choices) m.set(`echo.choice${round}`, Uint8Array.of(c));
  return m;
}

export function revealFromValues(values: MoveValues, chainBytes: number): StepReveal {
  const record: StepRecord = {
    pc: small(values, 'record.pc'),
    r1: { addr: small(values, 'record.r1addr'), value: word(values, 'record.r1value') },
    r2: { addr: small(values, 'record.r2addr'), value: word(values, 'record.r2value') },
    w: { addr: small(values, 'record.waddr'), value: word(values, 'record.wvalue') },
    nextPc: small(values, 'record.nextPc'),
  };
  return {
    record,
    r1last: small(values, 'r1last'),
    r2last: small(values, 'r2last'),
    h: get(values, 'h', chainBytes),
    hNext: get(values, 'hNext', chainBytes),
  };
}

/** A request's echoes of the reveal's pc and write address (both requests sign the same). */
export function requestValues(r: StepReveal): Map<string, Uint8Array> {
  return new Map([
    ['echo.record.pc', smallBytes(r.record.pc)],
    ['echo.record.waddr', smallBytes(r.record.w.addr)],
  ]);
}

/** reveal′'s values and its echoes of the challenger's choices′. */
export function writeRevealValues(
  r: WriteReveal,
  choices: ReadonlyMap<number, number>,
): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>([
    ['h′', r.h],
    ['hNext′', r.hNext],
    ['pc′', smallBytes(r.pc)],
    ['nextPc′', smallBytes(r.nextPc)],
    ['waddr′', smallBytes(r.w.addr)],
    ['wvalue′', wordBytes(r.w.value)],
  ]);
  for (const [round, c] of choices) m.set(`echo.choice′${round}`, Uint8Array.of(c));
  return m;
}

export function writeRevealFromValues(values: MoveValues, chainBytes: number): WriteReveal {
  return {
    h: get(values, 'h′', chainBytes),
    hNext: get(values, 'hNext′', chainBytes),
    pc: small(values, 'pc′'),
    nextPc: small(values, 'nextPc′'),
    w: { addr: small(values, 'waddr′'), value: word(values, 'wvalue′') },
  };
}

/** A tape reveal's values (both tape transactions sign the same path). */
export function tapeValues(path: TapeReveal): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>([['tape.position', smallBytes(path.position)]]);
  path.nodes.forEach((n, k) => {
    m.set(`tape.node${k}`, n);
  });
  path.siblings.forEach((n, k) => {
    m.set(`tape.sibling${k}`, n);
  });
  return m;
}

/** A tape path from both tape reveals' values (each signs half of them). */
export function tapeFromValues(values: MoveValues, nodes: number, siblings: number): TapeReveal {
  return {
    position: small(values, 'tape.position'),
    nodes: Array.from({ length: nodes }, (_, k) => get(values, `tape.node${k}`, WORD_BYTES)),
    siblings: Array.from({ length: siblings }, (_, k) => get(values, `tape.sibling${k}`, WORD_BYTES)),
  };
}
