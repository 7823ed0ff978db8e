/**
 * Equivocation (docs/protocol.md §24.7): two versions of one presigned move, the same txid with another
 * witness, that sign different values under one of the mover's one-time keys. The opponent proves it on
 * the output the move created (the assert's: Q_w) through the `equivocation:<label>` leaf, which checks
 * both signatures in full. Two encodings of one value (a digit pushed non-minimally) read to the same
 * value, so they are not an equivocation. Pure: no I/O.
 */
import { equalBytes } from '../../core/bytes.ts';
import type { WotsSignature } from '../winternitz/sign.ts';
import type { PublishedValue } from './move-reader.ts';
import type { GameSigner } from './signer-keys.ts';

/** Two signatures under one of `signer`'s keys, of different values. */
export type Equivocation = {
  readonly signer: GameSigner;
  readonly label: string;
  /** The signature the version on chain published (the leaf's witness reads it from the published set). */
  readonly onChain: WotsSignature;
  /** The other version's signature: the leaf's `second`. */
  readonly other: WotsSignature;
};

/**
 * The first label `signer` signed in both readings with different values (echoes included: they are
 * signed under the mover's own keys), or undefined. `onChain` is the reading of the version the chain
 * holds, `other` of the version seen before or beside it.
 */
export function findEquivocation(
  signer: GameSigner,
  onChain: readonly PublishedValue[],
  other: readonly PublishedValue[],
): Equivocation | undefined {
  const theirs = new Map(other.filter((p) => p.signer === signer).map((p) => [p.label, p]));
  for (const p of onChain) {
    if (p.signer !== signer) continue;
    const q = theirs.get(p.label);
    if (q !== undefined && !equalBytes(p.value, q.value)) {
      return { signer, label: p.label, onChain: p.signature, other: q.signature };
    }
  }
  return undefined;
}

/** The output whose equivocation leaves judge move `id`'s values: Q_w for the assert, else the move's own. */
export const equivocationSite = (id: string): string => (id === 'assert' ? 'reserve' : id);
