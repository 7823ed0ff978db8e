/**
 * The devnet operator on a real simnet: it publishes graphs that Vigil's import accepts, kicks off with
 * the claimed values, takes the stake back exactly when the challenge window allows, asserts its
 * checkpoints when challenged (or never, as told) and takes the payout after the disprove window; and it
 * keeps claiming through many epochs without tripping the mempool's chain limits.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ecc from 'tiny-secp256k1';
import { afterEach, describe, expect, it } from 'vitest';
import { identityStepCircuit } from '../../circuits/identity.ts';
import { addressForScript } from '../../src/bitcoin/codec/address.ts';
import { connectDevnetBitcoin, type DevnetBitcoin } from '../../src/bitcoin/simnet/devnet-bitcoin.ts';
import { taprootOutput } from '../../src/bitcoin/taproot/output.ts';
import { displayHexToHash, serializeTx, txidHex } from '../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import {
  type DevnetOperator,
  devnetOperatorKeys,
  type EpochClaim,
  type OperatorBehaviour,
  startDevnetOperator,
} from '../../src/devnet/operator.ts';
import { buildChallenge, signKeyPathInput } from '../../src/dispute/graph/challenge.ts';
import { type ImportedGraph, importGraph } from '../../src/dispute/graph/import.ts';
import { defaultGraphParameters } from '../../src/dispute/graph/parameters.ts';
import { completeAssertTimeout, readAssert, readKickoff } from '../../src/dispute/graph/spend.ts';

const params = defaultGraphParameters.regtest;
const k = params.traceSteps;
const root = (label: string) => sha256(utf8(label));
const challengerSecret = sha256(utf8('vigil devnet operator test challenger'));
const challengerScript = taprootOutput(
  Uint8Array.from(ecc.xOnlyPointFromScalar(challengerSecret)),
).scriptPubKey;

function claimOf(epoch: bigint): EpochClaim {
  const checkpoints = Array.from({ length: k + 1 }, (_, i) => root(`epoch ${epoch} checkpoint ${i}`));
  return {
    epoch,
    stateRoot: checkpoints[k] as Uint8Array,
    l2BlockHash: root(`epoch ${epoch} block`),
    checkpoints,
    challengeWindow: 6,
  };
}

type World = { bitcoin: DevnetBitcoin; graphDir: string; operator: DevnetOperator };
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function world(behaviour: OperatorBehaviour): Promise<World> {
  const bitcoin = await connectDevnetBitcoin();
  cleanups.push(() => bitcoin.stop());
  const graphDir = await mkdtemp(join(tmpdir(), 'vigil-operator-test-'));
  cleanups.push(() => rm(graphDir, { recursive: true, force: true }));
  const operator = await startDevnetOperator({ bitcoin, graphDir, behaviour });
  return { bitcoin, graphDir, operator };
}

async function imported(w: World, epoch: bigint): Promise<ImportedGraph> {
  const keys = devnetOperatorKeys();
  const doc: unknown = JSON.parse(await readFile(join(w.graphDir, `epoch-${epoch}.json`), 'utf8'));
  return importGraph(doc, {
    network: 'regtest',
    params,
    circuit: identityStepCircuit,
    operator: keys.operator,
    committee: keys.committee,
    epoch,
  });
}

async function confirmedAt(w: World, txid: string): Promise<number | undefined> {
  const s = await w.bitcoin.backend.getTxStatus(txid);
  return s?.confirmed ? s.blockHeight : undefined;
}

async function txOf(w: World, txid: string): Promise<Tx> {
  const t = await w.bitcoin.backend.getTransaction(txid);
  if (!t) throw new Error(`no transaction ${txid}`);
  return t.tx;
}

const stateOf = (w: World, epoch: bigint) => w.operator.claims().find((c) => c.epoch === epoch)?.state;

/** react, then mine one block; returns the lines. */
async function round(w: World): Promise<string[]> {
  const lines = await w.operator.react();
  await w.bitcoin.mine(1);
  return lines;
}

/** The challenger's funded challenge of `g`, from a mature coin of its own. */
async function challenge(w: World, g: ImportedGraph): Promise<string> {
  const address = addressForScript(challengerScript, 'regtest') as string;
  const coin = (await w.bitcoin.backend.getUtxos(address))[0];
  if (!coin) throw new Error('the challenger has no coin');
  const change = coin.value - (params.challengeAmount - params.connectorValue) - 20_000n;
  const c = buildChallenge(
    g.graph,
    g.sigs,
    [
      {
        txid: displayHexToHash(coin.txid),
        vout: coin.vout,
        prevout: { value: coin.value, script: challengerScript },
      },
    ],
    [{ value: change, script: challengerScript }],
  );
  signKeyPathInput(c, 1, challengerSecret);
  return w.bitcoin.backend.broadcast(serializeTx(c.tx));
}

describe('the devnet operator on simnet', () => {
  it('publishes importable graphs, kicks off with the claim, takes after T_c, asserts r_0…r_{k-1} when challenged, pays out after T_d', {
    timeout: 180_000,
  }, async () => {
    const w = await world('assert');
    await w.bitcoin.fund(addressForScript(challengerScript, 'regtest') as string);
    const quiet = await w.operator.claim(claimOf(1n));
    const disputed = await w.operator.claim(claimOf(2n));
    expect(quiet.graphFile).toBe(join(w.graphDir, 'epoch-1.json'));
    // Only whole documents in the directory: no temporary files left behind.
    expect((await readdir(w.graphDir)).sort()).toEqual(['epoch-1.json', 'epoch-2.json']);
    expect(stateOf(w, 1n)).toBe('kicked-off');

    expect(await round(w)).toEqual([]);
    const kickoffHeight = await confirmedAt(w, quiet.kickoffTxid);
    expect(kickoffHeight).toBeDefined();
    expect(await confirmedAt(w, disputed.kickoffTxid)).toBe(kickoffHeight);

    const g1 = await imported(w, 1n);
    const g2 = await imported(w, 2n);
    expect(readKickoff(g1.graph, await txOf(w, quiet.kickoffTxid))).toEqual({
      epoch: 1n,
      stateRoot: claimOf(1n).stateRoot,
      l2BlockHash: claimOf(1n).l2BlockHash,
    });
    expect(readKickoff(g2.graph, await txOf(w, disputed.kickoffTxid)).stateRoot).toEqual(
      claimOf(2n).stateRoot,
    );

    // Epoch 2 is challenged; the operator asserts its checkpoints the round after the challenge confirms.
    const challengeTxid = await challenge(w, g2);
    await w.bitcoin.mine(1);
    const afterChallenge = await round(w);
    expect(afterChallenge.some((l) => l.startsWith('epoch 2: challenged'))).toBe(true);
    expect(stateOf(w, 2n)).toBe('asserted');
    const assertTxid = (await w.bitcoin.backend.getOutspend(disputed.kickoffTxid, 1)) as { txid: string };
    const assertTx = await txOf(w, assertTxid.txid);
    expect(readAssert(g2.graph, assertTx)).toEqual(claimOf(2n).checkpoints.slice(0, k));
    const assertHeight = await confirmedAt(w, assertTxid.txid);
    expect(assertHeight).toBeDefined();
    expect((await w.bitcoin.backend.getOutspend(disputed.kickoffTxid, 0)) as { txid: string }).toMatchObject({
      txid: challengeTxid,
    });

    // Keep reacting: the take of epoch 1 lands in the first block T_c allows, the payout of epoch 2 in
    // the first block T_d allows, and the operator does nothing else meanwhile.
    const lines: string[] = [];
    for (let i = 0; i < params.timelocks.challengeWindow + params.timelocks.disproveWindow; i++) {
      lines.push(...(await round(w)));
      if (stateOf(w, 1n) === 'taken' && stateOf(w, 2n) === 'paid-out') break;
    }
    expect(lines.filter((l) => l.includes('take'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('payout'))).toHaveLength(1);
    expect(lines.every((l) => !l.includes('refused'))).toBe(true);
    const take = (await w.bitcoin.backend.getOutspend(quiet.kickoffTxid, 0)) as { txid: string };
    expect(take.txid).toBe(txidHex(g1.graph.txs.take));
    expect(await confirmedAt(w, take.txid)).toBe(
      (kickoffHeight as number) + params.timelocks.challengeWindow,
    );
    const payout = (await w.bitcoin.backend.getOutspend(assertTxid.txid, 0)) as { txid: string };
    expect(await confirmedAt(w, payout.txid)).toBe(
      (assertHeight as number) + params.timelocks.disproveWindow,
    );
    expect(stateOf(w, 1n)).toBe('taken');
    expect(stateOf(w, 2n)).toBe('paid-out');
    // Calling again changes nothing.
    expect(await round(w)).toEqual([]);
    // Both are settled on the chain now: a long-running operator forgets them, and only them.
    const open = await w.operator.claim(claimOf(3n));
    await round(w);
    expect(w.operator.forgetSettled().sort()).toEqual([1n, 2n]);
    expect(w.operator.claims().map((c) => c.epoch)).toEqual([3n]);
    expect(w.operator.forgetSettled()).toEqual([]);
    expect(open.kickoffTxid).toBe(w.operator.claims()[0]?.kickoffTxid);
  });

  it("'never-assert': challenged, it never asserts, and the assert-timeout slashes it", {
    timeout: 180_000,
  }, async () => {
    const w = await world('never-assert');
    await w.bitcoin.fund(addressForScript(challengerScript, 'regtest') as string);
    const c = await w.operator.claim(claimOf(7n));
    await round(w);
    const kickoffHeight = (await confirmedAt(w, c.kickoffTxid)) as number;
    const g = await imported(w, 7n);
    await challenge(w, g);
    await w.bitcoin.mine(1);
    const lines: string[] = [];
    while ((await w.bitcoin.backend.getTipHeight()) + 1 < kickoffHeight + params.timelocks.assertWindow) {
      lines.push(...(await round(w)));
      expect(stateOf(w, 7n)).toBe('challenged');
    }
    expect(lines.filter((l) => l.startsWith('epoch 7: challenged'))).toHaveLength(1);
    expect(lines.some((l) => l.includes('assert '))).toBe(false);
    // The assert connector was never spent.
    expect((await w.bitcoin.backend.getOutspend(c.kickoffTxid, 1)).spent).toBe(false);
    const timeout = completeAssertTimeout(g.graph, g.sigs, { script: challengerScript, fee: 10_000n });
    await w.bitcoin.backend.broadcast(serializeTx(timeout.tx));
    await w.bitcoin.mine(1);
    expect((await w.operator.react()).some((l) => l.startsWith('epoch 7: slashed'))).toBe(true);
    expect(stateOf(w, 7n)).toBe('slashed');
  });

  it('claims 10 epochs with blocks in between, then 30 more before a single block: all confirm', {
    timeout: 240_000,
  }, async () => {
    const w = await world('assert');
    const kickoffs: string[] = [];
    for (let e = 1n; e <= 10n; e++) {
      kickoffs.push((await w.operator.claim(claimOf(e))).kickoffTxid);
      await round(w);
    }
    for (let e = 11n; e <= 40n; e++) kickoffs.push((await w.operator.claim(claimOf(e))).kickoffTxid);
    await w.bitcoin.mine(1);
    for (const id of kickoffs) expect(await confirmedAt(w, id)).toBeDefined();
    // The early ones may have been taken meanwhile (the rounds react); nothing else happened to any.
    const states = w.operator.claims().map((c) => c.state);
    expect(states.slice(10)).toEqual(kickoffs.slice(10).map(() => 'kicked-off'));
    expect(states.every((s) => s === 'kicked-off' || s === 'taken')).toBe(true);
    // The same claim again is the same kick-off; other values for a claimed epoch are refused.
    expect((await w.operator.claim(claimOf(3n))).kickoffTxid).toBe(kickoffs[2]);
    await expect(w.operator.claim({ ...claimOf(4n), l2BlockHash: root('other') })).rejects.toThrow(
      /already claimed/,
    );
  });
});
