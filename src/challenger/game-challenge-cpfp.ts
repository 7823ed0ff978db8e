/**
 * The game job's fee bump of w's challenge (docs/protocol.md §24.11 item 30): while C_w waits in the
 * mempool, a child spending w's change pays for it (challenge-cpfp.ts). C_w must confirm before T_c, when
 * the operator's take (which spends every A_w) becomes valid; a challenge left in the mempool at T_c can
 * be replaced by the take, or passed over for it by a miner.
 *
 * - After `bumpAfterBlocks` blocks in the mempool, while the estimate is above the package's rate, the
 *   package is lifted to the estimate (at least one `bumpStepSatVb` up).
 * - Within `bumpAfterBlocks` blocks of T_c, and after it while C_w is still unconfirmed, the package is
 *   lifted over the take's bar as well: more than the take pays in all and per vbyte, so the take can
 *   neither replace it nor earn a miner more.
 *
 * Every child is written ahead under `challenge-cpfp@<fee>` before it is broadcast, and each replaces the
 * one before (same input, higher fee); the latest is rebroadcast while C_w is unconfirmed. The package's
 * rate never passes `fees.maxFeeRateSatVb`, and one child never pays more than `fees.maxFeeSat`.
 */
import { decodeTx } from '../bitcoin/codec/codec.ts';
import { feeRateFromSatPerVb } from '../bitcoin/codec/fee-rate.ts';
import { txVsize } from '../bitcoin/tx/serialize.ts';
import {
  CHALLENGE_CHANGE_VOUT,
  challengeChangePrevout,
  challengeChildTx,
  challengeChildVsize,
  challengeParent,
  packageRate,
  planChallengeChild,
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

/** The children written so far, by fee (the latest, which replaced the others, last). */
export function writtenChildren(rec: GameRecord): { id: string; fee: bigint; height: number }[] {
  return [...rec.sent.entries()]
    .filter(([id]) => id.startsWith(CHALLENGE_CPFP_PREFIX))
    .map(([id, t]) => ({ id, fee: t.fee, height: t.height }))
    .sort((a, b) => (a.fee < b.fee ? -1 : a.fee > b.fee ? 1 : 0));
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

  const parent = challengeParent(m.claim, rec.w, txVsize(decodeTx(written.raw)));
  const childVsize = challengeChildVsize(m.claim, rec.w);
  const settings = {
    afterBlocks: ctx.fees.bumpAfterBlocks ?? 2,
    step: feeRateFromSatPerVb(ctx.fees.bumpStepSatVb ?? 1).satPerKvb,
    cap: feeRateFromSatPerVb(ctx.fees.maxFeeRateSatVb).satPerKvb,
    incremental: feeRateFromSatPerVb(ctx.fees.incrementalSatVb ?? 1).satPerKvb,
  };
  const current = packageRate(parent, childVsize, latest?.fee);
  // The first block the take can be in is kickoffHeight + T_c; C_w has the blocks before it.
  const left = kickoffHeight + m.claim.spec.timelocks.challenge - (tip + 1);
  const near = left <= settings.afterBlocks;
  const waited = tip - Math.max(written.height, latest?.height ?? 0);
  const estimate = (await ctx.backend.estimateFee(ctx.fees.targetBlocks))?.rate.satPerKvb;

  let rate = current + settings.step;
  if (estimate !== undefined && estimate > rate) rate = estimate;
  let leastTotal: bigint | undefined;
  if (near) {
    const bar = takeBar(m.claim, settings.incremental);
    if (bar.rate + settings.step > rate) rate = bar.rate + settings.step;
    leastTotal = bar.fee + 1n;
  } else if (waited < settings.afterBlocks || estimate === undefined || estimate <= current) {
    return rebroadcast;
  }
  const plan = planChallengeChild({
    parent,
    childVsize,
    previous: latest?.fee,
    rate,
    ...(leastTotal === undefined ? {} : { leastTotal }),
    cap: settings.cap,
    incremental: settings.incremental,
    maxFee: maxFeeSat({ fees: ctx.fees }),
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
  return sendChild(ctx, rec, m, `${CHALLENGE_CPFP_PREFIX}${plan.fee}`, plan.fee);
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
