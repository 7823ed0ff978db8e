/**
 * The claim graph's structure (src/dispute/game/claim-graph.ts): every game sits on the outputs the assert
 * and w's challenge create, value is conserved, every presigned fee covers its largest witness, the build is
 * deterministic, and a spec that would put someone's money or keys at risk is refused with a reason.
 */
import { describe, expect, it } from 'vitest';
import { txid } from '../../../src/bitcoin/tx/serialize.ts';
import { bytesToHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/hashes.ts';
import {
  assertLabels,
  assertTimeoutId,
  buildClaimGraph,
  type ClaimGraph,
  type ClaimGraphSpec,
  challengeId,
  claimOutput,
} from '../../../src/dispute/game/claim-graph.ts';
import { type GameGraph, gameTx } from '../../../src/dispute/game/game-graph.ts';
import { REGTEST_SEARCH } from '../../../src/dispute/game/grid.ts';
import type { SignerKeys } from '../../../src/dispute/game/signer-keys.ts';
import { bondCoinValue, makeClaimFixture } from '../../../testkit/dispute/claim-fixture.ts';

const fx = makeClaimFixture({ shape: REGTEST_SEARCH, challengers: 2 });
const graph = buildClaimGraph(fx.spec);
const hex = (b: Uint8Array) => bytesToHex(b);
const sameOutpoint = (a: { txid: Uint8Array; vout: number }, b: { prevTxid: Uint8Array; vout: number }) =>
  hex(a.txid) === hex(b.prevTxid) && a.vout === b.vout;

function refusal(change: (s: ClaimGraphSpec) => ClaimGraphSpec): string {
  try {
    buildClaimGraph(change(fx.spec));
  } catch (err) {
    return (err as Error).message;
  }
  return 'built';
}

const withChallengers = (s: ClaimGraphSpec, cs: ClaimGraphSpec['challengers']): ClaimGraphSpec => ({
  ...s,
  challengers: cs,
});

describe('one claim graph', () => {
  it('chains every game onto the assert and its challenge, conserves value, and pays each presigned fee on the largest witness', () => {
    const W = fx.spec.challengers.length;
    const m = graph.assertInputs.length;
    const kickoff = gameTx(graph, 'kickoff');
    const assert = gameTx(graph, 'assert');
    const k = txid(kickoff.tx);
    const a = txid(assert.tx);
    expect(kickoff.tx.outputs).toHaveLength(W + m + 2);
    expect(claimOutput(fx.spec).value).toBe(graph.claim.value);
    graph.games.forEach((game, w) => {
      expect(game.outpoints.stake).toEqual({ txid: a, vout: 0 });
      expect(game.outpoints.reserve).toEqual({ txid: a, vout: 1 + w });
      const challenge = gameTx(graph, challengeId(w));
      expect(game.outpoints.bond).toEqual({ txid: txid(challenge.tx), vout: 0 });
      expect(assert.tx.outputs[1 + w]).toEqual({
        value: fx.spec.values.reserve,
        script: game.reserve.scriptPubKey,
      });
      expect(challenge.tx.outputs[0]).toEqual({ value: fx.spec.values.bond, script: game.bond.scriptPubKey });
      expect(sameOutpoint({ txid: k, vout: w }, challenge.tx.inputs[0] as never)).toBe(true);
      expect(sameOutpoint(fx.spec.challengers[w]?.bondCoin as never, challenge.tx.inputs[1] as never)).toBe(
        true,
      );
      // D is one output for every game: each game's slashes spend the same outpoint.
      expect(game.stake.scriptPubKey).toEqual(assert.tx.outputs[0]?.script);
    });
    // The take spends every output of the kick-off but its anchor; the assert every B and S.
    const take = gameTx(graph, 'take');
    expect(take.tx.inputs.map((i) => i.vout)).toEqual(Array.from({ length: W + m + 1 }, (_, j) => j));
    expect(assert.tx.inputs.map((i) => i.vout)).toEqual(Array.from({ length: m + 1 }, (_, j) => W + j));
    expect(take.tx.inputs.every((i) => hex(i.prevTxid) === hex(k))).toBe(true);
    for (const t of graph.txs.values()) {
      const inValue = t.spends.reduce((s, x) => s + x.value, 0n);
      const outValue = t.tx.outputs.reduce((s, o) => s + o.value, 0n);
      expect(inValue - outValue, t.id).toBe(t.fee);
      const rate = t.id.includes('@') ? BigInt(t.id.split('@')[1] as string) : fx.spec.feeRate;
      expect(t.fee, t.id).toBe(rate * BigInt(Math.ceil(t.maxWeight / 4)));
      expect(t.maxWeight, t.id).toBeLessThan(400_000);
      for (const o of t.tx.outputs) expect(o.value, t.id).toBeGreaterThanOrEqual(330n);
    }
    // Each challenger has its assert-timeout at every rung of the timeout ladder.
    for (let w = 0; w < W; w++) {
      const fees = (fx.spec.timeoutFeeRates ?? []).map(
        (r, i) => gameTx(graph, assertTimeoutId(w, i === 0 ? undefined : r)).fee,
      );
      expect(fees).toEqual([...fees].sort((x, y) => (x < y ? -1 : 1)));
    }
    // The covenant presigns every input of the claim's transactions but the kick-off's and w's bond coin.
    const presigned = new Set(graph.presigned.map((p) => `${p.tx}#${p.input}`));
    for (const t of graph.txs.values()) {
      t.tx.inputs.forEach((_, j) => {
        const own = t.id === 'kickoff' || (t.kind === 'challenge' && j === 1);
        expect(presigned.has(`${t.id}#${j}`), `${t.id}#${j}`).toBe(!own);
      });
    }
  });

  it('prices each challenge at its own rate, paid from w’s bond coin, and nothing else', () => {
    const dearer = buildClaimGraph({ ...fx.spec, challengeFeeRate: 20n });
    for (const t of graph.txs.values()) {
      const other = gameTx(dearer, t.id);
      if (t.kind === 'challenge') {
        expect(other.fee).toBe(20n * (t.fee / fx.spec.feeRate));
        expect(other.tx.outputs[0]).toEqual(t.tx.outputs[0]);
        expect((other.tx.outputs[1]?.value as bigint) + other.fee).toBe(
          (t.tx.outputs[1]?.value as bigint) + t.fee,
        );
      } else {
        expect(other.fee, t.id).toBe(t.fee);
      }
    }
  });

  it('is deterministic, and the claim outpoint or one bond coin changes every txid that follows from it', () => {
    const again = buildClaimGraph({ ...fx.spec, challengers: fx.spec.challengers.map((c) => ({ ...c })) });
    const ids = (g: ClaimGraph) => [...g.txs.values()].map((t) => hex(txid(t.tx)));
    expect(ids(again)).toEqual(ids(graph));
    expect(again.games.map((g) => hex(txid(gameTx(g, 'choice1').tx)))).toEqual(
      graph.games.map((g) => hex(txid(gameTx(g, 'choice1').tx))),
    );
    const moved = buildClaimGraph(
      withChallengers(
        fx.spec,
        fx.spec.challengers.map((c, w) =>
          w === 1 ? { ...c, bondCoin: { ...c.bondCoin, txid: sha256(utf8('another coin')) } } : c,
        ),
      ),
    );
    expect(hex(txid(gameTx(moved, challengeId(1)).tx))).not.toBe(hex(txid(gameTx(graph, challengeId(1)).tx)));
    expect(hex(txid(gameTx(moved.games[1] as GameGraph, 'choice1').tx))).not.toBe(
      hex(txid(gameTx(graph.games[1] as GameGraph, 'choice1').tx)),
    );
    expect(hex(txid(gameTx(moved.games[0] as GameGraph, 'choice1').tx))).toBe(
      hex(txid(gameTx(graph.games[0] as GameGraph, 'choice1').tx)),
    );
    const elsewhere = buildClaimGraph({
      ...fx.spec,
      claim: { txid: sha256(utf8('another claim')), vout: 0 },
    });
    const before = new Set(ids(graph));
    expect(ids(elsewhere).filter((id) => before.has(id))).toEqual([]);
    expect(hex(txid(gameTx(elsewhere.games[0] as GameGraph, 'choice1').tx))).not.toBe(
      hex(txid(gameTx(graph.games[0] as GameGraph, 'choice1').tx)),
    );
  });
});

type Challenger = ClaimGraphSpec['challengers'][number];
const challenger = (w: number): Challenger => fx.spec.challengers[w] as Challenger;
/** The spec with challenger w changed. */
const changing =
  (w: number, change: Partial<Challenger>) =>
  (s: ClaimGraphSpec): ClaimGraphSpec =>
    withChallengers(
      s,
      s.challengers.map((c, i) => (i === w ? { ...c, ...change } : c)),
    );

describe('a claim spec Vigil refuses', () => {
  it('no challenger, more than W_max, a repeated key or coin, the operator as its own challenger', () => {
    expect(refusal((s) => withChallengers(s, []))).toMatch(/at least one challenger/);
    expect(refusal((s) => ({ ...s, maxChallengers: 1 }))).toMatch(/2 challengers is more than W_max = 1/);
    expect(refusal(changing(1, { key: challenger(0).key }))).toMatch(/Challenger 1 repeats another's key/);
    expect(refusal(changing(1, { bondCoin: challenger(0).bondCoin }))).toMatch(
      /Challenger 1 names a bond coin another challenger named/,
    );
    expect(refusal(changing(1, { key: fx.spec.operator }))).toMatch(/Challenger 1 is the operator/);
  });

  it('a claim output funded above what its challengers need: the kick-off’s anchor returns the surplus at the same fee; below it, refused', () => {
    const needs = claimOutput(fx.spec).value;
    expect(graph.claim.value).toBe(needs);
    // Funded for more challengers than posted (§24.11 item 37): the operator's claimOutput still says what
    // the posted ones need.
    const three = needs + 1_234_567n;
    const more = buildClaimGraph({ ...fx.spec, claimValue: three });
    expect(more.claim.value).toBe(three);
    expect(claimOutput({ ...fx.spec, claimValue: three }).value).toBe(needs);
    const k0 = gameTx(graph, 'kickoff');
    const k1 = gameTx(more, 'kickoff');
    const last = k0.tx.outputs.length - 1;
    expect(k1.tx.outputs.length).toBe(k0.tx.outputs.length);
    expect(k1.tx.outputs.slice(0, last)).toEqual(k0.tx.outputs.slice(0, last));
    expect(k1.tx.outputs[last]?.script).toEqual(k0.tx.outputs[last]?.script);
    expect(k1.tx.outputs[last]?.value).toBe((k0.tx.outputs[last]?.value as bigint) + three - needs);
    expect(k1.fee).toBe(k0.fee);
    const paid = k1.tx.outputs.reduce((a, o) => a + o.value, 0n);
    expect(three - paid).toBe(k1.fee);
    // Another kick-off, so every txid after it changes with the funded value.
    expect(hex(txid(k1.tx))).not.toBe(hex(txid(k0.tx)));
    expect(refusal((s) => ({ ...s, claimValue: needs - 1n }))).toMatch(
      new RegExp(
        `The claim output holds ${needs - 1n} sats; a claim of 2 challengers needs at least ${needs}`,
      ),
    );
  });

  it('a bond coin too small for the bond and its challenge’s fee, naming the challenger and the amount', () => {
    const small = bondCoinValue(fx.spec.values) / 2n;
    expect(refusal(changing(1, { bondCoin: { ...challenger(1).bondCoin, value: small } }))).toMatch(
      new RegExp(`Challenger 1's bond coin holds ${small} sats; its challenge needs at least \\d+`),
    );
  });

  it('an assert window that ends before the challenge window, a covenant that does not start with the operator, a burn below dust', () => {
    expect(
      refusal((s) => ({ ...s, timelocks: { ...s.timelocks, assertWindow: s.timelocks.challenge } })),
    ).toMatch(/must end after the challenge window/);
    expect(refusal((s) => ({ ...s, covenant: [...s.covenant].reverse() }))).toMatch(
      /first key must be the operator/,
    );
    expect(refusal((s) => ({ ...s, assertTimeoutBurnBps: 0 }))).toMatch(/below the 330-sat P2WSH dust limit/);
    expect(refusal((s) => ({ ...s, feeRate: 2n, challengeFeeRate: 1n }))).toMatch(
      /challenge fee rate must be at least the presigned fee rate/,
    );
  });

  it('a Winternitz key used twice: the operator’s across two games, an assert key that differs between games, a challenger’s within its bundle', () => {
    expect(refusal(changing(1, { operatorKeys: challenger(0).operatorKeys }))).toMatch(
      /The operator's Winternitz key for game 1's .* shares a chain with game 0's/,
    );
    const shared = assertLabels(REGTEST_SEARCH);
    const steps = shared[0] as string;
    const [, gameKey] = [...challenger(1).operatorKeys].find(([l]) => !shared.includes(l)) as [string, never];
    const moved: SignerKeys = new Map([...challenger(1).operatorKeys, [steps, gameKey]]);
    expect(refusal(changing(1, { operatorKeys: moved }))).toMatch(
      new RegExp(`Game 1's key for the assert's ${steps} differs from game 0's`),
    );
    const own = [...challenger(0).keys];
    const [l1, k1] = own[0] as (typeof own)[number];
    const [l2] = own.find(([l, k]) => l !== l1 && k.messageBytes === k1.messageBytes) as (typeof own)[number];
    const reused: SignerKeys = new Map([...own, [l2, k1]]);
    expect(refusal(changing(0, { keys: reused }))).toMatch(
      new RegExp(`Challenger 0's Winternitz key for (${l1}|${l2}) shares a chain with another`),
    );
  });
});
