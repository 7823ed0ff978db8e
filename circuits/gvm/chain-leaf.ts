/**
 * The disprove leaf of one link of GVM-1's trace chain (`src/machine/chain.ts`, docs/protocol.md §22.4):
 * the operator has Winternitz-committed h_i (20 B), the step's pc, next pc and write address (4 B each),
 * its written word (32 B) and h_{i+1} (20 B); the leaf is spendable exactly when
 * `chainNext(h_i, step) ≠ h_{i+1}`, i.e. when the first 20 bytes of
 * BLAKE3(h_i ‖ be32(pc) ‖ be32(nextPc) ‖ be32(waddr) ‖ wvalue) differ from h_{i+1}.
 *
 * The values are committed bottom first as h_{i+1}, wvalue, waddr, nextPc, pc, h_i: since a value's
 * digits are its bytes last first, the digits of wvalue … h_i one after the other are exactly the
 * 64-byte block in `blake3Gadget`'s message layout, with h_{i+1}'s 40 digits below it. The gadget in
 * 'digest' mode leaves the digest's 64 nibbles (byte 0's low nibble on top); its top 40 are bytes
 * 19..0 in the layout of h_{i+1}'s digits, compared digit by digit; the other 24 are dropped.
 *
 * Witness (bottom first): the signatures of h_{i+1}, wvalue, waddr, nextPc, pc, h_i, then the covenant
 * signatures.
 */
import { equalBytes } from '../../src/core/bytes.ts';
import type { WotsPublicKey } from '../../src/dispute/winternitz/keys.ts';
import type { WotsSignature } from '../../src/dispute/winternitz/sign.ts';
import { chainMessage, chainNext } from '../../src/machine/chain.ts';
import { CHAIN_BYTES, SMALL_BYTES, type StepRecord, WORD_BYTES } from '../../src/machine/isa.ts';
import { blake3Gadget } from '../blake3.ts';
import { type CommittedValue, valuesWitness } from '../committed-values.ts';
import { StackModel } from '../stack-model.ts';
import { assembleLeaf, checkKeySize, digitsDiffer, type GvmLeaf, keepOnly } from './memory-leaves.ts';

export const CHAIN_LINK_FIELDS = ['hNext', 'wvalue', 'waddr', 'nextPc', 'pc', 'h'] as const;
export type ChainLinkField = (typeof CHAIN_LINK_FIELDS)[number];
export type ChainLinkKeys = Record<ChainLinkField, WotsPublicKey>;
export type ChainLinkSignatures = Record<ChainLinkField, WotsSignature>;

export function chainFieldBytes(f: ChainLinkField): number {
  return f === 'h' || f === 'hNext' ? CHAIN_BYTES : f === 'wvalue' ? WORD_BYTES : SMALL_BYTES;
}

/** The committed bytes of each field of one link, as the operator signs them. */
export function chainLinkValues(
  h: Uint8Array,
  step: StepRecord,
  hNext: Uint8Array,
): Record<ChainLinkField, Uint8Array> {
  const block = chainMessage(h, step);
  return {
    h: block.slice(0, 20),
    pc: block.slice(20, 24),
    nextPc: block.slice(24, 28),
    waddr: block.slice(28, 32),
    wvalue: block.slice(32, 64),
    hNext: hNext.slice(),
  };
}

let digestGadget: Uint8Array | undefined;
function blake3Digest(): Uint8Array {
  digestGadget ??= blake3Gadget('digest').script;
  return digestGadget;
}

/** The leaf script. `covenant`: x-only keys checked first (may be empty). */
export function chainLinkLeaf(keys: ChainLinkKeys, covenant: readonly Uint8Array[] = []): GvmLeaf {
  const values: CommittedValue[] = CHAIN_LINK_FIELDS.map((f) => ({
    key: checkKeySize(keys[f], chainFieldBytes(f), f),
  }));
  const m = new StackModel();
  const hNext = m.inputs(2 * CHAIN_BYTES);
  const digest = m.inputs(2 * WORD_BYTES);
  // The digest's bytes 19..0 are its top 40 nibbles.
  const acc = digitsDiffer(m, hNext, digest.slice(2 * (WORD_BYTES - CHAIN_BYTES)));
  keepOnly(m, [acc]);
  const compare = m.build();
  const judge = new Uint8Array(blake3Digest().length + compare.length);
  judge.set(blake3Digest(), 0);
  judge.set(compare, blake3Digest().length);
  return assembleLeaf(values, covenant, judge);
}

/** The witness items below the script and control block, bottom first. */
export function chainLinkWitness(
  sigs: ChainLinkSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness(
    CHAIN_LINK_FIELDS.map((f) => sigs[f]),
    covenantSigs,
  );
}

/** The twin: the committed next chain value is not the link computed from h and the step. */
export function isFaultyChainLink(h: Uint8Array, step: StepRecord, hNext: Uint8Array): boolean {
  if (hNext.length !== CHAIN_BYTES) throw new RangeError(`a chain value is ${CHAIN_BYTES} bytes`);
  return !equalBytes(chainNext(h, step), hNext);
}
