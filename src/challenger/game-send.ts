/**
 * How a game job sends a transaction: the game record's side of the sender's write-ahead port (one slot
 * per graph id: a move, a rung of a slash's ladder, the challenge), and the one path every game
 * transaction takes: built, checked by Vigil's interpreter, policy and fee caps, written ahead, then the
 * recorded bytes broadcast. A slot already written is only ever rebroadcast: a re-run never builds a
 * second version of a move, so w's Winternitz keys sign one value each.
 */
import { serializeTx, txidHex, txVsize } from '../bitcoin/tx/serialize.ts';
import type { Prevout, Tx } from '../bitcoin/tx/types.ts';
import { CORE_MAX_FEE_RATE } from '../dispute/game/game-graph.ts';
import { spendDecision } from '../dispute/plan/spend-policy.ts';
import type { GameRecord, GameTxRole } from '../dispute/records/game-types.ts';
import { asTxid } from '../dispute/records/types.ts';
import { sendRecorded } from '../sender/rebroadcast.ts';
import { type Actionable, type CheckedTx, checkBuilt, type SendContext } from '../sender/send.ts';
import { type RecordSlot, writeAhead } from '../sender/write-ahead.ts';
import type { GameJobContext } from './game-context.ts';

/** The transaction to write ahead, and the tip it is written at. */
export type GameEntry = { built: CheckedTx; height: number };

/** A transaction and what it spends, as the sender checks it. */
export function checkedTx(tx: Tx, prevouts: readonly Prevout[]): CheckedTx {
  const fee = prevouts.reduce((a, p) => a + p.value, 0n) - tx.outputs.reduce((a, o) => a + o.value, 0n);
  return { tx, prevouts: [...prevouts], raw: serializeTx(tx), txid: txidHex(tx), fee, vsize: txVsize(tx) };
}

/**
 * Core's default -maxfeerate for sendrawtransaction (0.1 BTC/kvB): the graph's presigned fees stay under
 * it (game-graph.ts `CORE_MAX_FEE_RATE`), and it is the only cap a transaction paid from the game's own
 * outputs is held to.
 */
const CORE_DEFAULT_MAX_SAT_VB = Number(CORE_MAX_FEE_RATE);

/**
 * Who pays a game transaction's fee: Vigil's money at Vigil's caps (`wallet`), the game's outputs
 * (`game`), or a child paying for w's challenge (`cpfp`): Vigil's money, so the absolute cap holds, but
 * its own rate is far above the package's by design, and the planner holds the package to the rate cap
 * (challenge-cpfp.ts).
 */
export type GamePayer = 'wallet' | 'game' | 'cpfp';

/**
 * The sender's context for a game transaction. Vigil's fee caps (`fees.maxFeeRateSatVb`, `maxFeeSat`)
 * guard its wallet; a transaction whose fee comes from the game's outputs (`paidBy: 'game'`: a move, a
 * slash, a sweep, the assert-timeout) costs the wallet nothing, and refusing it for its rate would lose
 * the stake or the pot: it is held to Core's default maxfeerate only. A slash through a small leaf pays
 * its rung's fee on far fewer vbytes than the rung was sized for, so its real rate is often many times
 * the rung's.
 */
export function sendContextOf(ctx: GameJobContext, paidBy: GamePayer = 'wallet'): SendContext {
  const coreRate = Math.max(ctx.fees.maxFeeRateSatVb, CORE_DEFAULT_MAX_SAT_VB);
  return {
    backend: ctx.backend,
    fees:
      paidBy === 'wallet'
        ? ctx.fees
        : paidBy === 'cpfp'
          ? { ...ctx.fees, maxFeeRateSatVb: coreRate }
          : { ...ctx.fees, maxFeeRateSatVb: coreRate, maxFeeSat: 2_100_000_000_000_000n },
    metrics: ctx.metrics,
    store: ctx.store,
    logger: ctx.logger,
  };
}

/** The slot of graph id `id` in `rec`. */
function gameSlot(ctx: GameJobContext, rec: GameRecord, id: string, role: GameTxRole): RecordSlot<GameEntry> {
  return {
    disputeId: rec.id,
    what: role,
    recorded() {
      const s = rec.sent.get(id);
      return s === undefined ? undefined : { txid: s.txid, raw: s.raw, fee: s.fee };
    },
    async record({ built, height }) {
      const txid = asTxid(built.txid);
      const r = await ctx.store.note(
        rec.id,
        { type: 'tx-written', detail: { id, role, txid, fee: built.fee, vsize: built.vsize } },
        {
          key: `write-${id}-${txid}`,
          onlyIfAbsent: id,
          patch: { sent: new Map([[id, { role, txid, raw: built.raw, fee: built.fee, height }]]) },
        },
      );
      return r.status;
    },
    async durable() {
      const ack = await ctx.store.replicated(rec.id);
      if (ack.replicas > 0 && ack.acked === 0) {
        ctx.logger?.warn(
          { game: rec.id, tx: id, replicas: ack.replicas },
          'the write-ahead record is not on a replica yet (WAIT timed out): sending anyway',
        );
      }
    },
    async noteAccepted(txid, result) {
      await ctx.store.note(
        rec.id,
        { type: result === 'sent' ? 'broadcast' : 'rebroadcast', detail: { txid } },
        { key: `${result}-${txid}-v${rec.version}` },
      );
    },
    async noteActionable(txid, outcome) {
      ctx.metrics?.sendConflicts.inc({ tx: role, action: outcome.kind });
      await ctx.store.note(
        rec.id,
        { type: 'send-conflict', detail: { tx: role, txid, kind: outcome.kind, reason: outcome.reason } },
        { key: `conflict-${txid}-${outcome.kind}` },
      );
    },
  };
}

/** What sending one game transaction came to. */
export type GameSendResult =
  | { kind: 'sent'; txid: string }
  /** Written ahead before, and the backend has it: not sent again. */
  | { kind: 'known'; txid: string }
  | { kind: 'withheld' }
  | { kind: 'dry-run'; txid: string }
  | { kind: 'refused'; txid: string; outcome: Actionable };

/**
 * Sends graph id `id`: its recorded bytes if written ahead before (a rebroadcast), else `build()`'s,
 * checked and written ahead first. In mode watch nothing is built; in mode dry-run it is built and
 * checked, never written or sent. A conflict or fee refusal comes back for the caller (a later move may
 * have spent the output, or the ladder's next rung is wanted); unavailable answers throw (retried).
 */
export async function sendGameTx(
  ctx: GameJobContext,
  rec: GameRecord,
  id: string,
  role: GameTxRole,
  build: () => CheckedTx,
  paidBy: GamePayer = 'game',
): Promise<GameSendResult> {
  const send = sendContextOf(ctx, paidBy);
  let slot = gameSlot(ctx, rec, id, role);
  let first = false;
  if (slot.recorded() === undefined) {
    const decision = spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending);
    if (decision === 'withhold') return { kind: 'withheld' };
    const built = build();
    await checkBuilt(send, rec.id, role, built);
    if (decision === 'build-only') {
      await ctx.store.note(
        rec.id,
        {
          type: 'dry-run-built',
          detail: { id, txid: asTxid(built.txid), fee: built.fee, vsize: built.vsize },
        },
        { key: `dry-${id}-${built.txid}` },
      );
      return { kind: 'dry-run', txid: built.txid };
    }
    const height = await ctx.backend.getTipHeight();
    const status = await writeAhead(slot, { built, height });
    // Another run wrote first (`taken`), or this one did: either way the record's bytes go out.
    slot = gameSlot(ctx, await ctx.store.require(rec.id), id, role);
    first = status === 'applied';
  }
  const recorded = slot.recorded();
  if (recorded === undefined)
    throw new Error(`Game ${rec.id}: ${id} was written ahead but is not in the record`);
  // In the mempool or a block already: nothing to resend (Core answers a resend of a mempool transaction
  // with its txid, as if sent anew).
  if (!first && (await ctx.backend.getTransaction(recorded.txid)) !== undefined) {
    return { kind: 'known', txid: recorded.txid };
  }
  const outcome = await sendRecorded(send, slot, first ? 'sent' : 'rebroadcast');
  if (outcome === 'ok' || outcome === 'absent') {
    if (first) ctx.metrics?.gameMoves.inc({ side: 'vigil', kind: role });
    return { kind: 'sent', txid: recorded.txid };
  }
  return { kind: 'refused', txid: recorded.txid, outcome };
}
