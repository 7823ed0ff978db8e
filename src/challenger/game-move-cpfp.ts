/**
 * The game job's fee bump of w's own moves (docs/protocol.md §24.11 item 10): a move is presigned at the
 * graph's `feeRate` (it has presigned descendants, so it can have no ladder), and a move that does not
 * confirm within t of the operator's last one loses the game to the operator's sweep. While Vigil's move
 * waits in the mempool, a child spending its anchor (330 sats, w's key) and the game's purse (C_w's
 * change, passed from child to child: challenge-cpfp.ts `currentPurse`) pays for it:
 *
 * - after `bumpAfterBlocks` blocks in the mempool, while the estimate is above the package's rate, the
 *   package is lifted to the estimate (at least `bumpStepSatVb` up);
 * - within `bumpAfterBlocks` blocks of the operator's sweep becoming valid, estimate or not, by at least
 *   one step (the sweep is the operator's own transaction: it can bid what it likes, so this is a race
 *   Vigil follows up to its caps).
 *
 * Each child of a move replaces the one before (the same anchor and purse), is written ahead under
 * `move-cpfp:<move>@<fee>~<purse>` and rebroadcast while the move is unconfirmed; a child of a later move
 * spends the output of the earlier one's latest child. Caps as for the challenge's child.
 */
import { decodeTx } from '../bitcoin/codec/codec.ts';
import { hashToDisplayHex, txidHex, txVsize } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import {
  currentPurse,
  moveChildPrevouts,
  moveChildTx,
  moveChildVsize,
  packageRate,
  planChallengeChild,
  spendsCoin,
} from '../dispute/game/challenge-cpfp.ts';
import { spendDecision } from '../dispute/plan/spend-policy.ts';
import type { GameRecord } from '../dispute/records/game-types.ts';
import { maxFeeSat } from '../sender/send.ts';
import { allChildren, childSettings, holdChildOutput, minChildFee } from './game-challenge-cpfp.ts';
import type { GameJobContext, GameMaterial } from './game-context.ts';
import { checkedTx, sendGameTx } from './game-send.ts';

export const moveCpfpPrefix = (move: string): string => `move-cpfp:${move}@`;

/**
 * Run while Vigil's move `move` (written ahead) is in the mempool and not in a block; `dueBy` is the first
 * height the operator's sweep of the pot before it can be mined at. Returns what it did, or undefined.
 */
export async function bumpMoveIfLagging(
  ctx: GameJobContext,
  rec: GameRecord,
  m: GameMaterial,
  move: string,
  tip: number,
  dueBy: number | undefined,
): Promise<string | undefined> {
  if (spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) !== 'broadcast') return undefined;
  const written = rec.sent.get(move);
  if (written === undefined || written.role !== 'game-move') return undefined;
  const moveTx = decodeTx(written.raw);
  const children = allChildren(rec);
  // The purse passes through the children the backend knows: one written but refused, replaced or
  // evicted made no output, and the coin it would have spent is free again.
  const known: typeof children = [];
  for (const c of children)
    if ((await ctx.backend.getTransaction(txidHex(c.tx))) !== undefined) known.push(c);
  const prefix = moveCpfpPrefix(move);
  const purse = currentPurse(
    m.claim,
    rec.w,
    known.filter((c) => !c.id.startsWith(prefix)),
  );
  // This move's children on that purse (one on another purse spent a coin that is gone).
  const mine = children
    .filter((c) => c.id.startsWith(prefix) && spendsCoin(c.tx, purse))
    .sort((a, b) => (a.fee < b.fee ? -1 : 1));
  const latest = mine.at(-1);
  const said: string[] = [];
  if (latest !== undefined) {
    said.push(await sendChild(ctx, rec, latest.id, latest.tx, latest.fee, 'rebroadcast'));
    await holdChildOutput(ctx, rec, txidHex(latest.tx));
  }

  const settings = childSettings(ctx);
  const childVsize = moveChildVsize(m.claim, rec.w, moveTx, purse);
  const parent = { fee: written.fee, vsize: txVsize(moveTx), change: purse.value + 330n };
  // The child that pays now: this move's highest-paying one the backend knows.
  const live = mine.filter((c) => known.includes(c)).at(-1);
  const current = packageRate(parent, childVsize, live?.fee);
  const left = dueBy === undefined ? Number.POSITIVE_INFINITY : dueBy - (tip + 1);
  const waited = tip - Math.max(written.height, latest?.height ?? 0);
  const estimate = (await ctx.backend.estimateFee(ctx.fees.targetBlocks))?.rate.satPerKvb;
  // Near the sweep, one step a block even without an estimate (the sweep is the operator's: it bids what
  // it likes); else after bumpAfterBlocks blocks below the estimate.
  const near = left <= settings.afterBlocks && waited >= 1;
  const lagging = waited >= settings.afterBlocks && estimate !== undefined && estimate > current;
  if (!near && !lagging) return said.length > 0 ? said.join('; ') : undefined;
  let rate = current + settings.step;
  if (estimate !== undefined && estimate > rate) rate = estimate;
  const plan = planChallengeChild({
    parent,
    childVsize,
    previous: live?.fee,
    rate,
    cap: settings.cap,
    incremental: settings.incremental,
    maxFee: maxFeeSat({ fees: ctx.fees }),
    minFee: minChildFee(ctx, childVsize),
  });
  if (plan.kind === 'wait') return said.length > 0 ? said.join('; ') : undefined;
  if (plan.kind === 'capped') {
    ctx.metrics?.feeCapped.set({ dispute: rec.id }, 1);
    ctx.logger?.error(
      { game: rec.id, move, packageRate: current, wanted: rate, reason: plan.reason },
      "Vigil's move is unconfirmed and its child cannot pay more",
    );
    await ctx.store.note(
      rec.id,
      {
        type: 'fee-capped',
        detail: { txid: written.txid, tx: 'game-move-cpfp', feeRate: current, reason: plan.reason },
      },
      { key: `move-cpfp-capped-${move}-${latest?.fee ?? 0n}` },
    );
    return `${move} is in the mempool at ${current} sat/kvB and cannot be bumped (${plan.reason})`;
  }
  ctx.metrics?.feeCapped.set({ dispute: rec.id }, plan.limited === undefined ? 0 : 1);
  ctx.logger?.warn(
    { game: rec.id, move, packageRate: current, to: plan.rate, estimate, left, near },
    "Vigil's move is not confirming: a child pays for it",
  );
  // The purse is in the id: a child on another purse is another transaction.
  const id = `${prefix}${plan.fee}~${hashToDisplayHex(purse.txid).slice(0, 16)}:${purse.vout}`;
  const tx = moveChildTx(m.claim, rec.w, moveTx, purse, plan.fee, m.keys.secret);
  const sent = await sendChild(
    ctx,
    rec,
    id,
    tx,
    plan.fee,
    'new',
    moveChildPrevouts(m.claim, rec.w, moveTx, purse),
  );
  await holdChildOutput(ctx, rec, txidHex(tx));
  return sent;
}

async function sendChild(
  ctx: GameJobContext,
  rec: GameRecord,
  id: string,
  tx: Tx,
  fee: bigint,
  kind: 'new' | 'rebroadcast',
  prevouts?: ReturnType<typeof moveChildPrevouts>,
): Promise<string> {
  const r = await sendGameTx(
    ctx,
    rec,
    id,
    'game-move-cpfp',
    () => {
      if (prevouts === undefined) throw new Error(`${id} is not written: nothing to rebroadcast`);
      return checkedTx(tx, prevouts);
    },
    'cpfp',
  );
  if (r.kind === 'sent' && kind === 'new' && !rec.sent.has(id)) ctx.metrics?.feeBumps.inc();
  switch (r.kind) {
    case 'sent':
      return `the child ${id} (${fee} sats) sent`;
    case 'known':
      return `the child ${id} is out`;
    case 'refused':
      return `the child ${id} was refused (${r.outcome.kind}); next run`;
    default:
      return `the child ${id}: ${r.kind}`;
  }
}
