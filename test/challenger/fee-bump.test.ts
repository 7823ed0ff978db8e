/**
 * The challenge under a fee spike on simnet. "Blocks full" is a miner that only takes transactions
 * paying at least the spike rate (what a block full of higher-paying transactions leaves out), while
 * estimatesmartfee answers the spike rate.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { BitcoinBackend } from '../../src/bitcoin/backends/types.ts';
import { decodeTx, txVsize } from '../../src/bitcoin/codec/codec.ts';
import { feeRateFromSatPerVb } from '../../src/bitcoin/codec/fee-rate.ts';
import { hashToDisplayHex } from '../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import { processChallenge } from '../../src/challenger/challenge.ts';
import type { DisputeJobContext } from '../../src/challenger/context.ts';
import { processOpen } from '../../src/challenger/open.ts';
import { processTrack } from '../../src/challenger/track.ts';
import { ChallengeFundingError } from '../../src/dispute/plan/challenge-tx.ts';
import { type BumpSettings, challengeVersions, planBump } from '../../src/dispute/plan/fee-bump.ts';
import type { ChallengeFacts } from '../../src/dispute/records/types.ts';
import { watcherMetrics } from '../../src/queue/metrics.ts';
import {
  type Harness,
  harness,
  type Scenario,
  startScenario,
  until,
  WATCHER_SCRIPT,
} from '../../testkit/queue/scenario.ts';

const MINER = Uint8Array.from([0x00, 0x14, ...new Uint8Array(20).fill(7)]);
const kvb = (satVb: number) => feeRateFromSatPerVb(satVb).satPerKvb;

let running: { s: Scenario; hs: Harness[] } | undefined;
afterEach(async () => {
  if (!running) return;
  for (const h of running.hs) await h.close();
  await running.s.stop();
  running = undefined;
});

async function setup(
  fees: Partial<DisputeJobContext['fees']>,
  extra: { reserve?: bigint; metrics?: ReturnType<typeof watcherMetrics> } = {},
) {
  const s = await startScenario();
  s.sim.setFeeRate(feeRateFromSatPerVb(2));
  const base = harness(s, 'challenge');
  await base.close();
  const ctxFees = { targetBlocks: 2, maxFeeRateSatVb: 50, fallbackSatVb: 2, bumpAfterBlocks: 1, ...fees };
  const wallet = {
    ...(base.ctx.wallet as NonNullable<DisputeJobContext['wallet']>),
    reserve: extra.reserve,
  };
  const a = harness(s, 'challenge', undefined, { fees: ctxFees, wallet, metrics: extra.metrics });
  const b = harness(s, 'challenge', a.prefix, { fees: ctxFees, wallet, metrics: extra.metrics });
  running = { s, hs: [a, b] };
  return { s, a, b, id: s.openData.disputeId };
}

/** A block that leaves out everything paying less than `satVb` (blocks full at the spike rate). */
function mineAbove(s: Scenario, satVb: number): void {
  const floor = kvb(satVb);
  const txs = [...s.sim.chain.mempool.entries.values()]
    .filter((e) => e.fee * 1000n >= floor * BigInt(e.vsize))
    .sort((x, y) => x.sequence - y.sequence)
    .map((e) => e.tx);
  s.sim.chain.mine(MINER, txs);
}

function connectorSpender(s: Scenario): string | undefined {
  return s.sim.chain.spenderOf(s.kickoff.txid, 0)?.txid;
}

/** What each stored version really pays, sat/kvB (its stored fee over its measured size). */
function paidRates(challenge: ChallengeFacts): bigint[] {
  return challengeVersions(challenge).map((v) => (v.fee * 1000n) / BigInt(txVsize(decodeTx(v.raw))));
}

describe('planBump', () => {
  const settings: BumpSettings = { afterBlocks: 2, minStep: 1000n, cap: 50_000n, incremental: 1000n };
  it.each([
    { name: 'too early', current: 2000n, est: 20_000n, waited: 1, want: 'wait' },
    { name: 'no estimate', current: 2000n, est: undefined, waited: 5, want: 'wait' },
    { name: 'already at the estimate', current: 20_000n, est: 20_000n, waited: 5, want: 'wait' },
    { name: 'to the estimate', current: 2000n, est: 20_000n, waited: 2, want: 'bump', rate: 20_000n },
    { name: 'at least one step', current: 2000n, est: 2500n, waited: 2, want: 'bump', rate: 3000n },
    {
      name: 'spike above the cap: to the cap',
      current: 2000n,
      est: 900_000n,
      waited: 2,
      want: 'bump',
      rate: 50_000n,
    },
    {
      name: 'the step would cross the cap',
      current: 49_500n,
      est: 60_000n,
      waited: 2,
      want: 'bump',
      rate: 50_000n,
    },
    { name: 'at the cap', current: 50_000n, est: 60_000n, waited: 9, want: 'capped' },
  ])('$name', ({ current, est, waited, want, rate }) => {
    const plan = planBump({ currentRate: current, estimate: est, waitedBlocks: waited, settings });
    expect(plan.kind).toBe(want);
    if (plan.kind === 'bump') expect(plan.rate).toBe(rate);
    if (plan.kind !== 'wait') expect(plan.rate).toBeLessThanOrEqual(settings.cap);
  });
});

describe('the challenge under a fee spike on simnet (Redis + BullMQ)', () => {
  it('stuck after broadcast: bumped by RBF, confirms before the deadline; a reorg then rebroadcasts the confirmed replacement', async () => {
    const { s, a, id } = await setup({ bumpAfterBlocks: 1, bumpStepSatVb: 1, maxFeeRateSatVb: 50 });
    // An immature coinbase paying the wallet, larger than every other coin: it must not be picked.
    const coinbaseBlock = s.sim.chain.mine(WATCHER_SCRIPT);
    const coinbaseTxid = coinbaseBlock.txs[0]?.txid as string;
    a.queue.startWorker(a.ctx);
    await a.queue.open(s.openData);
    const sent = await until(async () => {
      const r = await a.store.get(id);
      return r?.state === 'challenged' ? r : undefined;
    });
    const original = sent.challenge.txid as string;
    const inputs = decodeTx(sent.challenge.raw as Uint8Array).inputs.map((i) => hashToDisplayHex(i.prevTxid));
    expect(inputs).not.toContain(coinbaseTxid);
    expect(sent.challenge.feeRate as bigint).toBe(kvb(2));

    // The spike: estimates jump to 20 sat/vB and blocks only take what pays that much.
    s.sim.setFeeRate(feeRateFromSatPerVb(20));
    // A full block leaves the challenge out; the tracker (a BullMQ job every 100 ms) then replaces it.
    mineAbove(s, 20);
    expect(connectorSpender(s)).toBe(original);
    expect((await s.backend.getTxStatus(original))?.confirmed).toBe(false);
    const lagging = await until(async () => {
      const r = await a.store.require(id);
      return challengeVersions(r.challenge).length >= 2 && s.sim.chain.mempool.get(r.challenge.txid as string)
        ? r
        : undefined;
    });
    expect(s.sim.chain.mempool.get(original)).toBeUndefined();
    // The next full block takes the replacement.
    mineAbove(s, 20);
    const confirmed = await until(async () => {
      const r = await a.store.require(id);
      return r.state === 'confirmed' ? r : undefined;
    });
    expect(confirmed.challenge.txid).toBe(lagging.challenge.txid);
    const bumped = confirmed.challenge.txid as string;
    expect(bumped).not.toBe(original);
    expect(connectorSpender(s)).toBe(bumped);
    const height = s.sim.chain.findTx(bumped)?.block?.height as number;
    expect(height).toBeLessThanOrEqual(confirmed.opened.challengeBy as number);
    const versions = challengeVersions(confirmed.challenge);
    expect(versions[0]?.txid).toBe(original);
    expect(versions.at(-1)?.txid).toBe(bumped);
    for (const rate of paidRates(confirmed.challenge)) expect(rate).toBeLessThanOrEqual(kvb(50));
    expect(paidRates(confirmed.challenge).at(-1)).toBeGreaterThanOrEqual(kvb(20));
    const events = await a.store.events(id);
    const bumps = events.filter((e) => e.type === 'challenge-bumped');
    expect(bumps.map((e) => e.detail?.txid)).toEqual(versions.slice(1).map((v) => v.txid));
    expect(bumps[0]?.detail?.replaces).toBe(original);

    // A reorg drops the block with the replacement, and the mempool loses it: its bytes go out again.
    // (A rebroadcast may already be in the history: a concurrent tracker can send a stored replacement.)
    const before = (await a.store.events(id)).length;
    s.sim.chain.invalidateBlock(s.sim.chain.findTx(bumped)?.block?.hash as string);
    s.sim.chain.mempool.removeWithDescendants(bumped);
    expect(connectorSpender(s)).toBeUndefined();
    await until(async () =>
      (await a.store.events(id)).some((e) => e.type === 'rebroadcast' && e.seq > before) ? true : undefined,
    );
    expect(s.sim.chain.mempool.get(bumped)).toBeDefined();
    expect(connectorSpender(s)).toBe(bumped);
    const again = await until(
      async () => {
        const r = await a.store.require(id);
        const st = await s.backend.getTxStatus(bumped);
        return r.state === 'confirmed' && st?.confirmed ? r : undefined;
      },
      15_000,
      () => mineAbove(s, 20),
    );
    expect(again.challenge.txid).toBe(bumped);
    const rebroadcasts = (await a.store.events(id)).filter((e) => e.type === 'rebroadcast' && e.seq > before);
    expect(rebroadcasts.length).toBeGreaterThan(0);
    expect(rebroadcasts.every((e) => e.type === 'rebroadcast' && e.detail.txid === bumped)).toBe(true);
  }, 30_000);

  it('a spike above the cap: bumps stop at the cap, never above it, and the alert gauge is set', async () => {
    const registry = new Registry();
    const metrics = watcherMetrics(registry);
    const { s, a, id } = await setup(
      { bumpAfterBlocks: 1, bumpStepSatVb: 3, maxFeeRateSatVb: 10 },
      { metrics },
    );
    await processOpen(a.ctx, s.openData);
    await processChallenge(a.ctx, { disputeId: id });
    s.sim.setFeeRate(feeRateFromSatPerVb(200));
    const results: string[] = [];
    for (let i = 0; i < 5; i++) {
      mineAbove(s, 200);
      results.push(await processTrack(a.ctx, { disputeId: id }));
    }
    const rec = await a.store.require(id);
    expect(rec.state).toBe('challenged');
    const rates = paidRates(rec.challenge);
    expect(rates.length).toBeGreaterThan(1);
    for (const r of rates) expect(r).toBeLessThanOrEqual(kvb(10));
    // The last version pays the cap (to within a sat of rounding over its size).
    expect(rates.at(-1) as bigint).toBeGreaterThan(kvb(10) - 10n);
    // Every transaction simnet has seen spending the connector stays under the cap.
    const inMempool = s.sim.chain.mempool.get(rec.challenge.txid as string);
    expect(inMempool).toBeDefined();
    expect((inMempool?.fee as bigint) * 1000n).toBeLessThanOrEqual(
      kvb(10) * BigInt(inMempool?.vsize as number),
    );
    expect(results.some((r) => r.includes('at the fee cap'))).toBe(true);
    const events = await a.store.events(id);
    expect(events.filter((e) => e.type === 'fee-capped')).toHaveLength(1);
    const gauge = await registry.getSingleMetric('vigil_challenge_fee_capped')?.get();
    expect(gauge?.values.find((v) => v.labels.dispute === id)?.value).toBe(1);
    const bumpsTotal = await registry.getSingleMetric('vigil_challenge_fee_bumps_total')?.get();
    expect(bumpsTotal?.values[0]?.value).toBe(rates.length - 1);

    // The spike passes: the capped version confirms.
    s.sim.setFeeRate(feeRateFromSatPerVb(5));
    mineAbove(s, 5);
    expect(await processTrack(a.ctx, { disputeId: id })).toMatch(/^confirmed at/);
    expect(connectorSpender(s)).toBe(rec.challenge.txid);
    const cleared = await registry.getSingleMetric('vigil_challenge_fee_capped')?.get();
    expect(cleared?.values.find((v) => v.labels.dispute === id)?.value).toBe(0);
  }, 30_000);

  it('run twice during a bump: one replacement; a crash between write-ahead and broadcast resends the stored one; the original mined anyway is followed', async () => {
    const { s, a, b, id } = await setup({ bumpAfterBlocks: 1, maxFeeRateSatVb: 50 });
    await processOpen(a.ctx, s.openData);
    await processChallenge(a.ctx, { disputeId: id });
    const original = (await a.store.require(id)).challenge.txid as string;
    s.sim.setFeeRate(feeRateFromSatPerVb(20));
    mineAbove(s, 20);
    // Two processes and a duplicate run, at once.
    await Promise.allSettled([
      processTrack(a.ctx, { disputeId: id }),
      processTrack(b.ctx, { disputeId: id }),
      processTrack(a.ctx, { disputeId: id }),
    ]);
    let rec = await a.store.require(id);
    expect(challengeVersions(rec.challenge)).toHaveLength(2);
    expect((await a.store.events(id)).filter((e) => e.type === 'challenge-bumped')).toHaveLength(1);
    const first = rec.challenge.txid as string;
    expect(connectorSpender(s)).toBe(first);
    expect(s.sim.chain.mempool.get(original)).toBeUndefined();

    // The next bump crashes after its write-ahead, before the broadcast reaches the node.
    s.sim.setFeeRate(feeRateFromSatPerVb(40));
    mineAbove(s, 40);
    const crashing = Object.create(s.backend) as BitcoinBackend;
    crashing.broadcast = async () => {
      throw new Error('killed mid-bump');
    };
    await expect(processTrack({ ...a.ctx, backend: crashing }, { disputeId: id })).rejects.toThrow(
      'killed mid-bump',
    );
    rec = await a.store.require(id);
    const second = rec.challenge.txid as string;
    expect(second).not.toBe(first);
    expect(connectorSpender(s)).toBe(first); // written, not sent
    // A miner takes the version already in its mempool before the restart.
    s.sim.chain.mine(MINER, [s.sim.chain.mempool.get(first)?.tx as Tx]);
    // The job runs again (twice): it follows the version that confirmed and records it; no new replacement.
    expect(await processTrack(b.ctx, { disputeId: id })).toMatch(/^confirmed at/);
    expect(await processTrack(a.ctx, { disputeId: id })).toMatch(/^state confirmed|confirmed, depth/);
    rec = await a.store.require(id);
    expect(rec.state).toBe('confirmed');
    expect(rec.challenge.txid).toBe(first);
    const events = await a.store.events(id);
    expect(events.filter((e) => e.type === 'challenge-bumped').map((e) => e.detail?.txid)).toEqual([
      first,
      second,
    ]);
    expect(events.filter((e) => e.type === 'challenge-followed').map((e) => e.detail?.txid)).toEqual([first]);
    expect(connectorSpender(s)).toBe(first);
    expect(s.sim.chain.mempool.get(second)).toBeUndefined();
  }, 30_000);

  it('a run that read the record before another bumped it records no second replacement (write-ahead key)', async () => {
    const { s, a, b, id } = await setup({ bumpAfterBlocks: 1, maxFeeRateSatVb: 50 });
    await processOpen(a.ctx, s.openData);
    await processChallenge(a.ctx, { disputeId: id });
    const original = (await a.store.require(id)).challenge.txid as string;
    s.sim.setFeeRate(feeRateFromSatPerVb(20));
    mineAbove(s, 20);
    // B reads the record (original current) and plans a bump, then stalls until A has bumped.
    let release = () => {};
    const aDone = new Promise<void>((r) => {
      release = r;
    });
    const stalled: DisputeJobContext = {
      ...b.ctx,
      graphOf: async (r) => {
        await aDone;
        return b.ctx.graphOf(r);
      },
    };
    const late = processTrack(stalled, { disputeId: id });
    const first = await processTrack(a.ctx, { disputeId: id });
    release();
    const second = await late;
    const rec = await a.store.require(id);
    const replacement = rec.challenge.txid as string;
    expect(first).toBe(`bumped ${original} -> ${replacement}`);
    // B finds connector A spent by a version it did not know, reads the record again, and sees the
    // replacement A recorded as current and in the mempool: nothing more to do.
    expect(second).toMatch(/^in mempool/);
    expect(challengeVersions(rec.challenge).map((v) => v.txid)).toEqual([original, replacement]);
    expect((await a.store.events(id)).filter((e) => e.type === 'challenge-bumped')).toHaveLength(1);
    expect(connectorSpender(s)).toBe(replacement);
  }, 30_000);

  it('the crash-resend path: a stored replacement never sent is broadcast by the next run, once', async () => {
    const { s, a, id } = await setup({ bumpAfterBlocks: 1, maxFeeRateSatVb: 50 });
    await processOpen(a.ctx, s.openData);
    await processChallenge(a.ctx, { disputeId: id });
    s.sim.setFeeRate(feeRateFromSatPerVb(20));
    mineAbove(s, 20);
    const crashing = Object.create(s.backend) as BitcoinBackend;
    crashing.broadcast = async () => {
      throw new Error('killed mid-bump');
    };
    await expect(processTrack({ ...a.ctx, backend: crashing }, { disputeId: id })).rejects.toThrow();
    const stored = (await a.store.require(id)).challenge.txid as string;
    expect(await processTrack(a.ctx, { disputeId: id })).toBe('rebroadcast');
    expect(connectorSpender(s)).toBe(stored);
    expect(await processTrack(a.ctx, { disputeId: id })).toMatch(/^in mempool/);
    expect((await a.store.events(id)).filter((e) => e.type === 'challenge-bumped')).toHaveLength(1);
    mineAbove(s, 20);
    expect(await processTrack(a.ctx, { disputeId: id })).toMatch(/^confirmed at/);
  }, 30_000);

  it('the first challenge keeps the wallet reserve: refused (and retried) rather than spending it', async () => {
    const { s, a, id } = await setup({}, { reserve: 4_900_000n });
    await processOpen(a.ctx, s.openData);
    await expect(processChallenge(a.ctx, { disputeId: id })).rejects.toBeInstanceOf(ChallengeFundingError);
    expect(connectorSpender(s)).toBeUndefined();
    expect((await a.store.require(id)).state).toBe('detected');
  }, 30_000);
});
