/**
 * The witness items of a game output's leaf (output-leaves.ts), from the Winternitz signatures the game
 * has published so far and the spender's own Schnorr signature: what a watcher puts in a disprove, or an
 * operator in a refusal. Each leaf reads its values in the order its generator verifies them; this module
 * is the one place that knows which published signature fills each. Pure: no I/O.
 */
import { chainLinkWitness } from '../../../circuits/gvm/chain-leaf.ts';
import { execGroupOf } from '../../../circuits/gvm/exec-groups.ts';
import { execLeafWitness } from '../../../circuits/gvm/exec-leaf.ts';
import {
  earlyHaltWitness,
  futureReadWitness,
  lastStepWitness,
  laterWriteWitness,
  lengthWitness,
  notATapeStepWitness,
  notAWriteWitness,
  pastEndWitness,
  pastReadWitness,
  type ResignPoint,
  readValueWitness,
  resignAtReadWitness,
  resignWitness,
  tapePositionWitness,
  unwrittenReadLastWitness,
} from '../../../circuits/gvm/game-leaves.ts';
import { hashExecWitness } from '../../../circuits/gvm/hash-leaf.ts';
import {
  differsFromWitness,
  differWitness,
  equivocationWitness,
  pcRangeWitness,
} from '../../../circuits/gvm/memory-leaves.ts';
import {
  entryPcWitness,
  h0Witness,
  pcLinkWitness,
  wrongPredecessorWitness,
} from '../../../circuits/gvm/preimage-leaves.ts';
import { tapeLevelWitness, tapeTopWitness } from '../../../circuits/gvm/tape-leaf.ts';
import { VigilError } from '../../core/errors.ts';
import { STEP_FIELDS, type StepField, TAPE_HALF_DEPTH } from '../../machine/isa.ts';
import type { Program } from '../../machine/program.ts';
import type { WotsSignature } from '../winternitz/sign.ts';
import { roundBits, type SearchShape } from './grid.ts';
import type { AssertAttempt, RevealAttempt, TapeRevealAttempt, WriteRevealAttempt } from './leaves.ts';
import { gameExecGroups, resignLabels } from './output-leaves.ts';
import type { GameSigner } from './signer-keys.ts';

export class LeafWitnessError extends VigilError {
  override name = 'LeafWitnessError';
}

/** Every Winternitz signature published in a game so far, by signer and planned label. */
export type PublishedSignatures = {
  readonly operator: ReadonlyMap<string, WotsSignature>;
  readonly challenger: ReadonlyMap<string, WotsSignature>;
  /** The kick-off's signatures of R′ and the two roots (§15's keys). */
  readonly kickoff: {
    readonly root?: WotsSignature;
    readonly imageRoot?: WotsSignature;
    readonly inputsRoot?: WotsSignature;
  };
};

/** What some leaves need besides signatures. */
export type LeafExtras = {
  /** pc link, wrong predecessor: the 64-byte chain block the spender supplies unsigned. */
  readonly block?: Uint8Array;
  /** equivocation: the second signature under the key, of another value. */
  readonly second?: WotsSignature;
};

/** The items below the script and control block of the leaf `name` (unique in a game), spent by `spenderSig`'s owner. */
export function gameLeafItems(
  shape: SearchShape,
  name: string,
  sigs: PublishedSignatures,
  spenderSig: Uint8Array,
  extras: LeafExtras = {},
): Uint8Array[] {
  const R = roundBits(shape).length;
  const by = (signer: GameSigner, label: string): WotsSignature => {
    const s = (signer === 'operator' ? sigs.operator : sigs.challenger).get(label);
    if (s === undefined)
      throw new LeafWitnessError(`${name}: the ${signer}'s signature of ${label} is not published`);
    return s;
  };
  const op = (label: string) => by('operator', label);
  const kick = (which: 'root' | 'imageRoot' | 'inputsRoot') => {
    const s = sigs.kickoff[which];
    if (s === undefined)
      throw new LeafWitnessError(`${name}: the kick-off's signature of ${which} is not known`);
    return s;
  };
  const echoed = (p: string) => Array.from({ length: R }, (_, r) => op(`echo.choice${p}${r + 1}`));
  const own = (p: string) => Array.from({ length: R }, (_, r) => by('challenger', `choice${p}${r + 1}`));
  const record = () =>
    Object.fromEntries(STEP_FIELDS.map((f) => [f, op(`record.${f}`)])) as Record<StepField, WotsSignature>;
  const read = (slot: 1 | 2) => ({
    raddr: op(`record.r${slot}addr`),
    rvalue: op(`record.r${slot}value`),
    rlast: op(`r${slot}last`),
  });
  const needs = (what: keyof LeafExtras) => {
    const v = extras[what];
    if (v === undefined) throw new LeafWitnessError(`${name} needs the ${what}`);
    return v;
  };
  const S = [spenderSig];
  const [kind, arg] = name.split(':') as [string, string | undefined];
  // The read an RV leaf judges (its name ends in :1 or :2).
  const q = arg === '2' ? 2 : 1;

  switch (kind) {
    case 'h0':
      return h0Witness({ h0: op('h0'), inputsRoot: kick('inputsRoot'), imageRoot: kick('imageRoot') }, S);
    case 'length':
      return lengthWitness({ steps: op('steps') }, S);
    case 'image-root':
      return differsFromWitness(kick('imageRoot'), S);
    case 'resign':
    case 'resign′': {
      const p = kind === 'resign' ? '' : '′';
      const point = parsePoint(arg);
      const labels = resignLabels(shape, p, point);
      const committed = op(labels.committed);
      const resigned = op(labels.resigned);
      return resignWitness(
        shape,
        point,
        { choices: echoed(p).slice(point.round - 1), committed, resigned },
        S,
      );
    }
    case 'chain-link': {
      const r = record();
      return chainLinkWitness(
        { h: op('h'), pc: r.pc, nextPc: r.nextPc, waddr: r.waddr, wvalue: r.wvalue, hNext: op('hNext') },
        S,
      );
    }
    case 'pc-link':
      return pcLinkWitness(
        { choices: echoed(''), h: op('h'), pc: op('record.pc') },
        needs('block') as Uint8Array,
        S,
      );
    case 'entry-pc':
      return entryPcWitness({ choices: echoed(''), pc: op('record.pc') }, S);
    case 'pc-range':
      return pcRangeWitness(op('record.pc'), S);
    case 'last-step':
      return lastStepWitness(
        shape,
        {
          choices: echoed(''),
          steps: op('steps'),
          pc: op('record.pc'),
          r1value: op('record.r1value'),
          root: kick('root'),
        },
        S,
      );
    case 'early-halt':
      return earlyHaltWitness(shape, { choices: echoed(''), steps: op('steps'), pc: op('record.pc') }, S);
    case 'unwritten-read':
      return unwrittenReadLastWitness(read(arg === '2' ? 2 : 1), S);
    case 'future-read': {
      const r = read(arg === '2' ? 2 : 1);
      return futureReadWitness(shape, { choices: echoed(''), raddr: r.raddr, rlast: r.rlast }, S);
    }
    case 'execution':
      return arg?.startsWith('hash.') ? hashExecWitness(record(), S) : execLeafWitness(record(), S);
    case 'past-end':
      return pastEndWitness(shape, { choices: own(''), steps: by('challenger', 'echo.steps') }, S);
    case 'not-a-tape-step':
      return notATapeStepWitness(
        { pc: by('challenger', 'echo.record.pc'), waddr: by('challenger', 'echo.record.waddr') },
        S,
      );
    case 'past-read':
      return pastReadWitness(shape, { readChoices: own(''), choices: own('′') }, S);
    case 'resign-at-read':
      return resignAtReadWitness(
        shape,
        { readChoices: echoed(''), choices: echoed('′'), readH: op('h'), hNext: op('hNext′') },
        S,
      );
    case 'chain-link′':
      return chainLinkWitness(
        {
          h: op('h′'),
          pc: op('pc′'),
          nextPc: op('nextPc′'),
          waddr: op('waddr′'),
          wvalue: op('wvalue′'),
          hNext: op('hNext′'),
        },
        S,
      );
    case 'read-value': {
      const r = read(q);
      return readValueWitness(
        shape,
        { choices: echoed('′'), ...r, waddr: op('waddr′'), wvalue: op('wvalue′') },
        S,
      );
    }
    case 'later-write': {
      const r = read(q);
      return laterWriteWitness(
        shape,
        {
          readChoices: echoed(''),
          choices: echoed('′'),
          raddr: r.raddr,
          rlast: r.rlast,
          waddr: op('waddr′'),
        },
        S,
      );
    }
    case 'not-a-write': {
      const r = read(q);
      return notAWriteWitness(
        shape,
        { choices: echoed('′'), raddr: r.raddr, rlast: r.rlast, waddr: op('waddr′') },
        S,
      );
    }
    case 'wrong-predecessor':
      return wrongPredecessorWitness({ hNext: op('hNext′'), h: op('h′') }, needs('block') as Uint8Array, S);
    case 'tape-level': {
      const j = Number(arg);
      return tapeLevelWitness(
        {
          position: op('tape.position'),
          node: op(`tape.node${j}`),
          sibling: op(`tape.sibling${j}`),
          parent: op(`tape.node${j + 1}`),
        },
        S,
      );
    }
    case 'tape-top':
      return tapeTopWitness(
        {
          position: op('tape.position'),
          root: op(`tape.node${TAPE_HALF_DEPTH}`),
          imageRoot: kick('imageRoot'),
          inputsRoot: kick('inputsRoot'),
        },
        S,
      );
    case 'tape-position':
      return tapePositionWitness({ position: op('tape.position'), r1value: op('record.r1value') }, S);
    case 'tape-word':
      return differWitness({ a: op('tape.node0'), b: op('record.wvalue') }, S);
    case 'equivocation': {
      if (arg === undefined) throw new LeafWitnessError('An equivocation leaf names its label');
      // The spender is the opponent of whoever signed twice.
      const signer: GameSigner = sigs.operator.has(arg) ? 'operator' : 'challenger';
      return equivocationWitness(by(signer, arg), needs('second') as WotsSignature, S);
    }
    default:
      throw new LeafWitnessError(`No game leaf is named ${name}`);
  }
}

/** `round.slot.side` of a resign leaf's name. */
function parsePoint(arg: string | undefined): ResignPoint {
  const [round, slot, side] = (arg ?? '').split('.');
  if (round === undefined || slot === undefined || (side !== 'h' && side !== 'hNext')) {
    throw new LeafWitnessError(`A resign leaf's name ends in round.slot.side, got ${arg}`);
  }
  return { round: Number(round), slot: Number(slot), side };
}

/** Where an attempt is made: the choices of the search that ended (for resign), the revealed pc (for execution). */
export type AttemptPlace = {
  readonly shape: SearchShape;
  readonly program: Program;
  readonly choices: readonly number[];
  readonly pc?: number;
  /** The read the second search disputed (1 or 2): which RV leaves on reveal′. */
  readonly read?: 1 | 2;
};

/**
 * The resign point of the final segment's end on `side`: the last round whose choice moved that end (for
 * `h`, the last non-zero choice; for `hNext`, the last choice below its maximum), or one of round 1's ends.
 */
export function resignPointOf(
  shape: SearchShape,
  choices: readonly number[],
  side: 'h' | 'hNext',
): ResignPoint {
  const bits = roundBits(shape);
  for (let r = bits.length; r >= 1; r--) {
    const c = choices[r - 1] as number;
    const max = 2 ** (bits[r - 1] as number) - 1;
    if (side === 'h' && c !== 0) return { round: r, slot: c, side };
    if (side === 'hNext' && c !== max) return { round: r, slot: c + 1, side };
  }
  return side === 'h' ? { round: 1, slot: 0, side } : { round: 1, slot: 2 ** (bits[0] as number), side };
}

/** The name of the leaf (output-leaves.ts) that carries an attempt of the pure game (leaves.ts). */
export function attemptLeafName(
  attempt: AssertAttempt | RevealAttempt | WriteRevealAttempt | TapeRevealAttempt,
  place: AttemptPlace,
  search: 'first' | 'second' = 'first',
): string {
  switch (attempt.leaf) {
    case 'resign': {
      const p = resignPointOf(place.shape, place.choices, attempt.side);
      return `resign${search === 'first' ? '' : '′'}:${p.round}.${p.slot}.${p.side}`;
    }
    case 'chain-link':
      return search === 'first' ? 'chain-link' : 'chain-link′';
    case 'unwritten-read':
    case 'future-read':
      return `${attempt.leaf}:${attempt.read}`;
    case 'execution': {
      const pc = place.pc;
      if (pc === undefined) throw new LeafWitnessError('An execution attempt needs the revealed pc');
      if (place.program.instructions[pc]?.op === 'hash') return `execution:hash.${pc}`;
      const group = execGroupOf(gameExecGroups(place.program), pc);
      if (group === undefined) throw new LeafWitnessError(`No execution leaf judges pc ${pc}`);
      return `execution:${group}`;
    }
    case 'tape-level':
      return `tape-level:${attempt.level}`;
    case 'read-value':
    case 'later-write':
    case 'not-a-write':
      if (place.read === undefined)
        throw new LeafWitnessError(`${attempt.leaf} needs the read the search disputed`);
      return `${attempt.leaf}:${place.read}`;
    default:
      return attempt.leaf;
  }
}
