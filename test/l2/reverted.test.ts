/**
 * Reverted transactions in the L2 feed, on a real anvil. A workload with inputs the rules refuse is
 * replayed: the contracts revert exactly those, ingestion puts them in the feed (decoded from calldata)
 * in chain order among the log-derived inputs, and the feed survives a restart, a node without
 * eth_getBlockReceipts and a reorg. Garbage calldata is counted and skipped. A refusal that names no
 * governance rule (out of gas, the token's balance, dirty calldata) is not an input at all; a contract
 * that refuses, naming a rule, what the rules accept is an execution fault in 'authoritative' mode and
 * leaves the model on the chain's state.
 */

import { encodeFunctionData } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { computeStateRoot, reexecute, type TraceStep } from '../../src/governance/index.ts';
import type { GovernanceInput } from '../../src/governance/inputs.ts';
import { generateWorkload, type Workload, workloadFinalState } from '../../src/governance/workload.ts';
import {
  btrTokenAbi,
  epochManagerAbi,
  stakingAbi,
  stateCommitmentAbi,
} from '../../src/l2/contracts/artifacts/abis.ts';
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
import {
  type Chain,
  memoryLogger,
  metricValue,
  patchedBytecode,
  startChain,
  testMetrics,
  testRedis,
} from './helpers.ts';

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

/** The stricter Staking: a `stake` of exactly 7777 is refused naming the `stake` rule, which §4 does not have. */
const STRICTER_STAKING = [
  'Staking.sol',
  'if (!v.registered || amount == 0) revert Rejected("stake");',
  'if (!v.registered || amount == 0 || amount == 7777) revert Rejected("stake");',
] as const;

describe('refused transactions: governance refusals are inputs, every other refusal is not', () => {
  let chain: Chain;
  let r: Redis;
  let w: Workload;
  let lastBlock: bigint;
  let strict: GovernanceInput;
  let garbageBlock: bigint;
  const tx: Record<string, string> = {};

  beforeAll(async () => {
    w = generateWorkload({ seed: 9, inputs: 90, epochLength: 20 });
    // A deliberately wrong L2: its Staking refuses, naming a rule, a stake the rules accept.
    chain = await startChain(w.genesis, {}, patchedBytecode([STRICTER_STAKING]));
    await chain.driver.replay(w.inputs);
    const { addresses, deployer } = chain.deployment;
    const send = async (to: string, data: string, gas = '0x1e8480', from: string = deployer) => {
      const hash = await chain.rpc.request<string>('eth_sendTransaction', [{ from, to, data, gas }]);
      await chain.rpc.mine(1);
      return hash;
    };

    // Garbage to watched contracts: an unknown selector, and `stake` with truncated arguments. Both
    // revert. A refused commit (not the operator) reverts too but is no input: ignored, not counted.
    await chain.rpc.request('evm_setAutomine', [false]);
    await chain.rpc.request('eth_sendTransaction', [
      { from: deployer, to: addresses.governor, data: '0xdeadbeef01', gas: '0x1e8480' },
    ]);
    await chain.rpc.request('eth_sendTransaction', [
      {
        from: deployer,
        to: addresses.staking,
        data: `${encodeFunctionData({ abi: stakingAbi, functionName: 'stake', args: [5n] }).slice(0, 20)}`,
        gas: '0x1e8480',
      },
    ]);
    await send(
      addresses.stateCommitment,
      encodeFunctionData({
        abi: stateCommitmentAbi,
        functionName: 'commit',
        args: [0n, `0x${'11'.repeat(32)}`, `0x${'22'.repeat(32)}`],
      }),
    );
    garbageBlock = await chain.rpc.blockNumber();

    const state = workloadFinalState(w);
    const validators = [...state.validators.keys()];
    const validator = validators[0] as GovernanceInput['sender'];
    const stakeCall = (amount: bigint) =>
      inputToCall(addresses, {
        kind: 'stake',
        sender: validator,
        amount,
        position: { block: 0n, txIndex: 0, logIndex: 0 },
      });
    // A stake the rules accept, sent with too little gas: out of gas, not an input.
    tx.outOfGas = await send(addresses.staking, stakeCall(1_000n).data, '0x9000', validator);
    // Two fresh validators without BTR: one approved Staking, one did not. Their stakes are refused by
    // the token (balance, allowance): not inputs. Their registrations are ordinary accepted inputs.
    const poor = '0x00000000000000000000000000000000000000bb' as GovernanceInput['sender'];
    const unapproved = '0x00000000000000000000000000000000000000cc' as GovernanceInput['sender'];
    for (const a of [poor, unapproved]) {
      await chain.rpc.request('anvil_setBalance', [a, '0x56bc75e2d63100000']);
      await send(
        addresses.staking,
        encodeFunctionData({ abi: stakingAbi, functionName: 'registerValidator', args: [100] }),
        '0x1e8480',
        a,
      );
    }
    await send(
      addresses.token,
      encodeFunctionData({
        abi: btrTokenAbi,
        functionName: 'approve',
        args: [addresses.staking, 10n ** 30n],
      }),
      '0x1e8480',
      poor,
    );
    tx.balance = await send(addresses.staking, stakeCall(5n).data, '0x1e8480', poor);
    tx.allowance = await send(addresses.staking, stakeCall(5n).data, '0x1e8480', unapproved);
    // A delegate whose address argument has dirty upper bytes: Solidity's decoder refuses, not an input.
    const stranger = '0x00000000000000000000000000000000000000aa';
    await chain.rpc.request('anvil_setBalance', [stranger, '0x56bc75e2d63100000']);
    const clean = encodeFunctionData({ abi: stakingAbi, functionName: 'delegate', args: [validator, 5n] });
    tx.dirty = await send(
      addresses.staking,
      `${clean.slice(0, 10)}ff${clean.slice(12)}`,
      '0x1e8480',
      stranger,
    );
    // The stake the stricter contract refuses naming its rule: an input the model accepts.
    const block = (await chain.rpc.blockNumber()) + 1n;
    strict = {
      kind: 'stake',
      sender: validator,
      amount: 7777n,
      position: { block, txIndex: 0, logIndex: 0 },
    };
    tx.strict = await send(addresses.staking, stakeCall(7777n).data, '0x1e8480', validator);
    // Then an epoch end, so the cross-check compares the model with the contracts after it.
    await send(
      addresses.epochManager,
      encodeFunctionData({ abi: epochManagerAbi, functionName: 'endEpoch' }),
    );
    lastBlock = await chain.rpc.blockNumber();
    r = testRedis();
  }, 120_000);
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

  const refusals = async (registry: ReturnType<typeof testMetrics>['registry']) => {
    const m = await registry.getSingleMetric('vigil_l2_refused_txs_total')?.get();
    return Object.fromEntries(
      (m?.values ?? []).map((v) => [`${v.labels.input}:${v.labels.refusal}`, v.value]),
    );
  };

  it('counts garbage and every refusal by kind; only the refusal that names a rule reaches the feed', async () => {
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
    expect(await refusals(m.registry)).toEqual({
      'stake:out-of-gas': 1,
      'stake:token-balance': 1,
      'stake:token-allowance': 1,
      'delegate:malformed-calldata': 1,
      'stake:governance': 1,
    });
    const notInputs = log.records.filter(
      (x) => x.msg === 'a refused L2 transaction that is not a governance input',
    );
    expect(notInputs.map((x) => [x.tx, x.refusal])).toEqual([
      [tx.outOfGas, 'out-of-gas'],
      [tx.balance, 'token-balance'],
      [tx.allowance, 'token-allowance'],
      [tx.dirty, 'malformed-calldata'],
    ]);
    // After the workload: the two registrations, the refused-by-rule stake and the epoch end.
    expect(gi.derivation.inputs.slice(-4).map((i) => i.kind)).toEqual([
      'registerValidator',
      'registerValidator',
      'stake',
      'endEpoch',
    ]);
    expect(inputBody(gi.derivation.inputs.at(-2) as GovernanceInput)).toBe(inputBody(strict));
    expect(gi.derivation.inputs.length).toBe(w.inputs.length + 4);
    const journaled = await revertedEntries(gi);
    expect(journaled.map((j) => [j.entry.txHash, j.entry.rule])).toEqual([[tx.strict, 'stake']]);
  });

  it("'authoritative': a refusal naming a rule the model does not have is an execution fault, and the model follows the chain", async () => {
    const gi = ingest('authoritative');
    await gi.ingester.syncTo(lastBlock);
    const faults = gi.faults.filter((f) => f.kind !== 'state-mismatch');
    expect(faults.map((f) => f.kind)).toEqual(['reverted-input-accepted']);
    expect(faults[0]).toMatchObject({
      inputKind: 'stake',
      rule: 'stake',
      txHash: tx.strict,
      block: strict.position.block,
    });
    expect(gi.derivation.revertedAccepted.map((x) => inputBody(x.input))).toEqual([inputBody(strict)]);
    expect([...gi.derivation.overruledInputs]).toEqual([gi.derivation.inputs.length - 2]);
    // The model's state equals the contracts' at every epoch end, the one after the revert included.
    expect(gi.faults.filter((f) => f.kind === 'state-mismatch')).toEqual([]);
    expect(gi.checks.every((c) => c.ok)).toBe(true);
    expect(gi.checks.at(-1)?.block).toBe(lastBlock);
    // …and it is the state of the feed without the refused stake.
    const without = gi.derivation.inputs.filter((_, k) => k !== gi.derivation.inputs.length - 2);
    const root = bytesToHex(reexecute(without, { genesis: w.genesis }).root);
    expect(bytesToHex(computeStateRoot(gi.derivation.state))).toBe(root);
    expect(gi.derivation.epochEnds.at(-1)?.root).toBe(`0x${root}`);
  });

  it('reads the same refusals from a node without debug_traceTransaction (eth_call at the parent block)', async () => {
    const proxy = await startFaultyProxy(chain.anvil.rpcUrl);
    try {
      proxy.setUnsupported(['debug_traceTransaction']);
      const m = testMetrics();
      const log = memoryLogger();
      const gi = ingest('no-debug', {
        rpc: new L2Rpc({ urls: [proxy.url] }),
        metrics: m.metrics,
        logger: log.logger,
      });
      await gi.ingester.syncTo(lastBlock);
      expect(proxy.counts.unsupported).toBe(1);
      expect(log.records.filter((x) => /lacks debug_traceTransaction/.test(x.msg))).toHaveLength(1);
      expect(await refusals(m.registry)).toEqual({
        'stake:out-of-gas': 1,
        'stake:token-balance': 1,
        'stake:token-allowance': 1,
        'delegate:malformed-calldata': 1,
        'stake:governance': 1,
      });
      expect(gi.faults.map((f) => f.kind)).toEqual(['reverted-input-accepted']);
    } finally {
      await proxy.close();
    }
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

  it('keeping the refused input, as a faulty operator re-executing the feed does, drifts from the chain', async () => {
    const gi = ingest('keeper');
    await gi.ingester.syncTo(lastBlock);
    // Re-executing every input of the feed keeps the stake the chain refused by a rule: another root
    // than the chain's (the derivation's, which the cross-check confirmed).
    const kept = bytesToHex(reexecute(gi.derivation.inputs, { genesis: w.genesis }).root);
    expect(gi.checks.every((c) => c.ok)).toBe(true);
    expect(kept).not.toBe(bytesToHex(computeStateRoot(gi.derivation.state)));
    expect(`0x${kept}`).not.toBe(gi.derivation.epochEnds.at(-1)?.root);
  });
});
