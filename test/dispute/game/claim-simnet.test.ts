/**
 * The claim graph (src/dispute/game/claim-graph.ts) on simnet: a kick-off committing its five values, the
 * challengers' challenges, the take, the assert that opens every game, the assert-timeout and D's payout,
 * with real Schnorr and Winternitz signatures under Bitcoin Core 26's acceptance, policy and BIP-68 rules.
 * A wrong claim is challenged, asserted and slashed through its game; an honest one pays out at T_pay and
 * not before; nobody but w can put w's bond coin at stake; each window opens at its block and not before.
 */

import * as ecc from 'tiny-secp256k1';
import { describe, expect, it } from 'vitest';
import { taprootOutput } from '../../../src/bitcoin/taproot/output.ts';
import { PrecomputedTxData } from '../../../src/bitcoin/tx/precomputed.ts';
import { SIGHASH_DEFAULT, taprootSighash } from '../../../src/bitcoin/tx/sighash.ts';
import type { Tx } from '../../../src/bitcoin/tx/types.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/hashes.ts';
import { assertTimeoutId, challengeId } from '../../../src/dispute/game/claim-graph.ts';
import {
  completeChallenge,
  completeCovenantTx,
  completeKickoff,
  readAssert,
  readKickoff,
} from '../../../src/dispute/game/claim-spend.ts';
import type { GameGraph } from '../../../src/dispute/game/game-graph.ts';
import { gameTx, gameTxPrevouts } from '../../../src/dispute/game/game-graph.ts';
import type { GamePresignatures } from '../../../src/dispute/game/game-spend.ts';
import { REGTEST_SEARCH } from '../../../src/dispute/game/grid.ts';
import { leafSpendTx, slashTx } from '../../../src/dispute/game/move-tx.ts';
import type { AssertMove } from '../../../src/dispute/game/moves.ts';
import { playGame } from '../../../src/dispute/game/referee.ts';
import { ruleChallenger } from '../../../src/dispute/game/rule.ts';
import { tweakedKeyPathSecret } from '../../../src/dispute/graph/challenge.ts';
import { BURN_SCRIPT_PUBKEY } from '../../../src/dispute/graph/scripts.ts';
import { schnorrSign } from '../../../src/dispute/graph/sign.ts';
import { wordBytes } from '../../../src/machine/isa.ts';
import { gameFixtureOf, kickoffSignaturesOf } from '../../../testkit/dispute/claim-fixture.ts';
import {
  acceptWhenMature,
  assertValues,
  confirm,
  kickoffSignatures,
  MINER,
  recorded,
  rejection,
  replayOnChain,
} from './chain-play.ts';
import {
  assertOf,
  chainGame,
  claimChain as claimChainOf,
  forfeitOf,
  kickoffOf,
  L2_BLOCK,
  minedTx,
  operatorSweep,
} from './claim-chain.ts';
import { contextOf, operatorOf, smallEpoch } from './setup.ts';

const shape = REGTEST_SEARCH;

const epoch = smallEpoch();
const honestRoot = epoch.honest.result;
const claimChain = (challengers = 2) => claimChainOf(epoch, challengers);
describe('the claim graph on simnet', () => {
  it('unchallenged: the kick-off commits its five values, the take waits for T_c, then nobody can challenge', () => {
    const c = claimChain();
    const kickoff = kickoffOf(c, honestRoot);
    confirm(c.chain, kickoff);
    const read = readKickoff(c.graph, minedTx(c.chain, kickoff));
    expect(read.map((p) => p.label)).toEqual(['epoch', 'root', 'l2BlockHash', 'imageRoot', 'inputsRoot']);
    expect(read[1]?.value).toEqual(wordBytes(honestRoot));
    expect(read[2]?.value).toEqual(L2_BLOCK);
    expect(read[3]?.value).toEqual(epoch.tape.imageRoot);

    const take = completeCovenantTx(c.graph, c.sigs, 'take');
    // The kick-off's block counts as the first of T_c.
    expect(acceptWhenMature(c.chain, take, 20)).toBe(c.fx.spec.timelocks.challenge - 1);
    expect(take.outputs[0]?.script).toEqual(taprootOutput(c.fx.spec.operator).scriptPubKey);
    const challenge = completeChallenge(c.graph, 0, c.sigs, c.fx.secrets.challengers[0] as Uint8Array);
    expect(rejection(c.chain, challenge)).toBe('bad-txns-inputs-missingorspent');
  });

  it('a wrong claim: w challenges, the assert waits for T_c, the game narrows it and D is slashed; nobody takes or pays out', () => {
    const c = claimChain();
    const claimed = honestRoot ^ 1n;
    confirm(c.chain, kickoffOf(c, claimed));
    const challenge = completeChallenge(c.graph, 0, c.sigs, c.fx.secrets.challengers[0] as Uint8Array);
    confirm(c.chain, challenge);
    expect(rejection(c.chain, completeCovenantTx(c.graph, c.sigs, 'take'))).toBe(
      'bad-txns-inputs-missingorspent',
    );

    const ctx = contextOf(epoch, claimed);
    const players = recorded(operatorOf(shape, epoch), ruleChallenger(ctx, shape, epoch.view));
    const outcome = playGame(ctx, shape, players.operator, players.challenger);
    expect(outcome).toMatchObject({ winner: 'challenger', end: 'disproved', at: 'last-step' });
    const first = players.events[0];
    if (first?.kind !== 'assert') throw new Error('the game did not start with the assert');
    const assert = assertOf(c, first.move);
    // The challenge came a block after the kick-off: the assert still waits for T_c from the kick-off.
    expect(acceptWhenMature(c.chain, assert, 20)).toBe(c.fx.spec.timelocks.challenge - 2);
    const published = readAssert(c.graph, minedTx(c.chain, assert));
    expect(new Map(published.map((p) => [p.label, p.value]))).toEqual(assertValues(first.move));

    const gfx = gameFixtureOf(c.fx, c.graph, 0);
    const game = chainGame(c, 0);
    const kickoff = kickoffSignatures(gfx, {
      root: claimed,
      imageRoot: epoch.tape.imageRoot,
      inputsRoot: epoch.tape.inputRoot,
    });
    const replay = replayOnChain(gfx, game, players.events, kickoff);
    expect(replay.slash?.leaf).toBe('last-step');
    confirm(c.chain, replay.slash?.tx as Tx);
    expect(replay.slash?.tx.outputs[0]?.script).toEqual(BURN_SCRIPT_PUBKEY);
    expect(replay.slash?.tx.outputs[1]?.script).toEqual(
      taprootOutput(c.fx.spec.challengers[0]?.key as Uint8Array).scriptPubKey,
    );

    // D is gone: the payout can never confirm, however long the operator waits.
    for (let i = 0; i < c.fx.spec.timelocks.payout; i++) c.chain.mine(MINER);
    expect(rejection(c.chain, completeCovenantTx(c.graph, c.sigs, 'payout'))).toBe(
      'bad-txns-inputs-missingorspent',
    );
    // w1 never challenged: its Q_1 goes back to the operator.
    confirm(c.chain, operatorSweep(c, 1));
  });

  it('nobody but w can put its bond coin at stake: the operator cannot send w’s challenge with its own signature', () => {
    const c = claimChain();
    confirm(c.chain, kickoffOf(c, honestRoot));
    const id = challengeId(1);
    const honest = completeChallenge(c.graph, 1, c.sigs, c.fx.secrets.challengers[1] as Uint8Array);
    // The operator signs the bond coin's key path with its own key: the sighash is right, the key is not w's.
    const gtx = gameTx(c.graph, id);
    const r = taprootSighash(
      new PrecomputedTxData(gtx.tx, gameTxPrevouts(gtx)),
      1,
      SIGHASH_DEFAULT,
      'taproot',
    );
    if (!r.ok) throw new Error(r.reason);
    const forged = schnorrSign(r.hash, tweakedKeyPathSecret(c.fx.secrets.operator), SIGHASH_DEFAULT);
    const attempt: Tx = {
      ...honest,
      inputs: honest.inputs.map((i, j) => (j === 1 ? { ...i, witness: [forged] } : i)),
    };
    expect(rejection(c.chain, attempt)).toMatch(/Invalid Schnorr signature|script-verify/);
    // And without w's signature the challenge is no transaction at all.
    expect(
      ecc.verifySchnorr(r.hash, taprootOutput(c.fx.spec.challengers[1]?.key as Uint8Array).outputKey, forged),
    ).toBe(false);
    // w's own signature makes it.
    confirm(c.chain, honest);
  });

  it('an honest claim challenged by a griefer that never moves: the forfeit takes its bond, D pays out at T_pay and not before', () => {
    const c = claimChain();
    confirm(c.chain, kickoffOf(c, honestRoot));
    confirm(c.chain, completeChallenge(c.graph, 0, c.sigs, c.fx.secrets.challengers[0] as Uint8Array));
    const ctx = contextOf(epoch, honestRoot);
    const op = operatorOf(shape, epoch);
    const move = op.assert();
    if (move === undefined) throw new Error('the operator made no assert');
    expect(ctx.claimedRoot).toBe(honestRoot);
    const assert = assertOf(c, move);
    acceptWhenMature(c.chain, assert, 20);

    const forfeit = forfeitOf(c, 0);
    expect(acceptWhenMature(c.chain, forfeit, 20)).toBe(c.fx.spec.timelocks.move - 1);
    confirm(c.chain, operatorSweep(c, 1));

    const payout = completeCovenantTx(c.graph, c.sigs, 'payout');
    const waited = acceptWhenMature(c.chain, payout, 200);
    // T_pay counts from the assert's block; the forfeit and the sweep took t blocks of it.
    expect(waited + c.fx.spec.timelocks.move + 1).toBe(c.fx.spec.timelocks.payout - 1);
    expect(payout.outputs[0]?.value).toBe(c.fx.spec.values.stake - gameTx(c.graph, 'payout').fee);
  });

  it('a challenge that confirms after the assert still leaves w t for its first choice: the forfeit waits t after it', () => {
    const c = claimChain();
    confirm(c.chain, kickoffOf(c, honestRoot ^ 1n));
    confirm(c.chain, completeChallenge(c.graph, 0, c.sigs, c.fx.secrets.challengers[0] as Uint8Array));
    const move = operatorOf(shape, epoch).assert() as AssertMove;
    acceptWhenMature(c.chain, assertOf(c, move), 20);
    // Q_1's timeout matures t after the assert; only then does w1's challenge confirm.
    for (let i = 0; i < c.fx.spec.timelocks.move; i++) c.chain.mine(MINER);
    confirm(c.chain, completeChallenge(c.graph, 1, c.sigs, c.fx.secrets.challengers[1] as Uint8Array));
    const forfeit = forfeitOf(c, 1);
    // The operator cannot take w1's bond at once: t blocks from w1's challenge, as from the assert.
    expect(acceptWhenMature(c.chain, forfeit, 20)).toBe(c.fx.spec.timelocks.move - 1);
  });

  it('D already slashed by another game: w’s presigned slash is refused, and w takes its pot alone through the same leaf', () => {
    const c = claimChain();
    // A kick-off over another pre-state: both games can disprove it at the assert (the image-root leaf).
    const kickoff = kickoffSignaturesOf(c.fx, {
      root: honestRoot,
      l2BlockHash: L2_BLOCK,
      imageRoot: sha256(utf8('another pre-state')),
      inputsRoot: epoch.tape.inputRoot,
    });
    confirm(c.chain, completeKickoff(c.graph, c.fx.secrets.operator, kickoff));
    for (const w of [0, 1]) {
      confirm(c.chain, completeChallenge(c.graph, w, c.sigs, c.fx.secrets.challengers[w] as Uint8Array));
    }
    const assert = assertOf(c, operatorOf(shape, epoch).assert() as AssertMove);
    acceptWhenMature(c.chain, assert, 20);
    const published = {
      operator: new Map(readAssert(c.graph, minedTx(c.chain, assert)).map((p) => [p.label, p.signature])),
      challenger: new Map(),
      kickoff: { root: kickoff.root, imageRoot: kickoff.imageRoot, inputsRoot: kickoff.inputsRoot },
    };
    const [g0, g1] = c.graph.games as [GameGraph, GameGraph];
    const [s0, s1] = c.fx.secrets.challengers as [Uint8Array, Uint8Array];
    confirm(c.chain, slashTx(g0, c.gameSigs[0] as GamePresignatures, 'reserve', 'image-root', published, s0));
    const late = slashTx(g1, c.gameSigs[1] as GamePresignatures, 'reserve', 'image-root', published, s1);
    expect(rejection(c.chain, late)).toBe('bad-txns-inputs-missingorspent');
    const w1 = taprootOutput(c.fx.spec.challengers[1]?.key as Uint8Array).scriptPubKey;
    const alone = leafSpendTx(g1, 'reserve', 'image-root', published, s1, w1, 2_000n);
    confirm(c.chain, alone);
    expect(alone.outputs).toEqual([{ value: c.fx.spec.values.reserve - 2_000n, script: w1 }]);
  });

  it('challenged and never asserted: w’s assert-timeout at T_a (not before) burns the stake’s share and pays w the rest and its bond', () => {
    const c = claimChain();
    confirm(c.chain, kickoffOf(c, honestRoot ^ 1n));
    confirm(c.chain, completeChallenge(c.graph, 1, c.sigs, c.fx.secrets.challengers[1] as Uint8Array));
    const timeout = completeCovenantTx(c.graph, c.sigs, assertTimeoutId(1));
    expect(acceptWhenMature(c.chain, timeout, 40)).toBe(c.fx.spec.timelocks.assertWindow - 2);
    const spec = c.fx.spec;
    expect(timeout.outputs[0]).toEqual({
      script: BURN_SCRIPT_PUBKEY,
      value: (spec.values.stake * BigInt(spec.assertTimeoutBurnBps)) / 10_000n,
    });
    expect(timeout.outputs[1]?.script).toEqual(
      taprootOutput(spec.challengers[1]?.key as Uint8Array).scriptPubKey,
    );
    // w0 never challenged: it has no assert-timeout to send.
    expect(rejection(c.chain, completeCovenantTx(c.graph, c.sigs, assertTimeoutId(0)))).toBe(
      'bad-txns-inputs-missingorspent',
    );
    // The operator's assert is too late now: S is gone.
    const move = operatorOf(shape, epoch).assert();
    expect(rejection(c.chain, assertOf(c, move as AssertMove))).toBe('bad-txns-inputs-missingorspent');
  });
});
