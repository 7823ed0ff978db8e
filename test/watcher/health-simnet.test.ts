/**
 * /healthz of the real watcher on the simnet: the checks must go red on the attacks and failures that
 * used to leave them green.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthRegistry, type HealthStatus } from '../../src/observability/health.ts';
import { createWatcher, type EpochSource } from '../../src/watcher/watcher.ts';
import { P2WPKH } from '../../testkit/bitcoin/simnet/fixture.ts';
import {
  cleanup,
  REDIS_URL,
  type Scenario,
  scenarioExpectations,
  scenarioSource,
  startScenario,
  until,
  WATCHER_KEY,
} from '../../testkit/queue/scenario.ts';

const open: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.stop();
});

async function startWatcher(s: Scenario, source: EpochSource) {
  const prefix = `{vigil-test-${randomUUID()}}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const registry = new Registry();
  const health = new HealthRegistry();
  const watcher = createWatcher({
    redis,
    prefix,
    connection: { host: '127.0.0.1', port: 6379 },
    backend: s.backend,
    network: 'regtest',
    mode: 'challenge',
    allowMainnetSpending: false,
    walletKey: WATCHER_KEY,
    expectations: scenarioExpectations(s),
    source,
    fees: { targetBlocks: 2, maxFeeRateSatVb: 50 },
    bitcoinConfirmations: 1,
    l2Confirmations: 1,
    pollIntervalMs: 100,
    pollMaxAgeMs: 1_000,
    walletCheckEveryPolls: 1,
    deadlineMarginBlocks: 2,
    registry,
    health,
    logger: pino({ level: 'silent' }),
  });
  await watcher.start();
  open.push({
    stop: async () => {
      await watcher.stop(new AbortController().signal);
      await cleanup(redis, prefix);
      await redis.quit();
    },
  });
  return { watcher, registry, health };
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const m = await registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value;
}

const component = async (health: HealthRegistry, name: string): Promise<HealthStatus | undefined> =>
  (await health.health()).components[name];

describe('watcher health on simnet', () => {
  it('a challenged dispute whose connector A stays unspent near the deadline turns /healthz red, naming it', async () => {
    const s = await startScenario();
    open.push({ stop: () => s.stop() });
    const w = await startWatcher(s, scenarioSource(s));
    const id = s.openData.disputeId;
    // Vigil challenges at once: the challenge is in the mempool, nothing mined yet.
    const rec = await until(async () => {
      const r = await w.watcher.store.get(id);
      return r?.state === 'challenged' ? r : undefined;
    }, 20_000);
    const challengeTxid = rec.challenge.txid as string;
    expect(rec.opened.challengeBy).toBe(s.kickoff.height + 5);
    // Four blocks left, margin two: not at risk yet.
    expect(await component(w.health, 'dispute-deadlines')).toEqual({ healthy: true });
    // The coin the stored challenge spends is not counted again for the next one.
    await until(async () =>
      (await metricValue(w.registry, 'vigil_watcher_wallet_spendable_sats')) === 2_000_000 ? true : undefined,
    );
    expect(await metricValue(w.registry, 'vigil_watcher_challenge_funding_required_sats')).toBe(
      1_000_000 - 330 + 50 * 300,
    );
    expect(await component(w.health, 'watcher-wallet')).toMatchObject({ healthy: true });

    // The operator's stripped copy displaced Vigil's challenge, and the blocks that follow carry none:
    // connector A is not spent on chain while the record still says `challenged`.
    const attack = () => {
      s.sim.chain.mempool.removeWithDescendants(challengeTxid);
      s.sim.chain.mine(P2WPKH, []);
    };
    attack();
    attack();
    expect(s.sim.chain.spenderOf(s.kickoff.txid, 0)).toBeUndefined();
    expect((await w.watcher.store.get(id))?.state).toBe('challenged');
    const red = await component(w.health, 'dispute-deadlines');
    expect(red?.healthy).toBe(false);
    // Whether Vigil's track job has sent its challenge again yet or not, A is not spent in a block.
    expect(red?.reason).toMatch(
      new RegExp(
        `^deadline at risk for ${id} \\(challenged: (connector A unspent: no challenge on chain or in the mempool|challenge not confirmed); 2 blocks left before the challenge deadline \\(height ${s.kickoff.height + 5}\\)\\)$`,
      ),
    );
    expect((await w.health.health()).status).toBe('unhealthy');
    // The alert's gauge follows on the next poll.
    await until(async () =>
      (await metricValue(w.registry, 'vigil_watcher_deadline_at_risk', {
        dispute: id,
        state: 'challenged',
        deadline: 'challenge',
      })) === 1
        ? true
        : undefined,
    );

    // Vigil's track job sends its stored challenge again; once it is mined the deadline is met and
    // health is green again.
    await until(() => (s.sim.chain.mempool.spenders.has(`${s.kickoff.txid}:0`) ? true : undefined), 10_000);
    s.mine(1);
    const green = await until(async () => {
      const h = await component(w.health, 'dispute-deadlines');
      return h?.healthy ? h : undefined;
    });
    expect(green).toEqual({ healthy: true });
    expect(s.sim.chain.spenderOf(s.kickoff.txid, 0)).toBeDefined();
    await until(async () =>
      (await metricValue(w.registry, 'vigil_watcher_deadline_at_risk', { dispute: id })) === undefined
        ? true
        : undefined,
    );
  }, 60_000);

  it('a failure inside the poll means the poll did not complete: red after the max age, green once polls complete again', async () => {
    const s = await startScenario({ honest: true, watcherCoins: [500_000n] });
    open.push({ stop: () => s.stop() });
    const base = scenarioSource(s);
    let syncFails = false;
    const source: EpochSource = {
      ...base,
      sync: async () => {
        if (syncFails) throw new Error('L2 node unreachable');
      },
    };
    const w = await startWatcher(s, source);
    await until(async () => ((await component(w.health, 'bitcoin-follow'))?.healthy ? true : undefined));
    const before = (await metricValue(w.registry, 'vigil_watcher_last_poll_success_timestamp_seconds')) ?? 0;
    expect(before).toBeGreaterThan(Date.now() / 1000 - 5);

    // The tip is read and the claim judged on every poll; only the epoch source fails. That used to
    // count as a good poll.
    syncFails = true;
    const red = await until(async () => {
      const h = await component(w.health, 'bitcoin-follow');
      return h && !h.healthy ? h : undefined;
    }, 10_000);
    expect(red.reason).toMatch(
      /^this process holds the lease but has not completed a poll for \d+ s \(last failure: sync: L2 node unreachable\)$/,
    );
    expect(
      await metricValue(w.registry, 'vigil_watcher_poll_failures_total', { step: 'sync' }),
    ).toBeGreaterThan(0);
    const stalled = (await metricValue(w.registry, 'vigil_watcher_last_poll_success_timestamp_seconds')) ?? 0;
    await new Promise((r) => setTimeout(r, 300));
    expect(await metricValue(w.registry, 'vigil_watcher_last_poll_success_timestamp_seconds')).toBe(stalled);

    syncFails = false;
    await until(async () => ((await component(w.health, 'bitcoin-follow'))?.healthy ? true : undefined));
    expect(
      (await metricValue(w.registry, 'vigil_watcher_last_poll_success_timestamp_seconds')) ?? 0,
    ).toBeGreaterThan(stalled);

    // This wallet holds 500,000 sat: the next challenge needs 1,014,670.
    expect(await component(w.health, 'watcher-wallet')).toEqual({
      healthy: false,
      reason:
        'the watcher wallet cannot fund the next challenge: 500000 sat spendable, 1014670 sat needed (challenge amount − connector + fee at the cap + reserve)',
    });
    expect(await metricValue(w.registry, 'vigil_watcher_wallet_spendable_sats')).toBe(500_000);
  }, 60_000);

  it('a claim that cannot be judged for an error fails the poll, and is judged once the error is gone', async () => {
    const s = await startScenario();
    open.push({ stop: () => s.stop() });
    const base = scenarioSource(s);
    let factsFail = true;
    const source: EpochSource = {
      ...base,
      facts: async (epoch) => {
        if (factsFail) throw new Error('re-execution worker crashed');
        return base.facts(epoch);
      },
    };
    const w = await startWatcher(s, source);
    const red = await until(async () => {
      const h = await component(w.health, 'bitcoin-follow');
      return h && !h.healthy && h.reason.includes('last failure') ? h : undefined;
    }, 10_000);
    expect(red.reason).toBe(
      `this process holds the lease but has not completed a poll yet (last failure: judge: re-execution worker crashed)`,
    );
    expect(await w.watcher.store.get(s.openData.disputeId)).toBeUndefined();

    factsFail = false;
    await until(async () => ((await component(w.health, 'bitcoin-follow'))?.healthy ? true : undefined));
    // The failed claim was not forgotten: the next poll judged it and opened the dispute.
    await until(async () => (await w.watcher.store.get(s.openData.disputeId)) ?? undefined, 20_000);
    expect(await metricValue(w.registry, 'vigil_verdicts_total', { outcome: 'fraud' })).toBe(1);
  }, 60_000);
});
