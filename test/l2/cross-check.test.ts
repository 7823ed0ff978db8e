/**
 * The cross-check accuses only when the L2 really differs from the rules, and then names the difference:
 * - a model fed the same inputs but running a faulty executor (one rule of the catalogue broken) disagrees
 *   with the contracts at the first epoch end where that rule mattered;
 * - contracts deployed with a different genesis than the watcher's model (an L2 that does not run what
 *   Vigil was told it runs) are reported as an L2 execution fault, not as a wrong commitment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULTS } from '../../src/governance/index.ts';
import { generateWorkload, type Workload } from '../../src/governance/workload.ts';
import { createGovernanceIngester } from '../../src/l2/governance-ingester.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { startFaultyProxy } from './faulty-proxy.ts';
import { type Chain, memoryLogger, metricValue, startChain, testMetrics, testRedis } from './helpers.ts';

describe('epoch-end cross-check', () => {
  let chain: Chain;
  let r: ReturnType<typeof testRedis>;
  let w: Workload;
  let head: bigint;

  beforeAll(async () => {
    w = generateWorkload({ seed: 5, inputs: 300, epochLength: 15 });
    chain = await startChain(w.genesis);
    head = (await chain.driver.replay(w.inputs)).lastBlock;
    r = testRedis();
  });
  afterAll(async () => {
    await r?.cleanup();
    await chain?.stop();
  });

  const ingest = async (tag: string, over: Partial<Parameters<typeof createGovernanceIngester>[0]>) => {
    const m = testMetrics();
    const gi = createGovernanceIngester({
      rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl] }),
      redis: r.redis,
      prefix: `${r.prefix}:${tag}`,
      deployment: chain.deployment,
      maxRange: 200n,
      metrics: m.metrics,
      ...over,
    });
    await gi.ingester.syncTo(head);
    return { gi, ...m };
  };

  let referenceRoots: string[] = [];

  it('a node that answers one read of a past block with the head state is read again, not reported', async () => {
    const proxy = await startFaultyProxy(chain.anvil.rpcUrl);
    try {
      const { gi: ref } = await ingest('stale-ref', {});
      const target = `0x${(ref.derivation.epochEnds[3]?.block ?? -1n).toString(16)}`;
      const log = memoryLogger();
      // The first batch of reads at the fourth epoch end's block is answered with the head's state.
      let stale = 0;
      proxy.setMode((method, params) => {
        if (method !== 'eth_call' || params[1] !== target || stale > 0) return 'ok';
        stale++;
        return 'stale-call';
      });
      const { gi, registry } = await ingest('stale-once', {
        rpc: new L2Rpc({ urls: [proxy.url] }),
        logger: log.logger,
      });
      expect(stale).toBe(1);
      expect(gi.faults).toEqual([]);
      expect(gi.checks.every((c) => c.ok)).toBe(true);
      expect(await metricValue(registry, 'vigil_l2_execution_faults_total')).toBe(0);
      const warned = log.records.filter((l) =>
        String(l.msg).includes('answered two reads of one block differently'),
      );
      expect(warned).toHaveLength(1);
      expect(String(warned[0]?.differences)).toMatch(/epoch: model 4 ≠ contract/);

      // A node that answers every read of that block with the head's state: the difference stands on every
      // read, and it is reported.
      proxy.setMode((method, params) =>
        method === 'eth_call' && params[1] === target ? 'stale-call' : 'ok',
      );
      const always = await ingest('stale-always', { rpc: new L2Rpc({ urls: [proxy.url] }) });
      const reported = always.gi.faults.flatMap((f) =>
        f.kind === 'state-mismatch' ? [f.epochEnd.epoch] : [],
      );
      expect(reported).toEqual([3n]);
    } finally {
      await proxy.close();
    }
  });

  it('the reference model agrees with the contracts at every epoch end (no false accusation)', async () => {
    const { gi, registry } = await ingest('reference', {});
    referenceRoots = gi.derivation.epochEnds.map((e) => e.root);
    expect(gi.checks.length).toBe(gi.derivation.epochEnds.length);
    expect(gi.checks.length).toBeGreaterThan(5);
    // The first check reads everything (nothing verified yet); the later ones what their epoch touched.
    expect(gi.checks.map((c) => c.scope)).toEqual(gi.checks.map((_, i) => (i === 0 ? 'full' : 'touched')));
    expect(gi.faults).toEqual([]);
    expect(await metricValue(registry, 'vigil_l2_execution_faults_total')).toBe(0);
    expect(await metricValue(registry, 'vigil_l2_inputs_total')).toBe(w.inputs.length);
  });

  /** Per fault of the catalogue, the epochs at which the (default, touched-keys) cross-check reported. */
  const reportedAt = new Map<string, bigint[]>();
  const faultEpochs = (faults: readonly { kind: string; epochEnd?: { epoch: bigint } }[]) =>
    faults.flatMap((f) => (f.kind === 'state-mismatch' && f.epochEnd ? [f.epochEnd.epoch] : []));

  it('every fault of the catalogue that changes this workload is caught by the cross-check', async () => {
    expect(referenceRoots.length).toBeGreaterThan(0);
    const missed: string[] = [];
    const caught: string[] = [];
    for (const fault of FAULTS) {
      const { gi, registry } = await ingest(`catalogue-${fault.name}`, { executor: fault });
      reportedAt.set(fault.name, faultEpochs(gi.faults));
      const rootsDiffer = gi.derivation.epochEnds.some((e, i) => e.root !== referenceRoots[i]);
      // A fault that changed an epoch root but not the contract-visible state would be a cross-check gap.
      if (rootsDiffer && gi.faults.length === 0) missed.push(fault.name);
      if (gi.faults.length > 0) {
        caught.push(fault.name);
        expect(await metricValue(registry, 'vigil_l2_execution_faults_total')).toBeGreaterThan(0);
      }
    }
    expect(missed).toEqual([]);
    // The workload reaches enough rules that most of the catalogue shows.
    expect(caught.length).toBeGreaterThanOrEqual(6);
  });

  it('reading only what each epoch touched reports every fault at the same epochs as reading everything', async () => {
    expect(reportedAt.size).toBe(FAULTS.length);
    const differ: string[] = [];
    for (const fault of FAULTS) {
      const { gi } = await ingest(`full-${fault.name}`, { executor: fault, crossCheckScope: 'full' });
      expect(gi.checks.every((c) => c.scope === 'full')).toBe(true);
      const full = faultEpochs(gi.faults).join(',');
      if (full !== (reportedAt.get(fault.name) ?? []).join(',')) differ.push(`${fault.name}: full ${full}`);
    }
    expect(differ).toEqual([]);
  });

  it('contracts with a different genesis than the model: an L2 execution fault naming the parameter', async () => {
    const params = { ...w.genesis.params, epochReward: (w.genesis.params?.epochReward ?? 0n) + 1n };
    const { gi } = await ingest('genesis', {
      deployment: { ...chain.deployment, genesis: { ...w.genesis, params } },
    });
    const first = gi.faults[0];
    expect(first?.kind).toBe('state-mismatch');
    if (first?.kind === 'state-mismatch') {
      expect(first.epochEnd.epoch).toBe(0n);
      expect(first.differences.some((d) => d.startsWith('param epochReward'))).toBe(true);
    }
  });
});
