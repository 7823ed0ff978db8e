/**
 * The echo check of the narrowing game (docs/protocol.md §24.11): a move signs, under the mover's own
 * one-time keys, values the opponent committed earlier (the challenger's choices echoed in the
 * operator's reveal; T′, pc and waddr echoed in the challenger's next move), and its input script checks
 * that each echo equals the opponent's signed value. Leaves that the mover's opponent later spends then
 * read the echo, which that opponent cannot re-sign: a value signed under the spender's own key binds
 * nothing, since the spender can sign any other value in its own witness.
 *
 * `appendEchoCheck` consumes, per pair, the opponent's signature and the echo's (bottom first), checks
 * both with the real Winternitz verification, compares the values digit by digit, and leaves nothing:
 * it is a fragment of a move's input script. `echoLeaf` is that fragment ending true, for a move whose
 * only condition it is (and for the tests).
 */
import { ScriptBuilder } from '../../src/bitcoin/script/builder.ts';
import { Op } from '../../src/bitcoin/script/opcodes.ts';
import type { WotsPublicKey } from '../../src/dispute/winternitz/keys.ts';
import { wotsParameters } from '../../src/dispute/winternitz/parameters.ts';
import type { WotsSignature } from '../../src/dispute/winternitz/sign.ts';
import { appendValuesVerify, valuesWitness } from '../committed-values.ts';

/** One echoed value: the opponent's key for it and the mover's key for the echo (same size). */
export type EchoPair = { readonly theirs: WotsPublicKey; readonly ours: WotsPublicKey };

export function appendEchoCheck(b: ScriptBuilder, pairs: readonly EchoPair[]): ScriptBuilder {
  if (pairs.length === 0) throw new RangeError('An echo check needs at least one value');
  for (const [k, p] of pairs.entries()) {
    if (p.theirs.messageBytes !== p.ours.messageBytes) {
      throw new RangeError(
        `Echo ${k}: the opponent's value is ${p.theirs.messageBytes} bytes, the echo ${p.ours.messageBytes}`,
      );
    }
  }
  appendValuesVerify(
    b,
    pairs.flatMap((p) => [{ key: p.theirs }, { key: p.ours }]),
  );
  // The stack holds each pair's digits, theirs then ours, the last pair on top. For the top pair of n
  // digits, their last digit sits just below our n digits: roll it up and compare with ours on top.
  for (let k = pairs.length - 1; k >= 0; k--) {
    const n = wotsParameters((pairs[k] as EchoPair).ours.messageBytes).messageDigits;
    for (let m = n; m >= 1; m--) b.number(m).op(Op.OP_ROLL).op(Op.OP_EQUALVERIFY);
  }
  return b;
}

/** A leaf (or move condition) that spends exactly when every echo equals the opponent's value. */
export function echoLeaf(pairs: readonly EchoPair[], covenant: readonly Uint8Array[] = []): Uint8Array {
  const b = new ScriptBuilder();
  for (const key of covenant) b.push(key).op(Op.OP_CHECKSIGVERIFY);
  appendEchoCheck(b, pairs);
  return b.op(Op.OP_1).build();
}

/** The witness: per pair, the opponent's signature then the echo's (bottom first). */
export function echoWitness(
  sigs: readonly { readonly theirs: WotsSignature; readonly ours: WotsSignature }[],
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return valuesWitness(
    sigs.flatMap((s) => [s.theirs, s.ours]),
    covenantSigs,
  );
}
