/**
 * The game job's fee bump of w's challenge (docs/protocol.md §24.11 item 30): while C_w waits in the
 * mempool, a child spending w's change pays for it (challenge-cpfp.ts). C_w must confirm before T_c, when
 * the operator's take (which spends every A_w) becomes valid; a challenge left in the mempool at T_c can
 * be replaced by the take, or passed over for it by a miner.
 *
 * - After `bumpAfterBlocks` blocks in the mempool, while the estimate is above the package's rate, the
 *   package is lifted to the estimate (at least one `bumpStepSatVb` up).
 * - Within `bumpAfterBlocks` blocks of T_c, and after it while C_w is unconfirmed and S unspent, it is
 *   lifted over the take's bar as well: more than the take pays in all and per vbyte, so the take can
 *   neither replace it in a mempool nor, on its own fee, earn a miner more (a miner paid out of band
 *   still can be). The bar is a target: once the package meets it, later runs write nothing.
 *
 * Every child is written ahead under `challenge-cpfp@<fee>` before it is broadcast, and each replaces the
 * one before (same input, higher fee); the latest is rebroadcast while C_w is unconfirmed. The package's
 * rate never passes `fees.maxFeeRateSatVb`, and one child never pays more than `fees.maxFeeSat`.
 */

import { verifiedOutspend } from '../bitcoin/backends/verified-outspend.ts';
import { decodeTx } from '../bitcoin/codec/codec.ts';
import { feeRateFromSatPerVb } from '../bitcoin/codec/fee-rate.ts';
import { txidHex, txVsize } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import {
  CHALLENGE_CHANGE_VOUT,
  challengeChangePrevout,
  challengeChildTx,
  challengeChildVsize,
  challengeParent,
  packageRate,
  planChallengeChild,
  stakeVoutOf,
  takeBar,
} from '../dispute/game/challenge-cpfp.ts';
import { challengeId } from '../dispute/game/claim-graph.ts';
import { spendDecision } from '../dispute/plan/spend-policy.ts';
import type { GameRecord } from '../dispute/records/game-types.ts';
import { maxFeeSat } from '../sender/send.ts';
import type { GameJobContext, GameMaterial } from './game-context.ts';
import { checkedTx, sendGameTx } from './game-send.ts';

/** The slot prefix of the challenge's children: `challenge-cpfp@<fee in sats>`. */
export const CHALLENGE_CPFP_PREFIX = 'challenge-cpfp@';

/** The fee settings a child is planned with (rates in sat/kvB). */
export function childSettings(ctx: GameJobContext): {
  afterBlocks: number;
  step: bigint;
  cap: bigint;
  incremental: bigint;
} {
  return {
    afterBlocks: ctx.fees.bumpAfterBlocks ?? 2,
    step: feeRateFromSatPerVb(ctx.fees.bumpStepSatVb ?? 1).satPerKvb,
    cap: feeRateFromSatPerVb(ctx.fees.maxFeeRateSatVb).satPerKvb,
    incremental: feeRateFromSatPerVb(ctx.fees.incrementalSatVb ?? 1).satPerKvb,
  };
}

/** Every child written in the game (the challenge's and the moves'), decoded: the purse passes through them. */
export function allChildren(rec: GameRecord): { id: string; tx: Tx; fee: bigint; height: number }[] {
  return [...rec.sent.entries()]
    .filter(([, t]) => t.role === 'game-challenge-cpfp' || t.role === 'game-move-cpfp')
    .map(([id, t]) => ({ id, tx: decodeTx(t.raw), fee: t.fee, height: t.height }));
}

/** The children written so far, by fee (the latest, which replaced the others, last). */
export function writtenChildren(
  rec: GameRecord,
): { id: string; txid: string; fee: bigint; height: number }[] {
  return [...rec.sent.entries()]
    .filter(([id]) => id.startsWith(CHALLENGE_CPFP_PREFIX))
    .map(([id, t]) => ({ id, txid: t.txid, fee: t.fee, height: t.height }))
    .sort((a, b) => (a.fee < b.fee ? -1 : a.fee > b.fee ? 1 : 0));
}

/**
 * The child that pays now: the one paying most that the backend knows (in the mempool or a block). A
 * child written but refused (or gone) pays nothing, so the package is planned without it.
 */
export async function liveChild<T extends { txid: string; fee: bigint }>(
  ctx: GameJobContext,
  children: readonly T[],
): Promise<T | undefined> {
  for (const c of [...children].sort((a, b) => (a.fee > b.fee ? -1 : a.fee < b.fee ? 1 : 0)))
    if ((await ctx.backend.getTransaction(c.txid)) !== undefined) return c;
  return undefined;
}

/** Core 26 holds a child to the relay floor on its own fee (not its package's). */
export function minChildFee(ctx: GameJobContext, childVsize: number): bigint {
  return (feeRateFromSatPerVb(ctx.fees.minRelaySatVb ?? 1).satPerKvb * BigInt(childVsize) + 999n) / 1000n;
}

/**
 * Run while C_w is in the mempool and not in a block. Returns what it did, or undefined when nothing was
 * due (the caller says the challenge is waiting).
 */
export async function bumpChallengeIfLagging(
  ctx: GameJobContext,
  rec: GameRecord,
  m: GameMaterial,
  tip: number,
  kickoffHeight: number,
): Promise<string | undefined> {
  if (spendDecision(ctx.mode, ctx.network, ctx.allowMainnetSpending) !== 'broadcast') return undefined;
  const written = rec.sent.get(challengeId(rec.w));
  if (written === undefined) return undefined;
  const children = writtenChildren(rec);
  const latest = children.at(-1);
  const rebroadcast = latest === undefined ? undefined : await sendChild(ctx, rec, m, latest.id, latest.fee);
  if (latest !== undefined) await holdChildOutput(ctx, rec, latest.txid);

  const parent = challengeParent(m.claim, rec.w, txVsize(decodeTx(written.raw)));
  const childVsize = challengeChildVsize(m.claim, rec.w);
  const settings = childSettings(ctx);
  const live = await liveChild(ctx, children);
  const current = packageRate(parent, childVsize, live?.fee);
  // The first block the take can be in is kickoffHeight + T_c; C_w has the blocks before it. The take
  // needs S: once the assert spent it, there is no take to beat.
  const left = kickoffHeight + m.claim.spec.timelocks.challenge - (tip + 1);
  const near =
    left <= settings.afterBlocks &&
    !(await verifiedOutspend(ctx.backend, rec.kickoffTxid, stakeVoutOf(m.claim))).spent;
  const waited = tip - Math.max(written.height, latest?.height ?? 0);
  const estimate = (await ctx.backend.estimateFee(ctx.fees.targetBlocks))?.rate.satPerKvb;

  let rate: bigint;
  let leastTotal: bigint | undefined;
  if (near) {
    // A target, not a step: once the package beats the take's bar and the estimate, the plan waits.
    const bar = takeBar(m.claim, settings.incremental);
    rate = bar.rate + settings.step;
    if (estimate !== undefined && estimate > rate) rate = estimate;
    leastTotal = bar.fee + 1n;
  } else {
    if (waited < settings.afterBlocks || estimate === undefined || estimate <= current) return rebroadcast;
    rate = current + settings.step;
    if (estimate > rate) rate = estimate;
  }
  const plan = planChallengeChild({
    parent,
    childVsize,
    previous: live?.fee,
    rate,
    ...(leastTotal === undefined ? {} : { leastTotal }),
    cap: settings.cap,
    incremental: settings.incremental,
    maxFee: maxFeeSat({ fees: ctx.fees }),
    minFee: minChildFee(ctx, childVsize),
  });
  if (plan.kind === 'wait') return rebroadcast;
  if (plan.kind === 'capped') {
    ctx.metrics?.feeCapped.set({ dispute: rec.id }, 1);
    ctx.logger?.error(
      { game: rec.id, packageRate: current, wanted: rate, reason: plan.reason },
      "w's challenge is unconfirmed and its child cannot pay more",
    );
    await ctx.store.note(
      rec.id,
      {
        type: 'fee-capped',
        detail: { txid: written.txid, tx: 'game-challenge-cpfp', feeRate: current, reason: plan.reason },
      },
      { key: `cpfp-capped-${latest?.fee ?? 0n}` },
    );
    return `the challenge is in the mempool at ${current} sat/kvB and cannot be bumped (${plan.reason})`;
  }
  ctx.metrics?.feeCapped.set({ dispute: rec.id }, plan.limited === undefined ? 0 : 1);
  if (plan.limited !== undefined) {
    ctx.logger?.warn(
      { game: rec.id, wanted: rate, paying: plan.rate, reason: plan.limited },
      "w's challenge: its child pays less than wanted",
    );
  }
  ctx.logger?.warn(
    { game: rec.id, packageRate: current, to: plan.rate, estimate, left, near },
    "w's challenge is not confirming: a child pays for it",
  );
  const id = `${CHALLENGE_CPFP_PREFIX}${plan.fee}`;
  const sent = await sendChild(ctx, rec, m, id, plan.fee);
  // The bytes are deterministic (same fee, same signature), so the txid need not be read back.
  await holdChildOutput(ctx, rec, txidHex(challengeChildTx(m.claim, rec.w, plan.fee, m.keys.secret)));
  return sent;
}

/** The next purse (output 0 of child `txid`) is held from the bundle poster as soon as the child is written. */
export async function holdChildOutput(ctx: GameJobContext, rec: GameRecord, txid: string): Promise<void> {
  await ctx.holdCoin?.(`${txid}:0`, rec.epoch);
}

async function sendChild(
  ctx: GameJobContext,
  rec: GameRecord,
  m: GameMaterial,
  id: string,
  fee: bigint,
): Promise<string> {
  const r = await sendGameTx(
    ctx,
    rec,
    id,
    'game-challenge-cpfp',
    () =>
      checkedTx(challengeChildTx(m.claim, rec.w, fee, m.keys.secret), [
        challengeChangePrevout(m.claim, rec.w),
      ]),
    'cpfp',
  );
  switch (r.kind) {
    case 'sent':
      if (!rec.sent.has(id)) ctx.metrics?.feeBumps.inc();
      return `the challenge's child ${id} sent (C_w:${CHALLENGE_CHANGE_VOUT})`;
    case 'known':
      return `the challenge's child ${id} is out`;
    case 'refused':
      return `the challenge's child ${id} was refused (${r.outcome.kind}); next run`;
    default:
      return `the challenge's child ${id}: ${r.kind}`;
  }
}
