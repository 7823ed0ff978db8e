/**
 * Funding a challenge from the watcher wallet: the coins it may spend (confirmed, mature, not committed
 * to another dispute, not spent in the mempool), one dispute at a time under a wallet lock, built and
 * checked by Vigil and by the node's testmempoolaccept, within the fee caps and the wallet's reserve.
 */
import { UnrecoverableError } from 'bullmq';
import { feeRateFromSatPerKvb, feeRateFromSatPerVb } from '../bitcoin/codec/fee-rate.ts';
import { hashToDisplayHex } from '../bitcoin/tx/serialize.ts';
import { isMatureCoin } from '../bitcoin/wallet/wallet.ts';
import type { Graph } from '../dispute/graph/build.ts';
import {
  type BuiltChallenge,
  buildFundedChallenge,
  ChallengeFundingError,
  checkChallengeShape,
  type FundingCoin,
} from '../dispute/plan/challenge-tx.ts';
import { type BumpSettings, challengeVersions, committedOutpoints } from '../dispute/plan/fee-bump.ts';
import type { DisputeRecord } from '../dispute/records/types.ts';
import { rateAfterRefusal } from '../sender/rebroadcast.ts';
import {
  boundedRate,
  checkBuilt,
  maxFeeSat,
  refuse,
  SendRefusedError,
  settle,
  testAccept,
} from '../sender/send.ts';
import { Lease } from '../store/lease.ts';
import type { DisputeGraph, DisputeJobContext } from './context.ts';

export function bumpSettings(ctx: DisputeJobContext): BumpSettings {
  return {
    afterBlocks: ctx.fees.bumpAfterBlocks ?? 2,
    minStep: feeRateFromSatPerVb(ctx.fees.bumpStepSatVb ?? 1).satPerKvb,
    cap: feeRateFromSatPerVb(ctx.fees.maxFeeRateSatVb).satPerKvb,
    incremental: feeRateFromSatPerVb(ctx.fees.incrementalSatVb ?? 1).satPerKvb,
  };
}

const outpointKey = (txid: string, vout: number): string => `${txid}:${vout}`;

/**
 * The wallet's coins a challenge may spend now: confirmed, mature, not committed to another dispute,
 * and not spent by a transaction in the mempool that is not one of this dispute's own versions (a node
 * would refuse the challenge as a conflict, or a conflicting spend would evict it).
 */
export async function spendableCoins(
  ctx: DisputeJobContext,
  address: string,
  rec: DisputeRecord | undefined,
): Promise<FundingCoin[]> {
  const [reserved, utxos, tip] = await Promise.all([
    reservedOutpoints(ctx, rec?.id),
    ctx.backend.getUtxos(address),
    ctx.backend.getTipHeight(),
  ]);
  const candidates = utxos.filter(
    (u) => u.confirmed && isMatureCoin(u, tip) && !reserved.has(outpointKey(u.txid, u.vout)),
  );
  const own = new Set<string>(rec ? challengeVersions(rec.challenge).map((v) => v.txid) : []);
  const out: FundingCoin[] = [];
  for (const u of candidates) {
    // Core's UTXO listing does not see the mempool: a coin spent there would make the challenge a
    // conflict, retried forever with the same coin.
    const spend = await ctx.backend.getOutspend(u.txid, u.vout);
    if (spend.spent && (spend.txid === undefined || !own.has(spend.txid))) continue;
    out.push({ txid: u.txid, vout: u.vout, value: u.value });
  }
  return out;
}

/** Outpoints already committed to by the stored challenges of every other open dispute. */
async function reservedOutpoints(ctx: DisputeJobContext, except: string | undefined): Promise<Set<string>> {
  return committedOutpoints((await ctx.store.active()).filter((r) => r.id !== except));
}

/**
 * How long the wallet lock outlives a holder that died: the lock is renewed while its section runs, so
 * this bounds only how long other processes wait after a crash (issue #21's failover run missed a
 * six-block window behind a 30 s lock whose release the failover had eaten).
 */
export const WALLET_LOCK_TTL_MS = 10_000;

/** A wallet-lock section: one dispute at a time picks wallet coins, so two never spend the same coin. */
export async function withWalletLock<T>(ctx: DisputeJobContext, body: () => Promise<T>): Promise<T | 'busy'> {
  return new Lease(ctx.redis, `${ctx.prefix}:wallet:lock`, WALLET_LOCK_TTL_MS).runExclusive(body);
}

type BuildResult =
  | { kind: 'built'; built: BuiltChallenge; coins: FundingCoin[] }
  | { kind: 'capped'; rate: bigint; reason: string }
  | { kind: 'conflict'; reason: string };

/**
 * Builds a challenge at `rateKvb` or more from `coins`, checked by Vigil (interpreter, policy, shape,
 * caps) and by the node's testmempoolaccept; a fee refusal raises the rate to what the node asks (a
 * conflicting challenge in the mempool must be outbid under BIP-125) and tries again, up to the caps.
 */
export async function buildCheckedChallenge(
  ctx: DisputeJobContext,
  rec: DisputeRecord,
  { graph, sigs }: DisputeGraph,
  coins: FundingCoin[],
  rateKvb: bigint,
): Promise<BuildResult> {
  const wallet = ctx.wallet;
  if (!wallet) throw new UnrecoverableError('No watcher wallet: cannot fund a challenge');
  const settings = bumpSettings(ctx);
  let rate = boundedRate(ctx, feeRateFromSatPerKvb(rateKvb)).satPerKvb;
  let reason = '';
  for (let round = 0; round < 5; round++) {
    const built = buildFundedChallenge(graph, sigs, coins, wallet, feeRateFromSatPerKvb(rate));
    if (built.fee > maxFeeSat(ctx)) return { kind: 'capped', rate, reason: reason || 'absolute fee cap' };
    // Dust change dropped into the fee can lift the real rate over the cap: held, not refused.
    if (built.fee * 1000n > settings.cap * BigInt(built.vsize))
      return { kind: 'capped', rate, reason: reason || 'the rate cap' };
    try {
      checkChallengeShape(built.tx, rec.kickoffTxid);
    } catch (err) {
      throw await refuse(ctx, rec.id, built.txid, new SendRefusedError('challenge', 'check', String(err)));
    }
    await checkBuilt(ctx, rec.id, 'challenge', built);
    const t = await testAccept(ctx, built.raw);
    if (t.kind === 'accepted' || t.kind === 'already-known') return { kind: 'built', built, coins };
    if (t.kind === 'conflict') return { kind: 'conflict', reason: t.reason };
    if (t.kind !== 'fee-too-low') {
      await settle(ctx, rec.id, built.txid, 'challenge', t); // throws: retry or permanent
      return { kind: 'conflict', reason: t.kind };
    }
    reason = t.reason;
    const next = rateAfterRefusal(t, built.fee, built.vsize, settings.minStep);
    if (rate >= settings.cap) return { kind: 'capped', rate, reason };
    rate = next;
    if (rate > settings.cap) rate = settings.cap;
  }
  return { kind: 'capped', rate, reason };
}

/** The first challenge of a dispute leaves the wallet's reserve untouched: bumps may need it. */
export function checkReserve(
  graph: Graph,
  coins: readonly FundingCoin[],
  built: BuiltChallenge,
  reserve: bigint,
) {
  const p = graph.spec.params;
  const balance = coins.reduce((s, c) => s + c.value, 0n);
  const left = balance - (p.challengeAmount - p.connectorValue) - built.fee;
  if (left < reserve) {
    throw new ChallengeFundingError(
      `The challenge would leave ${left} sat in the watcher wallet, below its reserve of ${reserve} sat`,
      {
        metaMessages: [
          `Spendable ${balance} sat; the challenge takes ${balance - left} sat. Fund the wallet.`,
        ],
      },
    );
  }
}

/** The wallet coins a built challenge spends (inputs 1..n). */
export function usedCoins(coins: readonly FundingCoin[], built: BuiltChallenge): FundingCoin[] {
  const spent = new Set(
    built.tx.inputs.slice(1).map((i) => outpointKey(hashToDisplayHex(i.prevTxid), i.vout)),
  );
  return coins.filter((c) => spent.has(outpointKey(c.txid, c.vout)));
}

export function storedCoins(rec: DisputeRecord): FundingCoin[] {
  return (rec.challenge.coins ?? []).map((c) => ({ txid: c.txid, vout: c.vout, value: c.value }));
}
