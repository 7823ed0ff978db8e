/**
 * Pruning the L2 journal into a base, on a real anvil and Redis: the ingester stores the state at an
 * epoch end and drops the journal below it; a restart (or a lease hand-over) starts from that base and
 * must derive exactly what an ingester that never pruned derives, and go on deriving the same; a reorg
 * below the base re-ingests from the start block.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { computeStateRoot, type GovernanceInput } from '../../src/governance/index.ts';
import { generateWorkload, type Workload } from '../../src/governance/workload.ts';
import type { EpochEnd } from '../../src/l2/derivation.ts';
import { createGovernanceIngester, type GovernanceIngester } from '../../src/l2/governance-ingester.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { inputBody } from './differential-run.ts';
import { type Chain, metricValue, startChain, testMetrics, testRedis } from './helpers.ts';

type TestRedis = ReturnType<typeof testRedis>;

/** What a derivation holds about the epochs after `afterEpoch`, and its current state. */
function view(gi: GovernanceIngester, afterEpoch: bigint) {
  const d = gi.derivation;
  const ends = d.epochEnds.filter((e) => e.epoch > afterEpoch);
  const from = ends[0]?.firstInput ?? d.inputsOffset + d.inputs.length;
  return {
    root: bytesToHex(computeStateRoot(d.state)),
    epochEnds: ends.map((e) => `${e.epoch}@${e.block}:${e.root}:${e.firstInput}-${e.lastInput}`),
    inputs: d.inputsSlice(from, d.inputsOffset + d.inputs.length).map(inputBody),
    commitments: [...d.commitments.values()]
      .filter((c) => c.epoch > afterEpoch)
      .map((c) => `${c.epoch}:${c.stateRoot}`)
      .sort(),
    params: ends.map((e) => JSON.stringify(d.paramsOfEpoch(e.epoch + 1n), (_, v) => String(v))),
  };
}

/** An ingester on `chain` under its own key prefix, with its metrics. */
function ingesterOn(chain: Chain, r: TestRedis, tag: string, m = testMetrics()) {
  const gi = createGovernanceIngester({
    rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl], metrics: m.metrics }),
    redis: r.redis,
    prefix: `${r.prefix}:${tag}`,
    deployment: chain.deployment,
    maxRange: 20n,
    metrics: m.metrics,
  });
  return { gi, ...m };
}

/** The chain put inputs after the endEpoch in the epoch end's own block. */
const splitsItsBlock = (gi: GovernanceIngester, end: EpochEnd): boolean =>
  gi.derivation.inputsSlice(end.lastInput + 1, end.lastInput + 2)[0]?.position.block === end.block;

describe('pruning the L2 journal into a base', () => {
  let chain: Chain;
  let r: TestRedis;
  let w: Workload;
  let cut: number;

  const fresh = (tag: string) => ingesterOn(chain, r, tag);

  beforeAll(async () => {
    w = generateWorkload({ seed: 31, inputs: 320, epochLength: 12 });
    chain = await startChain(w.genesis);
    r = testRedis();
    await chain.driver.prepareSenders(w.inputs.map((i) => i.sender));
    cut = Math.floor((w.inputs.length * 2) / 3);
    while (w.inputs[cut]?.position.block === w.inputs[cut - 1]?.position.block) cut++;
  });
  afterAll(async () => {
    await r?.cleanup();
    await chain?.stop();
  });

  it('a restart from a base derives what a never-pruned ingester does, and goes on deriving the same', async () => {
    const first = await chain.driver.replay(w.inputs.slice(0, cut));
    const { gi } = fresh('pruned');
    await gi.ingester.syncTo(first.lastBlock);
    const straightRoot = bytesToHex(computeStateRoot(gi.derivation.state));
    const ends = gi.derivation.epochEnds;
    expect(ends.length).toBeGreaterThan(8);
    // A base inside a block (inputs after the endEpoch in its own block) is the case that needs `entries`.
    const split = ends.slice(1, -2).find((e) => splitsItsBlock(gi, e));
    expect(split).toBeDefined();
    const e1 = split as EpochEnd;

    const base1 = gi.derivation.baseAt(e1.epoch);
    expect(base1.block).toBe(e1.block);
    expect(await gi.ingester.compact(base1)).toBe(true);
    gi.derivation.prune(base1);
    expect(gi.derivation.baseEpoch).toBe(e1.epoch);
    expect(gi.derivation.inputsOffset).toBe(e1.lastInput + 1);
    expect(gi.derivation.epochEnds.every((e) => e.epoch > e1.epoch)).toBe(true);
    expect([...gi.derivation.commitments.keys()].every((e) => e > e1.epoch)).toBe(true);
    expect(() => gi.derivation.inputsSlice(e1.lastInput, e1.lastInput + 1)).toThrow(/below the pruned/);
    expect(bytesToHex(computeStateRoot(gi.derivation.state))).toBe(straightRoot);
    // Redis: the base, and no journal block below its block (its own block stays: entries after the base).
    const stored = await gi.store.base?.();
    expect(stored?.block).toBe(base1.block);
    expect(stored?.entries).toBe(base1.entries);
    expect(bytesToHex(stored?.data ?? new Uint8Array())).toBe(bytesToHex(base1.data));
    const journal = await gi.store.journal();
    expect(journal[0]?.number).toBe(base1.block);
    expect(journal[0]?.entries.length).toBeGreaterThan(base1.entries);

    // A restart from that base: its block is applied from the first entry the base does not hold.
    const reference = fresh('reference');
    await reference.gi.ingester.syncTo(first.lastBlock);
    const atSplit = fresh('pruned');
    await atSplit.gi.ingester.syncTo(first.lastBlock);
    expect(atSplit.gi.derivation.baseEpoch).toBe(e1.epoch);
    expect(view(atSplit.gi, e1.epoch)).toEqual(view(reference.gi, e1.epoch));

    // A later base moves forward; the older one, stored again (a stale process), changes nothing.
    const e2 = ends.at(-3) as EpochEnd;
    const base2 = gi.derivation.baseAt(e2.epoch);
    expect(await gi.ingester.compact(base2)).toBe(true);
    gi.derivation.prune(base2);
    const journalAfter = (await gi.store.journal()).map((b) => b.number);
    expect(await gi.ingester.compact(base1)).toBe(false);
    expect((await gi.store.journal()).map((b) => b.number)).toEqual(journalAfter);
    expect((await gi.store.base?.())?.block).toBe(base2.block);

    // A new ingester on the same keys starts from the base, not from genesis.
    const restarted = fresh('pruned');
    await restarted.gi.ingester.syncTo(first.lastBlock);
    expect(restarted.gi.derivation.baseEpoch).toBe(e2.epoch);
    expect(restarted.gi.derivation.inputs.length).toBeLessThan(reference.gi.derivation.inputs.length);
    expect(view(restarted.gi, e2.epoch)).toEqual(view(reference.gi, e2.epoch));

    // Both go on with the rest of the workload and stay equal, cross-checks included.
    const rest = await chain.driver.replay(w.inputs.slice(cut), { offset: first.offset });
    await restarted.gi.ingester.syncTo(rest.lastBlock);
    await reference.gi.ingester.syncTo(rest.lastBlock);
    expect(view(restarted.gi, e2.epoch)).toEqual(view(reference.gi, e2.epoch));
    expect(restarted.gi.derivation.epochEnds.length).toBeGreaterThan(3);
    expect(restarted.gi.faults).toEqual([]);
    expect(restarted.gi.checks.length).toBeGreaterThan(0);
    expect(restarted.gi.checks.every((c) => c.ok)).toBe(true);
  });

  it('a base that does not decode to the root it names is refused at start, not used', async () => {
    const { gi } = fresh('corrupt');
    await gi.ingester.syncTo(await chain.rpc.blockNumber());
    const end = gi.derivation.epochEnds.at(-2) as EpochEnd;
    const base = gi.derivation.baseAt(end.epoch);
    const text = new TextDecoder().decode(base.data);
    const tampered = text.replace(/"root":"0x[0-9a-f]{64}"/, `"root":"0x${'ab'.repeat(32)}"`);
    expect(tampered).not.toBe(text);
    expect(await gi.ingester.compact({ ...base, data: new TextEncoder().encode(tampered) })).toBe(true);
    const restarted = fresh('corrupt');
    await expect(restarted.gi.ingester.init()).rejects.toThrow(/names root 0xabab/);
  });
});

describe('a reorg below the base', () => {
  let chain: Chain;
  let r: TestRedis;

  beforeAll(async () => {
    r = testRedis();
  });
  afterAll(async () => {
    await r?.cleanup();
    await chain?.stop();
  });

  it('re-ingests from the start block and drops the base', async () => {
    const w = generateWorkload({ seed: 8, inputs: 240, epochLength: 12 });
    chain = await startChain(w.genesis);
    const inputs = w.inputs;
    let cut = Math.floor(inputs.length / 3);
    while (inputs[cut]?.position.block === inputs[cut - 1]?.position.block) cut++;
    await chain.driver.prepareSenders(inputs.map((i) => i.sender));
    const first = await chain.driver.replay(inputs.slice(0, cut));
    const snapshot = await chain.rpc.request<string>('evm_snapshot');
    const a = await chain.driver.replay(inputs.slice(cut), { offset: first.offset });
    const m = testMetrics();
    const make = (tag: string) => ingesterOn(chain, r, tag, m).gi;
    const gi = make('watched');
    await gi.ingester.syncTo(a.lastBlock);
    // A base in history A, above the block the chain is reverted to.
    const end = gi.derivation.epochEnds.filter((e) => e.block > first.lastBlock).at(-2) as EpochEnd;
    expect(end).toBeDefined();
    const base = gi.derivation.baseAt(end.epoch);
    expect(await gi.ingester.compact(base)).toBe(true);
    gi.derivation.prune(base);

    await chain.rpc.request('evm_revert', [snapshot]);
    const alternative: GovernanceInput[] = inputs.slice(cut).filter((_, k) => k % 2 === 0);
    const b = await chain.driver.replay(alternative, { offset: first.offset + 3n });
    await chain.rpc.mine(5);
    const head = b.lastBlock + 5n;
    await gi.ingester.syncTo(head);

    expect(await metricValue(m.registry, 'vigil_l2_reorgs_total')).toBeGreaterThanOrEqual(1);
    expect(await gi.store.base?.()).toBeUndefined();
    expect(gi.derivation.baseEpoch).toBeUndefined();
    expect(gi.derivation.inputsOffset).toBe(0);
    const reference = make('reference');
    await reference.ingester.syncTo(head);
    expect(view(gi, -1n)).toEqual(view(reference, -1n));
    expect((await gi.store.journal()).map((j) => j.hash)).toEqual(
      (await reference.store.journal()).map((j) => j.hash),
    );
  });
});
