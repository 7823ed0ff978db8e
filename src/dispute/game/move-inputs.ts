/**
 * The input scripts of the narrowing game's moves (docs/protocol.md §24.6): what each input of a move
 * checks, and how the values the move commits are spread over its inputs. Pure: no I/O.
 *
 * A move commits values under the mover's one-time Winternitz keys, and may echo values its opponent
 * committed earlier (§24.11: the reveal echoes the challenger's choices, choice 1 echoes T′, the request
 * echoes pc and waddr). Every input of a move runs, in this order:
 *
 *   covenant (each key OP_CHECKSIGVERIFY: the presigned transaction, SIGHASH_ALL)
 *   · the mover's own key OP_CHECKSIGVERIFY, for a challenger's move (SIGHASH_DEFAULT): no one else can
 *     make it, and no one can lift its witness into another transaction
 *   · the echo checks, on the first input only (`appendEchoCheck`: both signatures verified, the values
 *     equal)
 *   · the Winternitz verification of this input's share of the values, each dropped once verified
 *   · OP_1.
 *
 * Witness (bottom first): the values' signatures in move order, the echo pairs (the opponent's
 * signature, then the echo), the mover's signature, then the covenant's (the first key's on top).
 *
 * Why several inputs: a spend starts with its whole witness on the stack, and tapscript allows 1,000
 * items on the stack and altstack together. A 20-byte chain value is 86 items (43 digits, each a hash and
 * a digit) and a 32-byte word 134, so one input holds at most 11 chain values or 7 words. Values are
 * packed in move order under `MOVE_WITNESS_ITEM_BUDGET`, which counts the signatures and leaves room for the 16
 * chain hashes the verification of one digit holds on top of the stack.
 */

import { appendEchoCheck, type EchoPair } from '../../../circuits/gvm/echo.ts';
import { ScriptBuilder } from '../../bitcoin/script/builder.ts';
import { Op } from '../../bitcoin/script/opcodes.ts';
import { VigilError } from '../../core/errors.ts';
import {
  CHAIN_BYTES,
  fieldBytes,
  SMALL_BYTES,
  STEP_FIELDS,
  TAPE_HALF_DEPTH,
  WORD_BYTES,
} from '../../machine/isa.ts';
import type { WotsPublicKey } from '../winternitz/keys.ts';
import { wotsParameters } from '../winternitz/parameters.ts';
import { appendDrop, appendWotsVerify } from '../winternitz/script.ts';
import { encodeWotsWitness, type WotsSignature } from '../winternitz/sign.ts';
import { roundBits, type SearchShape } from './grid.ts';

/**
 * Witness items one input may hold, its Schnorr signatures counted (tapscript's 1,000 less a margin for
 * the hashes that verifying one digit stacks up).
 */
export const MOVE_WITNESS_ITEM_BUDGET = 960;

/** A committed value of a move: a name for it and the key it is signed under. */
export type MoveValue = { readonly label: string; readonly key: WotsPublicKey };
/** An echo: the opponent's key for the value and the mover's key for the echo (same size). */
export type MoveEcho = EchoPair & { readonly label: string };

export type Move = {
  readonly name: string;
  readonly mover: 'operator' | 'challenger';
  /** The mover's committed values, in the order the move signs them. */
  readonly values: readonly MoveValue[];
  readonly echoes: readonly MoveEcho[];
};

/** Who signs every input: the covenant's keys (x-only), and the challenger's own key on its moves. */
export type MoveSigners = { readonly covenant: readonly Uint8Array[]; readonly mover?: Uint8Array };

export type MoveInputScript = {
  readonly script: Uint8Array;
  readonly values: readonly MoveValue[];
  readonly echoes: readonly MoveEcho[];
  /** Witness items below the script and control block. */
  readonly witnessItems: number;
};

export class MoveLayoutError extends VigilError {
  override name = 'MoveLayoutError';
}

/** Witness items of one signed value (a hash and a digit per chain). */
export const valueItems = (key: WotsPublicKey): number => 2 * wotsParameters(key.messageBytes).totalDigits;

function signerItems(move: Move, signers: MoveSigners): number {
  if (move.mover === 'challenger' && signers.mover === undefined) {
    throw new MoveLayoutError(`${move.name}: a challenger's move needs the challenger's key`);
  }
  if (move.mover === 'operator' && signers.mover !== undefined) {
    throw new MoveLayoutError(`${move.name}: the operator signs its moves through the covenant only`);
  }
  return signers.covenant.length + (signers.mover === undefined ? 0 : 1);
}

function inputScript(
  values: readonly MoveValue[],
  echoes: readonly MoveEcho[],
  signers: MoveSigners,
): Uint8Array {
  const b = new ScriptBuilder();
  for (const k of signers.covenant) b.push(k).op(Op.OP_CHECKSIGVERIFY);
  if (signers.mover !== undefined) b.push(signers.mover).op(Op.OP_CHECKSIGVERIFY);
  if (echoes.length > 0) appendEchoCheck(b, echoes);
  for (let i = values.length - 1; i >= 0; i--) {
    const key = (values[i] as MoveValue).key;
    appendWotsVerify(b, key);
    appendDrop(b, wotsParameters(key.messageBytes).messageDigits);
  }
  return b.op(Op.OP_1).build();
}

/** The inputs of a move: its echoes and values packed, in order, under the item budget. */
export function moveInputs(
  move: Move,
  signers: MoveSigners,
  budget = MOVE_WITNESS_ITEM_BUDGET,
): MoveInputScript[] {
  const fixed = signerItems(move, signers);
  const echoItems = move.echoes.reduce((n, e) => n + valueItems(e.theirs) + valueItems(e.ours), 0);
  const groups: { values: MoveValue[]; echoes: readonly MoveEcho[]; items: number }[] = [
    { values: [], echoes: move.echoes, items: fixed + echoItems },
  ];
  if (fixed + echoItems > budget) {
    throw new MoveLayoutError(`${move.name}: its echoes alone need ${fixed + echoItems} witness items`);
  }
  for (const v of move.values) {
    const n = valueItems(v.key);
    if (fixed + n > budget)
      throw new MoveLayoutError(`${move.name}: ${v.label} alone needs ${fixed + n} items`);
    let g = groups.at(-1) as (typeof groups)[number];
    if (g.items + n > budget) {
      g = { values: [], echoes: [], items: fixed };
      groups.push(g);
    }
    g.values.push(v);
    g.items += n;
  }
  return groups.map((g) => ({
    script: inputScript(g.values, g.echoes, signers),
    values: g.values,
    echoes: g.echoes,
    witnessItems: g.items,
  }));
}

/** Signatures a move's inputs need: each value's, each echo's pair, and the Schnorr signatures. */
export type MoveSignatures = {
  readonly values: ReadonlyMap<string, WotsSignature>;
  readonly echoes: ReadonlyMap<string, { readonly theirs: WotsSignature; readonly ours: WotsSignature }>;
  /** The covenant's signatures, in the covenant's key order. */
  readonly covenant: readonly Uint8Array[];
  readonly mover?: Uint8Array;
};

/** The witness items of one input, below its script and control block (bottom first). */
export function moveInputWitness(input: MoveInputScript, sigs: MoveSignatures): Uint8Array[] {
  const items: Uint8Array[] = [];
  for (const v of input.values) {
    const s = sigs.values.get(v.label);
    if (s === undefined) throw new MoveLayoutError(`no signature of ${v.label}`);
    items.push(...encodeWotsWitness(s));
  }
  for (const e of input.echoes) {
    const s = sigs.echoes.get(e.label);
    if (s === undefined) throw new MoveLayoutError(`no signatures of the echo ${e.label}`);
    items.push(...encodeWotsWitness(s.theirs), ...encodeWotsWitness(s.ours));
  }
  if (sigs.mover !== undefined) items.push(sigs.mover);
  for (let i = sigs.covenant.length - 1; i >= 0; i--) items.push(sigs.covenant[i] as Uint8Array);
  return items;
}

// ---------------------------------------------------------------------------------------------------
// The moves of one game, as sizes (§24.3–24.5 and §24.11's echoes).

/** A value of a move by name and size, before keys are attached. */
export type MoveValueShape = { readonly label: string; readonly bytes: number };
export type MoveShape = {
  readonly name: string;
  readonly mover: 'operator' | 'challenger';
  readonly values: readonly MoveValueShape[];
  readonly echoes: readonly MoveValueShape[];
};

/** Bytes of a choice (the round's segment number). */
const CHOICE = 1;
/** Nodes above a tape word in its half (node_0 … node_29) and the siblings between them. */
const TAPE_NODES = TAPE_HALF_DEPTH + 1;
const TAPE_SIBLINGS = TAPE_HALF_DEPTH;

const chain = (label: string): MoveValueShape => ({ label, bytes: CHAIN_BYTES });
const small = (label: string): MoveValueShape => ({ label, bytes: SMALL_BYTES });
const word = (label: string): MoveValueShape => ({ label, bytes: WORD_BYTES });
const points = (prefix: string, count: number): MoveValueShape[] =>
  Array.from({ length: count }, (_, k) => chain(`${prefix}.point${k + 1}`));

/**
 * Every move a game can make, in play order, for a search shape: the assert (shared by the claim's
 * games), the first search's choices and answers, the reveal, the two requests (a read, the tape), the second search,
 * reveal′, and the tape reveal in two transactions. Values as §24.3–24.5 list them; echoes as §24.11.
 */
export function gameMoveShapes(shape: SearchShape): MoveShape[] {
  const bits = roundBits(shape);
  const rounds = bits.length;
  const pointsIn = (r: number) => 2 ** (bits[r - 1] as number) - 1;
  const choiceEchoes = (prefix: string) =>
    Array.from({ length: rounds }, (_, k) => ({ label: `${prefix}${k + 1}`, bytes: CHOICE }));
  const moves: MoveShape[] = [
    {
      name: 'assert',
      mover: 'operator',
      values: [small('steps'), chain('h0'), chain('hEnd'), ...points('round1', pointsIn(1))],
      echoes: [],
    },
  ];
  const search = (prefix: string, operatorFirst: boolean) => {
    for (let r = 1; r <= rounds; r++) {
      const answer: MoveShape = {
        name: `answer${prefix}${r}`,
        mover: 'operator',
        values: points(`answer${prefix}${r}`, pointsIn(r)),
        echoes: [],
      };
      const choice: MoveShape = {
        name: `choice${prefix}${r}`,
        mover: 'challenger',
        values: [{ label: `choice${prefix}${r}`, bytes: CHOICE }],
        // Choice 1 echoes T′ for the past-end refusal (§24.11 item 2).
        echoes: prefix === '' && r === 1 ? [small('steps')] : [],
      };
      // The first search's round 1 points are in the assert.
      if (operatorFirst || r > 1) moves.push(answer);
      moves.push(choice);
    }
  };
  search('', false);
  moves.push({
    name: 'reveal',
    mover: 'operator',
    values: [
      ...STEP_FIELDS.map((f) => ({ label: `record.${f}`, bytes: fieldBytes(f) })),
      small('r1last'),
      small('r2last'),
      chain('h'),
      chain('hNext'),
    ],
    echoes: choiceEchoes('choice'),
  });
  // The request: a read's second search (q = 1 or 2: the same transactions, since the operator's
  // answers are chain values whichever read is disputed, and reveal′ carries both reads' leaves), or the
  // tape path (q = 3). Which transaction confirmed is what binds the request.
  for (const name of ['requestRead', 'requestTape']) {
    moves.push({
      name,
      mover: 'challenger',
      values: [],
      echoes: [small('record.pc'), small('record.waddr')],
    });
  }
  search('′', true);
  moves.push({
    name: 'reveal′',
    mover: 'operator',
    values: [chain('h′'), chain('hNext′'), small('pc′'), small('nextPc′'), small('waddr′'), word('wvalue′')],
    echoes: choiceEchoes('choice′'),
  });
  const tapeValues: MoveValueShape[] = [
    small('tape.position'),
    ...Array.from({ length: TAPE_NODES }, (_, k) => word(`tape.node${k}`)),
    ...Array.from({ length: TAPE_SIBLINGS }, (_, k) => word(`tape.sibling${k}`)),
  ];
  const half = Math.ceil(tapeValues.length / 2);
  moves.push(
    { name: 'tapeReveal1', mover: 'operator', values: tapeValues.slice(0, half), echoes: [] },
    { name: 'tapeReveal2', mover: 'operator', values: tapeValues.slice(half), echoes: [] },
  );
  return moves;
}
