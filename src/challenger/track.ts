/**
 * The track job (repeating, one per dispute) follows a dispute until it is resolved: the challenge to
 * confirmation (rebroadcast, bumped by RBF, rebuilt, or outbid when someone else's lags), then the
 * assert or the assert-timeout (assert-timeout.ts), then the disprove or the payout (disprove.ts).
 */
import { UnrecoverableError } from 'bullmq';
import type { TxStatus } from '../bitcoin/backends/types.ts';
import { decodeTx, txVsize } from '../bitcoin/codec/codec.ts';
import { ChallengeCheckError, checkChallengeShape, type FundingCoin } from '../dispute/plan/challenge-tx.ts';
import {
  buildReplacement,
  type ChallengeVersion,
  currentChallenge,
  planBump,
} from '../dispute/plan/fee-bump.ts';
import { spendDecision } from '../dispute/plan/spend-policy.ts';
import { blocksLeft } from '../dispute/records/deadlines.ts';
import { IllegalTransitionError } from '../dispute/records/store.ts';
import { asBlockHash, asTxid, type DisputeRecord, type Txid } from '../dispute/records/types.ts';
import { rateAfterRefusal } from '../sender/rebroadcast.ts';
import { type Actionable, checkBuilt, feeRateNow, maxFeeSat } from '../sender/send.ts';
import { writeAhead } from '../sender/write-ahead.ts';
import { followAssert, followTimeout } from './assert-timeout.ts';
import { processChallenge } from './challenge.ts';
import { challengeLost, noteCapped, noteForeign, sendChallenge, warnUnverified } from './challenge-steps.ts';
import { connectorSpend } from './connector-spend.ts';
import type { DisputeGraph, DisputeJobContext } from './context.ts';
import { clearMetDeadlines, pendingDeadline } from './deadline-gauges.ts';
import { followDisprove } from './disprove.ts';
import {
  buildCheckedChallenge,
  bumpSettings,
  spendableCoins,
  storedCoins,
  withWalletLock,
} from './funding.ts';
import { confirmationBelieved } from './inclusion.ts';
import type { DisputeJobData } from './payloads.ts';
import { challengeSlot } from './record-slots.ts';

/**
 * Tracks a dispute until it is resolved (a repeating job): the challenge to confirmation, then the
 * assert or the assert-timeout, then the disprove or the payout.
 */
export async function processTrack(ctx: DisputeJobContext, data: DisputeJobData): Promise<string> {
  const rec = await ctx.store.get(data.disputeId);
  if (!rec) {
    // Jobs without a record: lost state. Alert and keep the job (an operator may restore the record).
    ctx.metrics?.disputeRecordMissing.set({ dispute: data.disputeId }, 1);
    ctx.logger?.error({ dispute: data.disputeId }, 'a tracked dispute has no record in Redis');
    return 'record missing';
  }
  ctx.metrics?.disputeRecordMissing.remove({ dispute: rec.id });
  if (rec.state === 'resolved') {
    clearMetDeadlines(ctx.metrics, rec.id, rec.state);
    await ctx.untrack(data.disputeId);
    return 'resolved';
  }
  const tip = await ctx.backend.getTipHeight();
  clearMetDeadlines(ctx.metrics, rec.id, rec.state);
  const challengeBy = rec.opened.challengeBy ?? Number.NaN;
  if (pendingDeadline(rec.state) === 'challenge' && Number.isFinite(challengeBy)) {
    ctx.metrics?.deadlineBlocksLeft.set(
      { dispute: rec.id, deadline: 'challenge' },
      blocksLeft(challengeBy, tip),
    );
  }
  if (rec.state === 'confirmed') {
    const next = await followAssert(ctx, rec, tip);
    if (next !== undefined) return next;
  }
  if (rec.state === 'timed-out') return followTimeout(ctx, rec, tip);
  // Tracked yet `detected`: the move past it was lost (a Redis failover took the last writes of a
  // challenge job that had completed). The challenge step reads the chain first, so it takes up a
  // challenge already there, Vigil's or another's, and sends one only if none is.
  if (rec.state === 'detected') return `detected: ${await processChallenge(ctx, data)}`;
  if (rec.state === 'asserted' || rec.state === 'disproved') return followDisprove(ctx, rec, tip);
  return trackChallenge(ctx, rec, tip);
}

/** The challenge's spend of connector A: confirmed at depth, waiting, bumped, rebuilt, or lost. */
async function trackChallenge(ctx: DisputeJobContext, record: DisputeRecord, tip: number): Promise<string> {
  let rec = record;
  const dg = await ctx.graphOf(rec);
  let a = await connectorSpend(ctx.backend, rec, dg.graph);
  if (a.kind === 'challenge') {
    // Another run may have written a new version of ours since this run read the record.
    rec = await ctx.store.require(rec.id);
    a = await connectorSpend(ctx.backend, rec, dg.graph);
  }
  if (a.kind === 'take') return challengeLost(ctx, rec, a.txid, 'the challenge did not confirm in time');
  if (a.kind === 'ours' && a.txid !== rec.challenge.txid && !a.status.confirmed) {
    // An older version is in the mempool and the current one, written ahead, is not out (a crash
    // between the write-ahead and the broadcast): send the current one, which replaces it.
    const sent = await sendChallenge(ctx, rec, 'rebroadcast');
    if (sent === 'ok') return 'rebroadcast';
    return `the current version is not taken (${sent.kind}); the older one stays in the mempool`;
  }
  if (a.kind === 'ours' || a.kind === 'challenge') {
    if (a.kind === 'ours' && a.txid !== rec.challenge.txid) {
      await followVersion(ctx, rec, a.version, a.status);
    }
    if (a.kind === 'challenge') await noteForeign(ctx, rec, a.txid, tip);
    if (a.status.confirmed) return confirmAtDepth(ctx, rec, a.txid, a.status, tip);
    await backToChallenged(ctx, rec.id, a.txid, 'the confirmed challenge went back to the mempool');
    const fresh = await ctx.store.require(rec.id);
    if (a.kind === 'ours') return bumpIfLagging(ctx, fresh, tip);
    return competeIfLagging(ctx, fresh, dg, tip);
  }
  if (a.kind === 'unverified') warnUnverified(ctx, rec, a);
  // Connector A is unspent: whatever was sent did not take effect (reorg, eviction, conflict, a
  // replaced foreign challenge). Same bytes first; a conflict or fee refusal rebuilds.
  await backToChallenged(ctx, rec.id, rec.challenge.txid, 'the confirmed challenge left the chain');
  if (spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) !== 'broadcast' || !ctx.wallet) {
    return 'dropped';
  }
  const current = await ctx.store.require(rec.id);
  if (current.challenge.raw !== undefined && current.challenge.by !== 'other') {
    const sent = await sendChallenge(ctx, current, 'rebroadcast');
    if (sent === 'ok') return 'rebroadcast';
    return rebuildChallenge(ctx, current, dg, tip, sent);
  }
  return rebuildChallenge(ctx, current, dg, tip, undefined);
}

/**
 * A reorg undid the confirmation: `confirmed` goes back to `challenged`. Read fresh, since a concurrent
 * run may have moved the state after this one read the record; the move itself is atomic.
 */
async function backToChallenged(
  ctx: DisputeJobContext,
  id: string,
  txid: string | undefined,
  reason: string,
) {
  const now = await ctx.store.require(id);
  if (now.state !== 'confirmed') return;
  try {
    await ctx.store.transition(id, 'challenged', {
      key: `reorged-${txid}-v${now.version}`,
      detail: { ...(txid === undefined ? {} : { txid: asTxid(txid) }), reason },
    });
  } catch (err) {
    if (!(err instanceof IllegalTransitionError)) throw err;
  }
}

async function confirmAtDepth(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  txid: string,
  status: Extract<TxStatus, { confirmed: true }>,
  tip: number,
): Promise<string> {
  const depth = tip - status.blockHeight + 1;
  // Checked once per block the backend names (kept in the record), and before any depth counts: a
  // backend that keeps saying "confirmed in the tip block" must not stop the bumps.
  const seenIn = `${txid}@${status.blockHash}`;
  const was = rec.challenge.seenIn;
  if (was === undefined || `${was.txid}@${was.blockHash}` !== seenIn) {
    if (!(await confirmationBelieved(ctx, rec.id, 'challenge', txid, status)))
      return bumpIfLagging(ctx, rec, tip);
    const block = { txid: asTxid(txid), blockHash: asBlockHash(status.blockHash) };
    await ctx.store.note(
      rec.id,
      { type: 'challenge-in-block', detail: { ...block, height: status.blockHeight } },
      { key: `in-block-${seenIn}`, patch: { challenge: { seenIn: block } } },
    );
  }
  if (rec.state === 'challenged' && depth >= ctx.confirmations) {
    await ctx.store.transition(rec.id, 'confirmed', {
      key: `confirmed-${txid}-${status.blockHash}`,
      detail: { txid: asTxid(txid), blockHash: asBlockHash(status.blockHash), height: status.blockHeight },
    });
    ctx.metrics?.feeCapped.set({ dispute: rec.id }, 0);
    return `confirmed at ${status.blockHeight}`;
  }
  return `confirmed, depth ${depth}`;
}

/** A version other than the current one is the one on chain or in the mempool: it becomes current. */
async function followVersion(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  v: ChallengeVersion,
  status: TxStatus,
) {
  await ctx.store.note(
    rec.id,
    {
      type: 'challenge-followed',
      detail: {
        txid: v.txid,
        replacedBy: rec.challenge.txid,
        ...(status.confirmed ? { blockHash: asBlockHash(status.blockHash) } : {}),
      },
    },
    {
      key: `followed-${v.txid}-${status.confirmed ? status.blockHash : 'mempool'}`,
      patch: { challenge: { ...currentChallenge(v), by: 'vigil' } },
    },
  );
  ctx.logger?.info(
    { dispute: rec.id, txid: v.txid },
    'another version of our challenge is the one spending connector A',
  );
}

/**
 * Vigil's challenge did not take effect and connector A is unspent: build a new version from the
 * wallet's coins as they are now (a coin spent elsewhere is left out), at the rate the node asks for,
 * written ahead and sent.
 */
async function rebuildChallenge(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  dg: DisputeGraph,
  tip: number,
  refusal: Actionable | undefined,
): Promise<string> {
  const wallet = ctx.wallet;
  if (!wallet) return 'dropped';
  const previous = rec.challenge.txid ?? 'none';
  const settings = bumpSettings(ctx);
  let rate = (await feeRateNow(ctx)).satPerKvb;
  if (refusal?.kind === 'fee-too-low' && rec.challenge.raw !== undefined) {
    const vsize = txVsize(decodeTx(rec.challenge.raw));
    const asked = rateAfterRefusal(refusal, rec.challenge.fee ?? 0n, vsize, settings.minStep);
    if (asked > rate) rate = asked;
  }
  const r = await withWalletLock(ctx, async () => {
    const coins = await spendableCoins(ctx, wallet.address, rec);
    const b = await buildCheckedChallenge(ctx, rec, dg, coins, rate);
    if (b.kind !== 'built') return b;
    const noted = await writeAhead(challengeSlot(ctx, rec), {
      event: {
        type: 'challenge-rebuilt',
        replaces: previous,
        reason: refusal?.reason ?? 'connector A unspent and nothing of ours in flight',
      },
      key: `rebuilt-from-${previous}`,
      built: b.built,
      coins: b.coins,
      tip,
    });
    if (noted === 'applied') ctx.metrics?.sendConflicts.inc({ tx: 'challenge', action: 'rebuild' });
    return b;
  });
  if (r === 'busy') return 'dropped (the wallet is busy; rebuilding on the next run)';
  if (r.kind === 'capped') return noteCapped(ctx, rec, r.rate, r.reason);
  if (r.kind === 'conflict') return `rebuild conflicts with the mempool (${r.reason}); next run`;
  const stored = await ctx.store.require(rec.id);
  const sent = await sendChallenge(ctx, stored, 'challenge');
  return sent === 'ok'
    ? `rebuilt ${previous} -> ${stored.challenge.txid}`
    : `rebuilt ${stored.challenge.txid}, not taken (${sent.kind}); next run`;
}

/**
 * Someone else's challenge spends connector A but stays in the mempool. An honest watcher's will
 * confirm; an operator's may be pinned at a low fee so that its take can replace it once the window
 * has passed. After `bumpAfterBlocks` blocks unconfirmed Vigil outbids it with its own challenge (BIP-125:
 * the node says how much more it needs), within the caps.
 */
async function competeIfLagging(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  dg: DisputeGraph,
  tip: number,
): Promise<string> {
  const seen = rec.challenge.foreignSeenHeight ?? tip;
  const waited = tip - seen;
  const left = blocksLeft(rec.opened.challengeBy ?? tip, tip);
  const settings = bumpSettings(ctx);
  if (waited < settings.afterBlocks && left > settings.afterBlocks) {
    return `another challenge in mempool (waited ${waited} blocks)`;
  }
  if (spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) !== 'broadcast' || !ctx.wallet) {
    return 'another challenge in mempool';
  }
  ctx.logger?.warn(
    { dispute: rec.id, foreign: rec.challenge.txid, waited, left },
    'the challenge spending connector A is not confirming: replacing it with our own',
  );
  return rebuildChallenge(ctx, rec, dg, tip, undefined);
}

/**
 * RBF when the challenge has waited `bumpAfterBlocks` in the mempool and the estimate for the target is
 * above its rate. The replacement is written ahead (its idempotency key names the version it
 * replaces, so two runs record one replacement) and only then broadcast; a run after a crash finds it
 * stored and unsent, and the dropped-or-replaced path sends the stored bytes.
 */
async function bumpIfLagging(ctx: DisputeJobContext, rec: DisputeRecord, tip: number): Promise<string> {
  const wallet = ctx.wallet;
  if (
    !wallet ||
    rec.challenge.raw === undefined ||
    spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) !== 'broadcast'
  )
    return 'in mempool';
  const settings = bumpSettings(ctx);
  const sentAt = rec.challenge.sentHeight ?? rec.kickoffHeight;
  const currentRate = rec.challenge.feeRate ?? 0n;
  const est = await ctx.backend.estimateFee(ctx.fees.targetBlocks);
  // Near the deadline there is no time to wait the usual blocks before a bump.
  const left = blocksLeft(rec.opened.challengeBy ?? Number.POSITIVE_INFINITY, tip);
  const waited = tip - sentAt;
  const plan = planBump({
    currentRate,
    estimate: est?.rate.satPerKvb,
    waitedBlocks: left <= settings.afterBlocks ? Math.max(waited, settings.afterBlocks) : waited,
    settings,
  });
  if (plan.kind === 'wait') return `in mempool (${plan.reason})`;
  if (plan.kind === 'capped') return noteCapped(ctx, rec, plan.rate, 'the estimate is above the cap');
  const { graph, sigs } = await ctx.graphOf(rec);
  const previous = rec.challenge.txid as Txid;
  const r = await withWalletLock(ctx, async () => {
    // The version's own coins first (spent by it, so not listed), then free ones if the fee needs them.
    const coins: FundingCoin[] = [
      ...storedCoins(rec),
      ...(await spendableCoins(ctx, wallet.address, undefined)),
    ];
    const built = buildReplacement({
      graph,
      sigs,
      coins,
      signer: wallet,
      previousFee: rec.challenge.fee ?? 0n,
      rate: plan.rate,
      settings,
    });
    if (built.kind === 'capped') return built;
    if (built.built.fee > maxFeeSat(ctx))
      return { kind: 'capped' as const, rate: built.built.feeRate.satPerKvb };
    try {
      checkChallengeShape(built.built.tx, rec.kickoffTxid);
    } catch (err) {
      throw new UnrecoverableError(err instanceof ChallengeCheckError ? err.message : String(err));
    }
    await checkBuilt(ctx, rec.id, 'challenge', built.built);
    const noted = await writeAhead(challengeSlot(ctx, rec), {
      event: {
        type: 'challenge-bumped',
        replaces: previous,
        feeRate: built.built.feeRate.satPerKvb,
        ...(est === undefined ? {} : { estimate: est.rate.satPerKvb }),
      },
      key: `bump-from-${previous}`,
      built: built.built,
      coins,
      tip,
    });
    if (noted === 'applied') ctx.metrics?.feeBumps.inc();
    return built;
  });
  if (r === 'busy') return 'in mempool (the wallet is busy; bump on the next run)';
  if (r.kind === 'capped') return noteCapped(ctx, rec, r.rate, 'the estimate is above the cap');
  // Whoever wrote the replacement, send what the record holds now.
  const stored = await ctx.store.require(rec.id);
  const sent = await sendChallenge(ctx, stored, 'challenge');
  ctx.metrics?.feeCapped.set({ dispute: rec.id }, 0);
  if (sent !== 'ok') return `bump ${stored.challenge.txid} not taken (${sent.kind}); next run`;
  return `bumped ${previous} -> ${stored.challenge.txid}`;
}
