/**
 * Reverted transactions in the L2 feed, on a real anvil. A workload with inputs the rules refuse is
 * replayed: the contracts revert exactly those, ingestion puts them in the feed (decoded from calldata)
 * in chain order among the log-derived inputs, and the feed survives a restart, a node without
 * eth_getBlockReceipts and a reorg. Garbage calldata is counted and skipped; a revert the model cannot
 * explain (out of gas) is an execution fault in 'authoritative' mode and leaves the model on the chain's
 * state.
 */

import { encodeFunctionData } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { computeStateRoot, reexecute, type TraceStep } from '../../src/governance/index.ts';
import type { GovernanceInput } from '../../src/governance/inputs.ts';
import { generateWorkload, type Workload, workloadFinalState } from '../../src/governance/workload.ts';
import { epochManagerAbi, stakingAbi, stateCommitmentAbi } from '../../src/l2/contracts/artifacts/abis.ts';
import type { L2Entry } from '../../src/l2/decode.ts';
import { inputToCall, type ReplayResult } from '../../src/l2/driver.ts';
import {
  createGovernanceIngester,
  type GovernanceIngester,
  type GovernanceIngesterOptions,
} from '../../src/l2/governance-ingester.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { createL2EpochSource } from '../../src/watcher/epoch-source.ts';
import { inputBody } from './differential-run.ts';
import { startFaultyProxy } from './faulty-proxy.ts';
import { type Chain, memoryLogger, metricValue, startChain, testMetrics, testRedis } from './helpers.ts';

type Redis = ReturnType<typeof testRedis>;

function summary(gi: GovernanceIngester) {
  return {
    inputs: gi.derivation.inputs.map(
      (i) => `${i.position.block}/${i.position.txIndex}/${i.position.logIndex} ${inputBody(i)}`,
    ),
    epochEnds: gi.derivation.epochEnds.map(
      (e) => `${e.epoch}@${e.block}:${e.root} [${e.firstInput}..${e.lastInput}]`,
    ),
    rejected: gi.derivation.rejected.length,
    root: bytesToHex(computeStateRoot(gi.derivation.state)),
  };
}

async function revertedEntries(gi: GovernanceIngester) {
  const out: { block: bigint; hash: string; entry: Extract<L2Entry, { type: 'reverted' }> }[] = [];
  for (const b of await gi.store.journal()) {
    for (const e of b.entries)
      if (e.type === 'reverted') out.push({ block: b.number, hash: b.hash, entry: e });
  }
  return out;
}

/** The inputs of a workload the reference refuses: the ones the contracts must revert. */
function refused(w: Workload): GovernanceInput[] {
  const trace = reexecute(w.inputs, { genesis: w.genesis, trace: true }).trace as TraceStep[];
  return trace.filter((s) => !s.accepted).map((s) => s.input);
}

describe('reverted transactions in the feed', () => {
  let chain: Chain;
  let r: Redis;
  let w: Workload;
  let replay: ReplayResult;
  let straight: ReturnType<typeof summary>;

  const ingest = (tag: string, extra: Partial<GovernanceIngesterOptions> = {}) =>
    createGovernanceIngester({
      rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl] }),
      redis: r.redis,
      prefix: `${r.prefix}:${tag}`,
      deployment: chain.deployment,
      maxRange: 20n,
      ...extra,
    });

  beforeAll(async () => {
    w = generateWorkload({ seed: 5, inputs: 160, epochLength: 15, rejected: 0.12 });
    chain = await startChain(w.genesis);
    replay = await chain.driver.replay(w.inputs, { checkReceipts: true });
    r = testRedis();
  });
  afterAll(async () => {
    await r?.cleanup();
    await chain?.stop();
  });

  it('holds every reverted input, decoded from calldata, in chain order among the others', async () => {
    // The contracts revert exactly the inputs the reference refuses.
    const expectedReverted = refused(w);
    expect(expectedReverted.length).toBeGreaterThan(5);
    expect(replay.reverted.map((x) => inputBody(x.input))).toEqual(expectedReverted.map(inputBody));

    const gi = ingest('straight');
    await gi.ingester.syncTo(replay.lastBlock);
    const decoded = gi.derivation.inputs;
    expect(decoded.map(inputBody)).toEqual(w.inputs.map(inputBody));
    expect(decoded.map((i) => i.position.block)).toEqual(
      w.inputs.map((i) => i.position.block + replay.offset),
    );
    for (let k = 1; k < decoded.length; k++) {
      const a = (decoded[k - 1] as GovernanceInput).position;
      const b = (decoded[k] as GovernanceInput).position;
      expect(a.block < b.block || (a.block === b.block && a.txIndex < b.txIndex)).toBe(true);
    }
    // The journal marks them as reverted, with the transaction that carried each.
    const journaled = await revertedEntries(gi);
    expect(journaled.map((j) => j.entry.txHash)).toEqual(replay.reverted.map((x) => x.txHash));
    // With the reference executor they are refused: no fault, the contracts' state is the model's.
    expect(gi.derivation.rejected).toEqual([]);
    expect(gi.derivation.revertedAccepted).toEqual([]);
    expect(gi.faults).toEqual([]);
    expect(gi.checks.length).toBeGreaterThanOrEqual(5);
    expect(gi.checks.every((c) => c.ok)).toBe(true);
    // Each epoch end names its inputs: contiguous ranges over the whole feed, ending at the endEpoch.
    let next = 0;
    for (const e of gi.derivation.epochEnds) {
      expect(e.firstInput).toBe(next);
      expect(decoded[e.lastInput]?.kind).toBe('endEpoch');
      next = e.lastInput + 1;
    }
    straight = summary(gi);
  });

  it('survives a restart: the journal in Redis holds the reverted entries', async () => {
    const mid = replay.offset + (w.inputs[Math.floor(w.inputs.length / 2)] as GovernanceInput).position.block;
    const first = ingest('restart');
    await first.ingester.syncTo(mid);
    const before = first.derivation.inputs.length;
    expect((await revertedEntries(first)).length).toBeGreaterThan(0);
    // A new process on the same prefix: state from the journal, then the rest of the chain.
    const second = ingest('restart');
    await second.ingester.init();
    expect(second.derivation.inputs.length).toBe(before);
    expect(second.derivation.inputs.map(inputBody)).toEqual(first.derivation.inputs.map(inputBody));
    await second.ingester.syncTo(replay.lastBlock);
    expect(summary(second)).toEqual(straight);
  });

  it('reads the same feed from a node without eth_getBlockReceipts', async () => {
    const proxy = await startFaultyProxy(chain.anvil.rpcUrl);
    try {
      proxy.setUnsupported(['eth_getBlockReceipts']);
      const gi = ingest('fallback', { rpc: new L2Rpc({ urls: [proxy.url] }) });
      await gi.ingester.syncTo(replay.lastBlock);
      expect(proxy.counts.unsupported).toBeGreaterThanOrEqual(1);
      expect(summary(gi)).toEqual(straight);
      expect((await revertedEntries(gi)).length).toBe(replay.reverted.length);
    } finally {
      await proxy.close();
    }
  });

  it('survives a reorg: orphaned reverted transactions leave the feed and the journal', async () => {
    const head0 = await chain.rpc.blockNumber();
    const m = testMetrics();
    const watched = ingest('reorg', {
      rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl], metrics: m.metrics }),
      metrics: m.metrics,
    });
    await watched.ingester.syncTo(head0);
    const snapshot = await chain.rpc.request<string>('evm_snapshot');
    // History A: a workload generated from genesis on top of a chain that is far from genesis — many of
    // its transactions revert (validators already registered, unknown proposals, …).
    const more = generateWorkload({ seed: 77, inputs: 40, epochLength: 10, rejected: 0.2 });
    const offset = head0 + 1n - (more.inputs[0] as GovernanceInput).position.block;
    const a = await chain.driver.replay(more.inputs, { offset });
    await watched.ingester.syncTo(a.lastBlock);
    const orphaned = (await revertedEntries(watched)).filter((x) => x.block > head0);
    expect(orphaned.length).toBeGreaterThan(3);
    const orphanedHashes = orphaned.map((x) => x.hash);

    // History B: back to the snapshot, every other input a few blocks later, and a longer chain.
    await chain.rpc.request('evm_revert', [snapshot]);
    const b = await chain.driver.replay(
      more.inputs.filter((_, k) => k % 2 === 0),
      { offset: offset + 3n },
    );
    await chain.rpc.mine(5);
    const head = b.lastBlock + 5n;
    await watched.ingester.syncTo(head);

    expect(await metricValue(m.registry, 'vigil_l2_reorgs_total')).toBeGreaterThanOrEqual(1);
    const reference = ingest('reorg-canonical');
    await reference.ingester.syncTo(head);
    expect(summary(watched)).toEqual(summary(reference));
    const kept = await revertedEntries(watched);
    expect(kept.map((x) => x.entry.txHash)).toEqual(
      (await revertedEntries(reference)).map((x) => x.entry.txHash),
    );
    expect(kept.filter((x) => x.block > head0).length).toBeGreaterThan(0);
    expect(kept.filter((x) => orphanedHashes.includes(x.hash))).toEqual([]);
    expect(watched.faults).toEqual([]);
  });
});

describe('reverted transactions the rules cannot explain', () => {
  let chain: Chain;
  let r: Redis;
  let w: Workload;
  let lastBlock: bigint;
  let outOfGas: GovernanceInput;
  let garbageBlock: bigint;

  beforeAll(async () => {
    w = generateWorkload({ seed: 9, inputs: 90, epochLength: 20 });
    chain = await startChain(w.genesis);
    const replay = await chain.driver.replay(w.inputs);
    const { addresses, deployer } = chain.deployment;
    const send = (to: string, data: string, gas = '0x1e8480', from: string = deployer) =>
      chain.rpc.request<string>('eth_sendTransaction', [{ from, to, data, gas }]);

    // Garbage to watched contracts: an unknown selector, and `stake` with truncated arguments. Both
    // revert. A refused commit (not the operator) reverts too but is no input: ignored, not counted.
    await send(addresses.governor, '0xdeadbeef01');
    await send(
      addresses.staking,
      `${encodeFunctionData({ abi: stakingAbi, functionName: 'stake', args: [5n] }).slice(0, 20)}`,
    );
    await send(
      addresses.stateCommitment,
      encodeFunctionData({
        abi: stateCommitmentAbi,
        functionName: 'commit',
        args: [0n, `0x${'11'.repeat(32)}`, `0x${'22'.repeat(32)}`],
      }),
    );
    await chain.rpc.mine(1);
    garbageBlock = await chain.rpc.blockNumber();

    // A stake the rules accept, sent with too little gas: the chain reverts it (out of gas).
    const state = workloadFinalState(w);
    const validator = [...state.validators.keys()][0] as string;
    const block = replay.lastBlock + 2n;
    outOfGas = {
      kind: 'stake',
      sender: validator as GovernanceInput['sender'],
      amount: w.genesis.params?.minStake ?? 1_000n,
      position: { block, txIndex: 0, logIndex: 0 },
    };
    const call = inputToCall(addresses, outOfGas);
    await send(call.to, call.data, '0x9000', validator);
    await chain.rpc.mine(1);
    // Then an epoch end, so the cross-check compares the model with the contracts after it.
    await send(
      addresses.epochManager,
      encodeFunctionData({ abi: epochManagerAbi, functionName: 'endEpoch' }),
    );
    await chain.rpc.mine(1);
    lastBlock = await chain.rpc.blockNumber();
    r = testRedis();
  });
  afterAll(async () => {
    await r?.cleanup();
    await chain?.stop();
  });

  const ingest = (tag: string, extra: Partial<GovernanceIngesterOptions> = {}) =>
    createGovernanceIngester({
      rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl] }),
      redis: r.redis,
      prefix: `${r.prefix}:${tag}`,
      deployment: chain.deployment,
      maxRange: 30n,
      ...extra,
    });

  it('skips garbage calldata with a warning and a count, and goes on', async () => {
    const m = testMetrics();
    const log = memoryLogger();
    const gi = ingest('garbage', { metrics: m.metrics, logger: log.logger });
    await gi.ingester.syncTo(lastBlock);
    expect(gi.ingester.cursor?.number).toBe(lastBlock);
    const skipped = log.records.filter(
      (x) => x.msg === 'skipping a reverted L2 transaction whose calldata is no governance input',
    );
    expect(skipped.map((x) => x.block)).toEqual([garbageBlock.toString(), garbageBlock.toString()]);
    expect(await metricValue(m.registry, 'vigil_l2_undecodable_reverted_txs_total')).toBe(2);
    // Everything after the garbage arrived: the out-of-gas stake and the epoch end.
    expect(gi.derivation.inputs.slice(-2).map((i) => i.kind)).toEqual(['stake', 'endEpoch']);
    expect(gi.derivation.inputs.length).toBe(w.inputs.length + 2);
  });

  it("'authoritative': a revert the model would accept is an execution fault and the model follows the chain", async () => {
    const gi = ingest('authoritative');
    await gi.ingester.syncTo(lastBlock);
    const faults = gi.faults.filter((f) => f.kind !== 'state-mismatch');
    expect(faults.map((f) => f.kind)).toEqual(['reverted-input-accepted']);
    expect(faults[0]).toMatchObject({ inputKind: 'stake' });
    expect(gi.derivation.revertedAccepted.map((x) => inputBody(x.input))).toEqual([inputBody(outOfGas)]);
    expect([...gi.derivation.overruledInputs]).toEqual([gi.derivation.inputs.length - 2]);
    // The model's state equals the contracts' at every epoch end, the one after the revert included.
    expect(gi.faults.filter((f) => f.kind === 'state-mismatch')).toEqual([]);
    expect(gi.checks.every((c) => c.ok)).toBe(true);
    expect(gi.checks.at(-1)?.block).toBe(lastBlock);
    // …and it is the state of the feed without the reverted stake.
    const without = gi.derivation.inputs.filter(
      (i) => i.kind !== 'stake' || i.position.block !== lastBlock - 1n,
    );
    expect(without.length).toBe(gi.derivation.inputs.length - 1);
    const root = bytesToHex(reexecute(without, { genesis: w.genesis }).root);
    expect(bytesToHex(computeStateRoot(gi.derivation.state))).toBe(root);
    expect(gi.derivation.epochEnds.at(-1)?.root).toBe(`0x${root}`);
  });

  it("the watcher's epoch source leaves the overruled input out too, so the epoch stays judgeable", async () => {
    const source = createL2EpochSource({
      rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl] }),
      redis: r.redis,
      prefix: `${r.prefix}:epoch-source`,
      deployment: chain.deployment,
      confirmations: 1,
      traceSteps: 3,
      graphs: { dir: '/nonexistent', network: 'regtest', operator: new Uint8Array(32), committee: [] },
      crossCheck: false,
    });
    for (let i = 0; i < 50 && !source.status().caughtUp; i++) await source.sync();
    const last = source.ingestion.derivation.epochEnds.at(-1);
    if (!last) throw new Error('no epoch end');
    const f = await source.facts(last.epoch);
    expect(f.reexecution).toMatchObject({ complete: true });
    if (!f.reexecution.complete) return;
    expect(`0x${bytesToHex(f.reexecution.root)}`).toBe(last.root);
    expect(f.reexecution.checkpoints?.at(-1)).toEqual(f.reexecution.root);
  });

  it("'executor': the model keeps what its executor did, and drifts from the chain", async () => {
    const gi = ingest('executor', { chainReverts: 'executor' });
    await gi.ingester.syncTo(lastBlock);
    expect(gi.faults.filter((f) => f.kind === 'reverted-input-accepted')).toEqual([]);
    const mismatches = gi.faults.filter((f) => f.kind === 'state-mismatch');
    expect(mismatches.length).toBe(1);
    expect(gi.checks.at(-1)?.ok).toBe(false);
    const all = bytesToHex(reexecute(gi.derivation.inputs, { genesis: w.genesis }).root);
    expect(bytesToHex(computeStateRoot(gi.derivation.state))).toBe(all);
  });
});
