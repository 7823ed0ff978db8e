/**
 * The L2 epoch source on a real anvil: a seeded workload of three epochs replayed as transactions, the
 * operator committing two of them, and Vigil's source ingesting it. Its facts must be what an independent
 * re-execution of the workload gives (roots and trace checkpoints), and depth must gate finality.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFunctionData, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { traceCheckpoints } from '../../src/dispute/trace-checkpoints.ts';
import {
  computeStateRoot,
  createGenesisState,
  type Executor,
  FAULTS,
  type GovernanceInput,
  reexecute,
  type TraceStep,
} from '../../src/governance/index.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { judgeEpoch } from '../../src/judge/verdict.ts';
import { stateCommitmentAbi } from '../../src/l2/contracts/artifacts/abis.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import {
  createL2EpochSource,
  L2ChainMismatchError,
  type L2EpochSource,
} from '../../src/watcher/epoch-source.ts';
import { secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';
import { type Chain, OPERATOR, startChain, testRedis } from '../l2/helpers.ts';

const K = 4;
const EPOCHS = 3;

function workload() {
  const w = generateWorkload({ seed: 5, inputs: 120, epochLength: 25 });
  const inputs: GovernanceInput[] = [];
  let ends = 0;
  for (const i of w.inputs) {
    inputs.push(i);
    if (i.kind === 'endEpoch' && ++ends === EPOCHS) break;
  }
  return { genesis: w.genesis, inputs };
}

type Expected = { root: string; checkpoints: string[]; first: number; last: number; block: bigint };

/** The input without its position: what must survive the trip through the chain unchanged. */
const body = (i: GovernanceInput): string => {
  const { position: _p, ...rest } = i;
  return JSON.stringify(rest, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
};

/**
 * One re-execution of the whole chain's inputs with a trace, cut per epoch: another path than the
 * source's (which re-executes each epoch from its own pre-state).
 */
function expectedEpochs(inputs: readonly GovernanceInput[], genesis: object): Expected[] {
  const r = reexecute(inputs, { genesis, trace: true });
  const trace = r.trace as TraceStep[];
  const genesisRoot = computeStateRoot(createGenesisState(genesis));
  let first = 0;
  return r.epochs.map((e) => {
    const pre = first === 0 ? genesisRoot : (trace[first - 1] as TraceStep).root;
    const steps = trace.slice(first, e.stepIndex + 1).map((s) => s.root);
    const out = {
      root: bytesToHex(e.root),
      checkpoints: traceCheckpoints(pre, steps, K).map(bytesToHex),
      first,
      last: e.stepIndex,
      block: (inputs[e.stepIndex] as GovernanceInput).position.block,
    };
    first = e.stepIndex + 1;
    return out;
  });
}

describe('the L2 epoch source', () => {
  const w = workload();
  const { redis, prefix, cleanup } = testRedis();
  const graphDir = mkdtempSync(join(tmpdir(), 'vigil-epoch-source-'));
  let chain: Chain;
  let expected: Expected[];
  let endBlocks: bigint[];
  let head: bigint;
  const wrongRoot = `0x${'ab'.repeat(32)}` as Hex;

  const source = (confirmations: number, name: string): L2EpochSource =>
    createL2EpochSource({
      rpcUrls: [chain.anvil.rpcUrl],
      redis,
      prefix: `${prefix}:${name}`,
      deployment: chain.deployment,
      confirmations,
      traceSteps: K,
      maxRange: 500n,
      graphs: {
        dir: graphDir,
        network: 'regtest',
        operator: xOnly(secretOf('operator')),
        committee: [xOnly(secretOf('committee 1'))],
      },
    });

  async function syncAll(s: L2EpochSource): Promise<void> {
    for (let i = 0; i < 1000 && !s.status().caughtUp; i++) await s.sync();
    expect(s.status().caughtUp).toBe(true);
  }

  beforeAll(async () => {
    chain = await startChain(w.genesis);
    const replay = await chain.driver.replay(w.inputs);
    // The chain's own feed: the workload's inputs at the chain's positions (the state root covers the
    // last input's position, so the trace is computed from what the chain says, checked against the
    // workload first).
    const feed = source(1, 'feed');
    await syncAll(feed);
    const decoded = feed.ingestion.derivation.inputs;
    expect(decoded.map(body)).toEqual(w.inputs.map(body));
    expect(decoded.map((i) => i.position.block)).toEqual(
      w.inputs.map((i) => i.position.block + replay.offset),
    );
    expected = expectedEpochs(decoded, w.genesis);
    expect(expected).toHaveLength(EPOCHS);
    endBlocks = expected.map((e) => e.block);
    // The operator commits epoch 0 honestly and lies about epoch 1; epoch 2 is never committed.
    for (const [epoch, root] of [
      [0n, `0x${expected[0]?.root}`],
      [1n, wrongRoot],
    ] as const) {
      await chain.rpc.request('eth_sendTransaction', [
        {
          from: OPERATOR,
          to: chain.deployment.addresses.stateCommitment,
          data: encodeFunctionData({
            abi: stateCommitmentAbi,
            functionName: 'commit',
            args: [epoch, root as Hex, `0x${'00'.repeat(32)}`],
          }),
          gas: '0x1e8480',
        },
      ]);
    }
    await chain.rpc.mine(1);
    head = await chain.rpc.blockNumber();
  }, 120_000);

  afterAll(async () => {
    await cleanup();
    await chain?.stop();
    rmSync(graphDir, { recursive: true, force: true });
  });

  it('gives the roots and trace checkpoints of an independent re-execution for every epoch', async () => {
    const s = source(1, 'all');
    const before = await s.facts(0n);
    expect(before.reexecution).toMatchObject({ complete: false, reason: expect.stringMatching(/not ended/) });
    expect(before.l2.behind).toBe(true);
    await syncAll(s);
    const rpc = new L2Rpc({ urls: [chain.anvil.rpcUrl] });
    for (let e = 0; e < EPOCHS; e++) {
      const f = await s.facts(BigInt(e));
      const want = expected[e] as Expected;
      expect(f.reexecution.complete).toBe(true);
      if (!f.reexecution.complete) continue;
      expect(bytesToHex(f.reexecution.root)).toBe(want.root);
      expect(f.reexecution.checkpoints?.map(bytesToHex)).toEqual(want.checkpoints);
      expect(f.reexecution.checkpoints).toHaveLength(K + 1);
      expect(f.reexecution.stepIndex).toBe(want.last);
      expect(f.l2.behind).toBe(false);
      expect(f.l2.inputsFinal).toBe(true);
      const header = await rpc.header(endBlocks[e] as bigint);
      expect(`0x${bytesToHex(f.l2.epochEndBlockHash as Uint8Array)}`).toBe(header.hash);
    }
    expect(s.status().head).toBe(head);
    // Commitments: as the operator made them, at their depth.
    const c0 = (await s.facts(0n)).l2.commitment;
    expect(c0).toMatchObject({ status: 'committed', depth: 1 });
    if (c0.status === 'committed') expect(bytesToHex(c0.root)).toBe(expected[0]?.root);
    const c1 = (await s.facts(1n)).l2.commitment;
    if (c1.status !== 'committed') throw new Error(`epoch 1 commitment ${c1.status}`);
    expect(`0x${bytesToHex(c1.root)}`).toBe(wrongRoot);
    expect((await s.facts(2n)).l2.commitment).toEqual({ status: 'missing' });
    // The judge on these facts: the lie on the L2 is the operator's, found against the model's root.
    const f1 = await s.facts(1n);
    const verdict = judgeEpoch({
      epoch: 1n,
      reexecution: f1.reexecution,
      l2: f1.l2,
      kickoff: {
        status: 'seen',
        txid: '00'.repeat(32),
        depth: 6,
        revealed: {
          epoch: 1n,
          stateRoot: Buffer.from(wrongRoot.slice(2), 'hex'),
          l2BlockHash: f1.l2.epochEndBlockHash as Uint8Array,
        },
      },
      graphVerified: true,
      depth: { l2: 1, bitcoin: 1 },
    });
    expect(verdict).toMatchObject({ outcome: 'fraud', challengeable: true, equivocation: false });
    expect(verdict.reasons.map((r) => r.code)).toEqual(['root-mismatch', 'l2-commitment-wrong']);
  }, 120_000);

  it('an epoch not ended yet is incomplete and behind, never an error', async () => {
    const s = source(1, 'unknown');
    await syncAll(s);
    const f = await s.facts(7n);
    expect(f.reexecution).toMatchObject({
      complete: false,
      reason: expect.stringMatching(/epoch 7 has not ended/),
    });
    expect(f.l2).toMatchObject({ inputsFinal: false, behind: true, commitment: { status: 'missing' } });
    // Data not there yet is no failure of the poll.
    expect(f.error).toBeUndefined();
    expect(await s.graphs()).toEqual([]);
  }, 120_000);

  it('depth: an epoch end or a commitment short of the confirmations does not count until buried', async () => {
    // One block short for the last epoch's end: the first epoch's end is deep enough already.
    const confirmations = Number(head - (endBlocks[2] as bigint)) + 2;
    const s = source(confirmations, 'depth');
    await syncAll(s);
    const depthOf = (b: bigint) => Number(head - b) + 1;
    for (let e = 0; e < EPOCHS; e++) {
      const f = await s.facts(BigInt(e));
      expect(f.l2.inputsFinal).toBe(depthOf(endBlocks[e] as bigint) >= confirmations);
      expect(f.reexecution.complete).toBe(true);
    }
    expect((await s.facts(2n)).l2.inputsFinal).toBe(false);
    expect((await s.facts(0n)).l2.commitment).toEqual({ status: 'pending', depth: 1 });
    // The judge fails closed on the shallow epoch.
    const f2 = await s.facts(2n);
    const v = judgeEpoch({
      epoch: 2n,
      reexecution: f2.reexecution,
      l2: f2.l2,
      kickoff: { status: 'not-seen' },
      graphVerified: true,
      depth: { l2: confirmations, bitcoin: 1 },
    });
    expect(v.outcome).toBe('unavailable');
    expect(v.reasons.map((r) => r.code)).toContain('l2-not-at-depth');

    await chain.rpc.mine(confirmations);
    await s.sync();
    expect((await s.facts(2n)).l2.inputsFinal).toBe(true);
    const c0 = (await s.facts(0n)).l2.commitment;
    expect(c0).toMatchObject({ status: 'committed', depth: 1 + confirmations });
    head = await chain.rpc.blockNumber();
  }, 120_000);

  it('a restarted source rebuilds the same facts from its journal, and diagnoses a faulty root', async () => {
    const a = source(1, 'restart');
    await syncAll(a);
    const b = source(1, 'restart');
    await b.sync();
    // Asked out of order: the source's forward walk through the inputs starts over and still agrees.
    for (const e of [2n, 0n, 1n]) expect(await b.facts(e)).toEqual(await a.facts(e));
    // The honest root is no fault; a root some catalogue fault gives for epoch 1 is that fault.
    const f1 = await b.facts(1n);
    if (!f1.reexecution.complete) throw new Error('epoch 1 incomplete');
    expect(await b.diagnose(1n, f1.reexecution.root)).toMatchObject({ fault: undefined });
    const inputs = b.ingestion.derivation.inputs;
    const e1 = expected[1] as Expected;
    const claimedBy = (fault: Executor) => {
      const state = createGenesisState(w.genesis);
      reexecute(inputs.slice(0, e1.first), { state });
      return reexecute(inputs.slice(e1.first, e1.last + 1), { state, executor: fault }).root;
    };
    const fault = FAULTS.find((f) => bytesToHex(claimedBy(f)) !== e1.root) as Executor;
    expect(fault).toBeDefined();
    const claimed = claimedBy(fault);
    expect(await b.diagnose(1n, claimed)).toMatchObject({ fault: fault.name, rule: fault.breaks });
    expect(await b.diagnose(9n, claimed)).toBeUndefined();
  }, 120_000);

  it('a failed sync leaves every fact incomplete until a sync succeeds', async () => {
    const dead = new L2Rpc({ urls: ['http://127.0.0.1:9'], retry: { maxAttempts: 1 } });
    const s = createL2EpochSource({
      rpc: dead,
      redis,
      prefix: `${prefix}:dead`,
      deployment: chain.deployment,
      confirmations: 1,
      traceSteps: K,
      graphs: { dir: graphDir, network: 'regtest', operator: xOnly(secretOf('operator')), committee: [] },
    });
    await expect(s.sync()).rejects.toThrow();
    expect(s.status().error).toBeDefined();
    const f = await s.facts(0n);
    expect(f.reexecution).toMatchObject({
      complete: false,
      reason: expect.stringMatching(/L2 ingestion failed/),
    });
    expect(f.l2.inputsFinal).toBe(false);
    // A failure, not missing data: the watcher's poll fails on it (health), the claim is judged unavailable.
    expect(f.error).toMatch(/L2 ingestion failed/);
  }, 60_000);

  it('an epoch whose trace the derivation lacks is an error of the facts, not just an incomplete one', async () => {
    const s = source(1, 'throws');
    await syncAll(s);
    expect((await s.facts(1n)).error).toBeUndefined();
    // A bug of Vigil's, simulated: the epoch end the derivation applied replaced by an equal object it
    // recorded no trace for.
    const ends = s.ingestion.derivation.epochEnds;
    const at = ends.findIndex((e) => e.epoch === 2n);
    const saved = ends[at] as (typeof ends)[number];
    ends[at] = { ...saved };
    try {
      const f = await s.facts(2n);
      expect(f.reexecution).toMatchObject({
        complete: false,
        reason: expect.stringMatching(/re-execution of epoch 2 failed: .*kept no trace of epoch 2/),
      });
      expect(f.error).toMatch(/re-execution of epoch 2 failed/);
    } finally {
      ends[at] = saved;
    }
    // Nothing failed was cached: with the end back, the epoch's trace is read and agrees.
    const again = await s.facts(2n);
    expect(again.error).toBeUndefined();
    expect(again.reexecution).toMatchObject({ complete: true });
  }, 120_000);

  it('refuses an L2 node that reports another chain id than configured', async () => {
    const s = createL2EpochSource({
      rpcUrls: [chain.anvil.rpcUrl],
      redis,
      prefix: `${prefix}:other-chain`,
      deployment: chain.deployment,
      confirmations: 1,
      chainId: 200901,
      traceSteps: K,
      graphs: { dir: graphDir, network: 'regtest', operator: xOnly(secretOf('operator')), committee: [] },
    });
    await expect(s.sync()).rejects.toThrow(L2ChainMismatchError);
    await expect(s.sync()).rejects.toThrow(/reports chain id 31337, not 200901/);
    expect((await s.facts(0n)).reexecution.complete).toBe(false);
  }, 60_000);
});
