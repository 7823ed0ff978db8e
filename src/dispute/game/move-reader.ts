/**
 * Reads a game move from its transaction as the chain has it: the Winternitz signatures the mover
 * published, each checked against its key, with the value it signs. This is what the other side (and a
 * replay) learns from a move, and what its echoes and disproves are then built from. Pure: no I/O.
 *
 * A mined witness may push digits non-minimally: consensus allows it (minimal pushes are relay policy),
 * so a miner can include such a move. The reader decodes digits as the interpreter does, without the
 * minimality rule, and returns signatures that re-encode minimally (`encodeWotsWitness`), so whatever
 * Vigil builds from them stays standard (protocol §24.11 item 12).
 */
import { txid } from '../../bitcoin/tx/serialize.ts';
import type { Tx } from '../../bitcoin/tx/types.ts';
import { bytesToHex, equalBytes } from '../../core/bytes.ts';
import { VigilError } from '../../core/errors.ts';
import type { WotsPublicKey } from '../winternitz/keys.ts';
import { wotsParameters } from '../winternitz/parameters.ts';
import type { WotsSignature } from '../winternitz/sign.ts';
import { decodeWotsWitness, verifyWotsSignature } from '../winternitz/verify.ts';
import { type GameGraph, gameTx } from './game-graph.ts';
import type { MoveInputScript } from './move-inputs.ts';
import type { GameSigner } from './signer-keys.ts';

export class MoveReadError extends VigilError {
  override name = 'MoveReadError';
}

/** One signature a move published: by whom, under which planned label, and the value it signs. */
export type PublishedValue = {
  readonly signer: GameSigner;
  readonly label: string;
  readonly value: Uint8Array;
  readonly signature: WotsSignature;
};

/**
 * The signatures a confirmed move published, in the order its inputs carry them: its values, then for
 * each echo the opponent's signature it copied and the mover's own echo (`echo.<label>`). Refuses a
 * transaction that is not this move (another txid), an input that spends another leaf, and a signature
 * that does not verify under its key, naming the input and the value.
 */
export function readMoveWitness(graph: GameGraph, id: string, tx: Tx): PublishedValue[] {
  const node = graph.nodes.get(id);
  if (node === undefined) throw new MoveReadError(`The game has no move ${id}`);
  const expected = gameTx(graph, id);
  if (!equalBytes(txid(tx), txid(expected.tx))) {
    throw new MoveReadError(`The transaction is not the game's ${id} (another txid)`);
  }
  return readMoveInputs(id, node.inputs, node.move.mover, tx);
}

/**
 * The signatures in the first `inputs.length` inputs of a move's transaction, which spend the move's input
 * scripts in order: a game move's, or the claim graph's assert (whose txid the caller has checked).
 */
export function readMoveInputs(
  id: string,
  inputs: readonly MoveInputScript[],
  mover: GameSigner,
  tx: Tx,
): PublishedValue[] {
  const other: GameSigner = mover === 'operator' ? 'challenger' : 'operator';
  const out: PublishedValue[] = [];
  inputs.forEach((input, j) => {
    const witness = tx.inputs[j]?.witness ?? [];
    const script = witness[witness.length - 2];
    if (script === undefined || !equalBytes(script, input.script)) {
      throw new MoveReadError(`${id} input ${j} does not spend the move's leaf`);
    }
    let at = 0;
    const take = (signer: GameSigner, label: string, key: WotsPublicKey) => {
      const params = wotsParameters(key.messageBytes);
      const items = witness.slice(at, at + 2 * params.totalDigits);
      at += 2 * params.totalDigits;
      let signature: WotsSignature;
      let value: Uint8Array;
      try {
        signature = decodeWotsWitness(items, params, { requireMinimal: false });
        value = verifyWotsSignature(key, signature);
      } catch (err) {
        throw new MoveReadError(`${id} input ${j}: the signature of ${label} does not verify`, {
          cause: err,
        });
      }
      out.push({ signer, label, value, signature });
    };
    for (const v of input.values) take(mover, v.label, v.key);
    for (const e of input.echoes) {
      take(other, e.label, e.theirs);
      take(mover, `echo.${e.label}`, e.ours);
    }
  });
  // An echo is a copy of the opponent's value: a move whose echo differs would not have spent, but a
  // reader that is handed one anyway says so.
  for (const p of out.filter((x) => x.label.startsWith('echo.'))) {
    const theirs = out.find((x) => x.signer !== p.signer && x.label === p.label.slice('echo.'.length));
    if (theirs !== undefined && !equalBytes(theirs.value, p.value)) {
      throw new MoveReadError(
        `${id}: the echo of ${theirs.label} is ${bytesToHex(p.value)}, not ${bytesToHex(theirs.value)}`,
      );
    }
  }
  return out;
}
