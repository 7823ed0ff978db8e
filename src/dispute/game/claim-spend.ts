/**
 * Completing and reading the claim graph's own transactions (claim-graph.ts): the operator's kick-off and
 * assert with their Winternitz-signed values, w's challenge (the covenant's presignature on A_w and w's
 * key-path signature on its bond coin, made only when w challenges), and the covenant-only take,
 * assert-timeouts and payout. Pure: no I/O.
 */

import { controlBlock } from '../../bitcoin/taproot/output.ts';
import { txid } from '../../bitcoin/tx/serialize.ts';
import { SIGHASH_DEFAULT } from '../../bitcoin/tx/sighash.ts';
import type { Tx } from '../../bitcoin/tx/types.ts';
import { equalBytes } from '../../core/bytes.ts';
import { signKeyPathInput } from '../graph/challenge.ts';
import { schnorrSign } from '../graph/sign.ts';
import { encodeWotsWitness, type WotsSignature } from '../winternitz/sign.ts';
import {
  assertLabels,
  type ClaimGraph,
  ClaimGraphError,
  challengeId,
  kickoffKeyList,
} from './claim-graph.ts';
import { gameTx, gameTxPrevouts } from './game-graph.ts';
import {
  completeGameTx,
  covenantItems,
  type GamePresignatures,
  GameSpendError,
  gameSighash,
} from './game-spend.ts';
import { type MoveSignatures, moveInputWitness } from './move-inputs.ts';
import { type PublishedValue, readMoveInputs } from './move-reader.ts';

/** The kick-off's five signed values, in its leaf's order. */
export type KickoffSignatures = {
  readonly epoch: WotsSignature;
  readonly root: WotsSignature;
  readonly l2BlockHash: WotsSignature;
  readonly imageRoot: WotsSignature;
  readonly inputsRoot: WotsSignature;
};

const KICKOFF_LABELS = ['epoch', 'root', 'l2BlockHash', 'imageRoot', 'inputsRoot'] as const;

function kickoffInput(graph: ClaimGraph) {
  const keys = kickoffKeyList(graph.spec.kickoff);
  return {
    script: graph.claim.output.leaves[0]?.script as Uint8Array,
    values: KICKOFF_LABELS.map((label, k) => ({ label, key: keys[k] as (typeof keys)[number] })),
    echoes: [],
    witnessItems: 0,
  };
}

/** The operator's kick-off: its key-path-free claim leaf, the five values and its signature. */
export function completeKickoff(
  graph: ClaimGraph,
  operatorSecret: Uint8Array,
  signatures: KickoffSignatures,
): Tx {
  const sig = schnorrSign(gameSighash(graph, 'kickoff', 0), operatorSecret, SIGHASH_DEFAULT);
  const items = KICKOFF_LABELS.flatMap((l) => encodeWotsWitness(signatures[l]));
  return completeGameTx(graph, 'kickoff', [{ items: [...items, sig] }]);
}

/** Checks a transaction is the claim graph's `id` (same txid: witnesses may differ). */
function expectTx(graph: ClaimGraph, id: string, tx: Tx): void {
  if (!equalBytes(txid(tx), txid(gameTx(graph, id).tx))) {
    throw new ClaimGraphError(`The transaction is not the claim's ${id} (another txid)`);
  }
}

/** The values a confirmed kick-off committed, each signature verified under its key. */
export function readKickoff(graph: ClaimGraph, tx: Tx): PublishedValue[] {
  expectTx(graph, 'kickoff', tx);
  return readMoveInputs('kickoff', [kickoffInput(graph)], 'operator', tx);
}

/** The assert's values (T′, h_0, h_{2^K}, round 1's points), each signature verified under its key. */
export function readAssert(graph: ClaimGraph, tx: Tx): PublishedValue[] {
  expectTx(graph, 'assert', tx);
  return readMoveInputs('assert', graph.assertInputs, 'operator', tx);
}

/**
 * The operator's assert: each B_j's share of the values, signed by `sign` (label → signature), and S
 * through its window leaf, all with the covenant's presignatures.
 */
export function completeAssert(
  graph: ClaimGraph,
  sigs: GamePresignatures,
  signatures: ReadonlyMap<string, WotsSignature>,
): Tx {
  for (const label of assertLabels(graph.spec.shape)) {
    if (!signatures.has(label)) throw new GameSpendError(`The assert needs a signature of ${label}`);
  }
  const witnesses = graph.assertInputs.map((input, j) => {
    const s: MoveSignatures = {
      values: signatures,
      echoes: new Map(),
      covenant: covenantItems(sigs, 'assert', j).reverse(),
    };
    return { items: moveInputWitness(input, s) };
  });
  witnesses.push({ items: covenantItems(sigs, 'assert', graph.assertInputs.length) });
  return completeGameTx(graph, 'assert', witnesses);
}

/**
 * w's challenge: the covenant's presignature on A_w, and w's own key-path signature on its bond coin. Only
 * w can make it; Vigil's watcher makes it when its rule says the claim is wrong.
 */
export function completeChallenge(
  graph: ClaimGraph,
  w: number,
  sigs: GamePresignatures,
  challengerSecret: Uint8Array,
): Tx {
  const id = challengeId(w);
  const gtx = gameTx(graph, id);
  const a = gtx.spends[0];
  if (a?.leafIndex === undefined) throw new GameSpendError(`${id} does not spend A_${w} through a leaf`);
  const script = a.output.leaves[a.leafIndex]?.script as Uint8Array;
  const spend = {
    tx: {
      ...gtx.tx,
      inputs: gtx.tx.inputs.map((i, j) =>
        j === 0
          ? {
              ...i,
              witness: [...covenantItems(sigs, id, 0), script, controlBlock(a.output, a.leafIndex as number)],
            }
          : { ...i, witness: [] },
      ),
    },
    prevouts: gameTxPrevouts(gtx),
  };
  signKeyPathInput(spend, 1, challengerSecret, SIGHASH_DEFAULT);
  return spend.tx;
}

/** A transaction whose every input is the covenant's alone: the take, an assert-timeout, the payout. */
export function completeCovenantTx(graph: ClaimGraph, sigs: GamePresignatures, id: string): Tx {
  const gtx = gameTx(graph, id);
  if (gtx.presigned.length !== gtx.tx.inputs.length)
    throw new GameSpendError(`${id} has inputs the covenant does not sign`);
  return completeGameTx(
    graph,
    id,
    gtx.tx.inputs.map((_, j) => ({ items: covenantItems(sigs, id, j) })),
  );
}
