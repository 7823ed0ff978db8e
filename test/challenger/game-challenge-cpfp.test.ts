/**
 * w's challenge in a market above its rate (src/challenger/game-challenge-cpfp.ts), on the simnet with
 * real Redis: blocks take only packages paying a floor, so C_w, priced by the graph, waits. After
 * `bumpAfterBlocks` blocks Vigil's child lifts the package to the estimate and the next block takes both;
 * a higher estimate replaces the child; with no estimate at all, the package is lifted over the take's
 * bar before T_c (more in all and per vbyte than the take, which pays more in all than C_w alone), and
 * the operator's take at T_c is refused by the mempool. The package never passes Vigil's rate cap.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { feeRateFromSatPerVb } from '../../src/bitcoin/codec/fee-rate.ts';
import type { MempoolEntry } from '../../src/bitcoin/simnet/mempool.ts';
import { TxReject } from '../../src/bitcoin/simnet/rules.ts';
import { taprootOutput } from '../../src/bitcoin/taproot/output.ts';
import { txidHex } from '../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import { writtenChildren } from '../../src/challenger/game-challenge-cpfp.ts';
import { processGame } from '../../src/challenger/game-play.ts';
import { takeBar } from '../../src/dispute/game/challenge-cpfp.ts';
import { challengeId } from '../../src/dispute/game/claim-graph.ts';
import { completeCovenantTx } from '../../src/dispute/game/claim-spend.ts';
import { gameTx } from '../../src/dispute/game/game-graph.ts';
import { type GameSetup, gameSetup, mineAtFloor } from './game-play-setup.ts';

let s: GameSetup | undefined;
afterEach(async () => {
  await s?.stop();
  s = undefined;
});

/** The package of C_w and its child in the mempool: what it pays per kvB. */
function packageOf(g: GameSetup, challengeTxid: string): { rate: bigint; total: bigint; ids: string[] } {
  const pool = g.c.chain.mempool;
  const ids = [challengeTxid, ...pool.descendants(challengeTxid)];
  const entries = ids.map((id) => pool.get(id) as MempoolEntry);
  const total = entries.reduce((a, e) => a + e.fee, 0n);
  const vsize = entries.reduce((a, e) => a + e.vsize, 0);
  return { rate: (total * 1000n) / BigInt(vsize), total, ids };
}

const run = (g: GameSetup) => processGame(g.ctx, { disputeId: g.id });

async function challenged(g: GameSetup): Promise<string> {
  await run(g);
  await run(g);
  const rec = await g.store.require(g.id);
  expect(rec.state).toBe('challenged');
  const txid = txidHex(gameTx(g.c.graph, challengeId(0)).tx);
  expect(g.c.chain.mempool.get(txid)).toBeDefined();
  return txid;
}

describe('w’s challenge under a fee market above its rate', () => {
  it('waits bumpAfterBlocks blocks, then a child lifts it to the estimate and the next block takes both', async () => {
    s = await gameSetup();
    const g = s;
    g.sim.setFeeRate(feeRateFromSatPerVb(20));
    const cw = await challenged(g);
    expect(mineAtFloor(g, 15n)).toEqual([]);
    expect(await run(g)).toBe('the challenge is in the mempool');
    expect(mineAtFloor(g, 15n)).toEqual([]);

    const said = await run(g);
    expect(said).toMatch(/the challenge's child challenge-cpfp@\d+ sent/);
    expect(await run(g)).toMatch(/the challenge's child challenge-cpfp@\d+ is out/);
    const rec = await g.store.require(g.id);
    const children = writtenChildren(rec);
    expect(children).toHaveLength(1);
    expect([...rec.sent.values()].filter((t) => t.role === 'game-challenge-cpfp')).toHaveLength(1);
    const pkg = packageOf(g, cw);
    expect(pkg.ids).toHaveLength(2);
    expect(pkg.rate).toBeGreaterThanOrEqual(20_000n);
    expect(pkg.rate).toBeLessThan(21_000n);
    expect((await g.registry.getSingleMetricAsString('vigil_challenge_fee_bumps_total')).trim()).toMatch(
      / 1$/,
    );

    // The child returns C_w's change, less its fee, to w's bond address.
    const child = g.c.chain.mempool.get(pkg.ids[1] as string)?.tx as Tx;
    const change = gameTx(g.c.graph, challengeId(0)).tx.outputs[1]?.value as bigint;
    expect(child.outputs).toHaveLength(1);
    expect(child.outputs[0]?.value).toBe(change - (children[0]?.fee as bigint));
    expect(child.outputs[0]?.script).toEqual(
      taprootOutput(g.c.graph.spec.challengers[0]?.key as Uint8Array).scriptPubKey,
    );

    expect(mineAtFloor(g, 15n)).toEqual([cw, pkg.ids[1]]);
    await run(g);
    expect((await g.store.require(g.id)).state).toBe('confirmed');
    expect(await g.registry.getSingleMetricAsString('vigil_challenge_fee_capped')).not.toContain(g.id);
  });

  it('a higher estimate replaces the child with one paying more; the cap bounds the package', async () => {
    s = await gameSetup({ maxFeeRateSatVb: 60 });
    const g = s;
    // One block of lag is enough here: regtest's six-block window leaves room for three bumps.
    g.ctx.fees = { ...g.ctx.fees, bumpAfterBlocks: 1 };
    g.sim.setFeeRate(feeRateFromSatPerVb(20));
    const cw = await challenged(g);
    mineAtFloor(g, 100n);
    expect(await run(g)).toMatch(/sent/);
    const first = writtenChildren(await g.store.require(g.id));
    expect(first).toHaveLength(1);

    g.sim.setFeeRate(feeRateFromSatPerVb(45));
    mineAtFloor(g, 100n);
    expect(await run(g)).toMatch(/sent/);
    const second = writtenChildren(await g.store.require(g.id));
    expect(second).toHaveLength(2);
    expect(second[1]?.fee).toBeGreaterThan(first[0]?.fee as bigint);
    const pkg = packageOf(g, cw);
    expect(pkg.rate).toBeGreaterThanOrEqual(45_000n);
    // Only the latest child is in the mempool: it replaced the first.
    expect(pkg.ids).toHaveLength(2);
    expect(pkg.total).toBe(gameTx(g.c.graph, challengeId(0)).fee + (second[1]?.fee as bigint));

    // Above the cap: the package stops at 60 sat/vB, and then the record says the fee is capped.
    g.sim.setFeeRate(feeRateFromSatPerVb(300));
    mineAtFloor(g, 100n);
    expect(await run(g)).toMatch(/sent/);
    expect(packageOf(g, cw).rate).toBeLessThanOrEqual(60_000n);
    expect(packageOf(g, cw).rate).toBeGreaterThan(59_000n);
    mineAtFloor(g, 100n);
    expect(await run(g)).toMatch(/cannot be bumped \(the package's rate would pass the cap/);
    const events = await g.store.events(g.id);
    expect(events.filter((e) => e.type === 'fee-capped')).toHaveLength(1);
    expect(await g.registry.getSingleMetricAsString('vigil_challenge_fee_capped')).toContain(
      `dispute="${g.id}"} 1`,
    );
    expect(writtenChildren(await g.store.require(g.id))).toHaveLength(3);
  });

  it('with no estimate, the package is lifted over the take’s bar before T_c, and the take is refused', async () => {
    s = await gameSetup();
    const g = s;
    const cw = await challenged(g);
    const tc = g.kickoffHeight + g.c.graph.spec.timelocks.challenge;
    const take = completeCovenantTx(g.c.graph, g.c.sigs, 'take');
    const bar = takeBar(g.c.graph, 1_000n);
    let bumpedAt: number | undefined;
    while (g.c.chain.height + 1 < tc) {
      const said = await run(g);
      if (bumpedAt === undefined && said.includes('sent')) bumpedAt = g.c.chain.height;
      mineAtFloor(g, 1_000n);
    }
    // Sent bumpAfterBlocks (2) blocks before the take can be mined, and not before; once the package beats
    // the take's bar, further runs (several a block) write nothing more.
    expect(bumpedAt).toBe(tc - 3);
    for (let i = 0; i < 3; i++) await run(g);
    expect(writtenChildren(await g.store.require(g.id))).toHaveLength(1);
    const pkg = packageOf(g, cw);
    expect(pkg.total).toBeGreaterThan(bar.fee);
    expect(pkg.rate).toBeGreaterThan(bar.rate);

    // The take is valid now; a mempool holding C_w and its child refuses it.
    const refused = (() => {
      try {
        g.c.chain.acceptTx(take);
        return undefined;
      } catch (err) {
        return err instanceof TxReject ? err.reason : String(err);
      }
    })();
    expect(refused).toMatch(/insufficient fee/);
    // A miner offered the take directly (out of band, or by a mempool that dropped C_w) earns more from
    // it than from C_w alone, and less than from the package.
    const cwFee = gameTx(g.c.graph, challengeId(0)).fee;
    expect(gameTx(g.c.graph, 'take').fee).toBeGreaterThan(cwFee);
    expect(pkg.total).toBeGreaterThan(gameTx(g.c.graph, 'take').fee);
    g.mine();
    expect(g.c.chain.findTx(cw)?.block).toBeDefined();
    expect(g.c.chain.findTx(pkg.ids[1] as string)?.block).toBeDefined();
  });
});
