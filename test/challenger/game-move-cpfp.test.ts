/**
 * Vigil's own moves under a fee market above the graph's rate (src/challenger/game-move-cpfp.ts), on the
 * simnet with real Redis: a move of w's waits in the mempool while blocks take only packages paying a
 * floor; near the operator's sweep a child spending the move's anchor and the game's purse (C_w's change)
 * pays for it, and the next block takes both. The next move's child spends the first child's output (the
 * purse passes on), and every purse is held from the bundle poster.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeTx } from '../../src/bitcoin/codec/codec.ts';
import { feeRateFromSatPerVb } from '../../src/bitcoin/codec/fee-rate.ts';
import type { MempoolEntry } from '../../src/bitcoin/simnet/mempool.ts';
import { hashToDisplayHex, txidHex } from '../../src/bitcoin/tx/serialize.ts';
import { processGame } from '../../src/challenger/game-play.ts';
import { CHALLENGE_CHANGE_VOUT } from '../../src/dispute/game/challenge-cpfp.ts';
import { challengeId } from '../../src/dispute/game/claim-graph.ts';
import { gameTx } from '../../src/dispute/game/game-graph.ts';
import type { GameRecord } from '../../src/dispute/records/game-types.ts';
import { type GameSetup, gameSetup, mineAtFloor, operatorActs } from './game-play-setup.ts';

let s: GameSetup | undefined;
afterEach(async () => {
  await s?.stop();
  s = undefined;
});

const run = (g: GameSetup) => processGame(g.ctx, { disputeId: g.id });

const vigilMoves = (rec: GameRecord) => [...rec.sent.entries()].filter(([, t]) => t.role === 'game-move');
const childrenOf = (rec: GameRecord) =>
  [...rec.sent.entries()].filter(([, t]) => t.role === 'game-move-cpfp');

/** Plays on (the operator answering, every block mined) until Vigil has written `n` moves. */
async function untilVigilMoves(g: GameSetup, n: number): Promise<void> {
  for (let b = 0; b < 60; b++) {
    await run(g);
    await run(g);
    if (vigilMoves(await g.store.require(g.id)).length >= n) return;
    await operatorActs(g);
    g.mine();
  }
  throw new Error(`Vigil never wrote its move ${n}`);
}

describe('Vigil’s own moves under a fee market above the graph’s rate', () => {
  it('a child spending the move’s anchor and the purse pays for it before the sweep; the next move’s child spends the first child’s output', async () => {
    s = await gameSetup();
    const g = s;
    const held: string[] = [];
    g.ctx.holdCoin = async (coin) => {
      held.push(coin);
    };
    await untilVigilMoves(g, 1);
    const cw = txidHex(gameTx(g.c.graph, challengeId(0)).tx);
    expect(held).toContain(`${cw}:${CHALLENGE_CHANGE_VOUT}`);
    const [first] = vigilMoves(await g.store.require(g.id));
    const firstTxid = first?.[1].txid as string;
    expect(g.c.chain.mempool.get(firstTxid)).toBeDefined();

    // The market: 20 sat/vB, and blocks take nothing below 15. The move pays the graph's 1 sat/vB.
    g.sim.setFeeRate(feeRateFromSatPerVb(20));
    expect(mineAtFloor(g, 15n)).not.toContain(firstTxid);
    const said = await run(g);
    expect(said).toMatch(/the child move-cpfp:[^@]+@\d+~[0-9a-f]{16}:\d+ \(\d+ sats\) sent/);
    const rec = await g.store.require(g.id);
    const [child] = childrenOf(rec);
    expect(childrenOf(rec)).toHaveLength(1);
    const childTx = decodeTx(child?.[1].raw as Uint8Array);
    // Inputs: the move's anchor (its last output) and C_w's change; output: the next purse, held.
    expect(hashToDisplayHex(childTx.inputs[0]?.prevTxid as Uint8Array)).toBe(firstTxid);
    expect(hashToDisplayHex(childTx.inputs[1]?.prevTxid as Uint8Array)).toBe(cw);
    expect(childTx.inputs[1]?.vout).toBe(CHALLENGE_CHANGE_VOUT);
    expect(held).toContain(`${child?.[1].txid}:0`);
    const pool = g.c.chain.mempool;
    const pkg = [firstTxid, child?.[1].txid as string].map((id) => pool.get(id) as MempoolEntry);
    const rate = (pkg.reduce((a, e) => a + e.fee, 0n) * 1000n) / BigInt(pkg.reduce((a, e) => a + e.vsize, 0));
    expect(rate).toBeGreaterThanOrEqual(20_000n);
    // A second run in the same block writes nothing more; a child dropped from the mempool goes out again.
    await run(g);
    expect(childrenOf(await g.store.require(g.id))).toHaveLength(1);
    pool.removeWithDescendants(child?.[1].txid as string);
    expect(pool.get(child?.[1].txid as string)).toBeUndefined();
    await run(g);
    expect(pool.get(child?.[1].txid as string)).toBeDefined();
    expect(childrenOf(await g.store.require(g.id))).toHaveLength(1);

    expect(mineAtFloor(g, 15n)).toEqual([firstTxid, child?.[1].txid]);

    // The game goes on: the operator answers, Vigil writes its next move, which lags in turn.
    g.sim.setFeeRate(undefined);
    await untilVigilMoves(g, 2);
    const second = vigilMoves(await g.store.require(g.id)).find(([, t]) => t.txid !== firstTxid);
    const secondTxid = second?.[1].txid as string;
    g.sim.setFeeRate(feeRateFromSatPerVb(20));
    expect(mineAtFloor(g, 15n)).not.toContain(secondTxid);
    expect(await run(g)).toMatch(/sent/);
    const children = childrenOf(await g.store.require(g.id));
    expect(children).toHaveLength(2);
    const next = children.find(([id]) => !id.includes(first?.[0] as string));
    const nextTx = decodeTx(next?.[1].raw as Uint8Array);
    expect(hashToDisplayHex(nextTx.inputs[0]?.prevTxid as Uint8Array)).toBe(secondTxid);
    expect(hashToDisplayHex(nextTx.inputs[1]?.prevTxid as Uint8Array)).toBe(child?.[1].txid);
    expect(nextTx.inputs[1]?.vout).toBe(0);
    expect(mineAtFloor(g, 15n)).toEqual([secondTxid, next?.[1].txid]);
  });
});
