/**
 * The slashing transactions leave through the real backends and the simnet fronts, which apply Bitcoin
 * Core 26's sendrawtransaction rules with default arguments (maxfeerate 0.10 BTC/kvB, maxburnamount 0),
 * as Vigil sends them and as an Esplora server forwards them. The assert-timeout and a disprove, with
 * the reward filled in, are accepted by both; the same transactions with the former bare-OP_RETURN burn,
 * otherwise valid (properly presigned, testmempoolaccept allows them), are refused by both.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CoreRpcBackend } from '../../src/bitcoin/backends/core-rpc.ts';
import { BroadcastRejectedError } from '../../src/bitcoin/backends/errors.ts';
import { EsploraBackend } from '../../src/bitcoin/backends/esplora.ts';
import type { BitcoinBackend } from '../../src/bitcoin/backends/types.ts';
import { type Simnet, startSimnet } from '../../src/bitcoin/simnet/start.ts';
import { taprootOutput } from '../../src/bitcoin/taproot/output.ts';
import { cloneTx, serializeTx, txid, txidHex } from '../../src/bitcoin/tx/serialize.ts';
import { SIGHASH_DEFAULT } from '../../src/bitcoin/tx/sighash.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import type { Graph } from '../../src/dispute/graph/build.ts';
import { signKeyPathInput } from '../../src/dispute/graph/challenge.ts';
import { defaultGraphParameters } from '../../src/dispute/graph/parameters.ts';
import { BURN_SCRIPT_PUBKEY } from '../../src/dispute/graph/scripts.ts';
import { collectSignatures, type PresignedSignatures, presignGraph } from '../../src/dispute/graph/sign.ts';
import {
  completeAssert,
  completeAssertTimeout,
  completeDisprove,
  completeKickoff,
  type RewardClaim,
} from '../../src/dispute/graph/spend.ts';
import { type GraphFixture, makeGraph, secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';

const params = defaultGraphParameters.regtest;
const p2tr = (label: string) => taprootOutput(xOnly(secretOf(label))).scriptPubKey;
const miner = p2tr('miner');
const root = (label: string) => sha256(utf8(label));
const claimedRoot = root('claimed root');
const BARE_OP_RETURN = Uint8Array.of(0x6a);
const reward: RewardClaim = { script: p2tr('watcher'), fee: 20_000n };

type Front = 'rpc' | 'esplora';
type World = { sim: Simnet; backend: BitcoinBackend; fx: GraphFixture; kickoff: Tx; old: OldGraph };
type OldGraph = { graph: Graph; sigs: PresignedSignatures };

/**
 * The graph as it was before the burn moved to P2WSH(OP_RETURN): the same templates with a bare
 * OP_RETURN output 0, presigned again by the same covenant so the spends are fully valid.
 */
function withBareOpReturnBurn(fx: GraphFixture): OldGraph {
  const old = (t: Tx): Tx => {
    const c = cloneTx(t);
    (c.outputs[0] as Tx['outputs'][number]).script = BARE_OP_RETURN;
    return c;
  };
  const graph: Graph = {
    ...fx.graph,
    txs: {
      ...fx.graph.txs,
      assertTimeout: old(fx.graph.txs.assertTimeout),
      disprove: fx.graph.txs.disprove.map(old),
    },
  };
  const sigs = collectSignatures(
    graph,
    [fx.operatorSecret, ...fx.committeeSecrets].map((s) => presignGraph(graph, s)),
  );
  return { graph, sigs };
}

let running: Simnet | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** Simnet, a backend on one of its fronts, a confirmed claim output and the graph on it; kick-off sent. */
async function setup(front: Front): Promise<World> {
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
  // The claim script depends on the Winternitz keys only, not on the claim outpoint.
  const claimScript = makeGraph().graph.outputs.claim.scriptPubKey;
  const funding: Tx = {
    version: 2,
    locktime: 0,
    inputs: [
      { prevTxid: txid(coinbase), vout: 0, scriptSig: new Uint8Array(), sequence: 0xfffffffd, witness: [] },
    ],
    outputs: [
      { value: claimValue, script: claimScript },
      { value: subsidy - claimValue - 10_000n, script: funderScript },
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
  expect(await backend.broadcast(serializeTx(kickoff))).toBe(txidHex(kickoff));
  confirm(sim, kickoff);
  return { sim, backend, fx, kickoff, old: withBareOpReturnBurn(fx) };
}

function confirm(sim: Simnet, tx: Tx): void {
  const block = sim.chain.mine(miner);
  expect(block.txs.map((t) => t.txid)).toContain(txidHex(tx));
}

async function refusal(backend: BitcoinBackend, tx: Tx): Promise<BroadcastRejectedError> {
  const err = await backend.broadcast(serializeTx(tx)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BroadcastRejectedError);
  return err as BroadcastRejectedError;
}

/**
 * The old-burn transaction is refused by the burn rule alone (testmempoolaccept, where the backend
 * has it, allows it), then the real one is accepted, mined, and its burn output sits in the UTXO set.
 */
async function sendBoth(w: World, oldTx: Tx, newTx: Tx): Promise<void> {
  expect(txidHex(oldTx)).not.toBe(txidHex(newTx));
  expect(oldTx.outputs.slice(1)).toEqual(newTx.outputs.slice(1));
  expect(oldTx.outputs[0]).toEqual({ value: newTx.outputs[0]?.value, script: BARE_OP_RETURN });
  if (w.backend.testAccept) {
    const [r] = await w.backend.testAccept([serializeTx(oldTx)]);
    expect(r).toMatchObject({ txid: txidHex(oldTx), allowed: true });
  }
  const err = await refusal(w.backend, oldTx);
  expect([err.code, err.reason]).toEqual([
    -25,
    'Unspendable output exceeds maximum configured by user (maxburnamount)',
  ]);
  expect(w.sim.chain.mempool.get(txidHex(oldTx))).toBeUndefined();

  expect(newTx.outputs[0]?.script).toEqual(BURN_SCRIPT_PUBKEY);
  expect(await w.backend.broadcast(serializeTx(newTx))).toBe(txidHex(newTx));
  confirm(w.sim, newTx);
  expect(w.sim.chain.unspentCoin(txidHex(newTx), 0)).toMatchObject({
    value: newTx.outputs[0]?.value,
    script: BURN_SCRIPT_PUBKEY,
  });
}

describe.each(['rpc', 'esplora'] as const)(
  'slashing transactions through the %s front, default arguments',
  (front) => {
    it('assert-timeout: refused with a bare OP_RETURN burn, accepted with the P2WSH(OP_RETURN) burn', async () => {
      const w = await setup(front);
      for (let i = 1; i < params.timelocks.assertWindow; i++) w.sim.chain.mine(miner);
      const newTx = completeAssertTimeout(w.fx.graph, w.fx.sigs, reward).tx;
      const oldTx = completeAssertTimeout(w.old.graph, w.old.sigs, reward).tx;
      expect(newTx.outputs[0]?.value).toBe((params.stake * BigInt(params.timeoutBurnBps)) / 10_000n);
      expect(newTx.outputs[1]).toEqual({
        value: params.stake - (newTx.outputs[0]?.value as bigint) - reward.fee,
        script: reward.script,
      });
      await sendBoth(w, oldTx, newTx);
    });

    it('disprove of a faulty step: refused with a bare OP_RETURN burn, accepted with the P2WSH(OP_RETURN) burn', async () => {
      const w = await setup(front);
      const assert = completeAssert(w.fx.graph, w.fx.sigs, w.fx.traceSecrets, [
        root('r0'),
        root('r0'),
        claimedRoot,
      ]).tx;
      expect(await w.backend.broadcast(serializeTx(assert))).toBe(txidHex(assert));
      confirm(w.sim, assert);
      const newTx = completeDisprove(w.fx.graph, w.fx.sigs, 1, w.kickoff, assert, reward).tx;
      const oldTx = completeDisprove(w.old.graph, w.old.sigs, 1, w.kickoff, assert, reward).tx;
      const asserted = assert.outputs[0]?.value as bigint;
      expect(newTx.outputs[0]?.value).toBe((asserted * BigInt(params.disproveBurnBps)) / 10_000n);
      await sendBoth(w, oldTx, newTx);
    });
  },
);
