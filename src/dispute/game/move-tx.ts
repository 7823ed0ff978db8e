/**
 * A game's transactions, signed and ready to send: a move from its values (game-turn.ts says which and
 * what), and w's slash through a named leaf. The covenant's presignatures come from the imported graph;
 * the mover adds its Winternitz signatures, its echoes of the opponent's published signatures and, for w,
 * its own Schnorr signature. Pure: no I/O.
 */
import type { Tx } from '../../bitcoin/tx/types.ts';
import { VigilError } from '../../core/errors.ts';
import type { WotsSignature } from '../winternitz/sign.ts';
import { GAME_SEQUENCE_NO_LOCK, type GameGraph, slashId } from './game-graph.ts';
import {
  completeGameTx,
  completeSweep,
  covenantItems,
  type GamePresignatures,
  gameOutputOf,
  signGameInput,
  signSweep,
  sweepOutput,
} from './game-spend.ts';
import { gameLeafItems, type LeafExtras, type PublishedSignatures } from './leaf-witness.ts';
import { type MoveSignatures, moveInputWitness } from './move-inputs.ts';
import type { MoveValues } from './move-values.ts';
import type { GameValueSigner } from './signer-keys.ts';

export class MoveTxError extends VigilError {
  override name = 'MoveTxError';
}

/** The Winternitz signatures each side has published so far, by label (read off confirmed moves). */
export type Published = Omit<PublishedSignatures, 'kickoff'>;

/**
 * Move `id`, signed: the mover signs each of its values (taken from `values` by label), each echo pairs
 * the opponent's published signature with the mover's own of `echo.<label>`, and w adds its Schnorr
 * signature (`challengerSecret`) on each input of its own moves.
 */
export function moveTx(
  graph: GameGraph,
  sigs: GamePresignatures,
  id: string,
  values: MoveValues,
  published: Published,
  sign: GameValueSigner,
  challengerSecret?: Uint8Array,
): Tx {
  const node = graph.nodes.get(id);
  if (node === undefined) throw new MoveTxError(`The game has no move ${id}`);
  const mover = node.move.mover;
  const other = mover === 'operator' ? 'challenger' : 'operator';
  if (mover === 'challenger' && challengerSecret === undefined)
    throw new MoveTxError(`${id} is w's move: it needs w's key`);
  const valueSigs = new Map<string, WotsSignature>();
  for (const v of node.move.values) {
    const bytes = values.get(v.label);
    if (bytes === undefined) throw new MoveTxError(`${id}: no value for ${v.label}`);
    valueSigs.set(v.label, sign(v.label, bytes));
  }
  const echoes = new Map<string, { theirs: WotsSignature; ours: WotsSignature }>();
  for (const e of node.move.echoes) {
    const theirs = published[other].get(e.label);
    const bytes = values.get(`echo.${e.label}`);
    if (theirs === undefined) throw new MoveTxError(`${id}: the ${other} has not published ${e.label}`);
    if (bytes === undefined) throw new MoveTxError(`${id}: no value for echo.${e.label}`);
    echoes.set(e.label, { theirs, ours: sign(`echo.${e.label}`, bytes) });
  }
  const moverSig = (input: number) =>
    mover === 'challenger' ? signGameInput(graph, id, input, challengerSecret as Uint8Array) : undefined;
  const witnesses = node.inputs.map((input, j) => {
    const m = moverSig(j);
    const s: MoveSignatures = {
      values: valueSigs,
      echoes,
      covenant: covenantItems(sigs, id, j).reverse(),
      ...(m === undefined ? {} : { mover: m }),
    };
    return { items: moveInputWitness(input, s) };
  });
  // Choice 1 also spends Q_w through its join leaf: the covenant and w.
  if (node.parent === undefined) {
    witnesses.push({ items: [moverSig(1) as Uint8Array, ...covenantItems(sigs, id, 1)] });
  }
  return completeGameTx(graph, id, witnesses);
}

/**
 * w's slash of `site`'s output (`reserve` for Q_w, else a move id) through the leaf named `leaf`, its
 * witness from the signatures published so far, at the ladder's `rate` (its first rung by default).
 */
export function slashTx(
  graph: GameGraph,
  sigs: GamePresignatures,
  site: string,
  leaf: string,
  published: PublishedSignatures,
  challengerSecret: Uint8Array,
  extras: LeafExtras = {},
  rate?: bigint,
): Tx {
  const id = slashId('slash', site, rate);
  const leaves = site === 'reserve' ? graph.reserveLeaves : graph.nodes.get(site)?.leaves;
  const leafIndex = leaves?.get(leaf);
  if (leafIndex === undefined) throw new MoveTxError(`${site} has no leaf ${leaf}`);
  const wSig = signGameInput(graph, id, 1, challengerSecret, leafIndex);
  const items = gameLeafItems(graph.spec.shape, leaf, published, wSig, extras);
  return completeGameTx(graph, id, [{ items: covenantItems(sigs, id, 0) }, { items, leafIndex }]);
}

/**
 * w's timeout slash of `site`'s pot (a move after which the operator owed the next one and stayed silent),
 * through the pot's timeout leaf, at the ladder's `rate` (its first rung by default). Valid t blocks after
 * `site` confirmed.
 */
export function timeoutSlashTx(
  graph: GameGraph,
  sigs: GamePresignatures,
  site: string,
  challengerSecret: Uint8Array,
  rate?: bigint,
): Tx {
  const id = slashId('timeout', site, rate);
  const leafIndex = graph.nodes.get(site)?.leaves.get('timeout');
  if (leafIndex === undefined || !graph.txs.has(id)) throw new MoveTxError(`${site} has no timeout slash`);
  const wSig = signGameInput(graph, id, 1, challengerSecret, leafIndex);
  return completeGameTx(graph, id, [{ items: covenantItems(sigs, id, 0) }, { items: [wSig], leafIndex }]);
}

/**
 * A spend of `site`'s output alone through one of its leaves, paid to `to`: w's disprove when another game
 * (or the payout) already spent D, so the presigned slash can no longer confirm (§24.11 item 11: w still
 * takes the pot), or the operator's refusal (`past-end`, `past-read`, `not-a-tape-step`) or timeout sweep.
 * Not presigned: the leaf's own spender signs it (`secret`).
 */
/**
 * w's refund of its bond from C_w through the `refund` leaf, `bondRefund` blocks after C_w confirmed: the
 * way back for a bond no game spent (another challenger's assert-timeout took S, or the operator swept Q_w
 * before w's first move). Not presigned: w signs it.
 */
export function bondRefundTx(graph: GameGraph, secret: Uint8Array, to: Uint8Array, fee: bigint): Tx {
  const out = gameOutputOf(graph, 'bond');
  const leafIndex = out.leaves.get('refund');
  if (leafIndex === undefined) throw new MoveTxError('C_w has no refund leaf');
  const sweep = sweepOutput(out, leafIndex, to, fee, graph.spec.timelocks.bondRefund);
  return completeSweep(sweep, [signSweep(sweep, secret)]);
}

export function leafSpendTx(
  graph: GameGraph,
  site: string,
  leaf: string,
  published: PublishedSignatures,
  secret: Uint8Array,
  to: Uint8Array,
  fee: bigint,
  extras: LeafExtras = {},
): Tx {
  const out = gameOutputOf(graph, site);
  const leafIndex = out.leaves.get(leaf);
  if (leafIndex === undefined) throw new MoveTxError(`${site} has no leaf ${leaf}`);
  const sequence = leaf === 'timeout' ? graph.spec.timelocks.move : GAME_SEQUENCE_NO_LOCK;
  const sweep = sweepOutput(out, leafIndex, to, fee, sequence);
  const sig = signSweep(sweep, secret);
  const items = leaf === 'timeout' ? [sig] : gameLeafItems(graph.spec.shape, leaf, published, sig, extras);
  return completeSweep(sweep, items);
}
