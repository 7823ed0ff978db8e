/**
 * After a confirmed challenge: the operator asserts (the dispute moves to `asserted`), or the assert
 * window closes and Vigil takes the assert-timeout, the slash, itself; then follows it to depth.
 */
import { feeRateFromSatPerKvb } from '../bitcoin/codec/fee-rate.ts';
import { hashToDisplayHex, txid as txidOf } from '../bitcoin/tx/serialize.ts';
import { completeAssertTimeout } from '../dispute/graph/spend.ts';
import { buildRewardSpend } from '../dispute/plan/reward-tx.ts';
import { spendDecision } from '../dispute/plan/spend-policy.ts';
import { asBlockHash, asTxid, type DisputeRecord } from '../dispute/records/types.ts';
import { sendRecordedReward } from '../sender/rebroadcast.ts';
import { checkBuilt, feeRateNow, maxFeeSat } from '../sender/send.ts';
import { writeAhead } from '../sender/write-ahead.ts';
import { challengeLost } from './challenge-steps.ts';
import type { DisputeJobContext } from './context.ts';
import { clearMetDeadlines } from './deadline-gauges.ts';
import { confirmationBelieved } from './inclusion.ts';
import { timeoutSlot } from './record-slots.ts';

/**
 * After a confirmed challenge the operator must assert before the assert window closes. If the stake is
 * spent by the graph's assert, the dispute moves to `asserted`; if the window has closed and the stake is
 * still there, Vigil takes the assert-timeout (the slash) itself. Undefined: nothing to do yet.
 */
export async function followAssert(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  tip: number,
): Promise<string | undefined> {
  const { graph, sigs } = await ctx.graphOf(rec);
  const stake = await ctx.backend.getOutspend(rec.kickoffTxid, 2);
  const assertTxid = hashToDisplayHex(txidOf(graph.txs.assert));
  // The assert's txid is fixed by the graph: asked for directly, a backend that hides the stake's
  // spender cannot hide the assert (Vigil would otherwise try to time out an operator that asserted).
  const assertSeen =
    stake.spent && stake.txid === assertTxid ? true : await ctx.backend.getTxStatus(assertTxid);
  if (assertSeen === true || (assertSeen !== undefined && (assertSeen.confirmed || assertSeen.inMempool))) {
    await ctx.store.transition(rec.id, 'asserted', {
      key: `asserted-${assertTxid}`,
      detail: { txid: asTxid(assertTxid) },
    });
    return 'asserted';
  }
  const from = rec.opened.assertTimeoutFrom ?? Number.NaN;
  ctx.metrics?.deadlineBlocksLeft.set({ dispute: rec.id, deadline: 'assert-timeout' }, from - tip - 1);
  if (stake.spent && stake.txid === hashToDisplayHex(txidOf(graph.txs.take))) {
    // The take spent the stake: the challenge was not what spent connector A after all (a backend
    // that reported it confirmed lied, or a reorg undid it). Never recorded as a slash.
    return challengeLost(ctx, rec, stake.txid, 'the take spent the stake after the challenge');
  }
  if (stake.spent && stake.txid !== undefined) {
    // Not the assert (above), and the take needs connector A, which the challenge spent: the stake
    // went by an assert-timeout. Ours when it is the one stored (a crash came between sending it and
    // recording the move), otherwise someone else's; the slash holds either way.
    const ours = stake.txid === rec.timeout.txid;
    const spender = asTxid(stake.txid);
    await ctx.store.transition(rec.id, 'timed-out', {
      key: `timed-out-${stake.txid}`,
      detail: { txid: spender, by: ours ? 'vigil' : 'other' },
      ...(ours ? {} : { patch: { timeout: { txid: spender } } }),
    });
    return ours ? 'assert-timeout found sent' : 'timed out by someone else';
  }
  if (tip + 1 < from) return undefined;
  if (spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) !== 'broadcast' || !ctx.wallet)
    return undefined;
  const wallet = ctx.wallet;
  const build = (rateKvb: bigint) =>
    buildRewardSpend(
      (reward) => completeAssertTimeout(graph, sigs, reward),
      wallet.script,
      feeRateFromSatPerKvb(rateKvb),
      maxFeeSat(ctx),
    );
  if (rec.timeout.raw === undefined) {
    const t = build((await feeRateNow(ctx)).satPerKvb);
    await checkBuilt(ctx, rec.id, 'assert-timeout', t);
    // The first writer wins: a concurrent run's assert-timeout, if stored first, is the one sent.
    await writeAhead(timeoutSlot(ctx, rec), { kind: 'built', built: t });
  }
  const stored = await ctx.store.require(rec.id);
  const sent = await sendRecordedReward(ctx, timeoutSlot(ctx, stored), 'sent', build);
  // A conflict: someone else's spend of the stake; the next run reads who and follows it. If the
  // backend still shows the stake unspent, it hides what the node sees: alerted.
  if (sent === 'conflict') {
    const again = await ctx.backend.getOutspend(rec.kickoffTxid, 2);
    if (!again.spent) {
      ctx.metrics?.sendConflicts.inc({ tx: 'assert-timeout', action: 'unexplained' });
      ctx.logger?.error(
        { dispute: rec.id, kickoff: rec.kickoffTxid },
        'the node says the stake is spent but the backend shows it unspent: the backend hides a spend',
      );
    }
    return 'assert-timeout conflicted: reading the stake on the next run';
  }
  const now = await ctx.store.require(rec.id);
  await ctx.store.transition(rec.id, 'timed-out', {
    key: `timed-out-${now.timeout.txid}`,
    detail: now.timeout.txid === undefined ? {} : { txid: now.timeout.txid },
  });
  return 'assert-timeout sent';
}

/** The slash confirmed at depth resolves the dispute; dropped, it is sent again. */
export async function followTimeout(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  tip: number,
): Promise<string> {
  const txid = rec.timeout.txid;
  if (txid === undefined) return 'timed out by someone else';
  const status = await ctx.backend.getTxStatus(txid);
  if (status?.confirmed) {
    if (tip - status.blockHeight + 1 >= ctx.confirmations) {
      if (!(await confirmationBelieved(ctx, rec.id, 'assert-timeout', txid, status)))
        return 'assert-timeout confirmation not believed';
      await ctx.store.transition(rec.id, 'resolved', {
        key: `resolved-${txid}-${status.blockHash}`,
        outcome: 'operator-slashed',
        detail: { txid, blockHash: asBlockHash(status.blockHash) },
      });
      clearMetDeadlines(ctx.metrics, rec.id, 'resolved');
      await ctx.untrack(rec.id);
      return 'resolved: operator slashed';
    }
    return 'assert-timeout confirming';
  }
  if (status && !status.confirmed && status.inMempool) return 'assert-timeout in mempool';
  // Not ours on chain: whoever spent the stake (another slasher) is what counts.
  const stake = await ctx.backend.getOutspend(rec.kickoffTxid, 2);
  if (stake.spent && stake.txid !== undefined && stake.txid !== txid) {
    const spender = asTxid(stake.txid);
    await ctx.store.note(
      rec.id,
      { type: 'timeout-followed', detail: { txid: spender, replaces: txid } },
      { key: `timeout-followed-${spender}`, patch: { timeout: { txid: spender } } },
    );
    return `the stake is spent by ${stake.txid}: following it`;
  }
  if (spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) !== 'broadcast' || !ctx.wallet) {
    return 'assert-timeout not out';
  }
  const wallet = ctx.wallet;
  const { graph, sigs } = await ctx.graphOf(rec);
  const sent = await sendRecordedReward(ctx, timeoutSlot(ctx, rec), 'rebroadcast', (rateKvb) =>
    buildRewardSpend(
      (reward) => completeAssertTimeout(graph, sigs, reward),
      wallet.script,
      feeRateFromSatPerKvb(rateKvb),
      maxFeeSat(ctx),
    ),
  );
  return `assert-timeout ${sent === 'sent' ? 'rebroadcast' : sent}`;
}
