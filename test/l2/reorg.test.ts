/**
 * Reorgs on a real anvil. The ingester follows a chain, the chain is reorganised under it (anvil_reorg,
 * or evm_snapshot + evm_revert and a different history), and the rebuilt derived state must equal what a
 * fresh ingester derives from the new canonical chain: nothing from orphaned blocks survives — not in
 * the model, not in the Redis journal, not in the epoch roots.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GovernanceInput } from '../../src/governance/inputs.ts';
import { generateWorkload, type Workload } from '../../src/governance/workload.ts';
import { createGovernanceIngester, type GovernanceIngester } from '../../src/l2/governance-ingester.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { inputBody } from './differential-run.ts';
import { type Chain, metricValue, startChain, testMetrics, testRedis } from './helpers.ts';

type Redis = ReturnType<typeof testRedis>;

function summary(gi: GovernanceIngester) {
  return {
    inputs: gi.derivation.inputs.map(
      (i) => `${i.position.block}/${i.position.txIndex}/${i.position.logIndex} ${inputBody(i)}`,
    ),
    epochEnds: gi.derivation.epochEnds.map((e) => `${e.epoch}@${e.block}:${e.root}`),
    rejected: gi.derivation.rejected.length,
  };
}

function workloadActiveNearItsEnd(fromSeed: number, depth: number, confirmations: number): Workload {
  for (let seed = fromSeed; seed < fromSeed + 200; seed++) {
    const w = generateWorkload({ seed, inputs: 40, epochLength: 10 });
    const last = w.inputs.at(-1)?.position.block ?? 0n;
    const orphanedAndIngested = (b: bigint) => b > last - BigInt(depth) && b <= last - BigInt(confirmations);
    if (w.inputs.some((i) => orphanedAndIngested(i.position.block))) return w;
  }
  throw new Error(`no seed from ${fromSeed} puts an input in the orphaned, ingested blocks`);
}

describe('reorgs inside the watched range', () => {
  let chain: Chain;
  let r: Redis;
  let workload: Workload;

  beforeAll(async () => {
    workload = generateWorkload({ seed: 7, inputs: 260, epochLength: 15 });
    chain = await startChain(workload.genesis);
    r = testRedis();
  });
  afterAll(async () => {
    await r?.cleanup();
    await chain?.stop();
  });

  const fresh = (tag: string, extra: { confirmations?: number } = {}) => {
    const m = testMetrics();
    const gi = createGovernanceIngester({
      rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl], metrics: m.metrics }),
      redis: r.redis,
      prefix: `${r.prefix}:${tag}`,
      deployment: chain.deployment,
      maxRange: 25n,
      metrics: m.metrics,
      ...extra,
    });
    return { gi, ...m };
  };

  /** Everything a fresh ingester derives from the current canonical chain up to `head`. */
  async function canonical(tag: string, head: bigint) {
    const { gi } = fresh(tag);
    await gi.ingester.syncTo(head);
    return gi;
  }

  async function journalHashes(gi: GovernanceIngester): Promise<string[]> {
    return (await gi.store.journal()).map((b): string => b.hash);
  }

  it('evm_snapshot/evm_revert to a different history: detected, rewound, rebuilt', async () => {
    const inputs = workload.inputs;
    let cut = Math.floor(inputs.length / 2);
    while (inputs[cut]?.position.block === inputs[cut - 1]?.position.block) cut++;
    await chain.driver.prepareSenders(inputs.map((i) => i.sender));
    const first = await chain.driver.replay(inputs.slice(0, cut));
    const snapshot = await chain.rpc.request<string>('evm_snapshot');
    // History A: the rest of the workload.
    const a = await chain.driver.replay(inputs.slice(cut), { offset: first.offset });
    const watched = fresh('watched', { confirmations: 2 });
    await watched.gi.ingester.syncTo(a.lastBlock - 2n);
    // Journal blocks above the snapshot: all of them belong to history A and must not survive.
    const orphaned: string[] = (await watched.gi.store.journal())
      .filter((j) => j.number > first.lastBlock)
      .map((j) => j.hash);
    expect(orphaned.length).toBeGreaterThan(5);

    // History B: back to the snapshot, every other remaining input (some now revert: no events), and a
    // longer chain so the new head passes the old one.
    await chain.rpc.request('evm_revert', [snapshot]);
    const alternative: GovernanceInput[] = inputs.slice(cut).filter((_, k) => k % 2 === 0);
    const b = await chain.driver.replay(alternative, { offset: first.offset + 3n });
    await chain.rpc.mine(5);
    const head = b.lastBlock + 5n;
    await watched.gi.ingester.syncTo(head - 2n);

    expect(await metricValue(watched.registry, 'vigil_l2_reorgs_total')).toBeGreaterThanOrEqual(1);
    const reference = await canonical('reference-b', head - 2n);
    expect(summary(watched.gi)).toEqual(summary(reference));
    // The durable journal holds exactly the canonical blocks, none of history A's.
    const kept = await journalHashes(watched.gi);
    expect(kept).toEqual(await journalHashes(reference));
    expect(kept.filter((h) => orphaned.includes(h))).toEqual([]);
    expect(watched.gi.faults).toEqual([]);
    expect(watched.gi.checks.every((c) => c.ok)).toBe(true);
  });

  it.each([
    { depth: 6, confirmations: 0 },
    { depth: 12, confirmations: 3 },
  ])('anvil_reorg depth $depth with $confirmations confirmations', async ({ depth, confirmations }) => {
    const head0 = await chain.rpc.blockNumber();
    const watched = fresh(`anvil-reorg-${depth}`, { confirmations });
    // Put governance activity into the blocks that will be orphaned and were ingested: the first seed
    // (searched, from 100 + depth) whose workload has an input in its last `depth` blocks but one below
    // the last `confirmations`.
    const more = workloadActiveNearItsEnd(100 + depth, depth, confirmations);
    const replay = await chain.driver.replay(more.inputs, {
      offset: head0 + 1n - (more.inputs[0]?.position.block ?? 1n),
    });
    await watched.gi.ingester.syncTo(replay.lastBlock - BigInt(confirmations));
    const before = summary(watched.gi);

    await chain.rpc.request('anvil_reorg', [depth, []]);
    await chain.rpc.mine(confirmations + 2);
    const head = await chain.rpc.blockNumber();
    await watched.gi.ingester.syncTo(head - BigInt(confirmations));

    expect(await metricValue(watched.registry, 'vigil_l2_reorgs_total')).toBe(1);
    const reference = await canonical(`anvil-reorg-${depth}-ref`, head - BigInt(confirmations));
    const after = summary(watched.gi);
    expect(after).toEqual(summary(reference));
    // The reorg removed activity that had been ingested.
    expect(after.inputs.length).toBeLessThan(before.inputs.length);
    expect(watched.gi.faults).toEqual([]);
  });
});
