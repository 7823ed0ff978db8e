/**
 * The shape of one game's graph (src/dispute/game/game-graph.ts) at regtest's and mainnet's search shapes:
 * deterministic, every move chained to its parent's outputs, every transaction's value conserved and its
 * presigned fee paying the spec's rate on its largest witness, every transaction standard in weight, every
 * leaf of every output opening with the signature of a party to the game (so no third party spends
 * anything), and the presignatures checked as an import checks them. Bad specs are refused with their
 * reason.
 */
import { describe, expect, it } from 'vitest';
import { resignFixedChoices } from '../../../circuits/gvm/game-leaves.ts';
import { decodeScriptNum } from '../../../src/bitcoin/script/num.ts';
import { Op } from '../../../src/bitcoin/script/opcodes.ts';
import { parseScript } from '../../../src/bitcoin/script/script.ts';
import type { TaprootOutput } from '../../../src/bitcoin/taproot/output.ts';
import { MAX_STANDARD_TX_WEIGHT } from '../../../src/bitcoin/tx/policy.ts';
import { txid, txidHex } from '../../../src/bitcoin/tx/serialize.ts';
import { bytesToHex, equalBytes } from '../../../src/core/bytes.ts';
import {
  buildGameGraph,
  GAME_CONNECTOR_VALUE,
  type GameGraph,
  GameGraphError,
  gameTxPrevouts,
} from '../../../src/dispute/game/game-graph.ts';
import {
  collectGamePresignatures,
  GameSpendError,
  presignGame,
  signGameInput,
} from '../../../src/dispute/game/game-spend.ts';
import {
  MAINNET_SEARCH,
  REGTEST_SEARCH,
  roundBits,
  type SearchShape,
} from '../../../src/dispute/game/grid.ts';
import { gameKeyPlan } from '../../../src/dispute/game/key-plan.ts';
import { resignPointOf } from '../../../src/dispute/game/leaf-witness.ts';
import {
  buildFixtureGame,
  makeGameFixture,
  placeholderOutpoints,
} from '../../../testkit/dispute/game-fixture.ts';
import { secretOf } from '../../../testkit/dispute/graph-fixture.ts';
import { hasOpSuccess } from '../../circuits/helpers.ts';
import { rng } from './griefer.ts';

const regtest = makeGameFixture();
const regtestGraph = buildFixtureGame(regtest);

/**
 * The key a leaf checks first, after an optional `<n> OP_CHECKSEQUENCEVERIFY OP_DROP`: every game leaf
 * opens with `<x-only key> OP_CHECKSIGVERIFY`. Undefined if the leaf opens any other way.
 */
function firstSigner(script: Uint8Array): { key: Uint8Array; csv?: number } | undefined {
  const p = parseScript(script);
  let i = 0;
  let csv: number | undefined;
  if (p.opcodes[1] === Op.OP_CHECKSEQUENCEVERIFY && p.opcodes[2] === Op.OP_DROP) {
    const n = p.pushData(0);
    csv = n === undefined ? (p.opcodes[0] as number) - Op.OP_1 + 1 : decodeScriptNum(n, true, 5);
    i = 3;
  }
  const key = p.pushData(i);
  if (key === undefined || key.length !== 32 || p.opcodes[i + 1] !== Op.OP_CHECKSIGVERIFY) return undefined;
  return { key, ...(csv === undefined ? {} : { csv }) };
}

/** Every output of the graph with a script tree, named. */
function outputsOf(g: GameGraph): [string, TaprootOutput][] {
  const out: [string, TaprootOutput][] = [
    ['stake', g.stake],
    ['reserve', g.reserve],
    ['bond', g.bond],
  ];
  for (const n of g.nodes.values()) {
    out.push([`${n.id} pot`, n.pot]);
    n.connectors.forEach((c, j) => {
      out.push([`${n.id} connector ${j + 1}`, c]);
    });
  }
  return out;
}

function checkGraph(g: GameGraph, shape: SearchShape) {
  const spec = g.spec;
  const parties = new Set([...spec.covenant, spec.operator, spec.challenger].map(bytesToHex));
  // Every leaf opens with a party's signature; none holds an OP_SUCCESSx (which would spend for anyone).
  for (const [name, output] of outputsOf(g)) {
    for (const leaf of output.leaves) {
      const first = firstSigner(leaf.script);
      expect(first, `${name}: a leaf opens without a signature check`).toBeDefined();
      expect(
        parties.has(bytesToHex(first?.key as Uint8Array)),
        `${name}: a leaf checks a stranger's key first`,
      ).toBe(true);
      expect(hasOpSuccess(leaf.script), `${name}: OP_SUCCESSx`).toBe(false);
    }
  }
  // Pots: the next moves need the covenant; the timeout waits t.
  for (const n of g.nodes.values()) {
    const timeout = firstSigner(n.pot.leaves[n.leaves.get('timeout') as number]?.script as Uint8Array);
    expect(timeout?.csv, n.id).toBe(spec.timelocks.move);
    for (const [leafName, k] of n.leaves) {
      const first = firstSigner(n.pot.leaves[k]?.script as Uint8Array)?.key as Uint8Array;
      if (leafName.startsWith('move:'))
        expect(equalBytes(first, spec.covenant[0] as Uint8Array), leafName).toBe(true);
    }
  }

  const txs = [...g.txs.values()];
  const byTxid = new Map(txs.map((t) => [txidHex(t.tx), t]));
  for (const t of txs) {
    // Conservation, and the fee: the spec's rate on the largest witness.
    const inValue = gameTxPrevouts(t).reduce((a, p) => a + p.value, 0n);
    const outValue = t.tx.outputs.reduce((a, o) => a + o.value, 0n);
    expect(inValue - outValue, t.id).toBe(t.fee);
    const rate = t.id.includes('@') ? BigInt(t.id.split('@')[1] as string) : spec.feeRate;
    expect(t.fee, t.id).toBe(rate * BigInt(Math.ceil(t.maxWeight / 4)));
    expect(t.maxWeight, `${t.id} is not standard`).toBeLessThanOrEqual(MAX_STANDARD_TX_WEIGHT);
    for (const o of t.tx.outputs) expect(o.value, t.id).toBeGreaterThanOrEqual(GAME_CONNECTOR_VALUE);
    // Each input spends what `spends` says: the parent's outputs by txid and vout.
    t.tx.inputs.forEach((inp, j) => {
      const spend = t.spends[j];
      const parent = byTxid.get(bytesToHexReversed(inp.prevTxid));
      if (parent !== undefined) {
        expect(parent.tx.outputs[inp.vout]?.script, `${t.id} input ${j}`).toEqual(spend?.output.scriptPubKey);
        expect(parent.tx.outputs[inp.vout]?.value, `${t.id} input ${j}`).toBe(spend?.value);
      }
    });
  }
  // The tree: each move spends its parent's pot and connectors; choice 1 spends C_w and Q_w.
  for (const n of g.nodes.values()) {
    const t = g.txs.get(n.id);
    const inputs = t?.tx.inputs ?? [];
    if (n.parent === undefined) {
      expect(inputs.map((i) => [bytesToHex(i.prevTxid), i.vout])).toEqual([
        [bytesToHex(g.outpoints.bond.txid), g.outpoints.bond.vout],
        [bytesToHex(g.outpoints.reserve.txid), g.outpoints.reserve.vout],
      ]);
    } else {
      const parentTxid = txid(g.txs.get(n.parent)?.tx as NonNullable<ReturnType<typeof g.txs.get>>['tx']);
      inputs.forEach((i, j) => {
        expect(equalBytes(i.prevTxid, parentTxid), n.id).toBe(true);
        expect(i.vout).toBe(j);
      });
      expect(inputs.length).toBe(n.inputs.length);
    }
  }
  // The moves: the first search, the reveal, two requests, one second search, two tape reveals.
  const R = roundBits(shape).length;
  expect(g.nodes.size).toBe(2 * R - 1 + 1 + 2 + (2 * R + 1) + 2);
  // Each output's timeout goes to the side that wins if the next mover is silent; where the operator
  // moves next, w's timeout slash of D exists; every operator move's output has w's slash.
  for (const n of g.nodes.values()) {
    const kids = [...g.nodes.values()].filter((c) => c.parent === n.id);
    const next = kids[0]?.move.mover ?? 'challenger';
    const timeout = firstSigner(n.pot.leaves[n.leaves.get('timeout') as number]?.script as Uint8Array);
    const winner = next === 'operator' ? spec.challenger : spec.operator;
    expect(equalBytes(timeout?.key as Uint8Array, winner), `${n.id}: timeout key`).toBe(true);
    expect(g.txs.has(`timeout:${n.id}`), `${n.id}: timeout slash`).toBe(next === 'operator');
    if (n.move.mover === 'operator') expect(g.txs.has(`slash:${n.id}`), n.id).toBe(true);
  }
  // Every transaction has its own txid (two presigned transactions with one txid would be one).
  expect(new Set(txs.map((t) => txidHex(t.tx))).size).toBe(txs.length);
  for (const t of txs.filter((x) => x.kind === 'slash')) {
    expect(equalBytes(t.tx.inputs[0]?.prevTxid as Uint8Array, g.outpoints.stake.txid)).toBe(true);
    expect(t.tx.outputs[0]?.value).toBe((spec.values.stake * BigInt(spec.burnBps)) / 10_000n);
  }
  for (const t of txs.filter((x) => x.kind === 'slash' && x.id.startsWith('timeout:'))) {
    expect(t.tx.inputs[1]?.sequence, t.id).toBe(spec.timelocks.move);
  }
  // Each slash at every rung of its ladder, spending the same pot.
  for (const t of txs.filter((x) => x.kind === 'slash' && !x.id.includes('@'))) {
    const [kind] = t.id.split(':') as ['slash' | 'timeout'];
    const rates = (kind === 'slash' ? spec.slashFeeRates : spec.timeoutFeeRates) ?? [spec.feeRate];
    for (const rate of rates.slice(1)) {
      const rung = g.txs.get(`${t.id}@${rate}`);
      expect(rung, `${t.id}@${rate}`).toBeDefined();
      expect(rung?.tx.inputs.map((i) => [bytesToHex(i.prevTxid), i.vout, i.sequence])).toEqual(
        t.tx.inputs.map((i) => [bytesToHex(i.prevTxid), i.vout, i.sequence]),
      );
    }
  }
}

/** Display-order hex of an internal-order txid (how the byTxid map is keyed). */
function bytesToHexReversed(b: Uint8Array): string {
  return bytesToHex(Uint8Array.from(b).reverse());
}

describe('one game graph', () => {
  it('at regtest’s shape: chained, conserved, standard, and every leaf opens with a party’s signature', () => {
    checkGraph(regtestGraph, REGTEST_SEARCH);
  });

  it('at mainnet’s shape too (n = 32, K = 29, 6 rounds), with its largest transactions under 400,000 WU', () => {
    const fx = makeGameFixture({
      shape: MAINNET_SEARCH,
      timelocks: { move: 72, payout: 2_016, assertWindow: 864, bondRefund: 1_008 },
    });
    const g = buildFixtureGame(fx);
    checkGraph(g, MAINNET_SEARCH);
    const heaviest = Math.max(...[...g.txs.values()].map((t) => t.maxWeight));
    expect(heaviest).toBeGreaterThan(150_000);
  });

  it('is deterministic: a rebuild from copies of the keys gives the same transactions, byte for byte', () => {
    const copy = (m: ReadonlyMap<string, { messageBytes: number; hashes: readonly Uint8Array[] }>) =>
      new Map(
        [...m].map(([l, k]) => [l, { messageBytes: k.messageBytes, hashes: k.hashes.map((h) => h.slice()) }]),
      );
    const again = buildGameGraph(
      {
        ...regtest.spec,
        keys: { operator: copy(regtest.spec.keys.operator), challenger: copy(regtest.spec.keys.challenger) },
      },
      placeholderOutpoints(),
    );
    expect([...again.txs.keys()]).toEqual([...regtestGraph.txs.keys()]);
    for (const [id, t] of again.txs)
      expect(txidHex(t.tx), id).toBe(txidHex(regtestGraph.txs.get(id)?.tx as typeof t.tx));
  });

  it('another challenger, another claim epoch or another outpoint gives other transactions', () => {
    const other = buildGameGraph(regtest.spec, {
      ...placeholderOutpoints(),
      bond: { txid: new Uint8Array(32).fill(5), vout: 0 },
    });
    expect(txidHex(other.txs.get('choice1')?.tx as never)).not.toBe(
      txidHex(regtestGraph.txs.get('choice1')?.tx as never),
    );
  });

  it('the two signers’ planned labels never overlap (a leaf’s witness finds each signature by label)', () => {
    for (const shape of [REGTEST_SEARCH, MAINNET_SEARCH]) {
      const plan = gameKeyPlan(shape);
      const op = new Set(plan.filter((e) => e.signer === 'operator').map((e) => e.label));
      for (const e of plan.filter((x) => x.signer === 'challenger'))
        expect(op.has(e.label), e.label).toBe(false);
    }
  });

  it('names the resign leaf of each end of the final segment: its fixed choices are the played ones', () => {
    const next = rng(15);
    for (const shape of [REGTEST_SEARCH, { pointsPerRound: 8, depth: 22 }]) {
      const bits = roundBits(shape);
      for (let k = 0; k < 200; k++) {
        // Choices skewed to the ends, where the rounds of a point are decided.
        const choices = bits.map((b) => {
          const x = next();
          return x < 0.3 ? 0 : x < 0.6 ? 2 ** b - 1 : Math.floor(next() * 2 ** b);
        });
        for (const side of ['h', 'hNext'] as const) {
          const point = resignPointOf(shape, choices, side);
          expect(resignFixedChoices(shape, point), `${choices} ${side}`).toEqual(
            choices.slice(point.round - 1),
          );
        }
      }
    }
  });
});

describe('presigning one game', () => {
  const perMember = regtest.secrets.covenant.map((s) => presignGame(regtestGraph, s));

  it('every presigned input is signed by each covenant member (SIGHASH_DEFAULT, 64 bytes) and checks', () => {
    const sigs = collectGamePresignatures(regtestGraph, perMember);
    expect(sigs.size).toBe(regtestGraph.presigned.length);
    for (const list of sigs.values()) for (const s of list) expect(s.length).toBe(64);
  });

  it('refuses a missing member, a hash-type byte, and a signature by another key or over another input, naming it', () => {
    expect(() => collectGamePresignatures(regtestGraph, perMember.slice(1))).toThrow(GameSpendError);
    const withType = perMember.map((m, i) =>
      i === 1 ? m.map((s, k) => (k === 3 ? Uint8Array.of(...s, 0x01) : s)) : m,
    );
    expect(() => collectGamePresignatures(regtestGraph, withType)).toThrow(
      /member 1's signature is missing or not 64 bytes/,
    );
    const p = regtestGraph.presigned[5] as { tx: string; input: number };
    const stranger = perMember.map((m, i) =>
      i === 2
        ? m.map((s, k) => (k === 5 ? signGameInput(regtestGraph, p.tx, p.input, secretOf('stranger')) : s))
        : m,
    );
    expect(() => collectGamePresignatures(regtestGraph, stranger)).toThrow(
      new RegExp(`${p.tx} input ${p.input}: member 2's signature does not verify`),
    );
    const swapped = perMember.map((m, i) => (i === 0 ? ([m[1], m[0], ...m.slice(2)] as Uint8Array[]) : m));
    expect(() => collectGamePresignatures(regtestGraph, swapped)).toThrow(
      /member 0's signature does not verify/,
    );
  });
});

describe('a game spec Vigil refuses', () => {
  const build = (patch: Partial<typeof regtest.spec>) => () =>
    buildGameGraph({ ...regtest.spec, ...patch }, placeholderOutpoints());

  it('a payout that could mature mid-game, a refund before the latest forfeit, a timelock out of range', () => {
    const tl = { move: 3, payout: 60, assertWindow: 12, bondRefund: 20 };
    expect(build({ timelocks: { ...tl, payout: 59 } })).toThrow(/could mature mid-game/);
    expect(build({ timelocks: { ...tl, bondRefund: 15 } })).toThrow(
      /must mature after the latest forfeit \(T_a \+ t = 15\)/,
    );
    expect(build({ timelocks: { ...tl, move: 0 } })).toThrow(GameGraphError);
    expect(build({ timelocks: { ...tl, payout: 70_000 } })).toThrow(/not 1..65535/);
  });

  it('reserves that cannot pay the game’s fees, a burn below dust, a rate below 1 sat/vB', () => {
    expect(build({ values: { stake: 10_000_000n, reserve: 20_000n, bond: 50_000n } })).toThrow(
      /do not cover the game's fees at 1 sat\/vB: .* would leave a pot of -?\d+ sats/,
    );
    expect(build({ feeRate: 0n })).toThrow(/at least 1 sat\/vB/);
    expect(build({ timeoutFeeRates: [1n, 1n] })).toThrow(/timeout fee ladder must rise/);
    expect(build({ slashFeeRates: [1n, 8n, 1_000n] })).toThrow(/at 1000 sat\/vB would leave w -\d+ sats/);
    // With a stake that pays it, a rung whose fee on the largest leaf is over Core's maxfeerate on the smallest.
    expect(
      build({
        slashFeeRates: [1n, 400n],
        values: { stake: 1_000_000_000n, reserve: 600_000n, bond: 1_100_000n },
      }),
    ).toThrow(/at 400 sat\/vB pays \d+ sats, over 10000 sat\/vB when spent through its smallest leaf/);
    expect(build({ values: { stake: 500n, reserve: 600_000n, bond: 1_100_000n } })).toThrow(
      /below the 330-sat/,
    );
  });
});
