import { describe, expect, it } from 'vitest';
import { CONSENSUS_FLAGS, STANDARD_FLAGS } from '../../src/bitcoin/script/flags.ts';
import { controlBlock, taprootOutput } from '../../src/bitcoin/taproot/output.ts';
import { checkPolicy } from '../../src/bitcoin/tx/policy.ts';
import { cloneTx, txid } from '../../src/bitcoin/tx/serialize.ts';
import type { Prevout, Tx } from '../../src/bitcoin/tx/types.ts';
import { verifyTransaction } from '../../src/bitcoin/tx/verify.ts';
import { bytesToHex, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import { buildGraph, burnAmounts } from '../../src/dispute/graph/build.ts';
import { buildChallenge, signChallengeFunding, signKeyPathInput } from '../../src/dispute/graph/challenge.ts';
import { GraphParameterError, GraphSpendError } from '../../src/dispute/graph/errors.ts';
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
  readAssert,
  readKickoff,
  type SpendableTx,
} from '../../src/dispute/graph/spend.ts';
import { makeGraph, makeGraphSpec, secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';

const fx = makeGraph();
const { graph, sigs } = fx;
const root = (label: string) => sha256(utf8(label));
const claimedRoot = root('claimed state root');
const kickoff = completeKickoff(graph, fx.operatorSecret, fx.kickoffSecrets, {
  stateRoot: claimedRoot,
  l2BlockHash: root('l2 block'),
});

function verdict(s: SpendableTx, flags = STANDARD_FLAGS) {
  const v = verifyTransaction(s.tx, s.prevouts, flags);
  return v.ok ? 'ok' : JSON.stringify(v.inputs.find((i) => !i.ok) ?? v.check);
}

const rewardScript = taprootOutput(xOnly(secretOf('challenger 1'))).scriptPubKey;
const challengerCoin = (label: string, value: bigint) => {
  const out = taprootOutput(xOnly(secretOf(label)));
  return {
    txid: sha256(utf8(`coin ${label}`)),
    vout: 1,
    prevout: { value, script: out.scriptPubKey } as Prevout,
  };
};

describe('graph of one epoch claim: every transaction passes the script engine', () => {
  it('kick-off reveals the epoch, state root and L2 block hash under Winternitz signatures', () => {
    expect(verdict(kickoff)).toBe('ok');
    const read = readKickoff(graph, kickoff.tx);
    expect(read.epoch).toBe(42n);
    expect(bytesToHex(read.stateRoot)).toBe(bytesToHex(claimedRoot));
    expect(txid(kickoff.tx)).toEqual(txid(graph.txs.kickoff));
  });

  it('a kick-off with an altered Winternitz digit fails in script and in TypeScript', () => {
    const forged = { tx: cloneTx(kickoff.tx), prevouts: kickoff.prevouts };
    const w = forged.tx.inputs[0]!.witness;
    // Item 37 is the first digit of the state root (after the epoch's 18 digits × 2 items).
    w[37] = Uint8Array.of(((w[37]![0] ?? 0) + 1) % 16);
    expect(verifyTransaction(forged.tx, forged.prevouts, CONSENSUS_FLAGS).ok).toBe(false);
    expect(() => readKickoff(graph, forged.tx)).toThrow(/Committed value 1/);
  });

  it('take (nobody challenged) spends all three kick-off outputs', () => {
    expect(verdict(completeTake(graph, sigs))).toBe('ok');
  });

  it('two challengers crowdfund one challenge: they agree on the whole transaction, then each signs DEFAULT', () => {
    const a = challengerCoin('challenger 1', 700_000n);
    const b = challengerCoin('challenger 2', 500_000n);
    const change = [
      { value: 100_000n, script: a.prevout.script },
      { value: 95_000n, script: b.prevout.script },
    ];
    const c = buildChallenge(graph, sigs, [a, b], change);
    signChallengeFunding(graph, c, 1, secretOf('challenger 1'));
    signChallengeFunding(graph, c, 2, secretOf('challenger 2'));
    expect(verdict(c)).toBe('ok');
    expect(c.tx.outputs[0]?.value).toBe(graph.spec.params.challengeAmount);
    // Tampering with output 0 breaks the presigned SINGLE|ACP signature.
    const bad = { tx: cloneTx(c.tx), prevouts: c.prevouts };
    bad.tx.outputs[0] = { value: 1n, script: a.prevout.script };
    expect(verdict(bad, CONSENSUS_FLAGS)).toMatch(/"index":0/);
    // A challenger's input cannot be moved to other outputs (or without connector A): DEFAULT commits to all.
    const moved = { tx: cloneTx(c.tx), prevouts: c.prevouts };
    moved.tx.outputs[1] = { value: 100_000n, script: b.prevout.script };
    expect(verdict(moved, CONSENSUS_FLAGS)).toMatch(/"index":1/);
  });

  it('challenged → assert → disprove of the faulty step (test leaf)', () => {
    const trace = [root('r0'), root('r1'), root('r1')];
    const assert = completeAssert(graph, sigs, fx.traceSecrets, trace);
    expect(verdict(assert)).toBe('ok');
    expect(readAssert(graph, assert.tx).map(bytesToHex)).toEqual(trace.map(bytesToHex));
    // Steps: r0→r1 wrong, r1→r1 right, r1→claimed wrong (identity circuit).
    expect(faultySteps(graph, kickoff.tx, assert.tx)).toEqual([0, 2]);
    for (const step of [0, 2]) {
      const d = completeDisprove(graph, sigs, step, kickoff.tx, assert.tx, {
        script: rewardScript,
        fee: 20_000n,
      });
      expect(verdict(d)).toBe('ok');
      expect(d.tx.outputs[0]?.script).toEqual(BURN_SCRIPT_PUBKEY);
      expect(d.tx.outputs[1]?.script).toEqual(rewardScript);
    }
    expect(() =>
      completeDisprove(graph, sigs, 1, kickoff.tx, assert.tx, { script: rewardScript, fee: 20_000n }),
    ).toThrow(GraphSpendError);
  });

  it('a disprove leaf fails in script when the step is correct (forced past the TypeScript guard)', () => {
    const trace = [root('r0'), root('r1'), root('r1')];
    const assert = completeAssert(graph, sigs, fx.traceSecrets, trace);
    const d = completeDisprove(graph, sigs, 0, kickoff.tx, assert.tx, { script: rewardScript, fee: 20_000n });
    // Step 1 (r1 → r1) is correct: put its signatures into the step-1 leaf by hand.
    const forged = cloneTx(graph.txs.disprove[1] as Tx);
    const w = d.tx.inputs[0]!.witness;
    const items = 2 * 67;
    const assertItems = assert.tx.inputs[0]!.witness;
    const out = graph.outputs.asserted;
    forged.inputs[0]!.witness = [
      ...assertItems.slice(items, 2 * items),
      ...assertItems.slice(2 * items, 3 * items),
      ...w.slice(2 * items, 2 * items + graph.covenant.length),
      out.leaves[1]!.script,
      controlBlock(out, 1),
    ];
    // The presigned signatures of step 0 do not cover step 1's leaf: use step 1's own.
    const at = graph.presigned.findIndex((p) => p.tx === 'disprove' && p.step === 1);
    forged.inputs[0]!.witness.splice(2 * items, graph.covenant.length, ...[...sigs[at]!].reverse());
    forged.outputs.push({ value: 1000n, script: rewardScript });
    const v = verifyTransaction(forged, d.prevouts, CONSENSUS_FLAGS);
    expect(v.ok).toBe(false);
    // It fails at the end of the leaf (the circuit's verdict), not on a signature or the control block.
    expect(v.inputs[0]).toMatchObject({ ok: false, error: 'EVAL_FALSE' });
  });

  it('challenged → assert with a correct trace → no disprove possible → operator payout', () => {
    const trace = [claimedRoot, claimedRoot, claimedRoot];
    const assert = completeAssert(graph, sigs, fx.traceSecrets, trace);
    expect(verdict(assert)).toBe('ok');
    expect(faultySteps(graph, kickoff.tx, assert.tx)).toEqual([]);
    expect(verdict(completePayout(graph, sigs))).toBe('ok');
  });

  it('challenged → no assert → assert-timeout burns 95 % and rewards the submitter', () => {
    const t = completeAssertTimeout(graph, sigs, { script: rewardScript, fee: 10_000n });
    expect(verdict(t)).toBe('ok');
    const p = graph.spec.params;
    expect(t.tx.outputs[0]!.value).toBe((p.stake * 9_500n) / 10_000n);
    expect(t.tx.outputs[1]!.value).toBe(p.stake - t.tx.outputs[0]!.value - 10_000n);
  });

  it('every completed transaction is standard by relay policy', () => {
    const a = challengerCoin('challenger 1', 1_100_000n);
    const c = buildChallenge(graph, sigs, [a], [{ value: 95_000n, script: a.prevout.script }]);
    signKeyPathInput(c, 1, secretOf('challenger 1'));
    const assert = completeAssert(graph, sigs, fx.traceSecrets, [root('r0'), root('r1'), root('r1')]);
    const all: [string, SpendableTx][] = [
      ['kickoff', kickoff],
      ['challenge', c],
      ['take', completeTake(graph, sigs)],
      ['assert', assert],
      ['payout', completePayout(graph, sigs)],
      ['assertTimeout', completeAssertTimeout(graph, sigs, { script: rewardScript, fee: 10_000n })],
      [
        'disprove',
        completeDisprove(graph, sigs, 0, kickoff.tx, assert.tx, { script: rewardScript, fee: 20_000n }),
      ],
    ];
    for (const [name, s] of all) {
      expect([name, checkPolicy(s.tx, s.prevouts)]).toEqual([name, { ok: true }]);
    }
  });

  it('timelocked leaves refuse an nSequence below their CSV value', () => {
    for (const s of [completeTake(graph, sigs), completePayout(graph, sigs)]) {
      const early = { tx: cloneTx(s.tx), prevouts: s.prevouts };
      early.tx.inputs[0]!.sequence -= 1;
      expect(verifyTransaction(early.tx, early.prevouts, CONSENSUS_FLAGS).ok).toBe(false);
    }
  });

  it('burns to P2WSH(OP_RETURN), and refuses parameters whose burn would be below its 330-sat dust limit', () => {
    expect(bytesToHex(BURN_SCRIPT_PUBKEY)).toBe(`0020${bytesToHex(sha256(Uint8Array.of(0x6a)))}`);
    expect(graph.txs.assertTimeout.outputs).toEqual([
      { value: burnAmounts(graph.spec.params).timeoutBurn, script: BURN_SCRIPT_PUBKEY },
    ]);
    const base = defaultGraphParameters.regtest;
    // 0.1 BTC stake: 1 bps burns 1,000 sats, fine; 0 bps would leave a 0-sat output.
    const build = (params: typeof base) => () => buildGraph(makeGraphSpec({ params }).spec);
    expect(build({ ...base, timeoutBurnBps: 1, disproveBurnBps: 1 })).not.toThrow();
    expect(build({ ...base, timeoutBurnBps: 0 })).toThrow(GraphParameterError);
    expect(build({ ...base, timeoutBurnBps: 0 })).toThrow(
      'The assert-timeout would burn 0 sats (stake × 0 bps), below the 330-sat P2WSH dust limit',
    );
    // A small stake: 329 sats of disprove burn is refused, 330 is not.
    const small = { ...base, stake: 100_000n, fees: { ...base.fees, assert: 340n } }; // asserted 99,990
    expect(burnAmounts({ ...small, disproveBurnBps: 33 }).disproveBurn).toBe(329n);
    expect(build({ ...small, disproveBurnBps: 33 })).toThrow(
      'A disprove would burn 329 sats (asserted stake × 33 bps), below the 330-sat P2WSH dust limit',
    );
    expect(burnAmounts({ ...small, disproveBurnBps: 34 }).disproveBurn).toBe(339n);
    expect(build({ ...small, disproveBurnBps: 34 })).not.toThrow();
  });
});
