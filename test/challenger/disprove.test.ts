import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { BitcoinBackend } from '../../src/bitcoin/backends/types.ts';
import { decodeTx, txidHex } from '../../src/bitcoin/codec/codec.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import { processChallenge } from '../../src/challenger/challenge.ts';
import { processOpen } from '../../src/challenger/open.ts';
import { processTrack } from '../../src/challenger/track.ts';
import { bytesToHex, equalBytes, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import { completeDisprove, completePayout } from '../../src/dispute/graph/spend.ts';
import type { DisputeRecord } from '../../src/dispute/records/store.ts';
import { firstWrongCheckpoint } from '../../src/dispute/trace-checkpoints.ts';
import { type WatcherMetrics, watcherMetrics } from '../../src/queue/metrics.ts';
import {
  type Harness,
  harness,
  operatorAssert,
  type Scenario,
  startScenario,
  until,
  WATCHER_SCRIPT,
} from '../../testkit/queue/scenario.ts';

const OTHER_SCRIPT = Uint8Array.from([0x51, 0x20, ...sha256(utf8('another challenger'))]);
const WRONG = sha256(utf8('an operator root Vigil does not compute'));

function openWithTrace(s: Scenario) {
  return {
    ...s.openData,
    expectedTrace: s.expectedTrace.map(bytesToHex),
    diagnosis: JSON.stringify({ step: 7, rule: 'vote.weight' }),
  };
}

async function stateIs(h: Harness, id: string, state: DisputeRecord['state'], mine?: () => void) {
  return until(
    async () => {
      const r = await h.store.get(id);
      return r?.state === state ? r : undefined;
    },
    30_000,
    mine,
  );
}

async function metricValue(m: WatcherMetrics, name: keyof WatcherMetrics, labels: Record<string, string>) {
  const got = await m[name].get();
  const v = got.values.find((x) =>
    Object.entries(labels).every(([k, l]) => (x.labels as Record<string, string | number>)[k] === l),
  );
  return v?.value ?? 0;
}

/** Mines until the chain takes `tx` (a relative timelock), then mines it in. */
async function acceptWhenMature(s: Scenario, tx: Tx): Promise<number> {
  return until(() => {
    try {
      s.sim.chain.acceptTx(tx);
      s.mine(1);
      return s.sim.chain.height;
    } catch {
      s.mine(1);
      return undefined;
    }
  }, 30_000);
}

describe('after the assert: disprove or payout, through BullMQ on simnet', () => {
  it('a trace wrong at step 1: disproved once by two racing processes, rebroadcast after an eviction, resolved operator-slashed', async () => {
    const s = await startScenario();
    const metrics = watcherMetrics(new Registry());
    const a = harness(s, 'challenge', undefined, { metrics });
    const b = harness(s, 'challenge', a.prefix, { metrics });
    const id = s.openData.disputeId;
    try {
      const open = openWithTrace(s);
      a.queue.startWorker(a.ctx);
      b.queue.startWorker(b.ctx);
      await a.queue.open(open);
      await stateIs(a, id, 'confirmed', () => s.mine(1));
      const stored = await a.store.require(id);
      expect(stored.opened.expectedTrace).toEqual(open.expectedTrace);
      expect(stored.opened.diagnosis).toBe(open.diagnosis);

      // The operator asserts r_0, r_1 as Vigil computes them and a wrong r_2: step 1 is the wrong one.
      const v = s.expectedTrace;
      const claimed = [v[0], v[1], WRONG] as Uint8Array[];
      const assert = operatorAssert(s, claimed);
      await stateIs(a, id, 'asserted');
      s.mine(1);
      // Both workers track it; two more runs race them directly.
      const direct = await Promise.allSettled([
        processTrack(a.ctx, { disputeId: id }),
        processTrack(b.ctx, { disputeId: id }),
        processTrack(a.ctx, { disputeId: id }),
      ]);
      expect(direct.some((r) => r.status === 'fulfilled')).toBe(true);
      const rec = await until(async () => {
        const r = await a.store.require(id);
        const spender = s.sim.chain.spenderOf(assert.txid, 0);
        return spender !== undefined && spender.txid === r.disprove.txid ? r : undefined;
      }, 30_000);
      expect(rec.disprove.step).toBe(1);
      // While asserted, the gauge shows the disprove deadline, and only that one (a run still on an older
      // state may briefly show its own: the next run corrects it).
      const gauges = await until(async () => {
        const g = (await metrics.deadlineBlocksLeft.get()).values.filter((x) => x.labels.dispute === id);
        return g.length === 1 && g[0]?.labels.deadline === 'disprove' ? g : undefined;
      }, 30_000);
      expect(gauges[0]?.value).toBeLessThanOrEqual(s.fixture.graph.spec.params.timelocks.disproveWindow - 1);
      const disproveTxid = rec.disprove.txid as string;
      expect(s.sim.chain.mempool.get(disproveTxid)).toBeDefined();
      // Whichever run sent it recorded the broadcast; one transaction was ever built.
      await until(
        async () =>
          (await a.store.events(id)).some((e) => e.type === 'disprove-broadcast') ? true : undefined,
        30_000,
      );
      // Core (and simnet) accept a resend of bytes already in the mempool, so a racing run may count a
      // send; what must never happen is a second, different disprove (it would conflict: rejected).
      const count = (result: string) => metricValue(metrics, 'broadcasts', { tx: 'disprove', result });
      expect(await count('sent')).toBeGreaterThanOrEqual(1);
      expect(await count('rejected')).toBe(0);
      const rebroadcastsBefore = await count('rebroadcast');
      const built = (await a.store.events(id)).filter((e) => e.type === 'disprove-built');
      expect(built).toHaveLength(1);
      expect(built[0]?.detail?.txid).toBe(disproveTxid);

      // The mempool loses it: the same bytes go out again, before any block.
      s.sim.chain.mempool.removeWithDescendants(disproveTxid);
      expect(s.sim.chain.spenderOf(assert.txid, 0)).toBeUndefined();
      await until(
        async () =>
          (await a.store.events(id)).some((e) => e.type === 'disprove-rebroadcast') ? true : undefined,
        30_000,
      );
      expect(s.sim.chain.spenderOf(assert.txid, 0)?.txid).toBe(disproveTxid);
      expect(await count('rebroadcast')).toBeGreaterThan(rebroadcastsBefore);
      expect(await count('rejected')).toBe(0);

      const resolved = await stateIs(a, id, 'resolved', () => s.mine(1));
      expect(resolved.outcome).toBe('operator-slashed');
      expect(resolved.disproved.by).toBe('vigil');
      expect(resolved.disproved.step).toBe(1);
      const onChain = s.sim.chain.findTx(disproveTxid);
      expect(onChain?.block).toBeDefined();
      expect(onChain?.block?.height).toBeLessThanOrEqual(resolved.assert.disproveBy as number);
      const tx = onChain?.tx as Tx;
      const p = s.fixture.graph.spec.params;
      const asserted = p.stake + p.connectorValue - p.fees.assert;
      expect(tx.outputs[0]?.value).toBe((asserted * BigInt(p.disproveBurnBps)) / 10_000n);
      // The reward pays the watcher wallet, less a fee from the estimate for its own size.
      expect(bytesToHex(tx.outputs[1]?.script as Uint8Array)).toBe(bytesToHex(WATCHER_SCRIPT));
      expect(tx.outputs[1]?.value).toBe(
        asserted - (tx.outputs[0]?.value as bigint) - (rec.disprove.fee as bigint),
      );

      const events = await a.store.events(id);
      expect(events.filter((e) => e.type === 'transition').map((e) => `${e.from}->${e.to}`)).toEqual([
        'detected->challenged',
        'challenged->confirmed',
        'confirmed->asserted',
        'asserted->disproved',
        'disproved->resolved',
      ]);
      const types = events.map((e) => e.type);
      for (const t of ['disprove-window', 'disprove-built', 'disprove-broadcast', 'disprove-rebroadcast'])
        expect(types).toContain(t);
      expect(types.filter((t) => t === 'disprove-broadcast')).toHaveLength(1);
      expect(types).not.toContain('disprove-impossible');
      // Resolved, the dispute leaves no deadline gauge behind.
      await until(
        async () =>
          (await metrics.deadlineBlocksLeft.get()).values.some((x) => x.labels.dispute === id)
            ? undefined
            : true,
        30_000,
      );
      expect(resolved.assert.disproveBy as number).toBe(
        (resolved.assert.height as number) + p.timelocks.disproveWindow - 1,
      );
    } finally {
      await b.queue.close();
      await a.close();
      await b.redis.quit();
      await s.stop();
    }
  }, 90_000);

  it('Vigil finds step 1 wrong but the circuit accepts it: no disprove, disprove-impossible, payout after T_d resolves operator-vindicated', async () => {
    const s = await startScenario();
    const metrics = watcherMetrics(new Registry());
    const a = harness(s, 'challenge', undefined, { metrics });
    const id = s.openData.disputeId;
    try {
      a.queue.startWorker(a.ctx);
      await a.queue.open(openWithTrace(s));
      await stateIs(a, id, 'confirmed', () => s.mine(1));
      // r_2 repeats r_1: wrong by Vigil's trace, correct for the identity circuit.
      const v = s.expectedTrace as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
      expect(equalBytes(v[1], v[2])).toBe(false);
      const claimed = [v[0], v[1], v[1]];
      const assert = operatorAssert(s, claimed);
      s.mine(1);
      const event = await until(async () =>
        (await a.store.events(id)).find((e) => e.type === 'disprove-impossible'),
      );
      expect(event.detail?.code).toBe('circuit-disagrees');
      expect(event.detail?.step).toBe(1);
      expect(String(event.detail?.reason)).toMatch(/step 1 wrong.*circuit test-identity-v1 accepts/);
      expect(
        await metricValue(metrics, 'disproveImpossible', { dispute: id, reason: 'circuit-disagrees' }),
      ).toBe(1);
      expect(s.sim.chain.spenderOf(assert.txid, 0)).toBeUndefined();

      const payout = completePayout(s.fixture.graph, s.fixture.sigs).tx;
      await acceptWhenMature(s, payout);
      const resolved = await stateIs(a, id, 'resolved', () => s.mine(1));
      expect(resolved.outcome).toBe('operator-vindicated');
      expect(s.sim.chain.spenderOf(assert.txid, 0)?.txid).toBe(txidHex(payout));
      const assertHeight = s.sim.chain.findTx(assert.txid)?.block?.height as number;
      const payoutHeight = s.sim.chain.findTx(txidHex(payout))?.block?.height as number;
      expect(payoutHeight - assertHeight).toBeGreaterThanOrEqual(
        s.fixture.graph.spec.params.timelocks.disproveWindow,
      );
      expect(resolved.disprove.txid).toBeUndefined();
      const events = await a.store.events(id);
      expect(events.filter((e) => e.type === 'disprove-impossible')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'transition').map((e) => e.to)).toEqual([
        'challenged',
        'confirmed',
        'asserted',
        'resolved',
      ]);
      // The run that resolved lowers the gauge right after its transition.
      await until(async () =>
        (await metricValue(metrics, 'disproveImpossible', { dispute: id, reason: 'circuit-disagrees' })) === 0
          ? true
          : undefined,
      );
      expect(
        (await metricValue(metrics, 'broadcasts', { tx: 'disprove', result: 'sent' })) +
          (await metricValue(metrics, 'broadcasts', { tx: 'disprove', result: 'rebroadcast' })),
      ).toBe(0);
    } finally {
      await a.close();
      await s.stop();
    }
  }, 90_000);

  it('modes watch and dry-run never broadcast a disprove; another challenger’s disprove resolves operator-slashed', async () => {
    const s = await startScenario();
    const c = harness(s, 'challenge');
    const w = harness(s, 'watch', c.prefix);
    const d = harness(s, 'dry-run', c.prefix);
    const id = s.openData.disputeId;
    const track = (h: Harness) => processTrack(h.ctx, { disputeId: id });
    try {
      // A challenge-mode process challenged; the processes that follow run in watch and dry-run.
      await processOpen(c.ctx, openWithTrace(s));
      expect(await processChallenge(c.ctx, { disputeId: id })).toMatch(/^challenged /);
      s.mine(1);
      expect(await track(c)).toMatch(/^confirmed/);
      const v = s.expectedTrace;
      const claimed = [v[0], v[1], WRONG] as Uint8Array[];
      expect(firstWrongCheckpoint(v, [...claimed, v[3] as Uint8Array])).toBe(1);
      const assert = operatorAssert(s, claimed);
      s.mine(1);

      expect(await track(w)).toBe('asserted');
      expect(await track(w)).toBe('disprove of step 1 withheld (mode watch)');
      expect(await track(w)).toBe('disprove of step 1 withheld (mode watch)');
      expect(s.sim.chain.spenderOf(assert.txid, 0)).toBeUndefined();

      expect(await track(d)).toMatch(/^dry-run: built and checked the disprove of step 1/);
      expect(await track(d)).toMatch(/^dry-run: the disprove [0-9a-f]{64} was built and checked/);
      const rec = await d.store.require(id);
      const dry = decodeTx(rec.dryRun.disprove?.raw as Uint8Array);
      expect(txidHex(dry)).toBe(rec.dryRun.disprove?.txid);
      expect(bytesToHex(dry.outputs[1]?.script as Uint8Array)).toBe(bytesToHex(WATCHER_SCRIPT));
      expect(s.sim.chain.spenderOf(assert.txid, 0)).toBeUndefined();
      expect(s.sim.chain.mempool.get(rec.dryRun.disprove?.txid as string)).toBeUndefined();
      expect(rec.disprove.txid).toBeUndefined();
      const types = (await d.store.events(id)).map((e) => e.type);
      expect(types.filter((t) => t === 'disprove-withheld')).toHaveLength(1);
      expect(types.filter((t) => t === 'dry-run-built')).toHaveLength(1);

      // Another challenger disproves step 2 (also faulty by the circuit) with its own reward output.
      const kickoff = s.kickoff.tx;
      const assertTx = s.sim.chain.findTx(assert.txid)?.tx as Tx;
      const theirs = completeDisprove(s.fixture.graph, s.fixture.sigs, 2, kickoff, assertTx, {
        script: OTHER_SCRIPT,
        fee: 20_000n,
      }).tx;
      s.sim.chain.acceptTx(theirs);
      expect(await track(w)).toMatch(/^another disprove .* in mempool$/);
      s.mine(1);
      expect(await track(w)).toBe('resolved: operator slashed (another disprove of step 2)');
      const resolved = await w.store.require(id);
      expect(resolved.outcome).toBe('operator-slashed');
      expect(resolved.disproved.by).toBe('other');
      expect(resolved.disproved.txid).toBe(txidHex(theirs));
      expect(resolved.disproved.step).toBe(2);
      const transitions = (await w.store.events(id)).filter((e) => e.type === 'transition').map((e) => e.to);
      expect(transitions.slice(-3)).toEqual(['asserted', 'disproved', 'resolved']);
      // A re-run after the end changes nothing.
      expect(await track(c)).toBe('resolved');
      expect((await w.store.events(id)).filter((e) => e.type === 'transition')).toHaveLength(
        transitions.length,
      );
    } finally {
      await w.queue.close();
      await d.queue.close();
      await c.close();
      await w.redis.quit();
      await d.redis.quit();
      await s.stop();
    }
  }, 90_000);

  it('a crash between the write-ahead and the broadcast: the next run sends the stored disprove, once; runs after the end change nothing', async () => {
    const s = await startScenario();
    const a = harness(s, 'challenge');
    const id = s.openData.disputeId;
    const track = (backend?: BitcoinBackend) =>
      processTrack(backend ? { ...a.ctx, backend } : a.ctx, { disputeId: id });
    try {
      await processOpen(a.ctx, openWithTrace(s));
      await processChallenge(a.ctx, { disputeId: id });
      s.mine(1);
      expect(await track()).toMatch(/^confirmed/);
      const v = s.expectedTrace;
      const assert = operatorAssert(s, [v[0], v[1], WRONG] as Uint8Array[]);
      s.mine(1);
      expect(await track()).toBe('asserted');

      // The process dies after writing the disprove ahead, before the node hears of it.
      const crashing = Object.create(s.backend) as BitcoinBackend;
      crashing.broadcast = async () => {
        throw new Error('process killed before the broadcast');
      };
      await expect(track(crashing)).rejects.toThrow(/process killed/);
      const written = await a.store.require(id);
      const txid = written.disprove.txid as string;
      expect(written.disprove.step).toBe(1);
      expect(s.sim.chain.spenderOf(assert.txid, 0)).toBeUndefined();

      expect(await track()).toBe(`disprove rebroadcast: ${txid}`);
      expect(s.sim.chain.spenderOf(assert.txid, 0)?.txid).toBe(txid);
      expect(await track()).toBe('our disprove in mempool');
      s.mine(1);
      expect(await track()).toBe('resolved: operator slashed (our disprove of step 1)');
      expect(await track()).toBe('resolved');
      const events = await a.store.events(id);
      expect(events.filter((e) => e.type === 'disprove-built')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'disprove-rebroadcast')).toHaveLength(1);
      // The broadcast event is recorded from the chain even though the crashed run never wrote it.
      expect(events.filter((e) => e.type === 'disprove-broadcast')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'transition').map((e) => e.to)).toEqual([
        'challenged',
        'confirmed',
        'asserted',
        'disproved',
        'resolved',
      ]);
      expect((await a.store.require(id)).outcome).toBe('operator-slashed');
    } finally {
      await a.close();
      await s.stop();
    }
  }, 90_000);
});
