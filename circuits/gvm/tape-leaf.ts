/**
 * The tape's Merkle-path disprove leaves of GVM-1 (docs/protocol.md §22.5): a `tape` step's word is
 * proved against the tape root by a path the operator commits level by level, and each level is one
 * leaf.
 *
 * Conventions: each half of the tape (the state image below 2^29, the inputs from 2^29 on) is a
 * depth-29 tree of 32-byte words with nodes blake3Node(left ‖ right); at level j (0-based from the
 * bottom) the running node is the LEFT child when bit j of the tape position is 0; bit 29 of the
 * position chooses the half, and the tape root is blake3Node(imageRoot ‖ inputRoot). No honest path has
 * a position ≥ 2^30 (`TAPE_LIMIT`), so such a committed position makes every leaf spendable.
 *
 * - `tapeLevelLeaf(j)`, j in 0..28: commits position (4 B), node_j, sibling_j, node_{j+1} (32 B each);
 *   spendable exactly when node_{j+1} ≠ (bit j ? H(sibling ‖ node) : H(node ‖ sibling)) or the
 *   position is ≥ 2^30.
 * - `tapeTopLeaf`: commits position, node_29 (the root of the half), the pre-state image root and the
 *   inputs root; spendable exactly when node_29 differs from the root bit 29 selects, or the position
 *   is ≥ 2^30.
 *
 * The position's bits come from its digits (digit p of a big-endian value is nibble p ^ 1): right after
 * its verification, a transform turns its 8 digits into [bit, position ≥ 2^30] (nibble 7 ≥ 4).
 *
 * Level script: covenant, verifications (values bottom first: node_{j+1}, sibling, node, position), the
 * "≥ 2^30" flag parked, `OP_IF` (bit 1) the sibling's 64 digits rolled above the node's `OP_ENDIF` —
 * the message is then node ‖ sibling or sibling ‖ node in `blake3Gadget`'s layout, with node_{j+1}'s
 * digits below as the expected digest — `blake3Gadget('notEqual')`, then OR the flag.
 * Top script: values bottom first imageRoot, inputsRoot, node_29, position; node_29 compared with both
 * roots, the comparison bit 29 selects kept (without branching), OR the flag.
 * Witness (bottom first): the signatures in the values' order, then the covenant signatures.
 */
import { ScriptBuilder } from '../../src/bitcoin/script/builder.ts';
import { Op } from '../../src/bitcoin/script/opcodes.ts';
import { concatBytes, equalBytes } from '../../src/core/bytes.ts';
import type { WotsPublicKey } from '../../src/dispute/winternitz/keys.ts';
import type { WotsSignature } from '../../src/dispute/winternitz/sign.ts';
import { SMALL_BYTES, smallBytes, TAPE_HALF_DEPTH, TAPE_LIMIT, WORD_BYTES } from '../../src/machine/isa.ts';
import { blake3Gadget } from '../blake3.ts';
import { blake3Node } from '../blake3-reference.ts';
import { type CommittedValue, type ValueTransform, valuesWitness } from '../committed-values.ts';
import { type ItemId, StackModel } from '../stack-model.ts';
import {
  assembleLeaf,
  checkKeySize,
  digitsDiffer,
  digitTransform,
  type GvmLeaf,
  keepOnly,
  nibbleBit,
} from './memory-leaves.ts';

export type TapeLevelKeys = {
  position: WotsPublicKey;
  node: WotsPublicKey;
  sibling: WotsPublicKey;
  parent: WotsPublicKey;
};
export type TapeLevelSignatures = {
  position: WotsSignature;
  node: WotsSignature;
  sibling: WotsSignature;
  parent: WotsSignature;
};
export type TapeTopKeys = {
  position: WotsPublicKey;
  root: WotsPublicKey;
  imageRoot: WotsPublicKey;
  inputsRoot: WotsPublicKey;
};
export type TapeTopSignatures = {
  position: WotsSignature;
  root: WotsSignature;
  imageRoot: WotsSignature;
  inputsRoot: WotsSignature;
};

const WORD_DIGITS = 2 * WORD_BYTES;

/** The position's 8 digits → [bit `bit` of the position, position ≥ 2^30] (the flag on top). */
function positionTransform(bit: number): ValueTransform {
  return digitTransform(2 * SMALL_BYTES, (m, ids) => {
    // Nibble 7 (bits 28..31) is the digit at index 6; position ≥ 2^30 exactly when it is ≥ 4.
    m.pick(ids[6] as ItemId);
    m.number(4);
    const beyond = m.op(Op.OP_GREATERTHANOREQUAL, 2, 1)[0] as ItemId;
    const b = nibbleBit(m, ids[(bit >> 2) ^ 1] as ItemId, bit & 3);
    return [b, beyond];
  });
}

let notEqualGadget: Uint8Array | undefined;
function blake3NotEqual(): Uint8Array {
  notEqualGadget ??= blake3Gadget('notEqual').script;
  return notEqualGadget;
}

function checkLevel(j: number): void {
  if (!Number.isInteger(j) || j < 0 || j >= TAPE_HALF_DEPTH) {
    throw new RangeError(`a tape path level is 0..${TAPE_HALF_DEPTH - 1}, not ${j}`);
  }
}

/** The leaf of level `j`. `covenant`: x-only keys checked first (may be empty). */
export function tapeLevelLeaf(j: number, keys: TapeLevelKeys, covenant: readonly Uint8Array[] = []): GvmLeaf {
  checkLevel(j);
  const values: CommittedValue[] = [
    { key: checkKeySize(keys.parent, WORD_BYTES, 'node_{j+1}') },
    { key: checkKeySize(keys.sibling, WORD_BYTES, 'sibling_j') },
    { key: checkKeySize(keys.node, WORD_BYTES, 'node_j') },
    { key: checkKeySize(keys.position, SMALL_BYTES, 'position'), transform: positionTransform(j) },
  ];
  const b = new ScriptBuilder();
  b.op(Op.OP_TOALTSTACK);
  // Bit j set: the running node is the right child, so the sibling's digits go on top (message
  // sibling ‖ node). Rolling the deepest sibling digit 64 times moves the whole group, order kept.
  b.op(Op.OP_IF);
  for (let k = 0; k < WORD_DIGITS; k++) b.number(2 * WORD_DIGITS - 1).op(Op.OP_ROLL);
  b.op(Op.OP_ENDIF);
  b.raw(blake3NotEqual());
  b.op(Op.OP_FROMALTSTACK).op(Op.OP_BOOLOR);
  return assembleLeaf(values, covenant, b.build());
}

export function tapeLevelWitness(
  sigs: TapeLevelSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness([sigs.parent, sigs.sibling, sigs.node, sigs.position], covenantSigs);
}

const bitOf = (position: number, j: number) => Math.floor(position / 2 ** j) % 2 === 1;

/** The twin of `tapeLevelLeaf(j)`. */
export function isFaultyTapeLevel(
  j: number,
  position: number,
  node: Uint8Array,
  sibling: Uint8Array,
  parent: Uint8Array,
): boolean {
  checkLevel(j);
  smallBytes(position);
  for (const v of [node, sibling, parent]) {
    if (v.length !== WORD_BYTES) throw new RangeError(`a tape node is ${WORD_BYTES} bytes`);
  }
  if (position >= TAPE_LIMIT) return true;
  const expected = bitOf(position, j)
    ? blake3Node(concatBytes(sibling, node))
    : blake3Node(concatBytes(node, sibling));
  return !equalBytes(expected, parent);
}

/** The leaf joining the path to the two roots. `covenant`: x-only keys checked first (may be empty). */
export function tapeTopLeaf(keys: TapeTopKeys, covenant: readonly Uint8Array[] = []): GvmLeaf {
  const values: CommittedValue[] = [
    { key: checkKeySize(keys.imageRoot, WORD_BYTES, 'imageRoot') },
    { key: checkKeySize(keys.inputsRoot, WORD_BYTES, 'inputsRoot') },
    { key: checkKeySize(keys.root, WORD_BYTES, 'node_29') },
    {
      key: checkKeySize(keys.position, SMALL_BYTES, 'position'),
      transform: positionTransform(TAPE_HALF_DEPTH),
    },
  ];
  const m = new StackModel();
  const image = m.inputs(WORD_DIGITS);
  const inputs = m.inputs(WORD_DIGITS);
  const root = m.inputs(WORD_DIGITS);
  const [bit, beyond] = m.inputs(2) as [ItemId, ItemId];
  const differsInputs = digitsDiffer(m, inputs, root, false);
  const differsImage = digitsDiffer(m, image, root, true);
  // bit ? differsInputs : differsImage, as (bit ∧ differsInputs) ∨ (¬bit ∧ differsImage).
  m.roll(bit);
  m.pick(bit);
  m.roll(differsInputs);
  const a = m.op(Op.OP_BOOLAND, 2, 1)[0] as ItemId;
  m.roll(bit);
  m.op(Op.OP_NOT, 1, 1);
  m.roll(differsImage);
  m.op(Op.OP_BOOLAND, 2, 1);
  m.roll(a);
  m.op(Op.OP_BOOLOR, 2, 1);
  m.roll(beyond);
  const result = m.op(Op.OP_BOOLOR, 2, 1)[0] as ItemId;
  keepOnly(m, [result]);
  return assembleLeaf(values, covenant, m.build());
}

export function tapeTopWitness(
  sigs: TapeTopSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness([sigs.imageRoot, sigs.inputsRoot, sigs.root, sigs.position], covenantSigs);
}

/** The twin of `tapeTopLeaf`. */
export function isFaultyTapeTop(
  position: number,
  root: Uint8Array,
  imageRoot: Uint8Array,
  inputsRoot: Uint8Array,
): boolean {
  smallBytes(position);
  for (const v of [root, imageRoot, inputsRoot]) {
    if (v.length !== WORD_BYTES) throw new RangeError(`a tape root is ${WORD_BYTES} bytes`);
  }
  if (position >= TAPE_LIMIT) return true;
  return !equalBytes(root, bitOf(position, TAPE_HALF_DEPTH) ? inputsRoot : imageRoot);
}
