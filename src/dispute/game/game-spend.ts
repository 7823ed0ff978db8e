/**
 * Signing and completing a game's transactions (game-graph.ts): the covenant's presignatures (made once
 * per game, checked at import), the mover's own signatures at move time, and the witnesses that turn a
 * presigned transaction into one a node accepts. Pure: no I/O.
 */
import * as ecc from 'tiny-secp256k1';
import { controlBlock, type TaprootOutput } from '../../bitcoin/taproot/output.ts';
import { txid } from '../../bitcoin/tx/serialize.ts';
import { SIGHASH_DEFAULT } from '../../bitcoin/tx/sighash.ts';
import type { Prevout, Tx } from '../../bitcoin/tx/types.ts';
import { VigilError } from '../../core/errors.ts';
import { schnorrSign, scriptPathSighash } from '../graph/sign.ts';
import { type GameGraph, type GameTx, gameTx, gameTxPrevouts } from './game-graph.ts';

export class GameSpendError extends VigilError {
  override name = 'GameSpendError';
}

/**
 * What signing and completing need of a set of presigned transactions: one game's (game-graph.ts), or the
 * claim graph's own (claim-graph.ts).
 */
export type PresignedTxs = {
  readonly spec: { readonly covenant: readonly Uint8Array[] };
  readonly txs: ReadonlyMap<string, GameTx>;
  readonly presigned: readonly { readonly tx: string; readonly input: number }[];
};

/** The leaf an input spends: fixed for presigned inputs, named by the spender for a slash's pot. */
function leafOf(gtx: GameTx, input: number, leafIndex?: number): number {
  const spend = gtx.spends[input];
  if (spend === undefined) throw new GameSpendError(`${gtx.id} has no input ${input}`);
  const leaf = spend.leafIndex ?? leafIndex;
  if (leaf === undefined) throw new GameSpendError(`${gtx.id} input ${input}: name the leaf it spends`);
  if (spend.leafIndex !== undefined && leafIndex !== undefined && leafIndex !== spend.leafIndex) {
    throw new GameSpendError(`${gtx.id} input ${input} spends leaf ${spend.leafIndex}, not ${leafIndex}`);
  }
  if (spend.output.leaves[leaf] === undefined)
    throw new GameSpendError(`${gtx.id} input ${input}: no leaf ${leaf}`);
  return leaf;
}

/** The BIP-341 script-path sighash (SIGHASH_DEFAULT) of one input of a game transaction. */
export function gameSighash(graph: PresignedTxs, id: string, input: number, leafIndex?: number): Uint8Array {
  const gtx = gameTx(graph, id);
  const leaf = leafOf(gtx, input, leafIndex);
  const spend = gtx.spends[input] as GameTx['spends'][number];
  const hash = (spend.output.leaves[leaf] as { leafHash: Uint8Array }).leafHash;
  return scriptPathSighash(gtx.tx, gameTxPrevouts(gtx), input, SIGHASH_DEFAULT, hash);
}

/** One signer's Schnorr signature (SIGHASH_DEFAULT, 64 bytes) on one input. */
export function signGameInput(
  graph: PresignedTxs,
  id: string,
  input: number,
  secretKey: Uint8Array,
  leafIndex?: number,
): Uint8Array {
  return schnorrSign(gameSighash(graph, id, input, leafIndex), secretKey, SIGHASH_DEFAULT);
}

/** A covenant member's signatures on every presigned input, in `graph.presigned` order. */
export function presignGame(graph: PresignedTxs, secretKey: Uint8Array): Uint8Array[] {
  return graph.presigned.map((p) => signGameInput(graph, p.tx, p.input, secretKey));
}

/** The covenant's signatures of each presigned input: `${tx}#${input}` → one per member, in covenant order. */
export type GamePresignatures = ReadonlyMap<string, readonly Uint8Array[]>;

export const presignedKey = (tx: string, input: number): string => `${tx}#${input}`;

/**
 * Merges the members' lists and checks every signature against its sighash: the import's check. Refuses
 * a wrong count, a signature of the wrong size (a hash-type byte: the covenant signs DEFAULT only) or one
 * that does not verify, naming the input and the member.
 */
export function collectGamePresignatures(
  graph: PresignedTxs,
  perMember: readonly (readonly Uint8Array[])[],
): GamePresignatures {
  const covenant = graph.spec.covenant;
  if (perMember.length !== covenant.length) {
    throw new GameSpendError(
      `The covenant has ${covenant.length} members; got ${perMember.length} signature lists`,
    );
  }
  const out = new Map<string, Uint8Array[]>();
  graph.presigned.forEach((p, k) => {
    const sighash = gameSighash(graph, p.tx, p.input);
    const sigs = perMember.map((list, m) => {
      const sig = list[k];
      if (sig === undefined || sig.length !== 64) {
        throw new GameSpendError(
          `${p.tx} input ${p.input}: member ${m}'s signature is missing or not 64 bytes`,
        );
      }
      if (!ecc.verifySchnorr(sighash, covenant[m] as Uint8Array, sig)) {
        throw new GameSpendError(`${p.tx} input ${p.input}: member ${m}'s signature does not verify`);
      }
      return sig;
    });
    out.set(presignedKey(p.tx, p.input), sigs);
  });
  return out;
}

/** The covenant's signatures of one presigned input, for a witness (the first key's on top: pushed last). */
export function covenantItems(sigs: GamePresignatures, id: string, input: number): Uint8Array[] {
  const list = sigs.get(presignedKey(id, input));
  if (list === undefined) throw new GameSpendError(`${id} input ${input} is not presigned`);
  return [...list].reverse();
}

/** What the spender puts below the script and control block of one input, and which leaf it spends. */
export type GameInputWitness = { readonly items: readonly Uint8Array[]; readonly leafIndex?: number };

/** The transaction with every input's witness: its items, then the leaf script and its control block. */
export function completeGameTx(graph: PresignedTxs, id: string, witnesses: readonly GameInputWitness[]): Tx {
  const gtx = gameTx(graph, id);
  if (witnesses.length !== gtx.tx.inputs.length) {
    throw new GameSpendError(`${id} has ${gtx.tx.inputs.length} inputs; got ${witnesses.length} witnesses`);
  }
  return {
    ...gtx.tx,
    inputs: gtx.tx.inputs.map((inp, j) => {
      const w = witnesses[j] as GameInputWitness;
      const leaf = leafOf(gtx, j, w.leafIndex);
      const spend = gtx.spends[j] as GameTx['spends'][number];
      const script = (spend.output.leaves[leaf] as { script: Uint8Array }).script;
      return { ...inp, witness: [...w.items, script, controlBlock(spend.output, leaf)] };
    }),
  };
}

/**
 * A transaction that takes one game output through a leaf its owner alone can spend: a pot after its
 * timeout (the opponent fell silent), a pot through a refusal or disprove leaf when D is already slashed
 * by another game, Q_w after t, or w's bond refund. Not presigned: the owner builds it when the leaf
 * applies. `sequence` is the leaf's CSV, if it has one.
 */
export type OutputSweep = {
  readonly tx: Tx;
  readonly prevout: Prevout;
  readonly output: TaprootOutput;
  readonly leaf: number;
};

export function sweepOutput(
  from: {
    readonly txid: Uint8Array;
    readonly vout: number;
    readonly value: bigint;
    readonly output: TaprootOutput;
  },
  leaf: number,
  to: Uint8Array,
  fee: bigint,
  sequence: number,
): OutputSweep {
  if (from.output.leaves[leaf] === undefined) throw new GameSpendError(`The output has no leaf ${leaf}`);
  if (fee >= from.value)
    throw new GameSpendError(`A fee of ${fee} sats takes all of the ${from.value} sats swept`);
  const tx: Tx = {
    version: 2,
    locktime: 0,
    inputs: [{ prevTxid: from.txid, vout: from.vout, scriptSig: new Uint8Array(), sequence, witness: [] }],
    outputs: [{ value: from.value - fee, script: to }],
  };
  return { tx, prevout: { value: from.value, script: from.output.scriptPubKey }, output: from.output, leaf };
}

/** The owner's Schnorr signature on a sweep (SIGHASH_DEFAULT). */
export function signSweep(sweep: OutputSweep, secretKey: Uint8Array): Uint8Array {
  const leaf = sweep.output.leaves[sweep.leaf] as { leafHash: Uint8Array };
  return schnorrSign(
    scriptPathSighash(sweep.tx, [sweep.prevout], 0, SIGHASH_DEFAULT, leaf.leafHash),
    secretKey,
    SIGHASH_DEFAULT,
  );
}

/** The sweep with its witness: `items` (the owner's signature among them), the leaf and its control block. */
export function completeSweep(sweep: OutputSweep, items: readonly Uint8Array[]): Tx {
  const script = (sweep.output.leaves[sweep.leaf] as { script: Uint8Array }).script;
  const input = sweep.tx.inputs[0] as Tx['inputs'][number];
  return {
    ...sweep.tx,
    inputs: [{ ...input, witness: [...items, script, controlBlock(sweep.output, sweep.leaf)] }],
  };
}

/** A game output as a sweep takes it: a move's pot by transaction id, or Q_w / C_w. */
export function gameOutputOf(
  graph: GameGraph,
  which: string,
): {
  txid: Uint8Array;
  vout: number;
  value: bigint;
  output: TaprootOutput;
  leaves: ReadonlyMap<string, number>;
} {
  if (which === 'reserve') {
    return {
      ...graph.outpoints.reserve,
      value: graph.spec.values.reserve,
      output: graph.reserve,
      leaves: graph.reserveLeaves,
    };
  }
  if (which === 'bond') {
    return {
      ...graph.outpoints.bond,
      value: graph.spec.values.bond,
      output: graph.bond,
      leaves: graph.bondLeaves,
    };
  }
  const node = graph.nodes.get(which);
  if (node === undefined) throw new GameSpendError(`The game has no move ${which}`);
  const gtx = gameTx(graph, which);
  return {
    txid: txid(gtx.tx),
    vout: 0,
    value: gtx.tx.outputs[0]?.value as bigint,
    output: node.pot,
    leaves: node.leaves,
  };
}
