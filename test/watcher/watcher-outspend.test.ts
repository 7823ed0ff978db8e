/**
 * The watcher believes "the claim output is spent by T" only as T itself: fetched, hashing to T's txid,
 * spending the claim. A backend that names another transaction, or hands bytes that are not T, leaves
 * the claim undecided for that poll (no verdict, no dispute, the poll fails), and it is judged as soon as
 * the backend answers truthfully.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { CoreRpcBackend } from '../../src/bitcoin/backends/core-rpc.ts';
import type { Outspend, TxWithStatus } from '../../src/bitcoin/backends/types.ts';
import { hashToDisplayHex } from '../../src/bitcoin/tx/serialize.ts';
import type { Verdict } from '../../src/judge/verdict.ts';
import { HealthRegistry } from '../../src/observability/health.ts';
import { createWatcher } from '../../src/watcher/watcher.ts';
import {
  cleanup,
  REDIS_URL,
  type Scenario,
  scenarioExpectations,
  scenarioSource,
  startScenario,
  until,
} from '../../testkit/queue/scenario.ts';

const open: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.stop();
});

type Lie = 'another-transaction' | 'forged-bytes';

/** The scenario's backend, lying about the claim output's spender while `lying.on`. */
function lyingBackend(s: Scenario, lie: Lie, lying: { on: boolean }): CoreRpcBackend {
  const claim = s.fixture.graph.spec.claim;
  const claimTxid = hashToDisplayHex(claim.txid);
  const real = s.backend;
  return new Proxy(real, {
    get(target, prop) {
      if (prop === 'getOutspend') {
        return async (txid: string, vout: number): Promise<Outspend> => {
          const truth = await target.getOutspend(txid, vout);
          if (!lying.on || txid !== claimTxid || vout !== claim.vout || lie !== 'another-transaction')
            return truth;
          // The funding transaction: it exists and hashes right, but it creates the claim, not spends it.
          return { spent: true, txid: claimTxid, vin: 0, status: truth.spent ? truth.status : undefined };
        };
      }
      if (prop === 'getTransaction') {
        return async (txid: string): Promise<TxWithStatus | undefined> => {
          const tx = await target.getTransaction(txid);
          if (!lying.on || txid !== s.kickoff.txid || tx === undefined) return tx;
          // The watcher asks for the graph's kick-off first (src/watcher/claim-spend.ts): this backend does
          // not know it, so the watcher asks who spent the claim, and is lied to.
          if (lie === 'another-transaction') return undefined;
          const raw = Uint8Array.from(tx.raw);
          raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 1; // the locktime's last byte
          return { ...tx, raw };
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function metric(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

describe('the claim spender is checked against the transaction itself', () => {
  it.each<Lie>(['another-transaction', 'forged-bytes'])(
    'a backend lying about it (%s): nothing is concluded, the poll fails, the truth is judged',
    async (lie) => {
      const s = await startScenario();
      open.push({ stop: () => s.stop() });
      const prefix = `{vigil-test-${randomUUID()}}`;
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
      const registry = new Registry();
      const lying = { on: true };
      const verdicts: Verdict[] = [];
      const lines: { msg: string; err?: string }[] = [];
      const watcher = createWatcher({
        redis,
        prefix,
        connection: { host: '127.0.0.1', port: 6379 },
        backend: lyingBackend(s, lie, lying),
        network: 'regtest',
        mode: 'watch',
        allowMainnetSpending: false,
        walletKey: undefined,
        expectations: scenarioExpectations(s),
        source: scenarioSource(s),
        onVerdict: (v) => verdicts.push(v),
        fees: { targetBlocks: 2, maxFeeRateSatVb: 50 },
        bitcoinConfirmations: 1,
        l2Confirmations: 1,
        pollIntervalMs: 100,
        deadlineMarginBlocks: 2,
        registry,
        health: new HealthRegistry(),
        logger: pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) }),
      });
      await watcher.start();
      open.push({
        stop: async () => {
          await watcher.stop(new AbortController().signal);
          await cleanup(redis, prefix);
          await redis.quit();
        },
      });

      // Several polls under the lie: each one fails on the claim, none judges it.
      await until(async () =>
        (await metric(registry, 'vigil_watcher_poll_failures_total', { step: 'judge' })) >= 3
          ? true
          : undefined,
      );
      expect(verdicts).toEqual([]);
      expect(await metric(registry, 'vigil_epochs_judged_total')).toBe(0);
      expect(await metric(registry, 'vigil_verdicts_total', { outcome: 'fraud' })).toBe(0);
      expect(await metric(registry, 'vigil_watcher_last_poll_success_timestamp_seconds')).toBe(0);
      expect(await watcher.store.list()).toEqual([]);
      const lies = lines.filter((l) =>
        l.msg.startsWith('the Bitcoin backend gave a false answer about the claim'),
      );
      expect(lies.length).toBeGreaterThan(0);
      expect(lies[0]?.err).toMatch(
        lie === 'another-transaction'
          ? /none of its inputs does/
          : /asked for transaction [0-9a-f]{64}, got [0-9a-f]{64}/,
      );

      // The backend tells the truth again: the kick-off is judged fraud and the dispute opened.
      lying.on = false;
      const rec = await until(async () => watcher.store.get(s.openData.disputeId), 20_000);
      expect(rec.kickoffTxid).toBe(s.kickoff.txid);
      expect(verdicts.map((v) => v.outcome)).toEqual(['fraud']);
    },
    60_000,
  );
});

describe("the graph's own kick-off is read first", () => {
  it('a confirmed kick-off of the graph is judged from its own bytes, without asking who spent the claim', async () => {
    const s = await startScenario();
    open.push({ stop: () => s.stop() });
    const prefix = `{vigil-test-${randomUUID()}}`;
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
    const claim = s.fixture.graph.spec.claim;
    const claimTxid = hashToDisplayHex(claim.txid);
    const asked: string[] = [];
    // Who spent the claim is never asked: a walk back through blocks is what the lookup saves.
    const backend = new Proxy(s.backend, {
      get(target, prop) {
        if (prop === 'getOutspend') {
          return async (txid: string, vout: number): Promise<Outspend> => {
            if (txid === claimTxid && vout === claim.vout) asked.push(`${txid}:${vout}`);
            return target.getOutspend(txid, vout);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const verdicts: Verdict[] = [];
    const watcher = createWatcher({
      redis,
      prefix,
      connection: { host: '127.0.0.1', port: 6379 },
      backend,
      network: 'regtest',
      mode: 'watch',
      allowMainnetSpending: false,
      walletKey: undefined,
      expectations: scenarioExpectations(s),
      source: scenarioSource(s),
      onVerdict: (v) => verdicts.push(v),
      fees: { targetBlocks: 2, maxFeeRateSatVb: 50 },
      bitcoinConfirmations: 1,
      l2Confirmations: 1,
      pollIntervalMs: 100,
      deadlineMarginBlocks: 2,
      registry: new Registry(),
      health: new HealthRegistry(),
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
    await until(async () => (verdicts.length > 0 ? true : undefined), 20_000);
    expect(verdicts.map((v) => [v.outcome, v.kickoffTxid])).toEqual([['fraud', s.kickoff.txid]]);
    expect(asked).toEqual([]);
  }, 60_000);
});
