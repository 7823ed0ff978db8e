/**
 * The game job (src/challenger/game-play.ts) on the simnet through its Esplora front, with its record in
 * real Redis: Vigil challenges a false claim, plays every round against an operator that answers from its
 * own trace, and its disprove confirms; an operator silent at a round is timed out t after its last move;
 * an operator that never asserts loses to the assert-timeout at T_a. Every run of the job is repeated at
 * once (jobs run at least once): a second run sends nothing new, and each move is written ahead once.
 * A broadcast lost after the write-ahead is resent from the record, byte for byte.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BitcoinBackend } from '../../src/bitcoin/backends/types.ts';
import { feeRateFromSatPerVb } from '../../src/bitcoin/codec/fee-rate.ts';
import { taprootOutput } from '../../src/bitcoin/taproot/output.ts';
import { txidHex, txid as txidOf, txVsize, wtxidHex } from '../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import { processGame } from '../../src/challenger/game-play.ts';
import { bytesToHex } from '../../src/core/bytes.ts';
import { stallPad } from '../../src/devnet/game-stall.ts';
import { assertTimeoutId, challengeId } from '../../src/dispute/game/claim-graph.ts';
import { completeChallenge, completeCovenantTx } from '../../src/dispute/game/claim-spend.ts';
import { type GameGraph, gameTx } from '../../src/dispute/game/game-graph.ts';
import type { GameEvent } from '../../src/dispute/records/game-types.ts';
import { runCli } from '../cli/run-cli.ts';
import { MINER, MOVES_TO_REVEAL } from '../dispute/game/chain-play.ts';
import {
  epoch,
  type GameSetup,
  gameSetup,
  mineAtFloor,
  type OperatorPlan,
  operatorActs,
} from './game-play-setup.ts';

let s: GameSetup | undefined;
afterEach(async () => {
  await s?.stop();
  s = undefined;
});

type Played = { runs: string[]; operator: string[] };

/**
 * Runs the job until a run changes nothing (a run takes one step: a state move, then a send), and one
 * more run must change nothing either (jobs run at least once). Returns whether the record is resolved.
 */
async function settle(g: GameSetup, runs: string[]): Promise<boolean> {
  const snapshot = async () => {
    const r = await g.store.require(g.id);
    return { state: r.state, sent: [...r.sent.keys()].sort(), events: (await g.store.events(g.id)).length };
  };
  let before = await snapshot();
  for (let k = 0; ; k++) {
    runs.push(await processGame(g.ctx, { disputeId: g.id }));
    const after = await snapshot();
    if (after.state === 'resolved') return true;
    const same = JSON.stringify(after) === JSON.stringify(before);
    before = after;
    if (same) return false;
    if (k > 3)
      throw new Error(
        `the job does not settle at height ${g.sim.chain.height}: ${runs.slice(-4).join(' | ')}`,
      );
  }
}

/**
 * Challenger 1 challenges beside Vigil, and its assert-timeout is mined at the first block T_a allows
 * (`atBlock`, for playOut): Vigil's game is over with its bond still in C_w.
 */
function theirAssertTimeout(g: GameSetup): { theirs: Tx; atBlock: () => void } {
  const { graph, sigs, fx } = g.c;
  g.sim.chain.acceptTx(completeChallenge(graph, 1, sigs, fx.secrets.challengers[1] as Uint8Array));
  const dueBy = g.kickoffHeight + fx.spec.timelocks.assertWindow;
  const theirs = completeCovenantTx(graph, sigs, assertTimeoutId(1));
  return {
    theirs,
    atBlock: () => {
      if (g.sim.chain.height + 1 === dueBy) {
        g.sim.chain.acceptTx(theirs);
        g.mine();
      }
    },
  };
}

/**
 * Blocks go by. At each, the job settles; then the operator acts and a block is mined. Stops when the
 * record is resolved. `atBlock` runs first at each block (another party acting on the chain before the
 * job looks); `mine`, when given, mines the block instead (returning false leaves it to the default).
 */
async function playOut(
  g: GameSetup,
  plan: OperatorPlan = {},
  blocks = 120,
  atBlock?: () => void,
  mine?: (runs: string[]) => Promise<boolean>,
): Promise<Played> {
  const runs: string[] = [];
  const operator: string[] = [];
  for (let b = 0; b < blocks; b++) {
    atBlock?.();
    if (await settle(g, runs)) return { runs, operator };
    const op = await operatorActs(g, plan);
    if (op !== undefined) operator.push(op);
    if (!(await mine?.(runs))) g.mine();
  }
  throw new Error(`not resolved in ${blocks} blocks: ${runs.slice(-5).join(' | ')}`);
}

/**
 * An operator that makes two versions of `move` (see OperatorPlan.twoVersionsAt): Vigil's job runs while
 * the first is in the mempool, then the block mines the other. `later`, at each block after that, may
 * mine the block itself (given the version the mempool was shown).
 */
function playTwoVersions(
  g: GameSetup,
  move: string,
  other: 'values' | 'encoding',
  later?: (shown: Tx) => Promise<boolean>,
): Promise<Played> {
  let pending: Tx | undefined;
  let shown: Tx | undefined;
  const plan: OperatorPlan = {
    twoVersionsAt: {
      move,
      other,
      substitute: (tx) => {
        pending = tx;
      },
    },
  };
  return playOut(g, plan, 120, undefined, async (runs) => {
    if (pending === undefined) return shown === undefined ? false : ((await later?.(shown)) ?? false);
    await settle(g, runs);
    shown = g.c.chain.mempool.get(txidHex(pending))?.tx;
    g.mineInstead(pending);
    pending = undefined;
    return true;
  });
}

const onChain = (g: GameSetup, txid: string): boolean => g.sim.chain.findTx(txid)?.block !== undefined;
/** The wtxids of move `id`'s versions Vigil kept, in the order it kept them. */
const keptOf = (events: readonly GameEvent[], id: string): string[] =>
  events.flatMap((e) => (e.type === 'version-kept' && e.detail.id === id ? [e.detail.wtxid] : []));
const graphTxid = (g: GameSetup, id: string): string =>
  txidHex(gameTx(g.c.graph.games[0] as GameGraph, id).tx);

describe('the game job on the simnet', () => {
  it('a false claim: Vigil challenges, plays every round against the operator’s answers, and its disprove confirms', async () => {
    s = await gameSetup();
    const { operator } = await playOut(s);
    const rec = await s.store.require(s.id);
    expect(rec.state).toBe('resolved');
    expect(rec.outcome).toBe('operator-slashed');
    expect(rec.end).toMatchObject({ site: 'reveal', by: 'slash:reveal' });
    expect(onChain(s, rec.end?.txid as string)).toBe(true);
    // Vigil wrote its challenge, its choices and its slash, each once; the operator sent the rest.
    const vigilMoves = MOVES_TO_REVEAL.filter((m) => m.startsWith('choice'));
    expect([...rec.sent.keys()].sort()).toEqual([challengeId(0), ...vigilMoves, 'slash:reveal'].sort());
    expect(operator).toEqual(['assert', ...MOVES_TO_REVEAL.filter((m) => !m.startsWith('choice'))]);
    for (const t of rec.sent.values()) expect(onChain(s, t.txid)).toBe(true);
    const events = await s.store.events(s.id);
    expect(events.filter((e) => e.type === 'tx-written')).toHaveLength(rec.sent.size);
    expect(events.filter((e) => e.type === 'broadcast')).toHaveLength(rec.sent.size);
    expect(events.filter((e) => e.type === 'transition').map((e) => e.to)).toEqual([
      'challenged',
      'confirmed',
      'playing',
      'resolved',
    ]);
    expect(s.untracked).toEqual([s.id]);
    const moves = await s.registry.getSingleMetric('vigil_game_moves_total')?.get();
    const vigilSent = moves?.values.filter((v) => v.labels.side === 'vigil').reduce((a, v) => a + v.value, 0);
    expect(vigilSent).toBe(rec.sent.size);

    // `vigil disputes show` lists the rounds as the chain showed them, Vigil's transactions and the end.
    const shown = await runCli(['disputes', 'show', s.id, '--redis-key-prefix', s.prefix]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`game ${s.id}`);
    expect(shown.stdout).toContain('(operator-slashed)');
    for (const m of ['assert', ...MOVES_TO_REVEAL])
      expect(shown.stdout).toMatch(new RegExp(`\\n  ${m} +by `));
    expect(shown.stdout).toContain(`ended by     slash:reveal on reveal: ${rec.end?.txid}`);
    const listed = await runCli(['disputes', 'list', '--json', '--redis-key-prefix', s.prefix]);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ id: s.id, w: 0, state: 'resolved', outcome: 'operator-slashed' }),
    ]);
  });

  describe('two versions of one operator move (one txid, another witness)', () => {
    /** The leaf by which the end spent `site`'s output. */
    const leafOfEnd = (g: GameSetup, endTxid: string, site: string): string | undefined => {
      const game = g.c.graph.games[0] as GameGraph;
      const out = site === 'reserve' ? game.reserve : game.nodes.get(site)?.pot;
      const names = site === 'reserve' ? game.reserveLeaves : game.nodes.get(site)?.leaves;
      const spent =
        site === 'reserve' ? game.outpoints.reserve : { txid: txidOf(gameTx(game, site).tx), vout: 0 };
      const end = g.sim.chain.findTx(endTxid)?.tx as Tx;
      const input = end.inputs.find(
        (i) => bytesToHex(i.prevTxid) === bytesToHex(spent.txid) && i.vout === spent.vout,
      );
      const script = input?.witness[input.witness.length - 2];
      if (script === undefined || out === undefined) return undefined;
      for (const [name, k] of names ?? [])
        if (bytesToHex(out.leaves[k]?.script ?? new Uint8Array()) === bytesToHex(script)) return name;
      return undefined;
    };

    it('answer 2 shown with one value and mined with another: Vigil kept the first, proves the equivocation on answer 2’s output, and D is slashed there', async () => {
      s = await gameSetup();
      const { operator } = await playTwoVersions(s, 'answer2', 'values');
      expect(operator).toContain('answer2 (two versions)');
      const rec = await s.store.require(s.id);
      expect(rec.outcome).toBe('operator-slashed');
      expect(rec.end).toMatchObject({ site: 'answer2', by: 'slash:answer2' });
      expect(onChain(s, rec.end?.txid as string)).toBe(true);
      const events = await s.store.events(s.id);
      const found = events.flatMap((e) => (e.type === 'equivocation' ? [e.detail] : []));
      expect(found.filter((d) => d.punishable)).toHaveLength(1);
      const proved = found.find((d) => d.punishable);
      expect(proved).toMatchObject({ id: 'answer2' });
      expect(proved?.label.startsWith('answer2.')).toBe(true);
      // The leaf spent is the one for that label; the other version is the mempool's, kept first.
      expect(leafOfEnd(s, rec.end?.txid as string, 'answer2')).toBe(`equivocation:${proved?.label}`);
      const mined = s.sim.chain.findTx(graphTxid(s, 'answer2'))?.tx as Tx;
      expect(proved?.onChain).toBe(wtxidHex(mined));
      expect(keptOf(events, 'answer2')).toEqual([proved?.other, wtxidHex(mined)]);
      // Resolved: the kept versions served and are dropped.
      expect(await s.store.keptWtxids(s.id)).toEqual(new Map());
      // The game ended at answer 2: Vigil never played choice 2.
      expect(rec.sent.has('choice2')).toBe(false);
      expect([...rec.sent.keys()].sort()).toEqual([challengeId(0), 'choice1', 'slash:answer2'].sort());
    });

    it('after Vigil wrote its slash, a reorg mines the version it first saw in place of the other: the proof still holds and the slash confirms', async () => {
      s = await gameSetup();
      const g = s;
      let reorged = false;
      await playTwoVersions(g, 'answer2', 'values', async (shown) => {
        if (reorged || !(await g.store.require(g.id)).sent.has('slash:answer2')) return false;
        // Vigil's slash is in the mempool; the block holding the mined answer 2 leaves, and the next one
        // holds the version Vigil saw first (the slash stays in the mempool: it spends the same outpoint).
        const block = g.sim.chain.findTx(graphTxid(g, 'answer2'))?.block;
        if (block === undefined) throw new Error('answer 2 is not in a block');
        g.sim.chain.invalidateBlock(block.hash);
        g.c.chain.mine(MINER, [shown]);
        reorged = true;
        return true;
      });
      expect(reorged).toBe(true);
      const rec = await g.store.require(g.id);
      expect(rec.outcome).toBe('operator-slashed');
      expect(rec.end).toMatchObject({ site: 'answer2', by: 'slash:answer2' });
      // The slash that confirmed is the one written before the reorg; Vigil never played choice 2.
      expect(rec.end?.txid).toBe(rec.sent.get('slash:answer2')?.txid);
      expect(rec.sent.has('choice2')).toBe(false);
      const found = (await g.store.events(g.id)).flatMap((e) =>
        e.type === 'equivocation' && e.detail.punishable ? [e.detail] : [],
      );
      // Proved once with each version on chain.
      expect(new Set(found.map((d) => d.onChain)).size).toBe(2);
    });

    it('the assert shown with one point and mined with another: the equivocation is proved on Q_w before choice 1, and the bond comes back', async () => {
      s = await gameSetup();
      const { operator } = await playTwoVersions(s, 'assert', 'values');
      expect(operator[0]).toBe('assert (two versions)');
      const rec = await s.store.require(s.id);
      expect(rec.outcome).toBe('operator-slashed');
      expect(rec.end).toMatchObject({ site: 'reserve', by: 'slash:reserve' });
      const proved = (await s.store.events(s.id)).flatMap((e) =>
        e.type === 'equivocation' && e.detail.punishable ? [e.detail] : [],
      );
      expect(proved).toHaveLength(1);
      expect(leafOfEnd(s, rec.end?.txid as string, 'reserve')).toBe(`equivocation:${proved[0]?.label}`);
      // Choice 1 never spent C_w, so Vigil's bond comes back through its refund leaf.
      expect([...rec.sent.keys()].sort()).toEqual([challengeId(0), 'slash:reserve', 'sweep:bond@1'].sort());
      expect(onChain(s, rec.sent.get('sweep:bond@1')?.txid as string)).toBe(true);
    });

    it('answer 2 mined with its digits pushed non-minimally (same values, another wtxid): no equivocation, and the game goes on to the slash at the reveal', async () => {
      s = await gameSetup();
      const { operator } = await playTwoVersions(s, 'answer2', 'encoding');
      expect(operator).toContain('answer2 (two versions)');
      const rec = await s.store.require(s.id);
      expect(rec.outcome).toBe('operator-slashed');
      expect(rec.end).toMatchObject({ site: 'reveal', by: 'slash:reveal' });
      const events = await s.store.events(s.id);
      expect(events.filter((e) => e.type === 'equivocation')).toEqual([]);
      // Vigil did see both: it kept the mempool's version and the block's, which reads the same.
      const mined = s.sim.chain.findTx(graphTxid(s, 'answer2'))?.tx as Tx;
      const kept = keptOf(events, 'answer2');
      expect(kept).toHaveLength(2);
      expect(kept[1]).toBe(wtxidHex(mined));
      expect(kept[0]).not.toBe(wtxidHex(mined));
    });
  });

  it('the operator silent at answer 3: Vigil’s timeout slash t blocks after choice 2, not before', async () => {
    s = await gameSetup();
    const g = s;
    const { runs } = await playOut(g, { silentAt: 'answer3' });
    const rec = await g.store.require(g.id);
    expect(rec.outcome).toBe('operator-slashed');
    expect(rec.end).toMatchObject({ site: 'choice2', by: 'timeout:choice2' });
    const choice2 = g.sim.chain.findTx(rec.sent.get('choice2')?.txid as string)?.block?.height as number;
    const timeout = rec.sent.get('timeout:choice2');
    expect(timeout).toBeDefined();
    // Written at the first tip from which it can be mined (t blocks after choice 2's block), not earlier.
    expect(timeout?.height).toBe(choice2 + g.c.fx.spec.timelocks.move - 1);
    expect(runs.some((r) => r.includes("waiting for the operator's answer3"))).toBe(true);
  });

  it('no assert by T_a: Vigil’s assert-timeout takes S and its bond back', async () => {
    s = await gameSetup();
    const g = s;
    await playOut(g, { neverAsserts: true });
    const rec = await g.store.require(g.id);
    expect(rec.outcome).toBe('operator-slashed');
    expect(rec.end).toMatchObject({ by: 'assertTimeout', site: 'S' });
    const sent = rec.sent.get('assertTimeout:0');
    expect(sent?.height).toBe(g.kickoffHeight + g.c.fx.spec.timelocks.assertWindow - 1);
    const events = await g.store.events(g.id);
    expect(events.filter((e) => e.type === 'transition').map((e) => e.to)).toEqual([
      'challenged',
      'confirmed',
      'timed-out',
      'resolved',
    ]);
  });

  it('another challenger’s assert-timeout takes S first: Vigil’s game is over, and its bond comes back through C_w’s refund once it matures', async () => {
    s = await gameSetup({ challengers: 2 });
    const g = s;
    const { graph, fx } = g.c;
    const { theirs, atBlock } = theirAssertTimeout(g);
    await playOut(g, { neverAsserts: true }, 120, atBlock);
    const rec = await g.store.require(g.id);
    expect(rec.outcome).toBe('operator-slashed');
    expect(rec.end).toMatchObject({ by: 'another assert-timeout', site: 'S', txid: txidHex(theirs) });
    const events = await g.store.events(g.id);
    expect(events.filter((e) => e.type === 'transition').map((e) => e.to)).toEqual([
      'challenged',
      'confirmed',
      'refunding',
      'resolved',
    ]);
    // Vigil never sent an assert-timeout of its own: S was gone before it could.
    expect([...rec.sent.values()].map((t) => t.role).sort()).toEqual(['game-challenge', 'game-refund']);
    const refund = [...rec.sent.entries()].find(([, t]) => t.role === 'game-refund');
    expect(refund?.[0]).toMatch(/^sweep:bond@\d+$/);
    // Written at the first tip from which it can be mined: C_w's block + bondRefund.
    const challenged = g.sim.chain.findTx(txidHex(gameTx(graph, challengeId(0)).tx))?.block?.height as number;
    expect(refund?.[1].height).toBe(challenged + fx.spec.timelocks.bondRefund - 1);
    const mined = g.sim.chain.findTx(refund?.[1].txid as string);
    expect(mined?.block).toBeDefined();
    // The bond back at Vigil's key, less the refund's fee.
    const back = mined?.tx.outputs[0];
    expect(bytesToHex(back?.script as Uint8Array)).toBe(
      bytesToHex(taprootOutput(fx.spec.challengers[0]?.key as Uint8Array).scriptPubKey),
    );
    expect(back?.value).toBe(fx.spec.values.bond - (refund?.[1].fee as bigint));
    expect(refund?.[1].fee).toBeLessThan(10_000n);
  });

  it('a bond refund left in the mempool by a fee rise is sent again at the estimate after bumpAfterBlocks blocks, and confirms', async () => {
    s = await gameSetup({ challengers: 2 });
    const g = s;
    const { atBlock } = theirAssertTimeout(g);
    const refunds = async () =>
      [...(await g.store.require(g.id)).sent.entries()].filter(([, t]) => t.role === 'game-refund');
    let floorBlocks = 0;
    const held: string[] = [];
    await playOut(g, { neverAsserts: true }, 160, atBlock, async (runs) => {
      if ((await refunds()).length === 0) return false;
      // From the refund's first version on, blocks take only packages paying 10 sat/vB.
      floorBlocks++;
      held.push(runs.at(-1) ?? '');
      if (floorBlocks === 4) g.sim.setFeeRate(feeRateFromSatPerVb(20));
      mineAtFloor(g, 10n);
      return true;
    });
    // The record's slots come back in no set order: by fee, the first version before its replacement.
    const written = (await refunds()).sort(([, a], [, b]) => (a.fee < b.fee ? -1 : a.fee > b.fee ? 1 : 0));
    expect(written.map(([k]) => k)).toEqual([expect.stringMatching(/^sweep:bond@[1-9]$/), 'sweep:bond@20']);
    const [first, second] = written.map(([, t]) => t);
    // Not replaced while the estimate stood at the rate written, then replaced once it rose past it.
    expect(held.slice(0, 3).every((r) => /in the mempool/.test(r))).toBe(true);
    expect(g.sim.chain.findTx(first?.txid as string)).toBeUndefined();
    expect(g.sim.chain.findTx(second?.txid as string)?.block).toBeDefined();
    expect(second?.fee).toBeGreaterThan(first?.fee as bigint);
    const rec = await g.store.require(g.id);
    expect(rec.state).toBe('resolved');
    expect(rec.outcome).toBe('operator-slashed');
  });

  it('a broadcast lost after the write-ahead: the next run resends the recorded bytes, and the game goes on', async () => {
    let failures = 0;
    const lossy = (b: BitcoinBackend): BitcoinBackend =>
      Object.assign(Object.create(b) as BitcoinBackend, {
        async broadcast(raw: Uint8Array, options?: Parameters<BitcoinBackend['broadcast']>[1]) {
          // Every other first send of a new transaction dies on the wire (a crash right after the write-ahead).
          if (failures++ % 2 === 0) throw new Error('socket hang up');
          return b.broadcast(raw, options);
        },
      });
    s = await gameSetup({ wrap: lossy });
    const g = s;
    const runs: string[] = [];
    for (let b = 0; b < 120; b++) {
      const r = await processGame(g.ctx, { disputeId: g.id }).catch((e: Error) => `threw: ${e.message}`);
      runs.push(r);
      const rec = await g.store.require(g.id);
      if (rec.state === 'resolved') break;
      if (r.startsWith('threw')) continue; // retried at once, at the same tip, as BullMQ would
      await operatorActs(g);
      g.mine();
    }
    const rec = await g.store.require(g.id);
    expect(rec.outcome).toBe('operator-slashed');
    expect(runs.filter((r) => r.startsWith('threw')).length).toBeGreaterThan(0);
    // What confirmed is what was written first, byte for byte.
    for (const t of rec.sent.values()) {
      const found = g.sim.chain.findTx(t.txid);
      expect(found?.block).toBeDefined();
      expect(txidHex(found?.tx as Tx)).toBe(t.txid);
    }
    const events = await g.store.events(g.id);
    expect(events.filter((e) => e.type === 'tx-written')).toHaveLength(rec.sent.size);
  });

  it('Vigil’s fee cap at 1 sat/vB: every move and the slash still go out (they are paid by the game, not the wallet)', async () => {
    // A slash through a small leaf pays its rung's fee, sized for the pot's largest leaf, on far fewer
    // vbytes: its real rate is many times the rung's, and the wallet's cap must not hold it back.
    s = await gameSetup({ maxFeeRateSatVb: 1 });
    await playOut(s);
    const rec = await s.store.require(s.id);
    expect(rec.outcome).toBe('operator-slashed');
    const slash = rec.sent.get('slash:reveal');
    const vsize = txVsize(s.sim.chain.findTx(slash?.txid as string)?.tx as Tx);
    expect(Number(slash?.fee) / vsize).toBeGreaterThan(1);
    expect((await s.store.events(s.id)).filter((e) => e.type === 'send-refused')).toEqual([]);
  });

  it('a reorg takes the challenge’s block away and gives the same block back: the record follows both ways', async () => {
    s = await gameSetup();
    const g = s;
    for (let k = 0; k < 4 && (await g.store.require(g.id)).state !== 'confirmed'; k++) {
      await processGame(g.ctx, { disputeId: g.id });
      g.mine();
    }
    await processGame(g.ctx, { disputeId: g.id });
    expect((await g.store.require(g.id)).state).toBe('confirmed');
    const challenge = (await g.store.require(g.id)).sent.get(challengeId(0))?.txid as string;
    const block = g.sim.chain.findTx(challenge)?.block;
    if (block === undefined) throw new Error('the challenge is not in a block');
    g.sim.chain.invalidateBlock(block.hash);
    await processGame(g.ctx, { disputeId: g.id });
    expect((await g.store.require(g.id)).state).toBe('challenged');
    // The same block, the same hash: a change keyed by the block alone would now be a duplicate no-op.
    g.sim.chain.reconsiderBlock(block.hash);
    await processGame(g.ctx, { disputeId: g.id });
    expect((await g.store.require(g.id)).state).toBe('confirmed');
    await playOut(g);
    expect((await g.store.require(g.id)).outcome).toBe('operator-slashed');
    const moves = (await g.store.events(g.id)).filter((e) => e.type === 'transition').map((e) => e.to);
    expect(moves).toEqual(['challenged', 'confirmed', 'challenged', 'confirmed', 'playing', 'resolved']);
  });

  it('an assert sent at T_a but kept out of blocks: Vigil’s assert-timeout climbs its ladder past it and confirms', async () => {
    s = await gameSetup();
    const g = s;
    const dueBy = g.kickoffHeight + g.c.fx.spec.timelocks.assertWindow;
    // Blocks without the operator's transactions until T_a; the late assert then sits in the mempool.
    for (let b = 0; g.sim.chain.height + 1 < dueBy && b < 40; b++) {
      await processGame(g.ctx, { disputeId: g.id });
      g.mine();
    }
    expect(await operatorActs(g, { assertFrom: dueBy })).toBe('assert');
    const assertTxid = txidHex(g.c.graph.txs.get('assert')?.tx as Tx);
    expect(g.sim.chain.findTx(assertTxid)?.block).toBeUndefined();
    const r = await processGame(g.ctx, { disputeId: g.id });
    expect(r).toContain('assert-timeout sent');
    const rec = await g.store.require(g.id);
    expect(rec.state).toBe('timed-out');
    // The lower rungs pay less than the assert and are refused as replacements; a higher one replaces it.
    const rungsWritten = [...rec.sent.keys()].filter((k) => k.startsWith('assertTimeout'));
    expect(rungsWritten.length).toBeGreaterThan(1);
    expect(g.sim.chain.findTx(assertTxid)).toBeUndefined();
    g.mine();
    await processGame(g.ctx, { disputeId: g.id });
    const end = await g.store.require(g.id);
    expect(end.outcome).toBe('operator-slashed');
    expect(end.end).toMatchObject({ by: 'assertTimeout', site: 'S' });
  });

  it('answer 2 pinned behind a child paying more than the top rung of w’s timeout: vigil_game_outbid is 1 while it lasts, gone once the move confirms and the turn moves on', async () => {
    s = await gameSetup();
    const g = s;
    const game = g.c.graph.games[0] as GameGraph;
    const t = g.c.fx.spec.timelocks.move;
    const outbid = async () =>
      (await g.metrics.gameOutbid.get()).values.filter((v) => v.value === 1).map((v) => v.labels.tx);
    const heightOf = (id: string) => g.sim.chain.findTx(txidHex(gameTx(game, id).tx))?.block?.height;
    // The game up to choice 1 in a block, the operator silent at answer 2.
    for (let b = 0; b < 60 && heightOf('choice1') === undefined; b++) {
      await settle(g, []);
      await operatorActs(g, { silentAt: 'answer2' });
      g.mine();
    }
    const choice1 = heightOf('choice1') as number;
    expect(choice1).toBeDefined();
    // Answer 2 in the last block before w's timeout is valid, a pin on its anchor, and blocks at 5 sat/vB.
    while (g.sim.chain.height + 1 < choice1 + t - 1) {
      await settle(g, []);
      g.mine();
    }
    expect(await operatorActs(g)).toBe('answer2');
    const answer2 = g.c.chain.mempool.get(txidHex(gameTx(game, 'answer2').tx));
    expect(answer2).toBeDefined();
    const operator = {
      secret: g.c.fx.secrets.operator,
      script: taprootOutput(g.c.fx.spec.operator).scriptPubKey,
    };
    const pad = stallPad(answer2?.tx as Tx, g.c.operatorCoin, operator, {
      move: { vsize: answer2?.vsize as number, fee: answer2?.fee as bigint },
      floorSatVb: 5,
    });
    g.sim.chain.acceptTx(pad);
    for (let b = 0; b < 3; b++) {
      await settle(g, []);
      mineAtFloor(g, 5n);
    }
    await settle(g, []);
    const rec = await g.store.require(g.id);
    // Every rung was tried and refused: the pinned package pays more than the top one.
    expect([...rec.sent.keys()].filter((k) => k.startsWith('timeout:choice1')).sort()).toEqual([
      'timeout:choice1',
      'timeout:choice1@1024',
      'timeout:choice1@64',
    ]);
    expect(heightOf('answer2')).toBeUndefined();
    expect(await outbid()).toEqual(['game-timeout']);
    // Fees fall: the pinned move confirms, the turn is Vigil's choice 2, and the gauge is gone.
    g.mine();
    expect(heightOf('answer2')).toBeDefined();
    await settle(g, []);
    expect(await outbid()).toEqual([]);
    expect((await g.store.require(g.id)).sent.has('choice2')).toBe(true);
  });

  it('mode dry-run: the challenge is built and checked, never written or sent', async () => {
    s = await gameSetup({ mode: 'dry-run' });
    const r = await processGame(s.ctx, { disputeId: s.id });
    expect(r).toContain('mode dry-run');
    const rec = await s.store.require(s.id);
    expect(rec.state).toBe('detected');
    expect(rec.sent.size).toBe(0);
    expect((await s.store.events(s.id)).map((e) => e.type)).toEqual(['detected', 'dry-run-built']);
    expect(s.sim.chain.spenderOf(rec.kickoffTxid, 0)).toBeUndefined();
  });

  it('a kick-off that claims the root Vigil computed is never challenged', async () => {
    s = await gameSetup({ root: epoch.honest.result });
    const r = await processGame(s.ctx, { disputeId: s.id });
    expect(r).toContain('withdrawn');
    const rec = await s.store.require(s.id);
    expect(rec.sent.size).toBe(0);
    expect(s.sim.chain.spenderOf(rec.kickoffTxid, 0)).toBeUndefined();
  });
});
