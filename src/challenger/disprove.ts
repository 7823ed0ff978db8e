/**
 * After the operator asserted: judge its trace, disprove the step Vigil finds wrong (if the graph's
 * circuit agrees), and follow the asserted stake D until something spends it for good: a disprove
 * (ours or anyone's: the operator is slashed) or the operator's payout after T_d (vindicated).
 *
 * Every run starts from the chain and the record as they are now. The disprove is written ahead into
 * the record (bytes and step) under a per-dispute lease, and only the stored bytes are ever sent, so
 * two runs or two processes send one transaction; a run after a crash finds it stored and sends it.
 */

import { feeRateFromSatPerKvb } from '../bitcoin/codec/fee-rate.ts';
import { hashToDisplayHex, txid as txidOf } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { equalBytes } from '../core/bytes.ts';
import type { Graph } from '../dispute/graph/build.ts';
import { completeDisprove } from '../dispute/graph/spend.ts';
import { planDisprove } from '../dispute/plan/disprove-plan.ts';
import { type BuiltReward, buildRewardSpend } from '../dispute/plan/reward-tx.ts';
import { spendDecision } from '../dispute/plan/spend-policy.ts';
import { blocksLeft, disproveBy } from '../dispute/records/deadlines.ts';
import { asBlockHash, asTxid, type DisputeRecord, type Txid } from '../dispute/records/types.ts';
import { sendRecordedReward } from '../sender/rebroadcast.ts';
import { checkBuilt, feeRateNow, maxFeeSat, settle as settleOutcome, testAccept } from '../sender/send.ts';
import { writeAhead } from '../sender/write-ahead.ts';
import { Lease } from '../store/lease.ts';
import type { DisputeGraph, DisputeJobContext } from './context.ts';
import { clearMetDeadlines } from './deadline-gauges.ts';
import { confirmationBelieved } from './inclusion.ts';
import { disproveSlot } from './record-slots.ts';

const txidHexOf = (tx: Tx): string => hashToDisplayHex(txidOf(tx));

/**
 * The disprove builder's lock: renewed every third of it while held, so it bounds only how long other
 * processes wait after a crash. A regtest disprove window is six blocks.
 */
const DISPROVE_LOCK_TTL_MS = 10_000;

/** The disprove step whose leaf a spend of D used, or undefined when it used no disprove leaf. */
function disproveStepOf(graph: Graph, spender: Tx, vin: number): number | undefined {
  const witness = spender.inputs[vin]?.witness ?? [];
  const script = witness[witness.length - 2];
  if (script === undefined) return undefined;
  const i = graph.outputs.asserted.leaves.findIndex((l) => equalBytes(l.script, script));
  return i >= 0 && i < graph.spec.params.traceSteps ? i : undefined;
}

/** Tracks a dispute in `asserted` or `disproved` (one run of the repeating track job). */
export async function followDisprove(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  tip: number,
): Promise<string> {
  const dg = await ctx.graphOf(rec);
  const { graph } = dg;
  const assertTxid = txidHexOf(graph.txs.assert);
  const assertStatus = await ctx.backend.getTxStatus(assertTxid);
  if (assertStatus?.confirmed) {
    const by = disproveBy(assertStatus.blockHeight, graph.spec.params.timelocks.disproveWindow);
    if (rec.assert.disproveBy !== by) {
      // Keyed by the assert's block: a reorg that moves the assert moves the deadline with it.
      await ctx.store.note(
        rec.id,
        {
          type: 'disprove-window',
          detail: { assertTxid: asTxid(assertTxid), assertHeight: assertStatus.blockHeight, disproveBy: by },
        },
        {
          key: `disprove-window-${assertStatus.blockHash}`,
          patch: { assert: { height: assertStatus.blockHeight, disproveBy: by } },
        },
      );
    }
    ctx.metrics?.deadlineBlocksLeft.set({ dispute: rec.id, deadline: 'disprove' }, blocksLeft(by, tip));
  }

  const d = await ctx.backend.getOutspend(assertTxid, 0);
  if (d.spent && d.txid !== undefined) return settle(ctx, rec, graph, d.txid, d.vin ?? 0, tip);
  if (d.spent) return 'the asserted stake is spent; its spender is not known yet';
  if (!assertStatus?.confirmed) {
    // A disprove spends the assert's output: nothing can be sent before the assert is in a block.
    return assertStatus?.inMempool ? 'assert in mempool' : 'assert not found (reorg?): waiting';
  }
  if (rec.disprove.raw !== undefined) return resend(ctx, rec, dg);
  if (rec.state !== 'asserted') return `state ${rec.state}, asserted stake unspent`;
  return judgeAndDisprove(ctx, rec, dg, tip);
}

/** Builds the disprove of `step` at a rate (sat/kvB), its reward to the watcher wallet. */
function disproveBuilder(
  ctx: DisputeJobContext,
  { graph, sigs }: DisputeGraph,
  step: number,
  kickoff: Tx,
  assert: Tx,
  rewardScript: Uint8Array,
): (rateKvb: bigint) => BuiltReward {
  return (rateKvb) =>
    buildRewardSpend(
      (reward) => completeDisprove(graph, sigs, step, kickoff, assert, reward),
      rewardScript,
      feeRateFromSatPerKvb(rateKvb),
      maxFeeSat(ctx),
    );
}

/**
 * Ours is stored but not out: a reorg or an eviction dropped it, or a crash came between the write-ahead
 * and the broadcast. The same bytes go out again; a fee refusal rebuilds them at the rate the node asks.
 */
async function resend(ctx: DisputeJobContext, rec: DisputeRecord, dg: DisputeGraph): Promise<string> {
  const txid = rec.disprove.txid as Txid;
  const wallet = ctx.wallet;
  if (spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) !== 'broadcast' || !wallet)
    return 'disprove not out';
  const status = await ctx.backend.getTxStatus(txid);
  if (status?.confirmed || status?.inMempool) return `disprove already sent: ${txid}`;
  const build = async (): Promise<(rateKvb: bigint) => BuiltReward> => {
    const [assert, kickoff] = await Promise.all([
      ctx.backend.getTransaction(txidHexOf(dg.graph.txs.assert)),
      ctx.backend.getTransaction(rec.kickoffTxid),
    ]);
    if (!assert || !kickoff)
      throw new Error('The backend does not return the kick-off or the assert; retrying');
    return disproveBuilder(ctx, dg, rec.disprove.step as number, kickoff.tx, assert.tx, wallet.script);
  };
  let builder: ((rateKvb: bigint) => BuiltReward) | undefined;
  const sent = await sendRecordedReward(
    ctx,
    disproveSlot(ctx, rec),
    'rebroadcast',
    (rateKvb) => {
      if (!builder) throw new Error('The disprove builder is not ready');
      return builder(rateKvb);
    },
    async () => {
      builder = await build();
    },
  );
  if (sent === 'conflict') return 'disprove conflicted: reading the asserted stake on the next run';
  if (sent === 'rebuilt')
    return `disprove rebuilt at a higher fee: ${(await ctx.store.require(rec.id)).disprove.txid}`;
  await ctx.store.note(
    rec.id,
    { type: 'disprove-rebroadcast', detail: { txid } },
    { key: `disprove-rebroadcast-${txid}-v${rec.version}` },
  );
  return `disprove rebroadcast: ${txid}`;
}

/**
 * D is spent. The payout confirmed at depth: the assert held (vindicated). A disprove confirmed at depth,
 * ours or another challenger's: the operator is slashed. Another challenger's disprove resolves as
 * `operator-slashed`, not `withdrawn`: the disprove burns half of the asserted stake whoever submits it
 * (docs/protocol.md §19), so the fraud was punished; only the reward went elsewhere.
 */
async function settle(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  graph: Graph,
  spender: string,
  vin: number,
  tip: number,
): Promise<string> {
  const payoutTxid = txidHexOf(graph.txs.payout);
  const ours = spender === rec.disprove.txid;
  const found = await ctx.backend.getTransaction(spender);
  const status = found?.status;
  if (ours) {
    // The broadcast happened (the chain holds our bytes) even if a crash lost its event.
    await ctx.store.note(
      rec.id,
      { type: 'disprove-broadcast', detail: { txid: asTxid(spender), step: rec.disprove.step as number } },
      { key: `disprove-broadcast-${spender}` },
    );
  }
  if (!status?.confirmed) {
    const what = spender === payoutTxid ? 'payout' : ours ? 'our disprove' : `another disprove (${spender})`;
    return `${what} in mempool`;
  }
  const depth = tip - status.blockHeight + 1;
  if (depth < ctx.confirmations)
    return `${spender === payoutTxid ? 'payout' : 'disprove'} confirming, depth ${depth}`;
  if (!(await confirmationBelieved(ctx, rec.id, 'disprove', spender, status)))
    return 'confirmation not believed: waiting';

  if (spender === payoutTxid) {
    if (rec.disprove.txid !== undefined) {
      ctx.logger?.error(
        { dispute: rec.id, disprove: rec.disprove.txid, payout: spender },
        "the operator's payout confirmed before Vigil's disprove",
      );
    }
    await ctx.store.transition(rec.id, 'resolved', {
      key: `resolved-${spender}-${status.blockHash}`,
      outcome: 'operator-vindicated',
      detail: {
        txid: asTxid(spender),
        blockHash: asBlockHash(status.blockHash),
        ...(rec.disprove.txid === undefined ? {} : { lostDisprove: rec.disprove.txid }),
        ...(rec.disprove.impossible === undefined ? {} : { disproveImpossible: rec.disprove.impossible }),
      },
    });
    return finish(ctx, rec, 'resolved: operator vindicated (payout)');
  }

  const step = found ? disproveStepOf(graph, found.tx, vin) : undefined;
  const detail = { txid: asTxid(spender), ours, step, blockHash: asBlockHash(status.blockHash) };
  if (rec.state === 'asserted') {
    await ctx.store.transition(rec.id, 'disproved', {
      key: `disproved-${spender}-${status.blockHash}`,
      patch: {
        disproved: {
          txid: asTxid(spender),
          by: ours ? 'vigil' : 'other',
          ...(step === undefined ? {} : { step }),
        },
      },
      detail,
    });
  }
  await ctx.store.transition(rec.id, 'resolved', {
    key: `resolved-${spender}-${status.blockHash}`,
    outcome: 'operator-slashed',
    detail,
  });
  return finish(
    ctx,
    rec,
    `resolved: operator slashed (${ours ? 'our' : 'another'} disprove of step ${step})`,
  );
}

async function finish(ctx: DisputeJobContext, rec: DisputeRecord, result: string): Promise<string> {
  const reason = rec.disprove.impossible;
  if (reason !== undefined) ctx.metrics?.disproveImpossible.set({ dispute: rec.id, reason }, 0);
  clearMetDeadlines(ctx.metrics, rec.id, 'resolved');
  await ctx.untrack(rec.id);
  return result;
}

/**
 * Raises the gauge, then looks at the record again: a run that resolved the dispute meanwhile lowered
 * it before this one raised it, and the gauge must not stay up for a dispute that is over.
 */
async function flagImpossible(ctx: DisputeJobContext, id: string, reason: string): Promise<void> {
  if (!ctx.metrics) return;
  ctx.metrics.disproveImpossible.set({ dispute: id, reason }, 1);
  if ((await ctx.store.get(id))?.state === 'resolved')
    ctx.metrics.disproveImpossible.set({ dispute: id, reason }, 0);
}

/**
 * D is unspent and nothing of ours is stored: decide. Builds only a disprove Vigil believes in and the
 * circuit accepts; otherwise records why (once) and lets the payout come.
 */
async function judgeAndDisprove(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  { graph, sigs }: DisputeGraph,
  tip: number,
): Promise<string> {
  const assertTxid = txidHexOf(graph.txs.assert);
  const decision = spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending);
  // Judged before, from the same assert and the same trace: the answer cannot have changed.
  const judged = rec.disprove.impossible;
  if (judged !== undefined) {
    await flagImpossible(ctx, rec.id, judged);
    return `no disprove (${judged}): following the payout`;
  }
  if (decision === 'build-only' && rec.dryRun.disprove !== undefined) {
    return `dry-run: the disprove ${rec.dryRun.disprove.txid} was built and checked`;
  }
  const [assert, kickoff] = await Promise.all([
    ctx.backend.getTransaction(assertTxid),
    ctx.backend.getTransaction(rec.kickoffTxid),
  ]);
  if (!assert || !kickoff) {
    throw new Error(
      `The backend does not return the ${assert ? 'kick-off' : 'assert'} transaction; retrying`,
    );
  }
  const plan = planDisprove(graph, kickoff.tx, assert.tx, rec.opened.expectedTrace);
  if (plan.kind === 'impossible') {
    await flagImpossible(ctx, rec.id, plan.code);
    const r = await ctx.store.note(
      rec.id,
      {
        type: 'disprove-impossible',
        detail: {
          code: plan.code,
          reason: plan.reason,
          ...(plan.step === undefined ? {} : { step: plan.step }),
        },
      },
      { key: `disprove-impossible-${assertTxid}`, patch: { disprove: { impossible: plan.code } } },
    );
    if (r.status === 'applied') {
      ctx.logger?.warn({ dispute: rec.id, code: plan.code, reason: plan.reason }, 'no step can be disproved');
    }
    return `no disprove (${plan.code}): following the payout`;
  }
  const step = plan.step;
  const wallet = ctx.wallet;
  if (decision === 'withhold' || !wallet) {
    const why = decision === 'withhold' ? `mode ${ctx.mode}` : 'no watcher wallet to take the reward';
    await ctx.store.note(
      rec.id,
      { type: 'disprove-withheld', detail: { step, mode: ctx.mode, reason: why } },
      { key: `disprove-withheld-${assertTxid}` },
    );
    return `disprove of step ${step} withheld (${why})`;
  }

  // One builder per dispute at a time: two builds at different fee rates would be two transactions.
  // A lease renewed while it is held, its release retried: a release lost to a Redis failover would
  // otherwise keep every process out of this dispute's disprove for a whole TTL, longer than a regtest
  // disprove window (issue #21's failover run at the assert).
  const lock = new Lease(ctx.redis, `${ctx.prefix}:dispute:${rec.id}:disprove-lock`, DISPROVE_LOCK_TTL_MS);
  const held = await lock.runExclusive(async (): Promise<{ done: string } | { builtHere: boolean }> => {
    const fresh = await ctx.store.require(rec.id);
    if (fresh.disprove.raw !== undefined && decision !== 'build-only') return { builtHere: false };
    const built = disproveBuilder(
      ctx,
      { graph, sigs },
      step,
      kickoff.tx,
      assert.tx,
      wallet.script,
    )((await feeRateNow(ctx)).satPerKvb);
    await checkBuilt(ctx, rec.id, 'disprove', built);
    const t = await testAccept(ctx, built.raw);
    // Refusals no retry cures fail here; a fee or conflict answer is handled when it is sent.
    if (t.kind === 'refused' || t.kind === 'unavailable' || t.kind === 'premature')
      await settleOutcome(ctx, rec.id, built.txid, 'disprove', t);
    const txid = asTxid(built.txid);
    const detail = { txid, step, fee: built.fee, vsize: built.vsize };
    if (decision === 'build-only') {
      await ctx.store.note(
        rec.id,
        { type: 'dry-run-built', detail: { ...detail, tx: 'disprove' } },
        {
          key: `dry-run-disprove-${assertTxid}`,
          patch: { dryRun: { disprove: { txid, raw: built.raw } } },
        },
      );
      ctx.metrics?.broadcasts.inc({ tx: 'disprove', result: 'dry-run' });
      return { done: `dry-run: built and checked the disprove of step ${step} (${built.txid})` };
    }
    const noted = await writeAhead(disproveSlot(ctx, fresh), {
      kind: 'built',
      built,
      step,
      tip,
      assertTxid,
    });
    return { builtHere: noted === 'applied' };
  });
  if (held === 'busy') return 'another process is building the disprove';
  if ('done' in held) return held.done;
  const builtHere = held.builtHere;
  const stored = await ctx.store.require(rec.id);
  // Another run wrote it: it sends it, or it is out already, or (that run died) it is resent here.
  if (!builtHere) return resend(ctx, stored, { graph, sigs });
  const sent = await sendRecordedReward(
    ctx,
    disproveSlot(ctx, stored),
    'sent',
    disproveBuilder(ctx, { graph, sigs }, step, kickoff.tx, assert.tx, wallet.script),
  );
  if (sent === 'conflict') return 'disprove conflicted: reading the asserted stake on the next run';
  const now = await ctx.store.require(rec.id);
  await ctx.store.note(
    rec.id,
    {
      type: 'disprove-broadcast',
      detail: { txid: now.disprove.txid as Txid, step: stored.disprove.step as number },
    },
    { key: `disprove-broadcast-${now.disprove.txid}` },
  );
  return `disprove of step ${stored.disprove.step} ${sent}: ${now.disprove.txid}`;
}
