import { describe, expect, it } from 'vitest';
import { txVsize } from '../../../src/bitcoin/codec/codec.ts';
import { feeRateFromSatPerVb } from '../../../src/bitcoin/codec/fee-rate.ts';
import { bytesToHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/hashes.ts';
import { completeAssert, completeDisprove, completeKickoff } from '../../../src/dispute/graph/spend.ts';
import { claimedTrace, parseExpectedTrace, planDisprove } from '../../../src/dispute/plan/disprove-plan.ts';
import { buildRewardSpend } from '../../../src/dispute/plan/reward-tx.ts';
import { makeGraph } from '../../../testkit/dispute/graph-fixture.ts';

const fx = makeGraph();
const k = fx.graph.spec.params.traceSteps;
const root = (label: string) => sha256(utf8(label));
// Vigil's own r_0 … r_k; the kick-off reveals a wrong r_k.
const mine = Array.from({ length: k + 1 }, (_, i) => root(`vigil r${i}`));
const claimedRoot = root('claimed r_k');
const kickoff = completeKickoff(fx.graph, fx.operatorSecret, fx.kickoffSecrets, {
  stateRoot: claimedRoot,
  l2BlockHash: root('l2 block'),
}).tx;
const asserting = (trace: Uint8Array[]) => completeAssert(fx.graph, fx.sigs, fx.traceSecrets, trace).tx;
const json = (roots: Uint8Array[]) => JSON.stringify(roots.map(bytesToHex));

describe('which step Vigil disproves', () => {
  it('reads the claimed r_0 … r_k from the assert and the kick-off', () => {
    const trace = mine.slice(0, k);
    expect(claimedTrace(fx.graph, kickoff, asserting(trace)).map(bytesToHex)).toEqual(
      [...trace, claimedRoot].map(bytesToHex),
    );
  });

  it('the first wrong checkpoint, when the circuit also finds that step faulty', () => {
    // r_0, r_1 agree; r_2 is wrong: step 1.
    const assert = asserting([mine[0], mine[1], root('wrong r2')] as Uint8Array[]);
    expect(planDisprove(fx.graph, kickoff, assert, json(mine))).toEqual({ kind: 'disprove', step: 1 });
    // Only the last post-root (the kick-off's) is wrong: step k - 1.
    const late = asserting(mine.slice(0, k));
    expect(planDisprove(fx.graph, kickoff, late, json(mine))).toEqual({ kind: 'disprove', step: k - 1 });
  });

  it('never a step Vigil does not find wrong, even when the circuit would accept its disprove', () => {
    // The identity circuit finds step 0 (r_0 ≠ r_1) faulty, but Vigil agrees with r_1: it targets step 1,
    // which the circuit accepts (r_2 = r_1), so nothing is disproved.
    const assert = asserting([mine[0], mine[1], mine[1]] as Uint8Array[]);
    const plan = planDisprove(fx.graph, kickoff, assert, json(mine));
    expect(plan).toMatchObject({ kind: 'impossible', code: 'circuit-disagrees', step: 1 });
    expect(() =>
      completeDisprove(fx.graph, fx.sigs, 1, kickoff, assert, { script: Uint8Array.of(0x51), fee: 0n }),
    ).toThrow(/correct; it cannot be disproved/);
  });

  it('nothing when every checkpoint agrees, or without a usable expected trace', () => {
    const honest = [...mine.slice(0, k), claimedRoot];
    const assert = asserting(honest.slice(0, k));
    expect(planDisprove(fx.graph, kickoff, assert, json(honest))).toMatchObject({
      kind: 'impossible',
      code: 'no-wrong-checkpoint',
    });
    expect(planDisprove(fx.graph, kickoff, assert, undefined)).toMatchObject({ code: 'no-expected-trace' });
    expect(planDisprove(fx.graph, kickoff, assert, json(mine.slice(1)))).toMatchObject({
      code: 'bad-expected-trace',
    });
    expect(parseExpectedTrace('not json', k)).toMatchObject({ code: 'bad-expected-trace' });
    expect(parseExpectedTrace(JSON.stringify([...mine.slice(0, k).map(bytesToHex), 'zz']), k)).toMatchObject({
      code: 'bad-expected-trace',
    });
    expect(parseExpectedTrace(json(mine).toUpperCase(), k)).toHaveLength(k + 1);
  });
});

describe('reward spends', () => {
  it('pay the rate times their own size and leave the rest to the reward script', () => {
    const assert = asserting([mine[0], mine[1], root('wrong r2')] as Uint8Array[]);
    const script = Uint8Array.from([0x51, 0x20, ...root('watcher')]);
    const rate = feeRateFromSatPerVb(3);
    const built = buildRewardSpend(
      (reward) => completeDisprove(fx.graph, fx.sigs, 1, kickoff, assert, reward),
      script,
      rate,
    );
    expect(built.vsize).toBe(txVsize(built.tx));
    expect(built.fee).toBe(BigInt(built.vsize) * 3n);
    const total = fx.graph.txs.assert.outputs[0]?.value as bigint;
    const [burn, reward] = built.tx.outputs;
    expect(reward?.script).toEqual(script);
    expect((burn?.value as bigint) + (reward?.value as bigint) + built.fee).toBe(total);
  });
});
