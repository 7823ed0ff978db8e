import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreRpcBackend } from '../../src/bitcoin/backends/core-rpc.ts';
import { processChallenge } from '../../src/challenger/challenge.ts';
import { connectorSpend } from '../../src/challenger/connector-spend.ts';
import { processOpen } from '../../src/challenger/open.ts';
import { harness, type Scenario, startScenario } from '../../testkit/queue/scenario.ts';

let s: Scenario;
beforeAll(async () => {
  s = await startScenario();
}, 30_000);
afterAll(async () => {
  await s.stop();
});

describe('connector A spent deeper than a Core backend looks back', () => {
  it("Vigil's own challenge, confirmed long ago, is still found by its txid", async () => {
    const h = harness(s, 'challenge');
    try {
      await processOpen(h.ctx, s.openData);
      await processChallenge(h.ctx, { disputeId: s.openData.disputeId });
      const rec = await h.store.require(s.openData.disputeId);
      const txid = rec.challenge.txid as string;
      s.mine(6);
      const shortSighted = new CoreRpcBackend({
        url: s.sim.rpcUrl,
        auth: s.sim.rpcAuth,
        outspendLookback: 3,
      });
      // The backend alone no longer names the spender...
      const claim = await shortSighted.getOutspend(s.kickoff.txid, 0);
      expect(claim).toEqual({ spent: true, txid: undefined, vin: undefined, status: undefined });
      // ...but the challenge Vigil wrote is asked for by txid and checked.
      const dg = await h.ctx.graphOf(rec);
      const spend = await connectorSpend(shortSighted, rec, dg.graph);
      expect(spend.kind).toBe('ours');
      expect(spend.kind === 'ours' && spend.txid).toBe(txid);
      expect(spend.kind === 'ours' && spend.status.confirmed).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('a spender Vigil cannot name stays unverified, with the reason', async () => {
    const h = harness(s, 'watch');
    try {
      await processOpen(h.ctx, s.openData);
      const base = await h.store.require(s.openData.disputeId);
      expect(base.state).toBe('detected');
      if (base.state !== 'detected') return;
      const shortSighted = new CoreRpcBackend({
        url: s.sim.rpcUrl,
        auth: s.sim.rpcAuth,
        outspendLookback: 3,
      });
      // The same record without the challenge it wrote: Vigil knows no spender but the take.
      const blind = { ...base, challenge: {} };
      const dg = await h.ctx.graphOf(base);
      const spend = await connectorSpend(shortSighted, blind, dg.graph);
      expect(spend.kind).toBe('unverified');
      expect(spend.kind === 'unverified' && spend.reason).toMatch(/no spender Vigil knows of/);
    } finally {
      await h.close();
    }
  });
});
