/**
 * The dispute's Bitcoin transactions collected from a backend alone, on simnet through both its fronts:
 * the claim, the kick-off, the challenge (two crowdfunders), a challenger's CPFP child, the assert and a
 * disprove left in the mempool; the take, assert-timeout and payout paths; the walk without a graph and
 * its bound. Every collected transaction verifies with the interpreter against its collected prevouts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CoreRpcBackend } from '../../src/bitcoin/backends/core-rpc.ts';
import { EsploraBackend } from '../../src/bitcoin/backends/esplora.ts';
import type { BitcoinBackend } from '../../src/bitcoin/backends/types.ts';
import { CONSENSUS_FLAGS } from '../../src/bitcoin/script/flags.ts';
import { type Simnet, startSimnet } from '../../src/bitcoin/simnet/start.ts';
import { taprootOutput } from '../../src/bitcoin/taproot/output.ts';
import { hashToDisplayHex, parseTx, serializeTx, txid, txidHex } from '../../src/bitcoin/tx/serialize.ts';
import { SIGHASH_DEFAULT } from '../../src/bitcoin/tx/sighash.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import { verifyTransaction } from '../../src/bitcoin/tx/verify.ts';
import { equalBytes, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import {
  buildChallenge,
  type ChallengeFunding,
  signKeyPathInput,
} from '../../src/dispute/graph/challenge.ts';
import { defaultGraphParameters } from '../../src/dispute/graph/parameters.ts';
import {
  completeAssert,
  completeAssertTimeout,
  completeDisprove,
  completeKickoff,
  completePayout,
  completeTake,
} from '../../src/dispute/graph/spend.ts';
import type { BundleTx } from '../../src/replay/bundle.ts';
import {
  collectDisputeTransactions,
  DisputeConfirmationError,
  DisputeTooLargeError,
} from '../../src/replay/collect.ts';
import { type GraphFixture, makeGraph, secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';

const params = defaultGraphParameters.regtest;
const p2tr = (label: string) => taprootOutput(xOnly(secretOf(label))).scriptPubKey;
const miner = p2tr('miner');
const root = (label: string) => sha256(utf8(label));
const claimedRoot = root('claimed root');

type Front = 'rpc' | 'esplora';
type World = {
  sim: Simnet;
  backend: BitcoinBackend;
  fx: GraphFixture;
  funding: Tx;
  kickoff: Tx;
  coins: ChallengeFunding[];
};

let running: Simnet | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** Simnet, a backend on one front, a confirmed funding of the claim and two challengers; kick-off mined. */
async function setup(front: Front = 'rpc'): Promise<World> {
  let now = 1_700_000_000;
  const sim = await startSimnet({ clock: () => (now += 600) });
  running = sim;
  const backend: BitcoinBackend =
    front === 'rpc'
      ? new CoreRpcBackend({ url: sim.rpcUrl, auth: sim.rpcAuth, retry: { attempts: 1 } })
      : new EsploraBackend({ baseUrl: sim.esploraUrl, retry: { attempts: 1 } });
  const chain = sim.chain;
  const funderScript = p2tr('funder');
  chain.mine(funderScript);
  for (let i = 0; i < 100; i++) chain.mine(miner);
  const coinbase = chain.blockAt(1)?.txs[0]?.tx as Tx;
  const subsidy = coinbase.outputs[0]?.value as bigint;
  const claimValue = params.stake + 2n * params.connectorValue + params.fees.kickoff;
  const funding: Tx = {
    version: 2,
    locktime: 0,
    inputs: [
      { prevTxid: txid(coinbase), vout: 0, scriptSig: new Uint8Array(), sequence: 0xfffffffd, witness: [] },
    ],
    outputs: [
      // The claim script depends on the Winternitz keys only, not on the claim outpoint.
      { value: claimValue, script: makeGraph().graph.outputs.claim.scriptPubKey },
      { value: 800_000n, script: p2tr('challenger 1') },
      { value: 600_000n, script: p2tr('challenger 2') },
      { value: subsidy - claimValue - 1_400_000n - 10_000n, script: funderScript },
    ],
  };
  signKeyPathInput(
    { tx: funding, prevouts: [{ value: subsidy, script: funderScript }] },
    0,
    secretOf('funder'),
    SIGHASH_DEFAULT,
  );
  await backend.broadcast(serializeTx(funding));
  chain.mine(miner);
  const fx = makeGraph({ claimTxid: txid(funding), claimVout: 0 });
  const kickoff = completeKickoff(fx.graph, fx.operatorSecret, fx.kickoffSecrets, {
    stateRoot: claimedRoot,
    l2BlockHash: root('l2 block'),
  }).tx;
  await send(sim, backend, kickoff);
  const coins = [1, 2].map((k) => ({
    txid: txid(funding),
    vout: k,
    prevout: { value: funding.outputs[k]?.value as bigint, script: funding.outputs[k]?.script as Uint8Array },
  }));
  return { sim, backend, fx, funding, kickoff, coins };
}

/** Broadcasts through the backend and, unless told not to, mines it. */
async function send(sim: Simnet, backend: BitcoinBackend, tx: Tx, mine = true): Promise<void> {
  expect(await backend.broadcast(serializeTx(tx))).toBe(txidHex(tx));
  if (mine) expect(sim.chain.mine(miner).txs.map((t) => t.txid)).toContain(txidHex(tx));
}

function challenge(w: World): Tx {
  const change = [
    { value: 200_000n, script: p2tr('challenger 1') },
    { value: 150_000n, script: p2tr('challenger 2') },
  ];
  const c = buildChallenge(w.fx.graph, w.fx.sigs, w.coins, change);
  signKeyPathInput(c, 1, secretOf('challenger 1'));
  signKeyPathInput(c, 2, secretOf('challenger 2'));
  return c.tx;
}

/** A key-path spend of `parent`'s output `vout` (a coin of `owner`) back to `owner`, less a fee. */
function spendChange(parent: Tx, vout: number, owner: string): Tx {
  const coin = parent.outputs[vout] as Tx['outputs'][number];
  const tx: Tx = {
    version: 2,
    locktime: 0,
    inputs: [
      { prevTxid: txid(parent), vout, scriptSig: new Uint8Array(), sequence: 0xfffffffd, witness: [] },
    ],
    outputs: [{ value: coin.value - 5_000n, script: p2tr(owner) }],
  };
  signKeyPathInput({ tx, prevouts: [coin] }, 0, secretOf(owner), SIGHASH_DEFAULT);
  return tx;
}

function mineBlocks(sim: Simnet, n: number): void {
  for (let i = 0; i < n; i++) sim.chain.mine(miner);
}

/** Each collected transaction is what the chain has (bytes, block) and verifies against its prevouts. */
function expectTrue(w: World, collected: BundleTx[]): void {
  for (const c of collected) {
    const tx = parseTx(c.raw);
    expect(txidHex(tx)).toBe(c.txid);
    const onChain = w.sim.chain.findTx(c.txid);
    expect(onChain, c.txid).toBeDefined();
    expect(equalBytes(onChain?.raw as Uint8Array, c.raw)).toBe(true);
    expect(c.confirmation).toEqual(
      onChain?.block ? { height: onChain.block.height, blockHash: onChain.block.hash } : undefined,
    );
    expect(c.prevouts).toHaveLength(tx.inputs.length);
    tx.inputs.forEach((input, i) => {
      const parent = w.sim.chain.findTx(hashToDisplayHex(input.prevTxid));
      const spent = parent?.tx.outputs[input.vout];
      expect(c.prevouts[i]?.value).toBe(spent?.value);
      expect(equalBytes(c.prevouts[i]?.script as Uint8Array, spent?.script as Uint8Array)).toBe(true);
    });
    const verdict = verifyTransaction(tx, c.prevouts, CONSENSUS_FLAGS);
    expect(verdict.ok, `${c.role} ${c.txid}: ${JSON.stringify(verdict.inputs)}`).toBe(true);
  }
  // Parents before children.
  const at = new Map(collected.map((c, i) => [c.txid, i]));
  collected.forEach((c, i) => {
    for (const input of parseTx(c.raw).inputs) {
      const p = at.get(hashToDisplayHex(input.prevTxid));
      if (p !== undefined) expect(p).toBeLessThan(i);
    }
  });
}

describe('collectDisputeTransactions', () => {
  it.each<Front>(['rpc', 'esplora'])(
    'challenged → CPFP child → assert → disprove in the mempool, through the %s front',
    async (front) => {
      const w = await setup(front);
      const c = challenge(w);
      await send(w.sim, w.backend, c);
      // Challenger 1 spends its change (a CPFP child), then spends that again: outside the dispute.
      const child = spendChange(c, 1, 'challenger 1');
      await send(w.sim, w.backend, child);
      const grandchild = spendChange(child, 0, 'challenger 1');
      await send(w.sim, w.backend, grandchild);
      const assert = completeAssert(w.fx.graph, w.fx.sigs, w.fx.traceSecrets, [
        root('r0'),
        root('r0'),
        claimedRoot,
      ]).tx;
      await send(w.sim, w.backend, assert);
      const disprove = completeDisprove(w.fx.graph, w.fx.sigs, 1, w.kickoff, assert, {
        script: p2tr('watcher'),
        fee: 20_000n,
      }).tx;
      await send(w.sim, w.backend, disprove, false);

      const collected = await collectDisputeTransactions(w.backend, {
        kickoffTxid: txidHex(w.kickoff),
        graph: w.fx.graph,
      });
      expect(collected.map((t) => [t.role, t.txid])).toEqual([
        ['claim', txidHex(w.funding)],
        ['kickoff', txidHex(w.kickoff)],
        ['challenge', txidHex(c)],
        ['assert', txidHex(assert)],
        ['other', txidHex(child)],
        ['disprove', txidHex(disprove)],
      ]);
      expect(collected.find((t) => t.role === 'disprove')?.confirmation).toBeUndefined();
      expect(collected.find((t) => t.role === 'assert')?.confirmation?.height).toBe(w.sim.chain.height);
      expectTrue(w, collected);
    },
  );

  it('unchallenged: the take after the challenge window', async () => {
    const w = await setup();
    mineBlocks(w.sim, params.timelocks.challengeWindow - 1);
    const take = completeTake(w.fx.graph, w.fx.sigs).tx;
    await send(w.sim, w.backend, take);
    const collected = await collectDisputeTransactions(w.backend, {
      kickoffTxid: txidHex(w.kickoff),
      graph: w.fx.graph,
    });
    expect(collected.map((t) => [t.role, t.txid])).toEqual([
      ['claim', txidHex(w.funding)],
      ['kickoff', txidHex(w.kickoff)],
      ['take', txidHex(take)],
    ]);
    expectTrue(w, collected);
  });

  it('challenged, no assert: the assert-timeout', async () => {
    const w = await setup();
    const c = challenge(w);
    await send(w.sim, w.backend, c);
    mineBlocks(w.sim, params.timelocks.assertWindow - 2);
    const timeout = completeAssertTimeout(w.fx.graph, w.fx.sigs, {
      script: p2tr('challenger 2'),
      fee: 10_000n,
    }).tx;
    await send(w.sim, w.backend, timeout);
    const collected = await collectDisputeTransactions(w.backend, {
      kickoffTxid: txidHex(w.kickoff),
      graph: w.fx.graph,
    });
    expect(collected.map((t) => [t.role, t.txid])).toEqual([
      ['claim', txidHex(w.funding)],
      ['kickoff', txidHex(w.kickoff)],
      ['challenge', txidHex(c)],
      ['assert-timeout', txidHex(timeout)],
    ]);
    expectTrue(w, collected);
  });

  it('challenged, a correct assert: the payout after the disprove window', async () => {
    const w = await setup();
    const c = challenge(w);
    await send(w.sim, w.backend, c);
    const assert = completeAssert(w.fx.graph, w.fx.sigs, w.fx.traceSecrets, [
      claimedRoot,
      claimedRoot,
      claimedRoot,
    ]).tx;
    await send(w.sim, w.backend, assert);
    mineBlocks(w.sim, params.timelocks.disproveWindow - 1);
    const payout = completePayout(w.fx.graph, w.fx.sigs).tx;
    await send(w.sim, w.backend, payout);
    const collected = await collectDisputeTransactions(w.backend, {
      kickoffTxid: txidHex(w.kickoff),
      graph: w.fx.graph,
    });
    expect(collected.map((t) => t.role)).toEqual(['claim', 'kickoff', 'challenge', 'assert', 'payout']);
    expect(collected.at(-1)?.txid).toBe(txidHex(payout));
    expectTrue(w, collected);
  });

  it('without a graph: every spender, as deep as asked, named other; beyond maxTxs an error', async () => {
    const w = await setup();
    const c = challenge(w);
    await send(w.sim, w.backend, c);
    const child = spendChange(c, 1, 'challenger 1');
    await send(w.sim, w.backend, child);
    const grandchild = spendChange(child, 0, 'challenger 1');
    await send(w.sim, w.backend, grandchild);
    const kickoffTxid = txidHex(w.kickoff);

    const all = await collectDisputeTransactions(w.backend, { kickoffTxid });
    expect(all.map((t) => [t.role, t.txid])).toEqual([
      ['claim', txidHex(w.funding)],
      ['kickoff', kickoffTxid],
      ['other', txidHex(c)],
      ['other', txidHex(child)],
      ['other', txidHex(grandchild)],
    ]);
    expectTrue(w, all);
    const shallow = await collectDisputeTransactions(w.backend, { kickoffTxid, maxDepth: 2 });
    expect(shallow.map((t) => t.txid)).not.toContain(txidHex(grandchild));
    expect(shallow).toHaveLength(4);

    const err = await collectDisputeTransactions(w.backend, { kickoffTxid, maxTxs: 3 }).catch((e) => e);
    expect(err).toBeInstanceOf(DisputeTooLargeError);
    expect((err as DisputeTooLargeError).shortMessage).toBe(
      `the dispute of kick-off ${kickoffTxid} has more than 3 Bitcoin transactions`,
    );
  });
  it('a backend whose confirmation its own chain does not bear out is refused', async () => {
    const w = await setup();
    const c = challenge(w);
    await send(w.sim, w.backend, c);
    const cTxid = txidHex(c);
    const tip = await w.backend.getTipHeight();
    const otherBlock = (await w.backend.getBlockHash(tip - 3)) as string;
    // The lie: the challenge "confirmed" in an earlier block than the one that holds it.
    const lying: BitcoinBackend = Object.create(w.backend) as BitcoinBackend;
    lying.getTransaction = async (txid: string) => {
      const got = await w.backend.getTransaction(txid);
      if (got === undefined || txid !== cTxid || !got.status.confirmed) return got;
      return { ...got, status: { confirmed: true, blockHeight: tip - 3, blockHash: otherBlock } };
    };
    const err = await collectDisputeTransactions(lying, {
      kickoffTxid: txidHex(w.kickoff),
      graph: w.fx.graph,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DisputeConfirmationError);
    expect((err as DisputeConfirmationError).shortMessage).toContain('does not hold it');
  });
});
