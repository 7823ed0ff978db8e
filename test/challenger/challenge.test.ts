import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTx } from '../../src/bitcoin/codec/codec.ts';
import { processChallenge } from '../../src/challenger/challenge.ts';
import { processOpen } from '../../src/challenger/open.ts';
import { bytesToHex } from '../../src/core/bytes.ts';
import {
  harness,
  type Scenario,
  startScenario,
  until,
  WATCHER_SCRIPT,
} from '../../testkit/queue/scenario.ts';

let s: Scenario;
beforeAll(async () => {
  s = await startScenario();
}, 30_000);
afterAll(async () => {
  await s.stop();
});

/** Every mempool or chain transaction that spends the kick-off's challenge connector. */
function connectorSpenders(): string[] {
  const out = new Set<string>();
  const spender = s.sim.chain.spenderOf(s.kickoff.txid, 0);
  if (spender) out.add(spender.txid);
  return [...out];
}

describe('the challenge path through BullMQ on simnet', () => {
  it('a kick-off with a wrong root is judged fraud', () => {
    expect(s.verdict.outcome).toBe('fraud');
    expect(s.verdict.challengeable).toBe(true);
    expect(s.verdict.reasons.map((r) => r.code)).toContain('root-mismatch');
  });

  it('mode watch: the dispute is opened, nothing is built or sent', async () => {
    const h = harness(s, 'watch');
    try {
      h.queue.startWorker(h.ctx);
      await h.queue.open(s.openData);
      const events = await until(async () => {
        const e = await h.store.events(s.openData.disputeId).catch(() => []);
        return e.some((x) => x.type === 'challenge-withheld') ? e : undefined;
      });
      expect(events.map((e) => e.type)).toEqual(['detected', 'challenge-withheld']);
      expect((await h.store.require(s.openData.disputeId)).state).toBe('detected');
      expect(connectorSpenders()).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('mode dry-run: the challenge is built and checked (interpreter + testmempoolaccept), never broadcast', async () => {
    const h = harness(s, 'dry-run');
    try {
      h.queue.startWorker(h.ctx);
      await h.queue.open(s.openData);
      const rec = await until(async () => {
        const r = await h.store.get(s.openData.disputeId);
        return r?.dryRun.challenge?.raw ? r : undefined;
      });
      expect(rec.state).toBe('detected');
      const tx = decodeTx(rec.dryRun.challenge?.raw as Uint8Array);
      expect(tx.outputs[0]?.value).toBe(s.fixture.graph.spec.params.challengeAmount);
      expect(connectorSpenders()).toEqual([]);
      expect(s.sim.chain.mempool.get(rec.dryRun.challenge?.txid as string)).toBeUndefined();
    } finally {
      await h.close();
    }
  });

  it('on mainnet, mode challenge with the switch on: a graph on the test circuit is not challenged, and the record says why', async () => {
    const h = harness(s, 'challenge', undefined, { network: 'mainnet', allowMainnetSpending: true });
    try {
      await processOpen(h.ctx, s.openData);
      const out = await processChallenge(h.ctx, { disputeId: s.openData.disputeId });
      expect(out).toMatch(
        /^withheld \(the graph's step circuit test-identity-v1 is a test circuit: no fraud proof on mainnet\)/,
      );
      // Run twice: one event.
      await processChallenge(h.ctx, { disputeId: s.openData.disputeId });
      const events = await h.store.events(s.openData.disputeId);
      expect(events.map((e) => e.type)).toEqual(['detected', 'challenge-withheld']);
      expect(events[1]).toMatchObject({
        detail: { mode: 'challenge', reason: expect.stringMatching(/test circuit/) },
      });
      const rec = await h.store.require(s.openData.disputeId);
      expect(rec.state).toBe('detected');
      expect(rec.challenge.raw).toBeUndefined();
      expect(connectorSpenders()).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('mode challenge: run twice, concurrently, by two processes: one challenge, broadcast once, tracked to confirmation, rebroadcast after a reorg, slashed by assert-timeout', async () => {
    const a = harness(s, 'challenge');
    const b = harness(s, 'challenge', a.prefix);
    try {
      // Two "processes" race the same jobs directly, twice each, before any worker runs.
      await processOpen(a.ctx, s.openData);
      await processOpen(b.ctx, s.openData);
      const results = await Promise.allSettled([
        processChallenge(a.ctx, { disputeId: s.openData.disputeId }),
        processChallenge(b.ctx, { disputeId: s.openData.disputeId }),
        processChallenge(a.ctx, { disputeId: s.openData.disputeId }),
      ]);
      // Each run either challenged (same txid) or found the wallet lock taken and would retry.
      const ok = results
        .filter((r) => r.status === 'fulfilled')
        .map((r) => (r as PromiseFulfilledResult<string>).value);
      expect(ok.length).toBeGreaterThan(0);
      const rec = await a.store.require(s.openData.disputeId);
      expect(rec.state).toBe('challenged');
      const txid = rec.challenge.txid as string;
      for (const v of ok) expect(v).toMatch(new RegExp(`challenged ${txid}|already challenged`));
      expect(connectorSpenders()).toEqual([txid]);
      expect(s.sim.chain.mempool.get(txid)).toBeDefined();
      // The workers then take over: tracking confirms it once mined.
      a.queue.startWorker(a.ctx);
      b.queue.startWorker(b.ctx);
      await a.queue.open(s.openData); // a re-sent open is a duplicate job and a duplicate record
      const confirmed = await until(
        async () => {
          const r = await a.store.require(s.openData.disputeId);
          return r.state === 'confirmed' ? r : undefined;
        },
        15_000,
        () => s.mine(1),
      );
      expect(confirmed.challenge.txid).toBe(txid);
      const spender = s.sim.chain.spenderOf(s.kickoff.txid, 0);
      expect(spender?.txid).toBe(txid);
      expect(spender?.blockHash).toBeDefined();
      const types = (await a.store.events(s.openData.disputeId)).map((e) => e.type);
      expect(types.filter((t) => t === 'challenge-built')).toHaveLength(1);
      expect(types.filter((t) => t === 'transition')).toHaveLength(2); // challenged, confirmed
      expect(types[0]).toBe('detected');
      // The confirmation came before the take became valid.
      const height = s.sim.chain.findTx(txid)?.block?.height as number;
      expect(height).toBeLessThanOrEqual(confirmed.opened.challengeBy as number);

      // A reorg drops the confirmed challenge and the mempool loses it: the same bytes go out again.
      const blockHash = spender?.blockHash as string;
      s.sim.chain.invalidateBlock(blockHash);
      s.sim.chain.mempool.removeWithDescendants(txid);
      expect(s.sim.chain.spenderOf(s.kickoff.txid, 0)).toBeUndefined();
      await until(async () =>
        (await a.store.events(s.openData.disputeId)).some((e) => e.type === 'rebroadcast') ? true : undefined,
      );
      expect(s.sim.chain.mempool.get(txid)).toBeDefined();
      const again = await until(
        async () => {
          const r = await a.store.require(s.openData.disputeId);
          const st = await s.backend.getTxStatus(txid);
          return r.state === 'confirmed' && st?.confirmed ? r : undefined;
        },
        15_000,
        () => s.mine(1),
      );
      expect(again.challenge.txid).toBe(txid);
      expect(connectorSpenders()).toEqual([txid]);
      const history = (await a.store.events(s.openData.disputeId)).filter((e) => e.type === 'transition');
      expect(history.map((e) => `${e.from}->${e.to}`)).toEqual([
        'detected->challenged',
        'challenged->confirmed',
        'confirmed->challenged',
        'challenged->confirmed',
      ]);

      // The operator never asserts: once the assert window closes Vigil takes the assert-timeout.
      const resolved = await until(
        async () => {
          const r = await a.store.require(s.openData.disputeId);
          return r.state === 'resolved' ? r : undefined;
        },
        20_000,
        () => s.mine(1),
      );
      expect(resolved.outcome).toBe('operator-slashed');
      const slash = s.sim.chain.spenderOf(s.kickoff.txid, 2);
      expect(slash?.txid).toBe(resolved.timeout.txid);
      const slashHeight = s.sim.chain.findTx(slash?.txid as string)?.block?.height as number;
      expect(slashHeight).toBeGreaterThanOrEqual(resolved.opened.assertTimeoutFrom as number);
      const slashTx = s.sim.chain.findTx(slash?.txid as string)?.tx;
      // The reward output pays the watcher wallet.
      expect(slashTx?.outputs.some((o) => bytesToHex(o.script) === bytesToHex(WATCHER_SCRIPT))).toBe(true);
      const finalTypes = (await a.store.events(s.openData.disputeId))
        .filter((e) => e.type === 'transition')
        .map((e) => e.to);
      expect(finalTypes.slice(-2)).toEqual(['timed-out', 'resolved']);
    } finally {
      await b.queue.close();
      await a.close();
      await b.redis.quit();
    }
  }, 60_000);
});
