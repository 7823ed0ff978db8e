/**
 * The graph played out on simnet (Core's acceptance rules, the project's script engine, BIP-68 relative
 * locks, relay policy): every path, with spends before maturity refused.
 */
import { describe, expect, it } from 'vitest';
import { SimChain } from '../../src/bitcoin/simnet/chain.ts';
import { taprootOutput } from '../../src/bitcoin/taproot/output.ts';
import { txid, txidHex, txVsize } from '../../src/bitcoin/tx/serialize.ts';
import { SIGHASH_DEFAULT } from '../../src/bitcoin/tx/sighash.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import {
  buildChallenge,
  type ChallengeFunding,
  signKeyPathInput,
} from '../../src/dispute/graph/challenge.ts';
import {
  challengeChange,
  cpfpChildFee,
  type FeeCap,
  FeeCapExceededError,
  replacementFee,
} from '../../src/dispute/graph/fees.ts';
import { defaultGraphParameters } from '../../src/dispute/graph/parameters.ts';
import { BURN_SCRIPT_PUBKEY } from '../../src/dispute/graph/scripts.ts';
import {
  completeAssert,
  completeAssertTimeout,
  completeDisprove,
  completeKickoff,
  completePayout,
  completeTake,
  faultySteps,
  type SpendableTx,
} from '../../src/dispute/graph/spend.ts';
import { rejection } from '../../testkit/bitcoin/simnet/fixture.ts';
import { type GraphFixture, makeGraph, secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';

const params = defaultGraphParameters.regtest;
const p2tr = (label: string) => taprootOutput(xOnly(secretOf(label))).scriptPubKey;
const miner = p2tr('miner');
const root = (label: string) => sha256(utf8(label));
const claimedRoot = root('claimed root');

type World = { chain: SimChain; fx: GraphFixture; kickoff: SpendableTx; coins: ChallengeFunding[] };

/** A chain with a mature coin, a funding transaction for the claim and two challengers, and the graph. */
function setup(): World {
  let now = 1_700_000_000;
  const chain = new SimChain({ clock: () => (now += 600) });
  const funderScript = p2tr('funder');
  chain.mine(funderScript);
  for (let i = 0; i < 100; i++) chain.mine(miner);
  const coinbase = chain.blockAt(1)!.txs[0]!.tx;
  const claimValue = params.stake + 2n * params.connectorValue + params.fees.kickoff;
  const funding: Tx = {
    version: 2,
    locktime: 0,
    inputs: [
      { prevTxid: txid(coinbase), vout: 0, scriptSig: new Uint8Array(), sequence: 0xfffffffd, witness: [] },
    ],
    outputs: [
      { value: claimValue, script: new Uint8Array() }, // the claim script is set once the graph is built
      { value: 800_000n, script: p2tr('challenger 1') },
      { value: 600_000n, script: p2tr('challenger 2') },
    ],
  };
  // The claim output commits to the graph's Winternitz keys, which do not depend on the claim outpoint,
  // so build once to learn the script, then again on the funding txid.
  funding.outputs[0]!.script = makeGraph().graph.outputs.claim.scriptPubKey;
  const spend = { tx: funding, prevouts: [{ value: coinbase.outputs[0]!.value, script: funderScript }] };
  const subsidy = coinbase.outputs[0]!.value;
  funding.outputs.push({ value: subsidy - claimValue - 1_400_000n - 10_000n, script: funderScript });
  signKeyPathInput(spend, 0, secretOf('funder'), SIGHASH_DEFAULT);
  chain.acceptTx(funding);
  chain.mine(miner);
  const fx = makeGraph({ claimTxid: txid(funding), claimVout: 0 });
  const kickoff = completeKickoff(fx.graph, fx.operatorSecret, fx.kickoffSecrets, {
    stateRoot: claimedRoot,
    l2BlockHash: root('l2 block'),
  });
  const coins = [1, 2].map((k) => ({
    txid: txid(funding),
    vout: k,
    prevout: { value: funding.outputs[k]!.value, script: funding.outputs[k]!.script },
  }));
  return { chain, fx, kickoff, coins };
}

/** Mines until `tx` is accepted; returns how many blocks had to pass after `since` (its parent's block). */
function acceptWhenMature(chain: SimChain, tx: Tx, since: number, limit: number): number {
  for (;;) {
    const waited = chain.height - since;
    const r = rejection(chain, tx);
    if (r === 'accepted') return waited + 1;
    expect(r).toBe('non-BIP68-final');
    if (waited > limit) throw new Error(`still immature after ${waited} blocks`);
    chain.mine(miner);
  }
}

function confirm(chain: SimChain, tx: Tx): number {
  const block = chain.mine(miner);
  expect(block.txs.map((t) => t.txid)).toContain(txidHex(tx));
  return block.height;
}

function challenge(w: World): Tx {
  const { graph } = w.fx;
  const change = [
    { value: 200_000n, script: w.coins[0]!.prevout.script },
    { value: 150_000n, script: w.coins[1]!.prevout.script },
  ];
  const c = buildChallenge(graph, w.fx.sigs, w.coins, change);
  signKeyPathInput(c, 1, secretOf('challenger 1'));
  signKeyPathInput(c, 2, secretOf('challenger 2'));
  return c.tx;
}

describe('the graph on simnet', () => {
  it('unchallenged kick-off → take after the challenge window, not before', () => {
    const w = setup();
    expect(rejection(w.chain, w.kickoff.tx)).toBe('accepted');
    const k = confirm(w.chain, w.kickoff.tx);
    const take = completeTake(w.fx.graph, w.fx.sigs).tx;
    expect(acceptWhenMature(w.chain, take, k, 20)).toBe(params.timelocks.challengeWindow);
    confirm(w.chain, take);
    expect(w.chain.unspentCoin(txidHex(take), 0)).toBeDefined();
    expect(take.outputs[0]?.value).toBe(params.stake + 2n * params.connectorValue - params.fees.take);
    expect(take.outputs[0]?.script).toEqual(w.fx.graph.outputs.operatorPayout.scriptPubKey);
  });

  it('challenged (two crowdfunders) → assert → disprove of a faulty step burns half and rewards', () => {
    const w = setup();
    w.chain.acceptTx(w.kickoff.tx);
    confirm(w.chain, w.kickoff.tx);
    const c = challenge(w);
    expect(rejection(w.chain, c)).toBe('accepted');
    confirm(w.chain, c);
    // The challenge spent connector A: the take can never be valid now.
    for (let i = 0; i < params.timelocks.challengeWindow; i++) w.chain.mine(miner);
    expect(rejection(w.chain, completeTake(w.fx.graph, w.fx.sigs).tx)).toBe('bad-txns-inputs-missingorspent');
    const assert = completeAssert(w.fx.graph, w.fx.sigs, w.fx.traceSecrets, [
      root('r0'),
      root('r0'),
      claimedRoot,
    ]);
    expect(rejection(w.chain, assert.tx)).toBe('accepted');
    confirm(w.chain, assert.tx);
    expect(faultySteps(w.fx.graph, w.kickoff.tx, assert.tx)).toEqual([1]);
    const reward = { script: p2tr('challenger 1'), fee: 20_000n };
    const d = completeDisprove(w.fx.graph, w.fx.sigs, 1, w.kickoff.tx, assert.tx, reward);
    expect(rejection(w.chain, d.tx)).toBe('accepted');
    confirm(w.chain, d.tx);
    const asserted = params.stake + params.connectorValue - params.fees.assert;
    expect(d.tx.outputs[0]).toEqual({ value: asserted / 2n, script: BURN_SCRIPT_PUBKEY });
    expect(d.tx.outputs[1]).toEqual({
      value: asserted - asserted / 2n - 20_000n,
      script: p2tr('challenger 1'),
    });
    // The payout is gone for good.
    expect(rejection(w.chain, completePayout(w.fx.graph, w.fx.sigs).tx)).toBe(
      'bad-txns-inputs-missingorspent',
    );
  });

  it('challenged → correct assert → no disprove possible → payout after the disprove window', () => {
    const w = setup();
    w.chain.acceptTx(w.kickoff.tx);
    confirm(w.chain, w.kickoff.tx);
    w.chain.acceptTx(challenge(w));
    w.chain.mine(miner);
    const assert = completeAssert(w.fx.graph, w.fx.sigs, w.fx.traceSecrets, [
      claimedRoot,
      claimedRoot,
      claimedRoot,
    ]);
    w.chain.acceptTx(assert.tx);
    const a = confirm(w.chain, assert.tx);
    expect(faultySteps(w.fx.graph, w.kickoff.tx, assert.tx)).toEqual([]);
    const payout = completePayout(w.fx.graph, w.fx.sigs).tx;
    expect(acceptWhenMature(w.chain, payout, a, 20)).toBe(params.timelocks.disproveWindow);
    confirm(w.chain, payout);
  });

  it('challenged → no assert → assert-timeout after the assert window, not before', () => {
    const w = setup();
    w.chain.acceptTx(w.kickoff.tx);
    const k = confirm(w.chain, w.kickoff.tx);
    w.chain.acceptTx(challenge(w));
    w.chain.mine(miner);
    const timeout = completeAssertTimeout(w.fx.graph, w.fx.sigs, {
      script: p2tr('challenger 2'),
      fee: 10_000n,
    }).tx;
    expect(acceptWhenMature(w.chain, timeout, k, 30)).toBe(params.timelocks.assertWindow);
    confirm(w.chain, timeout);
    // The operator can no longer assert: the stake is spent.
    const assert = completeAssert(w.fx.graph, w.fx.sigs, w.fx.traceSecrets, [
      claimedRoot,
      claimedRoot,
      claimedRoot,
    ]);
    expect(rejection(w.chain, assert.tx)).toBe('bad-txns-inputs-missingorspent');
  });

  it('a challenge is bumped by RBF (re-signed, less change) and by CPFP through its change, under the cap', () => {
    const w = setup();
    w.chain.acceptTx(w.kickoff.tx);
    confirm(w.chain, w.kickoff.tx);
    const { graph } = w.fx;
    const cap: FeeCap = { maxFeeRate: 100n, maxFee: 200_000n };
    const funds = {
      contributed: w.coins[0]!.prevout.value + w.coins[1]!.prevout.value,
      challengeAmount: graph.spec.params.challengeAmount,
      connectorValue: graph.spec.params.connectorValue,
    };
    const changeScript = w.coins[0]!.prevout.script;
    const signed = (fee: bigint) => {
      const c = buildChallenge(graph, w.fx.sigs, w.coins, [
        { value: challengeChange(funds, fee), script: changeScript },
      ]);
      signKeyPathInput(c, 1, secretOf('challenger 1'));
      signKeyPathInput(c, 2, secretOf('challenger 2'));
      return c.tx;
    };
    const first = signed(600n);
    const vsize = txVsize(first);
    expect(w.chain.acceptTx(first).fee).toBe(600n);
    const fee2 = replacementFee({ previousFee: 600n, vsize, targetFeeRate: 20n, cap });
    const second = signed(fee2);
    const accepted = w.chain.acceptTx(second);
    expect(accepted.replaced).toEqual([txidHex(first)]);
    expect(accepted.fee).toBe(fee2);
    // Beyond the cap nothing is built at all.
    expect(() => replacementFee({ previousFee: fee2, vsize, targetFeeRate: 500n, cap })).toThrow(
      FeeCapExceededError,
    );

    // CPFP: challenger 1 spends its change to lift the package to 50 sat/vB.
    const changeValue = second.outputs[1]!.value;
    const child: Tx = {
      version: 2,
      locktime: 0,
      inputs: [
        { prevTxid: txid(second), vout: 1, scriptSig: new Uint8Array(), sequence: 0xfffffffd, witness: [] },
      ],
      outputs: [{ value: changeValue, script: changeScript }],
    };
    const spend = { tx: child, prevouts: [{ value: changeValue, script: changeScript }] };
    signKeyPathInput(spend, 0, secretOf('challenger 1'), SIGHASH_DEFAULT);
    const childFee = cpfpChildFee({
      parentFee: fee2,
      parentVsize: vsize,
      childVsize: txVsize(child),
      targetFeeRate: 50n,
      cap,
    });
    child.outputs[0]!.value = changeValue - childFee;
    signKeyPathInput(spend, 0, secretOf('challenger 1'), SIGHASH_DEFAULT);
    expect(w.chain.acceptTx(child).fee).toBe(childFee);
    const block = w.chain.mine(miner);
    expect(block.txs.map((t) => t.txid)).toEqual(expect.arrayContaining([txidHex(second), txidHex(child)]));
  });
});
