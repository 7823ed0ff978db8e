/**
 * The narrowing game's disprove leaves that hash something the operator did not commit
 * (docs/protocol.md §24.4–24.5; their TypeScript twins are in src/dispute/game/leaves.ts):
 * - `pcLinkLeaf` (first search, step i ≥ 1): the challenger supplies, unsigned, a preimage
 *   (h′ ‖ be32(pc′) ‖ be32(nextPc′) ‖ be32(waddr′) ‖ wvalue′) of the re-signed h_i; the leaf spends when
 *   it hashes to h_i and nextPc′ ≠ the revealed pc, or pc′ is a halt position of the program;
 * - `entryPcLeaf` (first search, step 0): the revealed pc is not the entry point 0;
 * - `wrongPredecessorLeaf` (second search): a preimage (x ‖ …) of the re-signed h_{j+1} with x ≠ h_j;
 * - `h0Leaf` (on the assert's output): h_0 ≠ BLAKE3(BLAKE3(imageRoot ‖ inputsRoot) ‖ programHash)[0..20],
 *   with the two roots as the kick-off commits them and the program hash fixed in the script.
 *
 * Both searches' step numbers come from the challenger's choices, one Winternitz-signed byte per round,
 * most significant first (src/dispute/game/grid.ts), so step 0 is exactly "every choice is zero". The
 * pc-link leaf must refuse step 0: there h_i = h_0, whose preimage tapeRoot ‖ programHash anyone knows,
 * and read as a chain block it almost always has nextPc′ ≠ 0. Hence its choices check, and the separate
 * small leaf for step 0. As in game-leaves.ts, a choice outside its round's range (c_r ≥ 2^bits_r: a
 * byte the challenger could sign but the game never plays) never lets these challenger's leaves spend.
 * In a game the choice keys are the operator's echo keys (the choices as its reveal echoes them), never
 * the challenger's own, which it could re-sign in its disprove witness (docs/protocol.md §24.11).
 *
 * The preimage is the 64-byte block as the BLAKE3 gadget takes it (`circuits/blake3.ts`): 128 nibbles in
 * Winternitz digit order (bytes last first, high nibble first), one witness item each, below the
 * signatures. Nothing signs them, so the script checks every one is a number in 0..15 before anything
 * reads it (a gadget lookup on anything else would read the wrong table entry): a wrong-sized or
 * out-of-range preimage fails the script. With fewer than 128 items a pick underflows; with more, the
 * extra items outlive the script and tapscript's one-item rule refuses the spend. Numbers are read by
 * value, so a non-minimal encoding of a digit is that digit (consensus does not require minimal
 * numbers in tapscript), i.e. the same preimage.
 *
 * Layout of a preimage leaf: covenant, the Winternitz verifications (`assembleLeaf`), then
 * (1) the range checks and the side condition on the preimage's fields (picked, so the preimage stays
 * whole for the hash), with the committed chain value and the side verdict parked on the altstack;
 * (2) the gadget in 'digest' mode over the preimage; (3) the parked items back, the digest's bytes
 * 19..0 compared digit by digit with the chain value (as `chain-leaf.ts` does), the verdicts combined.
 */

import { encodeScriptNum } from '../../src/bitcoin/script/num.ts';
import { Op } from '../../src/bitcoin/script/opcodes.ts';
import { blake3Block64 } from '../../src/core/blake3.ts';
import { concatBytes, equalBytes } from '../../src/core/bytes.ts';
import { roundBits, type SearchShape } from '../../src/dispute/game/grid.ts';
import type { Preimage } from '../../src/dispute/game/moves.ts';
import type { WotsPublicKey } from '../../src/dispute/winternitz/keys.ts';
import type { WotsSignature } from '../../src/dispute/winternitz/sign.ts';
import { chainMessage, chainStart } from '../../src/machine/chain.ts';
import {
  CHAIN_BYTES,
  NO_ACCESS,
  SMALL_BYTES,
  smallBytes,
  smallOf,
  WORD_BYTES,
  wordOf,
} from '../../src/machine/isa.ts';
import type { Program } from '../../src/machine/program.ts';
import { tapeRoot } from '../../src/machine/tape.ts';
import { blake3Gadget } from '../blake3.ts';
import { type CommittedValue, valuesWitness } from '../committed-values.ts';
import { type ItemId, StackModel } from '../stack-model.ts';
import { CHOICE_BYTES, spelledStep } from './game-leaves.ts';
import {
  assembleLeaf,
  checkKeySize,
  digitsDiffer,
  digitsOf,
  type GvmLeaf,
  keepOnly,
} from './memory-leaves.ts';

/** A chain block is 64 bytes: 128 nibbles in the witness. */
export const BLOCK_BYTES = 64;
export const PREIMAGE_ITEMS = 2 * BLOCK_BYTES;

const chainDigits = 2 * CHAIN_BYTES;
const smallDigits = 2 * SMALL_BYTES;
const wordDigits = 2 * WORD_BYTES;

// ---------------------------------------------------------------------------------------------------
// The preimage in the witness.

/** The 64-byte block a preimage (h′, record′) stands for: what `chainNext` hashes. */
export const preimageBlock = (preimage: Preimage): Uint8Array => chainMessage(preimage.h, preimage.record);

/** A 64-byte block read back as a preimage (reads are not chained: none). */
export function preimageOfBlock(block: Uint8Array): Preimage {
  checkBlock(block);
  return {
    h: block.slice(0, 20),
    record: {
      pc: smallOf(block.subarray(20, 24)),
      nextPc: smallOf(block.subarray(24, 28)),
      w: { addr: smallOf(block.subarray(28, 32)), value: wordOf(block.subarray(32, 64)) },
      r1: NO_ACCESS,
      r2: NO_ACCESS,
    },
  };
}

/** The block's 128 nibbles as witness items, bottom first, each a minimal script number. */
export function preimageItems(block: Uint8Array): Uint8Array[] {
  checkBlock(block);
  return digitsOf(block).map((d) => encodeScriptNum(d));
}

function checkBlock(block: Uint8Array): void {
  if (block.length !== BLOCK_BYTES) throw new RangeError(`a chain block is ${BLOCK_BYTES} bytes`);
}

/** The block's first 20 digest bytes: the chain value it links to. */
const linkOf = (block: Uint8Array): Uint8Array => blake3Block64(block).slice(0, CHAIN_BYTES);

/** The items of the block's bytes [start, start + length), among its 128 digits (bytes last first). */
function blockField(ids: readonly ItemId[], start: number, length: number): ItemId[] {
  return ids.slice(2 * (BLOCK_BYTES - start - length), 2 * (BLOCK_BYTES - start));
}

// ---------------------------------------------------------------------------------------------------
// Script pieces.

let digestScript: Uint8Array | undefined;
function blake3Digest(): Uint8Array {
  digestScript ??= blake3Gadget('digest').script;
  return digestScript;
}

/** Every preimage item (picked, not consumed) is a number 0 ≤ d < 16, else the script fails. */
function requireNibbles(m: StackModel, ids: readonly ItemId[]): void {
  for (const id of ids) {
    m.pick(id);
    m.number(0);
    m.number(16);
    m.op(Op.OP_WITHIN, 3, 1);
    m.op(Op.OP_VERIFY, 1, 0);
  }
}

/** 1 when any of the digits `ids` (consumed; committed, so 0..15) is non-zero, else 0. */
function anyNonZero(m: StackModel, ids: readonly ItemId[]): ItemId {
  ids.forEach((id, k) => {
    m.roll(id);
    if (k > 0) m.add();
  });
  return m.op(Op.OP_0NOTEQUAL, 1, 1)[0] as ItemId;
}

/** `a op b` of two verdicts (consumed). */
function both(m: StackModel, op: number, a: ItemId, b: ItemId): ItemId {
  m.roll(a);
  m.roll(b);
  return m.op(op, 2, 1)[0] as ItemId;
}

/** 1 when the digits `a` (picked) and `b` (consumed) differ anywhere, else 0. */
function pickedDiffer(m: StackModel, a: readonly ItemId[], b: readonly ItemId[]): ItemId {
  if (a.length !== b.length) throw new RangeError('comparing digit lists of other lengths');
  let acc: ItemId | undefined;
  for (let k = 0; k < a.length; k++) {
    m.pick(a[k] as ItemId);
    m.roll(b[k] as ItemId);
    m.op(Op.OP_NUMNOTEQUAL, 2, 1);
    if (acc !== undefined) {
      m.roll(acc);
      m.op(Op.OP_BOOLOR, 2, 1);
    }
    acc = m.top();
  }
  return acc as ItemId;
}

/** 1 when the digits `ids` (picked) spell one of the constants `values` (each `bytes` long), else 0. */
function pickedIsOneOf(m: StackModel, ids: readonly ItemId[], values: readonly Uint8Array[]): ItemId {
  if (values.length === 0) return m.number(0);
  let any: ItemId | undefined;
  for (const v of values) {
    const want = digitsOf(v);
    if (want.length !== ids.length) throw new RangeError('comparing digits with a constant of another size');
    let all: ItemId | undefined;
    want.forEach((c, k) => {
      m.pick(ids[k] as ItemId);
      if (c === 0) m.op(Op.OP_NOT, 1, 1);
      else {
        m.number(c);
        m.op(Op.OP_NUMEQUAL, 2, 1);
      }
      if (all !== undefined) {
        m.roll(all);
        m.op(Op.OP_BOOLAND, 2, 1);
      }
      all = m.top();
    });
    if (any !== undefined) {
      m.roll(any);
      m.op(Op.OP_BOOLOR, 2, 1);
    }
    any = m.top();
  }
  return any as ItemId;
}

/**
 * The judgement of a preimage leaf. The stack holds the preimage's 128 items, then the committed
 * values' digits (`committedDigits`, bottom first). `side` turns them into one verdict, consuming every
 * committed value but the chain value at `targetIndex`, and only picking the preimage's items. The leaf
 * then spends when side ∧ BLAKE3(preimage)[0..20] = the chain value.
 */
function preimageJudge(
  committedDigits: readonly number[],
  targetIndex: number,
  side: (m: StackModel, preimage: readonly ItemId[], committed: readonly ItemId[][]) => ItemId,
): Uint8Array {
  const pre = new StackModel();
  const preimage = pre.inputs(PREIMAGE_ITEMS);
  const committed = committedDigits.map((n) => pre.inputs(n));
  const target = committed[targetIndex] as ItemId[];
  if (target.length !== chainDigits) throw new RangeError('the linked value is a 20-byte chain value');
  requireNibbles(pre, preimage);
  const verdict = side(pre, preimage, committed);
  pre.toAlt(verdict);
  for (let k = target.length - 1; k >= 0; k--) pre.toAlt(target[k] as ItemId);
  const left = pre.stack;
  if (left.length !== PREIMAGE_ITEMS || left.some((id, k) => id !== preimage[k])) {
    throw new Error('the side condition must consume the committed values and leave the preimage whole');
  }

  // After the gadget: its 64 digest nibbles, then the parked items come back (the chain value's digits
  // in order, then the verdict). They were parked by the model above, so this one declares them.
  const post = new StackModel();
  const digest = post.inputs(wordDigits);
  const back = (): ItemId => {
    post.builder.op(Op.OP_FROMALTSTACK);
    return post.inputs(1)[0] as ItemId;
  };
  const value = Array.from({ length: chainDigits }, back);
  const parkedVerdict = back();
  // The digest's bytes 19..0 are its top 40 nibbles, in the layout of a committed chain value.
  digitsDiffer(post, value, digest.slice(wordDigits - chainDigits));
  post.op(Op.OP_NOT, 1, 1);
  post.roll(parkedVerdict);
  const spends = post.op(Op.OP_BOOLAND, 2, 1)[0] as ItemId;
  keepOnly(post, [spends]);
  return concatBytes(pre.build(), blake3Digest(), post.build());
}

function choiceValues(shape: SearchShape, keys: readonly WotsPublicKey[]): CommittedValue[] {
  const rounds = roundBits(shape).length;
  if (keys.length !== rounds) throw new RangeError(`${rounds} choice keys expected, got ${keys.length}`);
  return keys.map((k, r) => ({ key: checkKeySize(k, CHOICE_BYTES, `choice ${r + 1}`) }));
}

const choiceBytes = (choices: readonly number[]): Uint8Array[] =>
  choices.map((c) => {
    if (!Number.isInteger(c) || c < 0 || c > 0xff) throw new RangeError(`a choice is one byte, got ${c}`);
    return Uint8Array.of(c);
  });

/**
 * Consumes the choices' digits (two per choice, high nibble below) and leaves whether every choice is
 * within its round's range and whether any is non-zero: the step they spell is 0 exactly when none is.
 */
function readChoices(
  m: StackModel,
  shape: SearchShape,
  digits: readonly ItemId[],
): { valid: ItemId; nonZero: ItemId } {
  const bits = roundBits(shape);
  if (digits.length !== 2 * bits.length) throw new RangeError('two digits per choice');
  let valid: ItemId | undefined;
  let sum: ItemId | undefined;
  bits.forEach((b, r) => {
    // c = 16·hi + lo.
    m.roll(digits[2 * r] as ItemId);
    for (let k = 0; k < 4; k++) {
      m.pick(m.top());
      m.add();
    }
    m.roll(digits[2 * r + 1] as ItemId);
    const c = m.add();
    m.pick(c);
    m.number(2 ** b);
    const inRange = m.op(Op.OP_LESSTHAN, 2, 1)[0] as ItemId;
    valid = valid === undefined ? inRange : both(m, Op.OP_BOOLAND, valid, inRange);
    sum = sum === undefined ? c : both(m, Op.OP_ADD, sum, c);
  });
  m.roll(sum as ItemId);
  const nonZero = m.op(Op.OP_0NOTEQUAL, 1, 1)[0] as ItemId;
  return { valid: valid as ItemId, nonZero };
}

// ---------------------------------------------------------------------------------------------------
// pc link, step i ≥ 1.

/** The halt positions of a program: no step follows one (the run ends at its first halt). */
export const haltPositionsOf = (program: Program): number[] =>
  program.instructions.flatMap((ins, pc) => (ins.op === 'halt' ? [pc] : []));

/** The R choices (1 byte each; in a game, the operator's echo keys), and the reveal's re-signed h_i and pc. */
export type PcLinkKeys = {
  readonly choices: readonly WotsPublicKey[];
  readonly h: WotsPublicKey;
  readonly pc: WotsPublicKey;
};
export type PcLinkSignatures = {
  readonly choices: readonly WotsSignature[];
  readonly h: WotsSignature;
  readonly pc: WotsSignature;
};

/** The committed bytes of the pc-link leaf's values, as they are signed. */
export function pcLinkValues(
  choices: readonly number[],
  h: Uint8Array,
  pc: number,
): { choices: Uint8Array[]; h: Uint8Array; pc: Uint8Array } {
  if (h.length !== CHAIN_BYTES) throw new RangeError(`a chain value is ${CHAIN_BYTES} bytes`);
  return { choices: choiceBytes(choices), h: h.slice(), pc: smallBytes(pc) };
}

/**
 * Spends when the choices are in range and spell a step i ≥ 1, BLAKE3(preimage)[0..20] = h_i and
 * (nextPc′ ≠ pc or pc′ is one of `haltPositions`). Values bottom first: c_1 … c_R, h_i, pc.
 */
export function pcLinkLeaf(
  shape: SearchShape,
  haltPositions: readonly number[],
  keys: PcLinkKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const halts = [...new Set(haltPositions)].map(smallBytes);
  const values: CommittedValue[] = [
    ...choiceValues(shape, keys.choices),
    { key: checkKeySize(keys.h, CHAIN_BYTES, 'h') },
    { key: checkKeySize(keys.pc, SMALL_BYTES, 'pc') },
  ];
  const rounds = keys.choices.length;
  const digits = [...Array<number>(rounds).fill(2 * CHOICE_BYTES), chainDigits, smallDigits];
  const judge = preimageJudge(digits, rounds, (m, preimage, committed) => {
    const pc = committed[rounds + 1] as ItemId[];
    const nextPcDiffers = pickedDiffer(m, blockField(preimage, 24, SMALL_BYTES), pc);
    const afterHalt = pickedIsOneOf(m, blockField(preimage, 20, SMALL_BYTES), halts);
    const broken = both(m, Op.OP_BOOLOR, nextPcDiffers, afterHalt);
    const { valid, nonZero } = readChoices(m, shape, committed.slice(0, rounds).flat());
    const stepAfterFirst = both(m, Op.OP_BOOLAND, valid, nonZero);
    return both(m, Op.OP_BOOLAND, stepAfterFirst, broken);
  });
  return assembleLeaf(values, covenant, judge);
}

/** The witness items below the script and control block, bottom first: the preimage, then the signatures. */
export function pcLinkWitness(
  sigs: PcLinkSignatures,
  block: Uint8Array,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return [...preimageItems(block), ...valuesWitness([...sigs.choices, sigs.h, sigs.pc], covenantSigs)];
}

/** The twin of `pcLinkLeaf`. */
export function isBrokenPcLink(
  shape: SearchShape,
  haltPositions: readonly number[],
  choices: readonly number[],
  h: Uint8Array,
  pc: number,
  block: Uint8Array,
): boolean {
  pcLinkValues(choices, h, pc);
  const { record } = preimageOfBlock(block);
  const i = spelledStep(shape, choices);
  return (
    i !== undefined &&
    i >= 1 &&
    equalBytes(linkOf(block), h) &&
    (record.nextPc !== pc || haltPositions.includes(record.pc))
  );
}

// ---------------------------------------------------------------------------------------------------
// pc link, step 0.

export type EntryPcKeys = { readonly choices: readonly WotsPublicKey[]; readonly pc: WotsPublicKey };
export type EntryPcSignatures = { readonly choices: readonly WotsSignature[]; readonly pc: WotsSignature };

/** Spends when every choice is zero (step 0) and the revealed pc is not 0. Values: c_1 … c_R, pc. */
export function entryPcLeaf(
  shape: SearchShape,
  keys: EntryPcKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const values: CommittedValue[] = [
    ...choiceValues(shape, keys.choices),
    { key: checkKeySize(keys.pc, SMALL_BYTES, 'pc') },
  ];
  const m = new StackModel();
  const choices = m.inputs(2 * CHOICE_BYTES * keys.choices.length);
  const pc = m.inputs(smallDigits);
  const notEntry = anyNonZero(m, pc);
  anyNonZero(m, choices);
  m.op(Op.OP_NOT, 1, 1);
  m.roll(notEntry);
  m.op(Op.OP_BOOLAND, 2, 1);
  return assembleLeaf(values, covenant, m.build());
}

export function entryPcWitness(
  sigs: EntryPcSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness([...sigs.choices, sigs.pc], covenantSigs);
}

/** The twin of `entryPcLeaf`. */
export function isWrongEntryPc(shape: SearchShape, choices: readonly number[], pc: number): boolean {
  smallBytes(pc);
  return spelledStep(shape, choices) === 0 && pc !== 0;
}

// ---------------------------------------------------------------------------------------------------
// Wrong predecessor (second search).

/** reveal′'s re-signed h_j and h_{j+1}. */
export type WrongPredecessorKeys = { readonly hNext: WotsPublicKey; readonly h: WotsPublicKey };
export type WrongPredecessorSignatures = { readonly hNext: WotsSignature; readonly h: WotsSignature };

/** Spends when BLAKE3(preimage)[0..20] = h_{j+1} and the preimage's x ≠ h_j. Values: h_{j+1}, h_j. */
export function wrongPredecessorLeaf(
  keys: WrongPredecessorKeys,
  covenant: readonly Uint8Array[] = [],
): GvmLeaf {
  const values: CommittedValue[] = [
    { key: checkKeySize(keys.hNext, CHAIN_BYTES, 'hNext') },
    { key: checkKeySize(keys.h, CHAIN_BYTES, 'h') },
  ];
  const judge = preimageJudge([chainDigits, chainDigits], 0, (m, preimage, committed) =>
    pickedDiffer(m, blockField(preimage, 0, CHAIN_BYTES), committed[1] as ItemId[]),
  );
  return assembleLeaf(values, covenant, judge);
}

export function wrongPredecessorWitness(
  sigs: WrongPredecessorSignatures,
  block: Uint8Array,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return [...preimageItems(block), ...valuesWitness([sigs.hNext, sigs.h], covenantSigs)];
}

/** The twin of `wrongPredecessorLeaf`. */
export function isWrongPredecessor(h: Uint8Array, hNext: Uint8Array, block: Uint8Array): boolean {
  if (h.length !== CHAIN_BYTES || hNext.length !== CHAIN_BYTES) {
    throw new RangeError(`a chain value is ${CHAIN_BYTES} bytes`);
  }
  checkBlock(block);
  return equalBytes(linkOf(block), hNext) && !equalBytes(block.subarray(0, CHAIN_BYTES), h);
}

// ---------------------------------------------------------------------------------------------------
// h_0.

/** The assert's h_0 and the kick-off's two roots. */
export type H0Keys = {
  readonly h0: WotsPublicKey;
  readonly inputsRoot: WotsPublicKey;
  readonly imageRoot: WotsPublicKey;
};
export type H0Signatures = {
  readonly h0: WotsSignature;
  readonly inputsRoot: WotsSignature;
  readonly imageRoot: WotsSignature;
};

/**
 * Spends when h_0 ≠ BLAKE3(BLAKE3(imageRoot ‖ inputsRoot) ‖ programHash)[0..20] (`chainStart` of
 * `tapeRoot`: both are one 64-byte compression, the tape root in full). Values bottom first: h_0,
 * inputsRoot, imageRoot, so the two roots' digits are the first block in the gadget's layout; its
 * digest (the tape root) is put back above the program hash's digits to make the second block.
 */
export function h0Leaf(programHash: Uint8Array, keys: H0Keys, covenant: readonly Uint8Array[] = []): GvmLeaf {
  if (programHash.length !== WORD_BYTES) throw new RangeError('a program hash is 32 bytes');
  const values: CommittedValue[] = [
    { key: checkKeySize(keys.h0, CHAIN_BYTES, 'h0') },
    { key: checkKeySize(keys.inputsRoot, WORD_BYTES, 'inputsRoot') },
    { key: checkKeySize(keys.imageRoot, WORD_BYTES, 'imageRoot') },
  ];
  // Between the two compressions: [tape root] → [programHash's digits, tape root].
  const mid = new StackModel();
  const root = mid.inputs(wordDigits);
  for (let k = root.length - 1; k >= 0; k--) mid.toAlt(root[k] as ItemId);
  for (const d of digitsOf(programHash)) mid.number(d);
  for (let k = 0; k < root.length; k++) mid.fromAlt();

  const post = new StackModel();
  const h0 = post.inputs(chainDigits);
  const digest = post.inputs(wordDigits);
  const wrong = digitsDiffer(post, h0, digest.slice(wordDigits - chainDigits));
  keepOnly(post, [wrong]);
  const judge = concatBytes(blake3Digest(), mid.build(), blake3Digest(), post.build());
  return assembleLeaf(values, covenant, judge);
}

export function h0Witness(sigs: H0Signatures, covenantSigs: readonly Uint8Array[] = []): Uint8Array[] {
  return valuesWitness([sigs.h0, sigs.inputsRoot, sigs.imageRoot], covenantSigs);
}

/** The twin of `h0Leaf`. */
export function isWrongH0(
  h0: Uint8Array,
  imageRoot: Uint8Array,
  inputsRoot: Uint8Array,
  programHash: Uint8Array,
): boolean {
  if (h0.length !== CHAIN_BYTES) throw new RangeError(`a chain value is ${CHAIN_BYTES} bytes`);
  if (imageRoot.length !== WORD_BYTES || inputsRoot.length !== WORD_BYTES) {
    throw new RangeError('the two roots are 32 bytes each');
  }
  return !equalBytes(h0, chainStart(tapeRoot(imageRoot, inputsRoot), programHash));
}
