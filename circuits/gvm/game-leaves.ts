/**
 * The narrowing game's small leaves (docs/protocol.md §24.4–24.5): the disprove and refusal leaves that
 * only compare committed values, no BLAKE3. Their TypeScript twins in src/dispute/game/leaves.ts say when
 * the game accepts them; each leaf here has a twin over its committed values that the tests hold equal to
 * those on the values of real games.
 *
 * Layout as in memory-leaves.ts: covenant keys, the Winternitz verification of the committed values
 * (`appendValuesVerify`, bottom first in the order each generator lists), then a judgement leaving one
 * item. The step a search ended at is committed by nobody: script rebuilds it from the signed choices
 * c_1 … c_R (1 byte each, its own key each), i = Σ c_r · 2^(bits after round r), as grid.ts spells it.
 * Which keys: in a game, a disprove leaf must be built with the operator's echo keys (the choices as the
 * reveal echoes them, circuits/gvm/echo.ts), never the challenger's own, or the challenger could re-sign
 * other choices in its disprove witness (docs/protocol.md §24.11).
 *
 * Choices outside their round (c_r ≥ 2^bits_r) cannot be signed into a game the referee plays, but a
 * 1-byte key signs any byte, so every leaf decides what such a choice means, always against the side that
 * signed it: a disprove leaf (the challenger's) never spends with one among the choices it reads (a resign
 * leaf reads only those that fix its point, and the earlier ones cannot make it spend); a refusal leaf
 * (the operator's) always does. The arithmetic never overflows on them either: i is built from the choices clamped to
 * their round's range, and only the validity flag tells a clamped choice from a real one.
 *
 * The refusal leaves (past-end, not-a-tape-step) end the game for the operator: their covenant keys are
 * the operator's, where a disprove leaf's are the challenger's (§24.6); the judgement does not differ.
 *
 * 4-byte values that are compared with a step, NONE or a program position become one script number
 * (`smallValueTransform`: exact up to NONE, one sentinel above, which equals no step, no position and
 * not NONE). Two addresses compared with each other stay digits: two different values above NONE would
 * both read as the sentinel.
 */
import { Op } from '../../src/bitcoin/script/opcodes.ts';
import { equalBytes } from '../../src/core/bytes.ts';
import { roundBits, type SearchShape, stepOfChoices } from '../../src/dispute/game/grid.ts';
import type { WotsPublicKey } from '../../src/dispute/winternitz/keys.ts';
import type { WotsSignature } from '../../src/dispute/winternitz/sign.ts';
import { CHAIN_BYTES, NONE, SMALL_BYTES, smallBytes, WORD_BYTES, wordBytes } from '../../src/machine/isa.ts';
import { type CommittedValue, type ValueTransform, valuesWitness } from '../committed-values.ts';
import { type ItemId, StackModel } from '../stack-model.ts';
import { assembleLeaf, checkKeySize, digitsDiffer, digitsDifferFrom, type GvmLeaf } from './memory-leaves.ts';
import { smallValueTransform } from './small-value.ts';

/** A choice is committed as one byte. */
export const CHOICE_BYTES = 1;

const smallDigits = 2 * SMALL_BYTES;
const wordDigits = 2 * WORD_BYTES;
const chainDigits = 2 * CHAIN_BYTES;
const NONE_BYTES = smallBytes(NONE);

// ---------------------------------------------------------------------------------------------------
// Choices → the step they spell.

let choiceCache: ValueTransform | undefined;

/** A choice's two digits (high nibble below) → the byte as one number, 0 … 255. */
function choiceTransform(): ValueTransform {
  if (choiceCache === undefined) {
    const m = new StackModel();
    const [hi] = m.inputs(2) as [ItemId, ItemId];
    m.roll(hi);
    for (let k = 0; k < 4; k++) {
      m.pick(m.top());
      m.add();
    }
    m.add();
    choiceCache = { script: m.build(), outputItems: 1 };
  }
  return choiceCache;
}

function choiceValues(shape: SearchShape, keys: readonly WotsPublicKey[], what: string): CommittedValue[] {
  const rounds = roundBits(shape).length;
  if (keys.length !== rounds)
    throw new RangeError(`${what}: ${rounds} choice keys expected, got ${keys.length}`);
  return keys.map((k, r) => ({
    key: checkKeySize(k, CHOICE_BYTES, `${what} ${r + 1}`),
    transform: choiceTransform(),
  }));
}

function choiceWitness(sigs: readonly WotsSignature[], shape: SearchShape): WotsSignature[] {
  if (sigs.length !== roundBits(shape).length) throw new RangeError('one choice signature per round');
  return [...sigs];
}

/** `next` (on top) combined into `acc` (below, or none yet) with `op`; the result is on top. */
function combine(m: StackModel, acc: ItemId | undefined, op: number): ItemId {
  if (acc === undefined) return m.top();
  m.roll(acc);
  return m.op(op, 2, 1)[0] as ItemId;
}

/**
 * Consumes the choices (numbers 0 … 255) and leaves the step they spell (each clamped to its round's
 * range first, so the step is below 2^K however they were signed) and whether all were in range.
 */
function spellStep(
  m: StackModel,
  shape: SearchShape,
  choices: readonly ItemId[],
): { step: ItemId; valid: ItemId } {
  const bits = roundBits(shape);
  let valid: ItemId | undefined;
  let step: ItemId | undefined;
  bits.forEach((b, r) => {
    const c = m.roll(choices[r] as ItemId);
    m.pick(c);
    m.number(2 ** b);
    m.op(Op.OP_LESSTHAN, 2, 1);
    valid = combine(m, valid, Op.OP_BOOLAND);
    m.roll(c);
    m.number(2 ** b - 1);
    let next = m.op(Op.OP_MIN, 2, 1)[0] as ItemId;
    if (step !== undefined) {
      m.roll(step);
      for (let k = 0; k < b; k++) {
        m.pick(m.top());
        m.add();
      }
      next = m.add();
    }
    step = next;
  });
  return { step: step as ItemId, valid: valid as ItemId };
}

/** The twin of `spellStep`'s two outputs: the step the choices spell, or undefined when one is out of range. */
export function spelledStep(shape: SearchShape, choices: readonly number[]): number | undefined {
  const bits = roundBits(shape);
  if (choices.length !== bits.length) throw new RangeError(`${bits.length} choices expected`);
  for (const c of choices) {
    if (!Number.isInteger(c) || c < 0 || c > 255) throw new RangeError(`a choice is one byte, got ${c}`);
  }
  return choices.every((c, r) => c < 2 ** (bits[r] as number)) ? stepOfChoices(shape, choices) : undefined;
}

/** The byte a choice is committed as. */
export const choiceBytes = (c: number): Uint8Array => Uint8Array.of(c);

/** 1 when the number `id` (consumed) is one of `set`, else 0 (0 for an empty set). */
function isOneOf(m: StackModel, id: ItemId, set: readonly number[]): ItemId {
  const unique = [...new Set(set)];
  if (unique.length === 0) {
    m.roll(id);
    m.op(Op.OP_DROP, 1, 0);
    return m.number(0);
  }
  let acc: ItemId | undefined;
  for (let k = 0; k < unique.length; k++) {
    if (k === unique.length - 1) m.roll(id);
    else m.pick(id);
    m.number(unique[k] as number);
    m.op(Op.OP_NUMEQUAL, 2, 1);
    acc = combine(m, acc, Op.OP_BOOLOR);
  }
  return acc as ItemId;
}

function checkPositions(positions: readonly number[], what: string): readonly number[] {
  for (const p of positions) {
    if (!Number.isInteger(p) || p < 0 || p >= NONE)
      throw new RangeError(`${what}: ${p} is not a program position`);
  }
  return positions;
}

/** ANDs the items `ids` (consumed, in any positions) into one, left on top. */
function allOf(m: StackModel, ids: readonly ItemId[]): ItemId {
  let acc: ItemId | undefined;
  for (const id of ids) {
    m.roll(id);
    acc = combine(m, acc, Op.OP_BOOLAND);
  }
  return acc as ItemId;
}

const small = (key: WotsPublicKey, what: string): CommittedValue => ({
  key: checkKeySize(key, SMALL_BYTES, what),
  transform: smallValueTransform(),
});
const digitsOfKey = (key: WotsPublicKey, bytes: number, what: string): CommittedValue => ({
  key: checkKeySize(key, bytes, what),
});

/** A u32 as the leaves read it when they compare it with a step, NONE or a position. */
const checkU32 = (n: number): number => {
  smallBytes(n);
  return n;
};

// ---------------------------------------------------------------------------------------------------
// Future read (§24.4): a read's claimed last write is at or after the step itself.

export type FutureReadKeys = {
  choices: readonly WotsPublicKey[];
  raddr: WotsPublicKey;
  rlast: WotsPublicKey;
};
export type FutureReadSignatures = {
  choices: readonly WotsSignature[];
  raddr: WotsSignature;
  rlast: WotsSignature;
};

/**
 * Spendable exactly when the choices are in range, raddr ≠ NONE, rlast ≠ NONE and rlast ≥ i. One leaf
 * per read slot (the keys say which). Values bottom first: c_1 … c_R (1 B each), raddr, rlast (4 B).
 */
export function futureReadLeaf(
  shape: SearchShape,
  keys: FutureReadKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const values = [
    ...choiceValues(shape, keys.choices, 'choice'),
    small(keys.raddr, 'raddr'),
    small(keys.rlast, 'rlast'),
  ];
  const m = new StackModel();
  const choices = m.inputs(keys.choices.length);
  const [raddr, rlast] = m.inputs(2) as [ItemId, ItemId];
  const { step, valid } = spellStep(m, shape, choices);
  m.pick(rlast);
  m.roll(step);
  const future = m.op(Op.OP_GREATERTHANOREQUAL, 2, 1)[0] as ItemId;
  m.roll(rlast);
  m.number(NONE);
  const written = m.op(Op.OP_NUMNOTEQUAL, 2, 1)[0] as ItemId;
  m.roll(raddr);
  m.number(NONE);
  const isRead = m.op(Op.OP_NUMNOTEQUAL, 2, 1)[0] as ItemId;
  allOf(m, [valid, future, written, isRead]);
  return assembleLeaf(values, covenant, m.build());
}

export function futureReadWitness(
  shape: SearchShape,
  sigs: FutureReadSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness([...choiceWitness(sigs.choices, shape), sigs.raddr, sigs.rlast], covenantSigs);
}

/** The twin: the read names an address and a last write at or after step i. */
export function isFutureRead(
  shape: SearchShape,
  choices: readonly number[],
  raddr: number,
  rlast: number,
): boolean {
  const i = spelledStep(shape, choices);
  return i !== undefined && checkU32(raddr) !== NONE && checkU32(rlast) !== NONE && rlast >= i;
}

// ---------------------------------------------------------------------------------------------------
// Last step and early halt (§24.4): the claimed length against the program's halts.

export type LastStepKeys = {
  choices: readonly WotsPublicKey[];
  steps: WotsPublicKey;
  pc: WotsPublicKey;
  r1value: WotsPublicKey;
  root: WotsPublicKey;
};
export type LastStepSignatures = {
  choices: readonly WotsSignature[];
  steps: WotsSignature;
  pc: WotsSignature;
  r1value: WotsSignature;
  root: WotsSignature;
};

/**
 * Spendable exactly when the choices are in range, i = T′ − 1, and pc is not one of `haltPositions` or
 * r1value ≠ R′ (the last step is not a halt reading the claimed root). Values bottom first: c_1 … c_R,
 * T′ (4 B), pc (4 B), r1value (32 B), R′ (32 B, the kick-off's claimed root).
 */
export function lastStepLeaf(
  shape: SearchShape,
  haltPositions: readonly number[],
  keys: LastStepKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const halts = checkPositions(haltPositions, 'halt position');
  const values = [
    ...choiceValues(shape, keys.choices, 'choice'),
    small(keys.steps, 'T′'),
    small(keys.pc, 'pc'),
    digitsOfKey(keys.r1value, WORD_BYTES, 'r1value'),
    digitsOfKey(keys.root, WORD_BYTES, 'R′'),
  ];
  const m = new StackModel();
  const choices = m.inputs(keys.choices.length);
  const [steps, pc] = m.inputs(2) as [ItemId, ItemId];
  const r1value = m.inputs(wordDigits);
  const root = m.inputs(wordDigits);
  const wrongResult = digitsDiffer(m, r1value, root);
  isOneOf(m, pc, halts);
  m.op(Op.OP_NOT, 1, 1);
  m.roll(wrongResult);
  const wrongEnd = m.op(Op.OP_BOOLOR, 2, 1)[0] as ItemId;
  const { step, valid } = spellStep(m, shape, choices);
  m.roll(step);
  m.op(Op.OP_1ADD, 1, 1);
  m.roll(steps);
  const last = m.op(Op.OP_NUMEQUAL, 2, 1)[0] as ItemId;
  allOf(m, [valid, last, wrongEnd]);
  return assembleLeaf(values, covenant, m.build());
}

export function lastStepWitness(
  shape: SearchShape,
  sigs: LastStepSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness(
    [...choiceWitness(sigs.choices, shape), sigs.steps, sigs.pc, sigs.r1value, sigs.root],
    covenantSigs,
  );
}

/** The twin: step i is the claimed last step and it is not a halt reading R′. */
export function isWrongLastStep(
  shape: SearchShape,
  haltPositions: readonly number[],
  choices: readonly number[],
  steps: number,
  pc: number,
  r1value: bigint,
  root: bigint,
): boolean {
  const i = spelledStep(shape, choices);
  wordBytes(r1value);
  wordBytes(root);
  return (
    i !== undefined &&
    i === checkU32(steps) - 1 &&
    (!haltPositions.includes(checkU32(pc)) || r1value !== root)
  );
}

export type EarlyHaltKeys = { choices: readonly WotsPublicKey[]; steps: WotsPublicKey; pc: WotsPublicKey };
export type EarlyHaltSignatures = {
  choices: readonly WotsSignature[];
  steps: WotsSignature;
  pc: WotsSignature;
};

/**
 * Spendable exactly when the choices are in range, i < T′ − 1 and pc is one of `haltPositions` (the run
 * stops at its first halt). Values bottom first: c_1 … c_R, T′ (4 B), pc (4 B).
 */
export function earlyHaltLeaf(
  shape: SearchShape,
  haltPositions: readonly number[],
  keys: EarlyHaltKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const halts = checkPositions(haltPositions, 'halt position');
  const values = [
    ...choiceValues(shape, keys.choices, 'choice'),
    small(keys.steps, 'T′'),
    small(keys.pc, 'pc'),
  ];
  const m = new StackModel();
  const choices = m.inputs(keys.choices.length);
  const [steps, pc] = m.inputs(2) as [ItemId, ItemId];
  const halt = isOneOf(m, pc, halts);
  const { step, valid } = spellStep(m, shape, choices);
  m.roll(step);
  m.op(Op.OP_1ADD, 1, 1);
  m.roll(steps);
  const early = m.op(Op.OP_LESSTHAN, 2, 1)[0] as ItemId;
  allOf(m, [valid, early, halt]);
  return assembleLeaf(values, covenant, m.build());
}

export function earlyHaltWitness(
  shape: SearchShape,
  sigs: EarlyHaltSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness([...choiceWitness(sigs.choices, shape), sigs.steps, sigs.pc], covenantSigs);
}

/** The twin: a halt before the claimed last step. */
export function isEarlyHalt(
  shape: SearchShape,
  haltPositions: readonly number[],
  choices: readonly number[],
  steps: number,
  pc: number,
): boolean {
  const i = spelledStep(shape, choices);
  return i !== undefined && i < checkU32(steps) - 1 && haltPositions.includes(checkU32(pc));
}

// ---------------------------------------------------------------------------------------------------
// The read-value leaves of the second search (§24.5): reveal′ (step j) against the read of step i.

/** 1 when the address digits `raddr` are not NONE; `raddr` is left in place. */
function isReadAddress(m: StackModel, raddr: readonly ItemId[]): ItemId {
  const copy = raddr.map((id) => m.pick(id));
  return digitsDifferFrom(m, copy, NONE_BYTES);
}

export type ReadValueKeys = {
  /** The second search's choices c′_1 … c′_R (they spell j). */
  choices: readonly WotsPublicKey[];
  raddr: WotsPublicKey;
  rvalue: WotsPublicKey;
  rlast: WotsPublicKey;
  waddr: WotsPublicKey;
  wvalue: WotsPublicKey;
};
export type ReadValueSignatures = {
  choices: readonly WotsSignature[];
  raddr: WotsSignature;
  rvalue: WotsSignature;
  rlast: WotsSignature;
  waddr: WotsSignature;
  wvalue: WotsSignature;
};

/**
 * RV1: spendable exactly when the second search's choices are in range, raddr ≠ NONE, j = rlast,
 * waddr = raddr and wvalue ≠ rvalue. Values bottom first: c′_1 … c′_R, raddr (4 B), rvalue (32 B),
 * rlast (4 B) from the reveal, waddr (4 B), wvalue (32 B) from reveal′.
 */
export function readValueLeaf(
  shape: SearchShape,
  keys: ReadValueKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const values = [
    ...choiceValues(shape, keys.choices, 'choice′'),
    digitsOfKey(keys.raddr, SMALL_BYTES, 'raddr'),
    digitsOfKey(keys.rvalue, WORD_BYTES, 'rvalue'),
    small(keys.rlast, 'rlast'),
    digitsOfKey(keys.waddr, SMALL_BYTES, 'waddr'),
    digitsOfKey(keys.wvalue, WORD_BYTES, 'wvalue'),
  ];
  const m = new StackModel();
  const choices = m.inputs(keys.choices.length);
  const raddr = m.inputs(smallDigits);
  const rvalue = m.inputs(wordDigits);
  const [rlast] = m.inputs(1) as [ItemId];
  const waddr = m.inputs(smallDigits);
  const wvalue = m.inputs(wordDigits);
  const valueDiffers = digitsDiffer(m, rvalue, wvalue);
  const isRead = isReadAddress(m, raddr);
  digitsDiffer(m, raddr, waddr);
  const sameAddress = m.op(Op.OP_NOT, 1, 1)[0] as ItemId;
  const { step, valid } = spellStep(m, shape, choices);
  m.roll(step);
  m.roll(rlast);
  const atLast = m.op(Op.OP_NUMEQUAL, 2, 1)[0] as ItemId;
  allOf(m, [valid, atLast, isRead, sameAddress, valueDiffers]);
  return assembleLeaf(values, covenant, m.build());
}

export function readValueWitness(
  shape: SearchShape,
  sigs: ReadValueSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness(
    [...choiceWitness(sigs.choices, shape), sigs.raddr, sigs.rvalue, sigs.rlast, sigs.waddr, sigs.wvalue],
    covenantSigs,
  );
}

/** The twin of RV1: step ℓ wrote the address read, but not the value read. */
export function isWrongReadValue(
  shape: SearchShape,
  choices: readonly number[],
  raddr: number,
  rvalue: bigint,
  rlast: number,
  waddr: number,
  wvalue: bigint,
): boolean {
  const j = spelledStep(shape, choices);
  wordBytes(rvalue);
  wordBytes(wvalue);
  return (
    j !== undefined &&
    checkU32(raddr) !== NONE &&
    j === checkU32(rlast) &&
    checkU32(waddr) === raddr &&
    wvalue !== rvalue
  );
}

export type LaterWriteKeys = {
  /** The first search's choices (they spell i, the read's step). */
  readChoices: readonly WotsPublicKey[];
  /** The second search's choices (they spell j). */
  choices: readonly WotsPublicKey[];
  raddr: WotsPublicKey;
  rlast: WotsPublicKey;
  waddr: WotsPublicKey;
};
export type LaterWriteSignatures = {
  readChoices: readonly WotsSignature[];
  choices: readonly WotsSignature[];
  raddr: WotsSignature;
  rlast: WotsSignature;
  waddr: WotsSignature;
};

/**
 * RV2: spendable exactly when both searches' choices are in range, raddr ≠ NONE, rlast = NONE or
 * rlast < j, j < i, and waddr = raddr (a write to the address after the claimed last one and before the
 * read). Values bottom first: c_1 … c_R, c′_1 … c′_R, raddr, rlast (4 B each) from the reveal, waddr
 * (4 B) from reveal′.
 */
export function laterWriteLeaf(
  shape: SearchShape,
  keys: LaterWriteKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const values = [
    ...choiceValues(shape, keys.readChoices, 'choice'),
    ...choiceValues(shape, keys.choices, 'choice′'),
    digitsOfKey(keys.raddr, SMALL_BYTES, 'raddr'),
    small(keys.rlast, 'rlast'),
    digitsOfKey(keys.waddr, SMALL_BYTES, 'waddr'),
  ];
  const m = new StackModel();
  const readChoices = m.inputs(keys.readChoices.length);
  const choices = m.inputs(keys.choices.length);
  const raddr = m.inputs(smallDigits);
  const [rlast] = m.inputs(1) as [ItemId];
  const waddr = m.inputs(smallDigits);
  const isRead = isReadAddress(m, raddr);
  digitsDiffer(m, raddr, waddr);
  const sameAddress = m.op(Op.OP_NOT, 1, 1)[0] as ItemId;
  const i = spellStep(m, shape, readChoices);
  const j = spellStep(m, shape, choices);
  // rlast = NONE or rlast < j.
  m.pick(rlast);
  m.number(NONE);
  const never = m.op(Op.OP_NUMEQUAL, 2, 1)[0] as ItemId;
  m.roll(rlast);
  m.pick(j.step);
  m.op(Op.OP_LESSTHAN, 2, 1);
  const afterLast = combine(m, never, Op.OP_BOOLOR);
  m.roll(j.step);
  m.roll(i.step);
  const beforeRead = m.op(Op.OP_LESSTHAN, 2, 1)[0] as ItemId;
  allOf(m, [i.valid, j.valid, isRead, sameAddress, afterLast, beforeRead]);
  return assembleLeaf(values, covenant, m.build());
}

export function laterWriteWitness(
  shape: SearchShape,
  sigs: LaterWriteSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness(
    [
      ...choiceWitness(sigs.readChoices, shape),
      ...choiceWitness(sigs.choices, shape),
      sigs.raddr,
      sigs.rlast,
      sigs.waddr,
    ],
    covenantSigs,
  );
}

/** The twin of RV2: step j wrote the address read, after the claimed last write and before the read. */
export function isLaterWrite(
  shape: SearchShape,
  readChoices: readonly number[],
  choices: readonly number[],
  raddr: number,
  rlast: number,
  waddr: number,
): boolean {
  const i = spelledStep(shape, readChoices);
  const j = spelledStep(shape, choices);
  return (
    i !== undefined &&
    j !== undefined &&
    checkU32(raddr) !== NONE &&
    (checkU32(rlast) === NONE || rlast < j) &&
    j < i &&
    checkU32(waddr) === raddr
  );
}

export type NotAWriteKeys = {
  choices: readonly WotsPublicKey[];
  raddr: WotsPublicKey;
  rlast: WotsPublicKey;
  waddr: WotsPublicKey;
};
export type NotAWriteSignatures = {
  choices: readonly WotsSignature[];
  raddr: WotsSignature;
  rlast: WotsSignature;
  waddr: WotsSignature;
};

/**
 * RV3: spendable exactly when the second search's choices are in range, raddr ≠ NONE, j = rlast and
 * waddr ≠ raddr (the claimed last write did not write the address). Values bottom first: c′_1 … c′_R,
 * raddr, rlast (4 B each), waddr (4 B).
 */
export function notAWriteLeaf(
  shape: SearchShape,
  keys: NotAWriteKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const values = [
    ...choiceValues(shape, keys.choices, 'choice′'),
    digitsOfKey(keys.raddr, SMALL_BYTES, 'raddr'),
    small(keys.rlast, 'rlast'),
    digitsOfKey(keys.waddr, SMALL_BYTES, 'waddr'),
  ];
  const m = new StackModel();
  const choices = m.inputs(keys.choices.length);
  const raddr = m.inputs(smallDigits);
  const [rlast] = m.inputs(1) as [ItemId];
  const waddr = m.inputs(smallDigits);
  const isRead = isReadAddress(m, raddr);
  const otherAddress = digitsDiffer(m, raddr, waddr);
  const { step, valid } = spellStep(m, shape, choices);
  m.roll(step);
  m.roll(rlast);
  const atLast = m.op(Op.OP_NUMEQUAL, 2, 1)[0] as ItemId;
  allOf(m, [valid, atLast, isRead, otherAddress]);
  return assembleLeaf(values, covenant, m.build());
}

export function notAWriteWitness(
  shape: SearchShape,
  sigs: NotAWriteSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness(
    [...choiceWitness(sigs.choices, shape), sigs.raddr, sigs.rlast, sigs.waddr],
    covenantSigs,
  );
}

/** The twin of RV3: the claimed last write wrote another address. */
export function isNotAWrite(
  shape: SearchShape,
  choices: readonly number[],
  raddr: number,
  rlast: number,
  waddr: number,
): boolean {
  const j = spelledStep(shape, choices);
  return j !== undefined && checkU32(raddr) !== NONE && j === checkU32(rlast) && checkU32(waddr) !== raddr;
}

// ---------------------------------------------------------------------------------------------------
// Resign (§24.4, §24.5): a value re-signed in a reveal differs from the point it repeats.

/**
 * A committed point of a search and the end of the final segment [i, i + 1] it is judged as. Round r
 * (1-based) splits its segment [left, left + 2^b·w] at the points left + t·w, t = 1 … 2^b − 1; round 1
 * also commits its two ends, t = 0 (h_0) and t = 2^b (h_{2^K}), in the assert. Its position depends on
 * the earlier choices (they fixed `left`), but whether it is an end of the final segment does not:
 * - `h` (left end, i = left + t·w): c_r = t and every later choice 0;
 * - `hNext` (right end, i + 1 = left + t·w): c_r = t − 1 and every later choice its maximum.
 * So the leaf fixes the digits of rounds r … R and never reads the earlier ones.
 */
export type ResignPoint = { readonly round: number; readonly slot: number; readonly side: 'h' | 'hNext' };

/** The choices a resign leaf fixes, from round `point.round` on (throws on a point no search commits). */
export function resignFixedChoices(shape: SearchShape, point: ResignPoint): number[] {
  const bits = roundBits(shape);
  const { round, slot, side } = point;
  if (!Number.isInteger(round) || round < 1 || round > bits.length) {
    throw new RangeError(`a search has rounds 1 … ${bits.length}, got ${round}`);
  }
  const parts = 2 ** (bits[round - 1] as number);
  const lowest = round === 1 && side === 'h' ? 0 : 1;
  const highest = round === 1 && side === 'hNext' ? parts : parts - 1;
  if (!Number.isInteger(slot) || slot < lowest || slot > highest) {
    throw new RangeError(`round ${round} has no ${side === 'h' ? 'left' : 'right'} end at slot ${slot}`);
  }
  const later = bits.slice(round).map((b) => (side === 'h' ? 0 : 2 ** b - 1));
  return [side === 'h' ? slot : slot - 1, ...later];
}

/** Every point of a search, both sides: the leaves a reveal's output carries for one search. */
export function resignPoints(shape: SearchShape): ResignPoint[] {
  const out: ResignPoint[] = [];
  roundBits(shape).forEach((b, r) => {
    const round = r + 1;
    for (const side of ['h', 'hNext'] as const) {
      const from = round === 1 && side === 'h' ? 0 : 1;
      const to = round === 1 && side === 'hNext' ? 2 ** b : 2 ** b - 1;
      for (let slot = from; slot <= to; slot++) out.push({ round, slot, side });
    }
  });
  return out;
}

export type ResignKeys = {
  /** All R choice keys of the search (the leaf uses those of rounds point.round … R). */
  choices: readonly WotsPublicKey[];
  /** The point's key in the move that committed it, and the reveal's key for the same end. */
  committed: WotsPublicKey;
  resigned: WotsPublicKey;
};
export type ResignSignatures = {
  /** The signatures of the choices of rounds point.round … R (the leaf's fixed ones). */
  choices: readonly WotsSignature[];
  committed: WotsSignature;
  resigned: WotsSignature;
};

/**
 * Spendable exactly when the choices of rounds r … R are those `resignFixedChoices` names and the two
 * signed values (20 B each) differ. Values bottom first: c_r … c_R, the committed value, the re-signed
 * one. A choice out of range equals no fixed choice, so it never spends.
 */
export function resignLeaf(
  shape: SearchShape,
  point: ResignPoint,
  keys: ResignKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const fixed = resignFixedChoices(shape, point);
  const used = choiceValues(shape, keys.choices, 'choice').slice(point.round - 1);
  const values = [
    ...used,
    digitsOfKey(keys.committed, CHAIN_BYTES, 'committed point'),
    digitsOfKey(keys.resigned, CHAIN_BYTES, 're-signed point'),
  ];
  const m = new StackModel();
  const choices = m.inputs(used.length);
  const committed = m.inputs(chainDigits);
  const resigned = m.inputs(chainDigits);
  const differs = digitsDiffer(m, committed, resigned);
  const selected = fixed.map((c, k) => {
    m.roll(choices[k] as ItemId);
    m.number(c);
    return m.op(Op.OP_NUMEQUAL, 2, 1)[0] as ItemId;
  });
  allOf(m, [...selected, differs]);
  return assembleLeaf(values, covenant, m.build());
}

export function resignWitness(
  shape: SearchShape,
  point: ResignPoint,
  sigs: ResignSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  const expected = roundBits(shape).length - point.round + 1;
  if (sigs.choices.length !== expected) {
    throw new RangeError(`a round-${point.round} resign leaf takes ${expected} choice signatures`);
  }
  return valuesWitness([...sigs.choices, sigs.committed, sigs.resigned], covenantSigs);
}

/** The twin: the choices (all R) make the point that end of the final segment, and the values differ. */
export function isResignFault(
  shape: SearchShape,
  point: ResignPoint,
  choices: readonly number[],
  committed: Uint8Array,
  resigned: Uint8Array,
): boolean {
  if (committed.length !== CHAIN_BYTES || resigned.length !== CHAIN_BYTES) {
    throw new RangeError(`a chain value is ${CHAIN_BYTES} bytes`);
  }
  spelledStep(shape, choices); // only to refuse a wrong count or a non-byte: the earlier choices are free
  const fixed = resignFixedChoices(shape, point);
  const own = choices.slice(point.round - 1);
  return fixed.every((c, k) => own[k] === c) && !equalBytes(committed, resigned);
}

export type ResignAtReadKeys = {
  readChoices: readonly WotsPublicKey[];
  choices: readonly WotsPublicKey[];
  /** The reveal's h_i, and reveal′'s h_{j+1}. */
  readH: WotsPublicKey;
  hNext: WotsPublicKey;
};
export type ResignAtReadSignatures = {
  readChoices: readonly WotsSignature[];
  choices: readonly WotsSignature[];
  readH: WotsSignature;
  hNext: WotsSignature;
};

/**
 * The second search's extra resign leaf (§24.5): its points stop below i, so when j + 1 = i the right
 * end reveal′ re-signs is the reveal's h_i. Spendable exactly when both searches' choices are in range,
 * j + 1 = i and the two values differ. Values bottom first: c_1 … c_R, c′_1 … c′_R, h_i (20 B, the
 * reveal's), h_{j+1} (20 B, reveal′'s).
 */
export function resignAtReadLeaf(
  shape: SearchShape,
  keys: ResignAtReadKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const values = [
    ...choiceValues(shape, keys.readChoices, 'choice'),
    ...choiceValues(shape, keys.choices, 'choice′'),
    digitsOfKey(keys.readH, CHAIN_BYTES, 'h_i'),
    digitsOfKey(keys.hNext, CHAIN_BYTES, 'h_{j+1}'),
  ];
  const m = new StackModel();
  const readChoices = m.inputs(keys.readChoices.length);
  const choices = m.inputs(keys.choices.length);
  const readH = m.inputs(chainDigits);
  const hNext = m.inputs(chainDigits);
  const differs = digitsDiffer(m, readH, hNext);
  const i = spellStep(m, shape, readChoices);
  const j = spellStep(m, shape, choices);
  m.roll(j.step);
  m.op(Op.OP_1ADD, 1, 1);
  m.roll(i.step);
  const adjacent = m.op(Op.OP_NUMEQUAL, 2, 1)[0] as ItemId;
  allOf(m, [i.valid, j.valid, adjacent, differs]);
  return assembleLeaf(values, covenant, m.build());
}

export function resignAtReadWitness(
  shape: SearchShape,
  sigs: ResignAtReadSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness(
    [
      ...choiceWitness(sigs.readChoices, shape),
      ...choiceWitness(sigs.choices, shape),
      sigs.readH,
      sigs.hNext,
    ],
    covenantSigs,
  );
}

/** The twin: j + 1 = i and reveal′'s h_{j+1} is not the reveal's h_i. */
export function isResignAtReadFault(
  shape: SearchShape,
  readChoices: readonly number[],
  choices: readonly number[],
  readH: Uint8Array,
  hNext: Uint8Array,
): boolean {
  if (readH.length !== CHAIN_BYTES || hNext.length !== CHAIN_BYTES) {
    throw new RangeError(`a chain value is ${CHAIN_BYTES} bytes`);
  }
  const i = spelledStep(shape, readChoices);
  const j = spelledStep(shape, choices);
  return i !== undefined && j !== undefined && j + 1 === i && !equalBytes(readH, hNext);
}

// ---------------------------------------------------------------------------------------------------
// The operator's refusals (moves.ts `Refusal`): spent with the operator's signature (its covenant keys),
// they end the game for the operator.

export type PastEndKeys = { choices: readonly WotsPublicKey[]; steps: WotsPublicKey };
export type PastEndSignatures = { choices: readonly WotsSignature[]; steps: WotsSignature };

/**
 * The first search's refusal: spendable exactly when the choices spell i ≥ T′ (no step i to reveal), or
 * a choice is out of range (no game reaches it). Values bottom first: c_1 … c_R, T′ (4 B).
 */
export function pastEndLeaf(
  shape: SearchShape,
  keys: PastEndKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const values = [...choiceValues(shape, keys.choices, 'choice'), small(keys.steps, 'T′')];
  const m = new StackModel();
  const choices = m.inputs(keys.choices.length);
  const [steps] = m.inputs(1) as [ItemId];
  const { step, valid } = spellStep(m, shape, choices);
  m.roll(step);
  m.roll(steps);
  m.op(Op.OP_GREATERTHANOREQUAL, 2, 1);
  m.roll(valid);
  m.op(Op.OP_NOT, 1, 1);
  m.op(Op.OP_BOOLOR, 2, 1);
  return assembleLeaf(values, covenant, m.build());
}

export function pastEndWitness(
  shape: SearchShape,
  sigs: PastEndSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness([...choiceWitness(sigs.choices, shape), sigs.steps], covenantSigs);
}

/** The twin: the first search ended at or past the claimed length (or on a choice no game makes). */
export function isPastEnd(shape: SearchShape, choices: readonly number[], steps: number): boolean {
  const i = spelledStep(shape, choices);
  return i === undefined || i >= checkU32(steps);
}

export type PastReadKeys = { readChoices: readonly WotsPublicKey[]; choices: readonly WotsPublicKey[] };
export type PastReadSignatures = { readChoices: readonly WotsSignature[]; choices: readonly WotsSignature[] };

/**
 * The second search's refusal: spendable exactly when its choices spell j ≥ i (the read's step, from the
 * first search's choices), or a choice of either search is out of range. Values bottom first:
 * c_1 … c_R, c′_1 … c′_R.
 */
export function pastReadLeaf(
  shape: SearchShape,
  keys: PastReadKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const values = [
    ...choiceValues(shape, keys.readChoices, 'choice'),
    ...choiceValues(shape, keys.choices, 'choice′'),
  ];
  const m = new StackModel();
  const readChoices = m.inputs(keys.readChoices.length);
  const choices = m.inputs(keys.choices.length);
  const i = spellStep(m, shape, readChoices);
  const j = spellStep(m, shape, choices);
  m.roll(j.step);
  m.roll(i.step);
  m.op(Op.OP_GREATERTHANOREQUAL, 2, 1);
  allOf(m, [i.valid, j.valid]);
  m.op(Op.OP_NOT, 1, 1);
  m.op(Op.OP_BOOLOR, 2, 1);
  return assembleLeaf(values, covenant, m.build());
}

export function pastReadWitness(
  shape: SearchShape,
  sigs: PastReadSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness(
    [...choiceWitness(sigs.readChoices, shape), ...choiceWitness(sigs.choices, shape)],
    covenantSigs,
  );
}

/** The twin: the second search ended at or past the read's step (or on a choice no game makes). */
export function isPastRead(
  shape: SearchShape,
  readChoices: readonly number[],
  choices: readonly number[],
): boolean {
  const i = spelledStep(shape, readChoices);
  const j = spelledStep(shape, choices);
  return i === undefined || j === undefined || j >= i;
}

export type NotATapeStepKeys = { pc: WotsPublicKey; waddr: WotsPublicKey };
export type NotATapeStepSignatures = { pc: WotsSignature; waddr: WotsSignature };

/**
 * The tape request's refusal: spendable exactly when the revealed pc is none of `tapePositions` (the
 * program's `tape` instructions) or the revealed waddr is NONE (a `tape` step that faulted wrote no
 * word). Values bottom first: pc, waddr (4 B each).
 */
export function notATapeStepLeaf(
  tapePositions: readonly number[],
  keys: NotATapeStepKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const tapes = checkPositions(tapePositions, 'tape position');
  const values = [small(keys.pc, 'pc'), small(keys.waddr, 'waddr')];
  const m = new StackModel();
  const [pc, waddr] = m.inputs(2) as [ItemId, ItemId];
  m.roll(waddr);
  m.number(NONE);
  const noWrite = m.op(Op.OP_NUMEQUAL, 2, 1)[0] as ItemId;
  isOneOf(m, pc, tapes);
  m.op(Op.OP_NOT, 1, 1);
  combine(m, noWrite, Op.OP_BOOLOR);
  return assembleLeaf(values, covenant, m.build());
}

export function notATapeStepWitness(
  sigs: NotATapeStepSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness([sigs.pc, sigs.waddr], covenantSigs);
}

/** The twin: step i is not a `tape` step, or one that wrote nothing. */
export function isNotATapeStep(tapePositions: readonly number[], pc: number, waddr: number): boolean {
  return !tapePositions.includes(checkU32(pc)) || checkU32(waddr) === NONE;
}

// ---------------------------------------------------------------------------------------------------
// Length (§24.3): the assert's T′ is no length a trace of 2^K steps can have.

export type LengthKeys = { steps: WotsPublicKey };
export type LengthSignatures = { steps: WotsSignature };

/** Step numbers must stay below NONE (§24.2), and the sentinel must lie past 2^K for the judgement below. */
function checkDepth(shape: SearchShape): number {
  const k = shape.depth;
  if (!Number.isInteger(k) || k < 1 || 2 ** k > NONE) throw new RangeError(`K must be 1 … 29, got ${k}`);
  return k;
}

/**
 * On the assert's output Q_w: spendable exactly when T′ < 1 or T′ > 2^K (T′ = 0 would aim the rule at
 * step 0 and make every game past its end). Values: T′ (4 B). A T′ above NONE reads as the sentinel,
 * which is above 2^K because K ≤ 29, so it spends as the number it stands for would.
 */
export function lengthLeaf(
  shape: SearchShape,
  keys: LengthKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const top = 2 ** checkDepth(shape);
  const values = [small(keys.steps, 'T′')];
  const m = new StackModel();
  m.inputs(1);
  // 1 ≤ T′ < 2^K + 1 is a possible length; OP_WITHIN tests exactly that.
  m.number(1);
  m.number(top + 1);
  m.op(Op.OP_WITHIN, 3, 1);
  m.op(Op.OP_NOT, 1, 1);
  return assembleLeaf(values, covenant, m.build());
}

export function lengthWitness(
  sigs: LengthSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness([sigs.steps], covenantSigs);
}

/** The twin: T′ is 0 or longer than the padded trace. */
export function isWrongLength(shape: SearchShape, steps: number): boolean {
  return checkU32(steps) < 1 || steps > 2 ** checkDepth(shape);
}

// ---------------------------------------------------------------------------------------------------
// Unwritten read with ℓ (§24.4): a read whose claimed last write is NONE returned a non-zero word.

export type UnwrittenReadLastKeys = { raddr: WotsPublicKey; rvalue: WotsPublicKey; rlast: WotsPublicKey };
export type UnwrittenReadLastSignatures = {
  raddr: WotsSignature;
  rvalue: WotsSignature;
  rlast: WotsSignature;
};

/**
 * Spendable exactly when raddr ≠ NONE, rlast = NONE and rvalue ≠ 0 (memory starts all zero, and the
 * operator itself says nothing wrote the address). One leaf per read slot (the keys say which). Unlike
 * memory-leaves.ts's `unwrittenReadLeaf` it reads ℓ, so an honest read of a written address never spends.
 * Values bottom first: raddr (4 B, digits: any u32 compared exactly with NONE), rvalue (32 B), rlast
 * (4 B, a number: the sentinel is not NONE).
 */
export function unwrittenReadLastLeaf(
  keys: UnwrittenReadLastKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const values = [
    digitsOfKey(keys.raddr, SMALL_BYTES, 'raddr'),
    digitsOfKey(keys.rvalue, WORD_BYTES, 'rvalue'),
    small(keys.rlast, 'rlast'),
  ];
  const m = new StackModel();
  const raddr = m.inputs(smallDigits);
  const rvalue = m.inputs(wordDigits);
  const [rlast] = m.inputs(1) as [ItemId];
  m.roll(rlast);
  m.number(NONE);
  const never = m.op(Op.OP_NUMEQUAL, 2, 1)[0] as ItemId;
  const nonZero = digitsDifferFrom(m, rvalue, new Uint8Array(WORD_BYTES));
  const isRead = digitsDifferFrom(m, raddr, NONE_BYTES);
  allOf(m, [never, nonZero, isRead]);
  return assembleLeaf(values, covenant, m.build());
}

export function unwrittenReadLastWitness(
  sigs: UnwrittenReadLastSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness([sigs.raddr, sigs.rvalue, sigs.rlast], covenantSigs);
}

/** The twin: a real read that the operator says nothing wrote returned a non-zero word. */
export function isUnwrittenReadWithLast(raddr: number, rvalue: bigint, rlast: number): boolean {
  wordBytes(rvalue);
  return checkU32(raddr) !== NONE && checkU32(rlast) === NONE && rvalue !== 0n;
}

// ---------------------------------------------------------------------------------------------------
// Tape position (§24.5): the tape reveal's position is not the number the tape step read.

export type TapePositionKeys = { position: WotsPublicKey; r1value: WotsPublicKey };
export type TapePositionSignatures = { position: WotsSignature; r1value: WotsSignature };

/**
 * Spendable exactly when r1value (32 B, the reveal's) is not the tape reveal's position (4 B) as a
 * number: its high 28 bytes are not all zero, or its low 4 bytes are not the position's. Both stay digits,
 * so every u32 position is compared exactly (no sentinel). Values bottom first: position, r1value.
 */
export function tapePositionLeaf(keys: TapePositionKeys, covenant: readonly Uint8Array[] = []): GvmLeaf {
  const values = [
    digitsOfKey(keys.position, SMALL_BYTES, 'position'),
    digitsOfKey(keys.r1value, WORD_BYTES, 'r1value'),
  ];
  const m = new StackModel();
  const position = m.inputs(smallDigits);
  const r1value = m.inputs(wordDigits);
  // A value's digits run from its last byte: the word's first 8 are its low 4 bytes, in the order the
  // position's 8 digits run.
  const low = r1value.slice(0, smallDigits);
  const high = r1value.slice(smallDigits);
  const highSet = digitsDifferFrom(m, high, new Uint8Array(WORD_BYTES - SMALL_BYTES));
  digitsDiffer(m, position, low);
  combine(m, highSet, Op.OP_BOOLOR);
  return assembleLeaf(values, covenant, m.build());
}

export function tapePositionWitness(
  sigs: TapePositionSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness([sigs.position, sigs.r1value], covenantSigs);
}

/** The twin: the word the tape step read (its position operand) is not the revealed position. */
export function isWrongTapePosition(position: number, r1value: bigint): boolean {
  smallBytes(position);
  wordBytes(r1value);
  return r1value !== BigInt(position);
}
