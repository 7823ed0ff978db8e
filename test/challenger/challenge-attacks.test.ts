/**
 * The operator fights back against Vigil's own challenge, on a real simnet with the real jobs:
 * - strip-and-steal: it takes Vigil's signed funding inputs, drops connector A, adds a coin of its own;
 * - a conflicting spend of one of Vigil's funding coins evicts the challenge;
 * - its own low-fee challenge spends connector A and is kept out of blocks (pinned) so that its take can
 *   replace it after the window;
 * - a node that refuses Vigil's transaction for good.
 */
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BroadcastRejectedError } from '../../src/bitcoin/backends/errors.ts';
import type { BitcoinBackend } from '../../src/bitcoin/backends/types.ts';
import { encodeTx, txidHex } from '../../src/bitcoin/codec/codec.ts';
import { feeRateFromSatPerVb } from '../../src/bitcoin/codec/fee-rate.ts';
import { CONSENSUS_FLAGS } from '../../src/bitcoin/script/flags.ts';
import { PrecomputedTxData } from '../../src/bitcoin/tx/precomputed.ts';
import { cloneTx, hashToDisplayHex } from '../../src/bitcoin/tx/serialize.ts';
import { SIGHASH_DEFAULT, taprootSighash } from '../../src/bitcoin/tx/sighash.ts';
import type { Prevout, Tx } from '../../src/bitcoin/tx/types.ts';
import { verifyTransaction } from '../../src/bitcoin/tx/verify.ts';
import { WalletKey } from '../../src/bitcoin/wallet/keys.ts';
import { processChallenge } from '../../src/challenger/challenge.ts';
import { processOpen } from '../../src/challenger/open.ts';
import { processTrack } from '../../src/challenger/track.ts';
import { concatBytes, hexToBytes, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import {
  buildChallenge,
  SIGHASH_ALL_ACP,
  signChallengeFunding,
  signKeyPathInput,
} from '../../src/dispute/graph/challenge.ts';
import { GraphSpendError } from '../../src/dispute/graph/errors.ts';
import { ChallengeCheckError, checkChallengeShape } from '../../src/dispute/plan/challenge-tx.ts';
import { watcherMetrics } from '../../src/queue/metrics.ts';
import { SendRefusedError } from '../../src/sender/send.ts';
import {
  harness,
  type Scenario,
  startScenario,
  WATCHER_KEY,
  WATCHER_SCRIPT,
} from '../../testkit/queue/scenario.ts';

const WATCHER_SECRET = sha256(utf8('vigil queue test watcher'));
const OPERATOR_KEY = WalletKey.fromBytes(sha256(utf8('a dishonest operator wallet')));
/** BIP-86 key-path output of a wallet key: OP_1 <output key>. */
const p2tr = (key: WalletKey): Uint8Array => concatBytes(Uint8Array.of(0x51, 0x20), key.taprootOutputKey);
const OPERATOR_SCRIPT = p2tr(OPERATOR_KEY);

/** Signs key-path P2TR input `i` of `tx` with `key`, SIGHASH_DEFAULT, in place. */
function signOperatorInput(tx: Tx, prevouts: Prevout[], i: number, key: WalletKey): void {
  const h = taprootSighash(new PrecomputedTxData(tx, prevouts), i, SIGHASH_DEFAULT, 'taproot');
  if (!h.ok) throw new Error(h.reason);
  (tx.inputs[i] as Tx['inputs'][number]).witness = [key.signSchnorrTweaked(h.hash)];
}

/** The operator's coin, made by the scenario's funding transaction before the kick-off. */
function operatorCoin(s: Scenario): { txid: string; vout: number; prevout: Prevout } {
  const c = s.extraCoins[0];
  if (!c) throw new Error('the scenario has no operator coin');
  return { txid: c.txid, vout: c.vout, prevout: { value: c.value, script: c.script } };
}

/** The attack: Vigil's funding inputs (with their witnesses) and outputs, connector A dropped, one operator coin added. */
function stripAndSteal(
  challenge: Tx,
  prevouts: Prevout[],
  coin: { txid: string; vout: number; prevout: Prevout },
): { tx: Tx; prevouts: Prevout[] } {
  const tx = cloneTx(challenge);
  tx.inputs.splice(0, 1);
  tx.inputs.push({
    prevTxid: hexToBytes(coin.txid).reverse(),
    vout: coin.vout,
    scriptSig: new Uint8Array(),
    sequence: 0xfffffffd,
    witness: [],
  });
  // Outputs unchanged: output 0 pays the operator the challenge amount, now from Vigil's coins. The
  // operator's small coin replaces the connector's value and raises the fee to win the RBF race.
  const p = [...prevouts.slice(1), coin.prevout];
  signOperatorInput(tx, p, tx.inputs.length - 1, OPERATOR_KEY);
  return { tx, prevouts: p };
}

describe('the operator attacks the challenge (simnet, real jobs)', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await startScenario({ extraCoins: [{ value: 20_000n, script: OPERATOR_SCRIPT }] });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('strip-and-steal: with ALL|ANYONECANPAY funding the stripped copy is valid; with Vigil’s DEFAULT funding it is not, and the node refuses it', async () => {
    // The old design, built by hand: the watcher's coin signed ALL|ANYONECANPAY.
    const g = s.fixture.graph;
    const utxos = await s.backend.getUtxos(s.watcherAddress);
    const coin = utxos.find((u) => u.value === 3_000_000n) as (typeof utxos)[number];
    const old = buildChallenge(
      g,
      s.fixture.sigs,
      [
        {
          txid: hexToBytes(coin.txid).reverse(),
          vout: coin.vout,
          prevout: { value: coin.value, script: WATCHER_SCRIPT },
        },
      ],
      [
        {
          value: 3_000_000n - (g.spec.params.challengeAmount - g.spec.params.connectorValue) - 2_000n,
          script: WATCHER_SCRIPT,
        },
      ],
    );
    signKeyPathInput(old, 1, WATCHER_SECRET, SIGHASH_ALL_ACP);
    expect(verifyTransaction(old.tx, old.prevouts, CONSENSUS_FLAGS).ok).toBe(true);
    const opCoin = operatorCoin(s);
    const stolenOld = stripAndSteal(old.tx, old.prevouts, opCoin);
    // The attack works against ALL|ANYONECANPAY: the watcher's coin pays the operator, A stays unspent.
    expect(verifyTransaction(stolenOld.tx, stolenOld.prevouts, CONSENSUS_FLAGS).ok).toBe(true);
    expect(stolenOld.tx.inputs.some((i) => hashToDisplayHex(i.prevTxid) === s.kickoff.txid)).toBe(false);

    // Vigil's real challenge, through the real job.
    const h = harness(s, 'challenge');
    try {
      await processOpen(h.ctx, s.openData);
      await processChallenge(h.ctx, { disputeId: s.openData.disputeId });
      const rec = await h.store.require(s.openData.disputeId);
      const ours = s.sim.chain.findTx(rec.challenge.txid as string);
      expect(ours?.block).toBeUndefined(); // in the mempool
      const tx = ours?.tx as Tx;
      for (const input of tx.inputs.slice(1)) expect(input.witness[0]?.length).toBe(64); // DEFAULT
      const prevouts: Prevout[] = [
        { value: g.spec.params.connectorValue, script: g.outputs.challengeConnector.scriptPubKey },
        ...tx.inputs.slice(1).map(() => ({ value: 3_000_000n, script: WATCHER_SCRIPT })),
      ];
      const stolen = stripAndSteal(tx, prevouts, opCoin);
      const v = verifyTransaction(stolen.tx, stolen.prevouts, CONSENSUS_FLAGS);
      expect(v.ok).toBe(false);
      expect(v.inputs[0]?.ok).toBe(false); // Vigil's input: its signature commits to connector A
      await expect(s.backend.broadcast(encodeTx(stolen.tx))).rejects.toBeInstanceOf(BroadcastRejectedError);
      // Vigil's challenge is untouched and connector A is spent by it.
      expect(s.sim.chain.spenderOf(s.kickoff.txid, 0)?.txid).toBe(rec.challenge.txid);
      s.mine(1);
      expect(await processTrack(h.ctx, { disputeId: s.openData.disputeId })).toMatch(/^confirmed at/);
    } finally {
      await h.close();
    }
  }, 60_000);
});

describe('a Redis failover that took the last writes of a completed challenge job', () => {
  it("the record is back at detected with no challenge while Vigil's is out: the tracker takes it up, sends nothing more", async () => {
    const s = await startScenario();
    const h = harness(s, 'challenge', `{vigil-test-${randomUUID()}}`);
    try {
      const id = s.openData.disputeId;
      await processOpen(h.ctx, s.openData);
      // What the promoted replica had: the record as opened, before the challenge job's writes.
      const keys = ['', ':events', ':applied'].map((k) => `${h.prefix}:dispute:${id}${k}`);
      const before = await Promise.all(keys.map((k) => h.redis.dumpBuffer(k)));
      await processChallenge(h.ctx, { disputeId: id });
      const sent = s.sim.chain.spenderOf(s.kickoff.txid, 0)?.txid;
      expect(sent).toBeDefined();
      for (const [i, key] of keys.entries()) {
        const dump = before[i];
        if (dump) await h.redis.restore(key, 0, dump, 'REPLACE');
        else await h.redis.del(key);
      }
      const lost = await h.store.require(id);
      expect(lost.state).toBe('detected');
      expect(lost.challenge.txid).toBeUndefined();
      // The tracker (or the redrive's re-run of the completed job) reads the chain before it builds.
      expect(await processTrack(h.ctx, { disputeId: id })).toMatch(/^detected: challenged/);
      const rec = await h.store.require(id);
      expect(rec.state).toBe('challenged');
      expect(rec.challenge.txid).toBe(sent);
      // Nothing else spends connector A, and nothing new reached the mempool for it.
      expect(s.sim.chain.spenderOf(s.kickoff.txid, 0)?.txid).toBe(sent);
      s.mine(1);
      expect(await processTrack(h.ctx, { disputeId: id })).toMatch(/^confirmed at/);
    } finally {
      await h.close();
      await s.stop();
    }
  }, 60_000);
});

describe('a challenge that did not take effect', () => {
  it('a conflicting spend of a funding coin evicts it: rebuilt with fresh coins, confirms inside T_c', async () => {
    const s = await startScenario();
    const h = harness(s, 'challenge');
    try {
      const id = s.openData.disputeId;
      await processOpen(h.ctx, s.openData);
      await processChallenge(h.ctx, { disputeId: id });
      const first = (await h.store.require(id)).challenge.txid as string;
      const firstTx = s.sim.chain.findTx(first)?.tx as Tx;
      // The watcher's coin is spent elsewhere at a higher fee (a second process with the same key, or
      // a person with the wallet): the challenge is evicted by RBF and connector A is unspent again.
      const coinIn = firstTx.inputs[1] as Tx['inputs'][number];
      const value = 3_000_000n;
      const conflict: Tx = {
        version: 2,
        locktime: 0,
        inputs: [
          {
            prevTxid: coinIn.prevTxid,
            vout: coinIn.vout,
            scriptSig: new Uint8Array(),
            sequence: 0xfffffffd,
            witness: [],
          },
        ],
        outputs: [{ value: value - 200_000n, script: WATCHER_SCRIPT }],
      };
      signOperatorInput(conflict, [{ value, script: WATCHER_SCRIPT }], 0, WATCHER_KEY);
      s.sim.chain.acceptTx(conflict);
      expect(s.sim.chain.mempool.get(first)).toBeUndefined();
      expect(s.sim.chain.spenderOf(s.kickoff.txid, 0)).toBeUndefined();
      s.mine(1); // the conflict confirms: the old challenge can never be valid again
      const result = await processTrack(h.ctx, { disputeId: id });
      expect(result).toMatch(/^rebuilt /);
      const rec = await h.store.require(id);
      const second = rec.challenge.txid as string;
      expect(second).not.toBe(first);
      const types = (await h.store.events(id)).map((e) => e.type);
      expect(types).toContain('send-conflict');
      expect(types).toContain('challenge-rebuilt');
      expect(s.sim.chain.spenderOf(s.kickoff.txid, 0)?.txid).toBe(second);
      s.mine(1);
      expect(await processTrack(h.ctx, { disputeId: id })).toMatch(/^confirmed at/);
      const height = s.sim.chain.findTx(second)?.block?.height as number;
      expect(height).toBeLessThanOrEqual(rec.opened.challengeBy as number);
    } finally {
      await h.close();
      await s.stop();
    }
  }, 60_000);

  it("the operator's own low-fee challenge, kept out of blocks: followed, then outbid by Vigil's, which confirms inside T_c", async () => {
    const s = await startScenario({ extraCoins: [{ value: 1_200_000n, script: OPERATOR_SCRIPT }] });
    const h = harness(s, 'challenge', undefined, {
      fees: { targetBlocks: 2, maxFeeRateSatVb: 50, fallbackSatVb: 2, bumpAfterBlocks: 2 },
    });
    try {
      const id = s.openData.disputeId;
      const g = s.fixture.graph;
      const opCoin = operatorCoin(s);
      // The operator spends connector A itself: output 0 pays itself, at 1 sat/vB.
      const pin = buildChallenge(
        g,
        s.fixture.sigs,
        [{ txid: hexToBytes(opCoin.txid).reverse(), vout: opCoin.vout, prevout: opCoin.prevout }],
        [
          {
            value: 1_200_000n - (g.spec.params.challengeAmount - g.spec.params.connectorValue) - 300n,
            script: OPERATOR_SCRIPT,
          },
        ],
      );
      signOperatorInput(pin.tx, pin.prevouts, 1, OPERATOR_KEY);
      s.sim.chain.acceptTx(pin.tx);
      const pinTxid = txidHex(pin.tx);
      await processOpen(h.ctx, s.openData);
      expect(await processChallenge(h.ctx, { disputeId: id })).toBe('challenged by another watcher');
      let rec = await h.store.require(id);
      expect(rec.challenge.by).toBe('other');
      expect(rec.challenge.txid).toBe(pinTxid);
      // Miners never take it (the operator's pin): empty blocks.
      expect(await processTrack(h.ctx, { disputeId: id })).toMatch(/another challenge in mempool/);
      s.sim.chain.mine(WATCHER_SCRIPT, []);
      s.sim.chain.mine(WATCHER_SCRIPT, []);
      const result = await processTrack(h.ctx, { disputeId: id });
      expect(result).toMatch(/^rebuilt /);
      rec = await h.store.require(id);
      expect(rec.challenge.by).toBe('vigil');
      const ours = rec.challenge.txid as string;
      expect(s.sim.chain.mempool.get(pinTxid)).toBeUndefined(); // replaced
      expect(s.sim.chain.spenderOf(s.kickoff.txid, 0)?.txid).toBe(ours);
      s.mine(1);
      expect(await processTrack(h.ctx, { disputeId: id })).toMatch(/^confirmed at/);
      expect(s.sim.chain.findTx(ours)?.block?.height).toBeLessThanOrEqual(rec.opened.challengeBy as number);
      // Vigil paid the challenge amount plus a fee within the cap, nothing else.
      const fee = rec.challenge.fee as bigint;
      expect(fee).toBeLessThanOrEqual(50n * BigInt(s.sim.chain.findTx(ours)?.raw.length ?? 0));
    } finally {
      await h.close();
      await s.stop();
    }
  }, 60_000);

  it('a refusal no retry can cure fails the job for good, recorded and counted', async () => {
    const s = await startScenario();
    const registry = new Registry();
    const metrics = watcherMetrics(registry);
    const refusing = Object.create(s.backend) as BitcoinBackend;
    refusing.broadcast = async () => {
      throw new BroadcastRejectedError(
        'Unspendable output exceeds maximum configured by user (maxburnamount)',
        -25,
      );
    };
    const h = harness(s, 'challenge', `{vigil-test-${randomUUID()}}`, { backend: refusing, metrics });
    try {
      const id = s.openData.disputeId;
      await processOpen(h.ctx, s.openData);
      const err = await processChallenge(h.ctx, { disputeId: id }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SendRefusedError);
      expect((err as SendRefusedError).kind).toBe('refused');
      const events = await h.store.events(id);
      const refused = events.find((e) => e.type === 'send-refused');
      expect(refused?.detail).toMatchObject({ tx: 'challenge', kind: 'refused' });
      expect(String(refused?.detail?.reason)).toMatch(/maxburnamount/);
      const text = await registry.metrics();
      expect(text).toMatch(/vigil_send_refused_total\{tx="challenge",kind="refused"\} 1/);
    } finally {
      await h.close();
      await s.stop();
    }
  }, 60_000);
});

describe('challenge shape and crowdfunding', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await startScenario();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('checkChallengeShape refuses a challenge whose input 0 is not connector A, or whose funding is not DEFAULT', () => {
    const g = s.fixture.graph;
    const coin = {
      txid: new Uint8Array(32).fill(7),
      vout: 1,
      prevout: { value: 2_000_000n, script: WATCHER_SCRIPT },
    };
    const c = buildChallenge(g, s.fixture.sigs, [coin], []);
    signChallengeFunding(g, c, 1, WATCHER_SECRET);
    expect(() => checkChallengeShape(c.tx, s.kickoff.txid)).not.toThrow();
    const acp = buildChallenge(g, s.fixture.sigs, [coin], []);
    signKeyPathInput(acp, 1, WATCHER_SECRET, SIGHASH_ALL_ACP);
    expect(() => checkChallengeShape(acp.tx, s.kickoff.txid)).toThrow(
      /funding input 1 is not signed SIGHASH_DEFAULT/,
    );
    const stripped = cloneTx(c.tx);
    stripped.inputs.splice(0, 1);
    expect(() => checkChallengeShape(stripped, s.kickoff.txid)).toThrow(ChallengeCheckError);
    expect(() => checkChallengeShape(stripped, s.kickoff.txid)).toThrow(/input 0 is not connector A/);
  });

  it('crowdfunding: two challengers agree on the whole transaction, each signs DEFAULT; no rearrangement keeps a signature valid', () => {
    const g = s.fixture.graph;
    const keyB = sha256(utf8('a second challenger'));
    const scriptB = p2tr(WalletKey.fromBytes(keyB));
    const a = {
      txid: new Uint8Array(32).fill(1),
      vout: 0,
      prevout: { value: 600_000n, script: WATCHER_SCRIPT },
    };
    const b = { txid: new Uint8Array(32).fill(2), vout: 0, prevout: { value: 600_000n, script: scriptB } };
    const change = [
      { value: 100_000n, script: WATCHER_SCRIPT },
      { value: 99_000n, script: scriptB },
    ];
    const c = buildChallenge(g, s.fixture.sigs, [a, b], change);
    signChallengeFunding(g, c, 1, WATCHER_SECRET);
    signChallengeFunding(g, c, 2, keyB);
    expect(verifyTransaction(c.tx, c.prevouts, CONSENSUS_FLAGS).ok).toBe(true);
    // A co-funder (or an observer) drops connector A and keeps the rest: every signature fails.
    const noA = cloneTx(c.tx);
    noA.inputs.splice(0, 1);
    const r1 = verifyTransaction(noA, c.prevouts.slice(1), CONSENSUS_FLAGS);
    expect(r1.inputs.map((i) => i.ok)).toEqual([false, false]);
    // B moves its change to itself at A's expense: A's signature fails.
    const moved = cloneTx(c.tx);
    (moved.outputs[1] as Tx['outputs'][number]).value = 50_000n;
    (moved.outputs[2] as Tx['outputs'][number]).value = 149_000n;
    expect(verifyTransaction(moved, c.prevouts, CONSENSUS_FLAGS).inputs[1]?.ok).toBe(false);
    // Signing is refused outright on a transaction whose input 0 is not the connector.
    expect(() => signChallengeFunding(g, { tx: noA, prevouts: c.prevouts.slice(1) }, 1, keyB)).toThrow(
      GraphSpendError,
    );
  });
});

describe('fee floor', () => {
  it('an estimate of 0 never leaves: the rate is held at the relay floor and under the cap', async () => {
    const s = await startScenario();
    const h = harness(s, 'challenge', undefined, {
      fees: { targetBlocks: 2, maxFeeRateSatVb: 50, fallbackSatVb: 0.5 },
    });
    try {
      const { boundedRate, feeRateNow } = await import('../../src/sender/send.ts');
      s.sim.setFeeRate(feeRateFromSatPerVb(0));
      expect((await feeRateNow(h.ctx)).satPerKvb).toBe(1000n);
      expect(boundedRate(h.ctx, feeRateFromSatPerVb(10_000)).satPerKvb).toBe(50_000n);
      expect(
        boundedRate({ fees: { ...h.ctx.fees, minRelaySatVb: 3 } }, feeRateFromSatPerVb(1)).satPerKvb,
      ).toBe(3000n);
    } finally {
      await h.close();
      await s.stop();
    }
  }, 60_000);
});
