/**
 * One game's transactions (src/dispute/game/game-graph.ts) played on simnet: Bitcoin Core 26's acceptance
 * rules, relay policy and BIP-68 locks, with real Schnorr signatures over the game's presigned
 * transactions and real Winternitz signatures of the values the pure players chose (recorded while the
 * referee played them, then sent move by move). A lying operator is narrowed to its step and slashed
 * through the leaf Vigil's rule picked, in each phase of the game; a disprove against an honest claim does
 * not spend; no third party can lift w's witness; silence loses by timeout, never early.
 */
import { describe, expect, it } from 'vitest';
import { taprootOutput } from '../../../src/bitcoin/taproot/output.ts';
import { txid } from '../../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../../src/bitcoin/tx/types.ts';
import { gameTx, slashId } from '../../../src/dispute/game/game-graph.ts';
import {
  completeGameTx,
  completeSweep,
  covenantItems,
  gameOutputOf,
  signGameInput,
  signSweep,
  sweepOutput,
} from '../../../src/dispute/game/game-spend.ts';
import { REGTEST_SEARCH, roundBits } from '../../../src/dispute/game/grid.ts';
import { gameLeafItems } from '../../../src/dispute/game/leaf-witness.ts';
import type { GameContext } from '../../../src/dispute/game/moves.ts';
import type { ChallengerPlayer, OperatorPlayer } from '../../../src/dispute/game/players.ts';
import { signKeyPathInput } from '../../../src/dispute/graph/challenge.ts';
import type { StepRecord } from '../../../src/machine/isa.ts';
import { lastWriteBefore } from '../../../src/machine/reads.ts';
import { makeGameFixture } from '../../../testkit/dispute/game-fixture.ts';
import { secretOf, xOnly } from '../../../testkit/dispute/graph-fixture.ts';
import {
  acceptWhenMature,
  confirm,
  eventsThrough,
  expectSlashed,
  fundGame,
  kickoffSignatures,
  MINER,
  MOVES_TO_REVEAL,
  type PlayOptions,
  playEpochOnChain,
  rejection,
  signedMove,
  slashThrough,
  tapeValues,
} from './chain-play.ts';
import { contextOf, haltReadsRootLiar, operatorOf, otherTapeRun, smallEpoch } from './setup.ts';

const shape = REGTEST_SEARCH;

const epoch = smallEpoch();
const honestRoot = epoch.honest.result;

const playOnChain = (ctx: GameContext, operator: OperatorPlayer, options: PlayOptions = {}) =>
  playEpochOnChain(epoch, shape, ctx, operator, options);

describe('a game on simnet, played through its transactions', () => {
  it('a wrong result: narrowed to the last step, slashed by the last-step leaf; a copied witness does not spend', () => {
    const r = playOnChain(contextOf(epoch, honestRoot ^ 1n), operatorOf(shape, epoch));
    expect(r.outcome).toMatchObject({ winner: 'challenger', end: 'disproved', at: 'last-step' });
    expect(r.replay.played).toEqual([...MOVES_TO_REVEAL]);
    const tx = r.replay.slash?.tx as Tx;
    const thief = xOnly(secretOf('thief'));
    const stolen = {
      ...tx,
      outputs: [tx.outputs[0], { ...tx.outputs[1], script: taprootOutput(thief).scriptPubKey }],
    } as Tx;
    expect(rejection(r.game.chain, stolen)).toMatch(/script-verify-flag-failed/);
    expectSlashed(r, 'last-step');
    // Every move paid at least the graph's rate on what was sent.
    for (const id of r.replay.played) {
      const gtx = gameTx(r.game.graph, id);
      expect(gtx.fee, id).toBeGreaterThan(0n);
    }
  });

  it('an honest claim: the same leaf does not spend, so a griefer cannot slash', () => {
    const r = playOnChain(contextOf(epoch, honestRoot), operatorOf(shape, epoch));
    expect(r.outcome.winner).toBe('operator');
    expect(r.replay.slash).toBeUndefined();
    // The griefer sends the last-step disprove anyway, from what the honest game published.
    const kickoff = kickoffSignatures(r.fx, {
      root: honestRoot,
      imageRoot: epoch.tape.imageRoot,
      inputsRoot: epoch.tape.inputRoot,
    });
    const forged = slashThrough(r.fx, r.game, 'reveal', 'last-step', { ...r.replay.signed, kickoff });
    expect(rejection(r.game.chain, forged)).toMatch(/script-verify-flag-failed/);
    // So do the step's other leaves: none spends against the honest reveal.
    for (const leaf of [
      'chain-link',
      'early-halt',
      'entry-pc',
      'pc-range',
      'unwritten-read:1',
      'future-read:1',
    ]) {
      const tx = slashThrough(r.fx, r.game, 'reveal', leaf, { ...r.replay.signed, kickoff });
      expect(rejection(r.game.chain, tx), leaf).toMatch(/script-verify-flag-failed/);
    }
  });

  it('a halt that says it read the claimed root: the second search (request 1) ends in RV1 at the write', () => {
    const steps = epoch.honest.steps;
    const T = steps.length;
    const halt = steps[T - 1] as StepRecord;
    const claimed = honestRoot ^ 1n;
    const lastWrite = lastWriteBefore(steps, T - 1, halt.r1.addr) as number;
    const liar = haltReadsRootLiar(shape, epoch, claimed, lastWrite);
    const r = playOnChain(contextOf(epoch, claimed), liar);
    expect(r.outcome).toMatchObject({ winner: 'challenger', at: 'read-value', writeStep: lastWrite });
    expect(r.replay.played).toContain('requestRead');
    expect(r.replay.played.at(-1)).toBe('read/reveal′');
    expectSlashed(r, 'read-value:1');
  });

  it('a run over another tape: the tape path (request 3, two 5-input reveals) ends at the tape-top leaf', () => {
    const other = otherTapeRun(epoch);
    const ctx = contextOf(epoch, other.run.result as bigint);
    const r = playOnChain(ctx, operatorOf(shape, epoch, other.run.steps, other.tape));
    expect(r.outcome).toMatchObject({ winner: 'challenger', at: 'tape-top' });
    expect(r.replay.played.slice(-3)).toEqual(['requestTape', 'tape/tapeReveal1', 'tape/tapeReveal2']);
    expectSlashed(r, 'tape-top');
  });

  it('a kick-off over another pre-state is slashed at the assert through Q_w (image-root leaf)', () => {
    const ctx = { ...contextOf(epoch, honestRoot), imageRoot: new Uint8Array(32).fill(7) };
    const r = playOnChain(ctx, operatorOf(shape, epoch), { agreedImageRoot: epoch.tape.imageRoot });
    expect(r.outcome).toMatchObject({ winner: 'challenger', at: 'image-root' });
    expect(r.replay.played).toEqual([]);
    expectSlashed(r, 'image-root');
  });
});

describe('silence and refusals on simnet', () => {
  const t = 3; // the fixture's t (regtest's)
  const operatorKey = (fx: ReturnType<typeof makeGameFixture>) =>
    taprootOutput(fx.spec.operator).scriptPubKey;

  it('w silent after the assert: the forfeit of C_w and Q_w is refused before t and accepted at t', () => {
    const fx = makeGameFixture({ shape, agreedImageRoot: epoch.tape.imageRoot });
    const game = fundGame(fx);
    const forfeit = completeGameTx(game.graph, 'forfeit', [
      { items: covenantItems(game.sigs, 'forfeit', 0) },
      { items: [signGameInput(game.graph, 'forfeit', 1, fx.secrets.operator)] },
    ]);
    expect(acceptWhenMature(game.chain, forfeit, 10)).toBe(t - 1);
    expect(forfeit.outputs[0]?.script).toEqual(operatorKey(fx));
  });

  it('the operator silent after choice 1: w slashes D through the pot’s timeout, not before t', () => {
    const r = playOnChain(contextOf(epoch, honestRoot ^ 1n), operatorOf(shape, epoch), {
      cut: (e) => eventsThrough(e, 'choice', 1),
    });
    expect(r.replay.played).toEqual(['choice1']);
    const slash = completeGameTx(r.game.graph, 'timeout:choice1', [
      { items: covenantItems(r.game.sigs, 'timeout:choice1', 0) },
      {
        items: [
          signGameInput(
            r.game.graph,
            'timeout:choice1',
            1,
            r.fx.secrets.challenger,
            r.game.graph.nodes.get('choice1')?.leaves.get('timeout'),
          ),
        ],
        leafIndex: r.game.graph.nodes.get('choice1')?.leaves.get('timeout') as number,
      },
    ]);
    expect(acceptWhenMature(r.game.chain, slash, 10)).toBe(t - 1);
    expect(slash.outputs[0]?.value).toBe(r.fx.spec.values.stake / 2n);
  });

  it('w silent after answer 2: the operator takes the pot after t, never before; a stranger never', () => {
    const r = playOnChain(contextOf(epoch, honestRoot), operatorOf(shape, epoch), {
      cut: (e) => eventsThrough(e, 'answer', 1),
    });
    expect(r.replay.played).toEqual(['choice1', 'answer2']);
    const pot = gameOutputOf(r.game.graph, 'answer2');
    const leaf = pot.leaves.get('timeout') as number;
    const sweep = sweepOutput(pot, leaf, operatorKey(r.fx), 2_000n, t);
    const stranger = completeSweep(sweep, [signSweep(sweep, secretOf('stranger'))]);
    const taken = completeSweep(sweep, [signSweep(sweep, r.fx.secrets.operator)]);
    expect(rejection(r.game.chain, taken)).toBe('non-BIP68-final');
    r.game.chain.mine(MINER);
    r.game.chain.mine(MINER);
    expect(rejection(r.game.chain, stranger)).toMatch(/script-verify-flag-failed/);
    confirm(r.game.chain, taken);
  });

  it('the operator silent between its two tape reveals: w slashes D after t; the operator cannot take the pot', () => {
    const other = otherTapeRun(epoch);
    const ctx = contextOf(epoch, other.run.result as bigint);
    const r = playOnChain(ctx, operatorOf(shape, epoch, other.run.steps, other.tape), {
      cut: (e) => eventsThrough(e, 'request', 1),
    });
    expect(r.replay.played.at(-1)).toBe('requestTape');
    const path = r.events.find((e) => e.kind === 'tape');
    if (path?.kind !== 'tape') throw new Error('the game reached no tape reveal');
    confirm(
      r.game.chain,
      signedMove(r.fx, r.game, 'tape/tapeReveal1', tapeValues(path.path), r.replay.signed),
    );
    // The pot's timeout is w's: the operator, whose move is next, cannot sweep it.
    const pot = gameOutputOf(r.game.graph, 'tape/tapeReveal1');
    const sweep = sweepOutput(pot, pot.leaves.get('timeout') as number, operatorKey(r.fx), 2_000n, t);
    r.game.chain.mine(MINER);
    r.game.chain.mine(MINER);
    expect(rejection(r.game.chain, completeSweep(sweep, [signSweep(sweep, r.fx.secrets.operator)]))).toMatch(
      /script-verify-flag-failed/,
    );
    const id = 'timeout:tape/tapeReveal1';
    const leaf = pot.leaves.get('timeout') as number;
    const slash = completeGameTx(r.game.graph, id, [
      { items: covenantItems(r.game.sigs, id, 0) },
      { items: [signGameInput(r.game.graph, id, 1, r.fx.secrets.challenger, leaf)], leafIndex: leaf },
    ]);
    confirm(r.game.chain, slash);
  });

  it('an operator that stalls its move unconfirmed past t, padded with a large low-fee child, is outbid by a rung of w’s timeout ladder', () => {
    const r = playOnChain(contextOf(epoch, honestRoot ^ 1n), operatorOf(shape, epoch), {
      cut: (e) => eventsThrough(e, 'choice', 1),
    });
    const answer = r.events.find((e) => e.kind === 'answer');
    if (answer?.kind !== 'answer') throw new Error('no answer 2');
    // The operator sends answer 2 at its presigned 1 sat/vB and pads it with a 60 kvB child through its
    // anchor: more absolute fee for w's replacement to beat, at a feerate no miner hurries for.
    const late = signedMove(
      r.fx,
      r.game,
      'answer2',
      new Map(answer.values.map((p, k) => [`answer2.point${k + 1}`, p])),
      r.replay.signed,
    );
    expect(rejection(r.game.chain, late)).toBe('accepted');
    const anchorVout = late.outputs.length - 1;
    const coin = r.game.operatorCoin;
    const pad: Tx = {
      version: 2,
      locktime: 0,
      inputs: [
        {
          prevTxid: txid(late),
          vout: anchorVout,
          scriptSig: new Uint8Array(),
          sequence: 0xfffffffd,
          witness: [],
        },
        {
          prevTxid: coin.txid,
          vout: coin.vout,
          scriptSig: new Uint8Array(),
          sequence: 0xfffffffd,
          witness: [],
        },
      ],
      outputs: Array.from({ length: 1_400 }, () => ({ value: 400n, script: operatorKey(r.fx) })),
    };
    const padFee = 2n * 62_000n;
    pad.outputs.push({ value: coin.value + 330n - 1_400n * 400n - padFee, script: operatorKey(r.fx) });
    const prevouts = [
      { value: 330n, script: operatorKey(r.fx) },
      { value: coin.value, script: operatorKey(r.fx) },
    ];
    signKeyPathInput({ tx: pad, prevouts }, 0, r.fx.secrets.operator);
    signKeyPathInput({ tx: pad, prevouts }, 1, r.fx.secrets.operator);
    expect(rejection(r.game.chain, pad)).toBe('accepted');
    // Blocks pass without them (a congested chain): t runs out with answer 2 still unconfirmed.
    for (let k = 0; k < t; k++) r.game.chain.mine(MINER, []);
    const timeoutLeaf = r.game.graph.nodes.get('choice1')?.leaves.get('timeout') as number;
    const rung = (rate?: bigint) => {
      const id = slashId('timeout', 'choice1', rate);
      return completeGameTx(r.game.graph, id, [
        { items: covenantItems(r.game.sigs, id, 0) },
        {
          items: [signGameInput(r.game.graph, id, 1, r.fx.secrets.challenger, timeoutLeaf)],
          leafIndex: timeoutLeaf,
        },
      ]);
    };
    expect(rejection(r.game.chain, rung())).toBe('insufficient fee');
    expect(rejection(r.game.chain, rung(64n))).toBe('insufficient fee');
    confirm(r.game.chain, rung(1_024n));
    // The late move and its padding are gone; D is slashed.
    expect(rejection(r.game.chain, late)).toMatch(/missing-inputs|bad-txns-inputs-missingorspent/);
  });

  it('a griefer that chooses past T′ loses its bond to the past-end refusal; the refusal never spends against a fair choice', () => {
    const bitsOf = roundBits(shape);
    const griefer: ChallengerPlayer = {
      onAssert: () => undefined,
      choose: (_view, bits) => 2 ** bits - 1,
      onReveal: () => undefined,
      chooseRead: () => undefined,
      onWriteReveal: () => undefined,
      onTapeReveal: () => undefined,
    };
    const refuse = (r: ReturnType<typeof playOnChain>) => {
      const site = `choice${bitsOf.length}`;
      const pot = gameOutputOf(r.game.graph, site);
      const sweep = sweepOutput(
        pot,
        pot.leaves.get('past-end') as number,
        operatorKey(r.fx),
        3_000n,
        0xfffffffd,
      );
      const sig = signSweep(sweep, r.fx.secrets.operator);
      return completeSweep(
        sweep,
        gameLeafItems(shape, 'past-end', { ...r.replay.signed, kickoff: r.kickoff }, sig),
      );
    };
    const grief = playOnChain(contextOf(epoch, honestRoot), operatorOf(shape, epoch), {
      challenger: griefer,
    });
    expect(grief.outcome).toMatchObject({ winner: 'operator', end: 'refused', at: 'past-end' });
    expect(grief.replay.played.at(-1)).toBe(`choice${bitsOf.length}`);
    confirm(grief.game.chain, refuse(grief));
    // Against Vigil's rule (a step before T′), the operator cannot refuse: it owes the reveal.
    const fair = playOnChain(contextOf(epoch, honestRoot ^ 1n), operatorOf(shape, epoch), {
      cut: (e) => eventsThrough(e, 'choice', bitsOf.length),
    });
    expect(rejection(fair.game.chain, refuse(fair))).toMatch(/script-verify-flag-failed/);
  });
});
