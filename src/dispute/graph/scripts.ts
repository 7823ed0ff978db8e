/**
 * The leaf scripts of the graph. Every leaf has one layout: an optional relative timelock, then the
 * covenant check (each covenant key, CHECKSIGVERIFY), then the body. Witness, bottom to top:
 * body items…, sig_n … sig_1 (sig_1 for the first key on top), then script and control block.
 *
 * The covenant keys are the operator and the committee that presigned the graph. No leaf other than the
 * kick-off's can be satisfied without their signatures, and they sign only the graph's transactions, so
 * the graph is the only way the stake can move.
 */
import { ScriptBuilder } from '../../bitcoin/script/builder.ts';
import { Op } from '../../bitcoin/script/opcodes.ts';
import { concatBytes } from '../../core/bytes.ts';
import { sha256 } from '../../core/hashes.ts';
import type { WotsPublicKey } from '../winternitz/keys.ts';
import { wotsParameters } from '../winternitz/parameters.ts';
import { appendDrop, appendWotsVerify } from '../winternitz/script.ts';

function timelock(b: ScriptBuilder, blocks: number | undefined): ScriptBuilder {
  if (blocks !== undefined) b.number(blocks).op(Op.OP_CHECKSEQUENCEVERIFY, Op.OP_DROP);
  return b;
}

function covenant(b: ScriptBuilder, keys: readonly Uint8Array[]): ScriptBuilder {
  for (const k of keys) b.push(k).op(Op.OP_CHECKSIGVERIFY);
  return b;
}

/** A leaf whose whole condition is "the covenant signed this transaction" (plus an optional timelock). */
export function covenantLeaf(keys: readonly Uint8Array[], csvBlocks?: number): Uint8Array {
  return covenant(timelock(new ScriptBuilder(), csvBlocks), keys).op(Op.OP_1).build();
}

/** Verifies each value (the last one is on top of the witness) and drops its digits. */
function verifyAndDrop(b: ScriptBuilder, values: readonly WotsPublicKey[]): ScriptBuilder {
  for (let i = values.length - 1; i >= 0; i--) {
    const key = values[i] as WotsPublicKey;
    appendWotsVerify(b, key);
    appendDrop(b, wotsParameters(key.messageBytes).messageDigits);
  }
  return b;
}

/**
 * The claim output's leaf, spent by the kick-off: the operator's signature, then the Winternitz-signed
 * epoch, state root and L2 block hash. Witness: epoch items, root items, block-hash items, operator sig.
 */
export function kickoffLeaf(operator: Uint8Array, values: readonly WotsPublicKey[]): Uint8Array {
  const b = new ScriptBuilder().push(operator).op(Op.OP_CHECKSIGVERIFY);
  return verifyAndDrop(b, values).op(Op.OP_1).build();
}

/** The assert connector's leaf: covenant, then the Winternitz-signed trace roots r_0 … r_{k-1}. */
export function assertLeaf(keys: readonly Uint8Array[], trace: readonly WotsPublicKey[]): Uint8Array {
  return verifyAndDrop(covenant(new ScriptBuilder(), keys), trace).op(Op.OP_1).build();
}

/**
 * A step circuit: consumes the digits of the pre-state root and the post-state root (post on top) and
 * leaves true exactly when the step from pre to post is wrong. Circuits live in the top-level circuits/
 * folder.
 */
export type StepCircuit = {
  id: string;
  append: (b: ScriptBuilder, digitsPerRoot: number) => ScriptBuilder;
  /** The same judgement in TypeScript: Vigil checks it before spending a disprove. */
  isFaulty: (pre: Uint8Array, post: Uint8Array) => boolean;
  /**
   * A stand-in that proves nothing about a real step (docs/protocol.md Part III): a graph naming it is no
   * fraud proof, so Vigil never challenges one on mainnet.
   */
  test?: boolean;
};

/**
 * A disprove leaf for one step: covenant, the post root's signature (verified, digits parked on the
 * altstack), the pre root's signature, then the step circuit. Witness: pre items, post items, sigs.
 */
export function disproveLeaf(
  keys: readonly Uint8Array[],
  pre: WotsPublicKey,
  post: WotsPublicKey,
  circuit: StepCircuit,
): Uint8Array {
  const n = wotsParameters(post.messageBytes).messageDigits;
  const b = covenant(new ScriptBuilder(), keys);
  appendWotsVerify(b, post);
  for (let j = 0; j < n; j++) b.op(Op.OP_TOALTSTACK);
  appendWotsVerify(b, pre);
  for (let j = 0; j < n; j++) b.op(Op.OP_FROMALTSTACK);
  return circuit.append(b, n).build();
}

/**
 * The witness script behind the burn output: OP_RETURN alone, which fails whenever it runs.
 */
export const BURN_WITNESS_SCRIPT = Uint8Array.of(Op.OP_RETURN);

/**
 * The output that burns the slashed stake: P2WSH of the witness script `OP_RETURN`, i.e.
 * `OP_0 <SHA256(0x6a)>`, hex `0020189f40034be7a199f1fa9891668ee3ab6049f82d38c68be70f596eab2e1857b7`.
 *
 * Why not a bare OP_RETURN output carrying the value: Bitcoin Core's sendrawtransaction (since 25)
 * refuses any transaction with an OP_RETURN output worth more than its `maxburnamount` argument,
 * default 0 (-25 "Unspendable output exceeds maximum configured by user (maxburnamount)"), and
 * Esplora servers broadcast with Core's defaults, so an OP_RETURN burn could only ever be sent
 * through an RPC whose caller raised that argument.
 *
 * Why this is as unspendable: spending a P2WSH output takes a witness script whose SHA-256 is the
 * program. The only script known to hash to it is `OP_RETURN`, which fails as soon as it executes;
 * any other would be a SHA-256 second preimage. Anyone can check it by hashing the byte 0x6a and
 * comparing with the output's program. Unlike an OP_RETURN output it enters the UTXO set (43 bytes,
 * forever) and is subject to the 330-sat P2WSH dust limit, which `checkSpec` enforces.
 */
export const BURN_SCRIPT_PUBKEY: Uint8Array = concatBytes(
  Uint8Array.of(Op.OP_0, 32),
  sha256(BURN_WITNESS_SCRIPT),
);

/** Core's dust threshold for a P2WSH output at the default 3 sat/vB dust relay fee. */
export const BURN_DUST_LIMIT = 330n;
