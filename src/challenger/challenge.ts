/**
 * The challenge job: build Vigil's challenge from the operator's graph and the wallet's coins, check
 * it, have the sender write it ahead into the record and broadcast it, move to `challenged`. Every run
 * starts from the record and the chain as they are now, so a run twice reconciles instead of repeating.
 */
import { UnrecoverableError } from 'bullmq';
import { currentChallenge } from '../dispute/plan/fee-bump.ts';
import { graphChallengeDecision, spendDecision } from '../dispute/plan/spend-policy.ts';
import { asTxid, type Txid } from '../dispute/records/types.ts';
import { feeRateNow } from '../sender/send.ts';
import { writeAhead } from '../sender/write-ahead.ts';
import {
  challengeLost,
  noteCapped,
  noteForeign,
  requireRecord,
  sendChallenge,
  warnUnverified,
} from './challenge-steps.ts';
import { connectorSpend } from './connector-spend.ts';
import type { DisputeJobContext } from './context.ts';
import { buildCheckedChallenge, checkReserve, spendableCoins, withWalletLock } from './funding.ts';
import type { DisputeJobData } from './payloads.ts';
import { challengeSlot } from './record-slots.ts';

/**
 * The challenge: build from the operator's graph and the wallet's coins, check, write ahead, broadcast,
 * move to `challenged`. Who already spent connector A is read from the chain and checked against the
 * spending transaction first: a valid challenge by someone else is followed, never a backend's say-so.
 */
export async function processChallenge(ctx: DisputeJobContext, data: DisputeJobData): Promise<string> {
  let rec = await requireRecord(ctx, data.disputeId);
  if (rec.state !== 'detected') {
    await ctx.track(rec.id);
    return `already ${rec.state}`;
  }
  if (spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) === 'withhold') {
    await ctx.store.note(
      rec.id,
      { type: 'challenge-withheld', detail: { mode: ctx.mode } },
      { key: 'withheld' },
    );
    return 'withheld (mode watch)';
  }
  const dg = await ctx.graphOf(rec);
  const decision = graphChallengeDecision(
    ctx.mode,
    ctx.network,
    ctx.allowMainnetSpending,
    dg.graph.spec.circuit,
  );
  if (decision === 'test-circuit') {
    const reason = `the graph's step circuit ${dg.graph.spec.circuit.id} is a test circuit: no fraud proof on mainnet`;
    const noted = await ctx.store.note(
      rec.id,
      { type: 'challenge-withheld', detail: { mode: ctx.mode, reason } },
      { key: 'withheld-test-circuit' },
    );
    if (noted.status === 'applied') ctx.logger?.error({ dispute: rec.id }, `challenge withheld: ${reason}`);
    return `withheld (${reason})`;
  }
  const a = await connectorSpend(ctx.backend, rec, dg.graph);
  if (a.kind === 'challenge' || a.kind === 'ours') {
    const ours = a.kind === 'ours';
    await ctx.store.transition(rec.id, 'challenged', {
      key: `challenged-by-${a.txid}`,
      patch: {
        challenge: ours ? currentChallenge(a.version) : { txid: asTxid(a.txid), by: 'other' },
      },
      detail: { txid: asTxid(a.txid), ours },
    });
    if (!ours) await noteForeign(ctx, rec, a.txid, await ctx.backend.getTipHeight());
    await ctx.track(rec.id);
    return ours ? `challenged ${a.txid}` : 'challenged by another watcher';
  }
  if (a.kind === 'take') return challengeLost(ctx, rec, a.txid, 'the take spent connector A first');
  if (a.kind === 'unverified') warnUnverified(ctx, rec, a);
  if (rec.challenge.raw === undefined) {
    const wallet = ctx.wallet;
    if (!wallet) throw new UnrecoverableError('No watcher wallet: cannot fund a challenge');
    const built = await withWalletLock(ctx, async () => {
      const coins = await spendableCoins(ctx, wallet.address, undefined);
      const r = await buildCheckedChallenge(ctx, rec, dg, coins, (await feeRateNow(ctx)).satPerKvb);
      if (r.kind !== 'built') return r;
      checkReserve(dg.graph, coins, r.built, wallet.reserve ?? 0n);
      if (decision === 'build-only') {
        const txid = asTxid(r.built.txid);
        await ctx.store.note(
          rec.id,
          { type: 'dry-run-built', detail: { txid, fee: r.built.fee, vsize: r.built.vsize } },
          { key: `dry-run-${txid}`, patch: { dryRun: { challenge: { txid, raw: r.built.raw } } } },
        );
        ctx.metrics?.broadcasts.inc({ tx: 'challenge', result: 'dry-run' });
        return { kind: 'dry-run' as const, txid: r.built.txid };
      }
      const tip = await ctx.backend.getTipHeight();
      await writeAhead(challengeSlot(ctx, rec), {
        event: { type: 'challenge-built' },
        key: `built-${r.built.txid}`,
        built: r.built,
        coins: r.coins,
        tip,
        onlyIfAbsent: 'challenge',
      });
      return r;
    });
    if (built === 'busy') throw new Error('The wallet is busy funding another transaction; retrying');
    if (built.kind === 'dry-run') return `dry-run: built and checked ${built.txid}`;
    if (built.kind === 'capped') {
      await noteCapped(ctx, rec, built.rate, built.reason);
      throw new Error(`The challenge cannot be sent within the fee caps yet: ${built.reason}`);
    }
    if (built.kind === 'conflict')
      throw new Error(`The challenge conflicts with the mempool: ${built.reason}`);
    rec = await requireRecord(ctx, rec.id);
  }
  const txid = rec.challenge.txid as Txid;
  const sent = await sendChallenge(ctx, rec, 'challenge');
  const moved = await ctx.store.transition(rec.id, 'challenged', {
    key: `challenged-${txid}`,
    patch: { challenge: { txid } },
    detail: { txid },
  });
  if (moved.status === 'applied' && rec.opened.seenAt !== undefined) {
    ctx.metrics?.challengeLatency.observe((Date.now() - rec.opened.seenAt) / 1000);
  }
  await ctx.track(rec.id);
  // A conflict or a fee refusal is resolved by the tracker, which reads the chain first.
  return sent === 'ok' ? `challenged ${txid}` : `challenge ${txid} not taken (${sent.kind}): tracking`;
}
