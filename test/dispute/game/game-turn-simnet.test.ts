/**
 * Both sides of a game driven by `nextTurn` (src/dispute/game/game-turn.ts) from the chain alone: at every
 * turn, Vigil (its rule, a silent operator) and the operator (its trace, a silent challenger) each ask what
 * is owed, knowing only the moves confirmed on simnet as the reader reads them, and the side that owes a
 * move sends it (move-tx.ts). No state is carried between turns, as a restarted job would have none. The
 * two sides always agree whose turn it is; a lie ends in Vigil's slash, an honest claim in Vigil's silence.
 */
import { describe, expect, it } from 'vitest';
import { taprootOutput } from '../../../src/bitcoin/taproot/output.ts';
import { txidHex } from '../../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../../src/bitcoin/tx/types.ts';
import {
  type GameOnChain,
  type GameTurn,
  nextTurn,
  SILENT_CHALLENGER,
  SILENT_OPERATOR,
} from '../../../src/dispute/game/game-turn.ts';
import { REGTEST_SEARCH } from '../../../src/dispute/game/grid.ts';
import type { PublishedSignatures } from '../../../src/dispute/game/leaf-witness.ts';
import { readMoveWitness } from '../../../src/dispute/game/move-reader.ts';
import { leafSpendTx, moveTx, slashTx, timeoutSlashTx } from '../../../src/dispute/game/move-tx.ts';
import type { MoveValues } from '../../../src/dispute/game/move-values.ts';
import type { GameContext } from '../../../src/dispute/game/moves.ts';
import type { ChallengerPlayer, OperatorPlayer } from '../../../src/dispute/game/players.ts';
import { ruleChallenger } from '../../../src/dispute/game/rule.ts';
import type { WotsSignature } from '../../../src/dispute/winternitz/sign.ts';
import type { StepRecord } from '../../../src/machine/isa.ts';
import { lastWriteBefore } from '../../../src/machine/reads.ts';
import { makeGameFixture } from '../../../testkit/dispute/game-fixture.ts';
import {
  acceptWhenMature,
  type ChainGame,
  confirm,
  fundGame,
  kickoffSignatures,
  MOVES_TO_REVEAL,
} from './chain-play.ts';
import { contextOf, type Epoch, haltReadsRootLiar, operatorOf, otherTapeRun, smallEpoch } from './setup.ts';

const shape = REGTEST_SEARCH;
const epoch = smallEpoch();
const honestRoot = epoch.honest.result;

type Played = {
  /** Every move sent, in order, and by whom. */
  readonly sent: string[];
  /** How it ended: Vigil's slash confirmed through `leaf`, or the turn no one could take. */
  readonly end:
    | { readonly kind: 'slashed'; readonly leaf: string }
    | { readonly kind: 'refused'; readonly site: string; readonly leaf: string }
    | { readonly kind: 'stuck'; readonly turn: GameTurn };
  readonly game: ChainGame;
};

/**
 * Plays `operator` against Vigil's rule on simnet, each side asking `nextTurn` from the chain, until Vigil
 * slashes or a side stays silent (`stopAt`: the operator falls silent from that move on).
 */
function playByTurns(
  epoch: Epoch,
  ctx: GameContext,
  operator: () => OperatorPlayer,
  stopAt?: string,
  challenger: () => ChallengerPlayer = () => ruleChallenger(ctx, shape, epoch.view),
): Played {
  const fx = makeGameFixture({ shape, agreedImageRoot: epoch.tape.imageRoot });
  const game = fundGame(fx);
  const moves = new Map<string, MoveValues>();
  let assert: MoveValues | undefined;
  const published = {
    operator: new Map<string, WotsSignature>(),
    challenger: new Map<string, WotsSignature>(),
  };
  const kickoff = kickoffSignatures(fx, {
    root: ctx.claimedRoot,
    imageRoot: ctx.imageRoot,
    inputsRoot: ctx.inputsRoot,
  });
  const sent: string[] = [];
  const onChain = (): GameOnChain => ({ ...(assert === undefined ? {} : { assert }), moves });

  for (let guard = 0; guard < 100; guard++) {
    // Each side starts from nothing but the chain: fresh players, as after a restart.
    const vigil = nextTurn(ctx, shape, onChain(), { operator: SILENT_OPERATOR, challenger: challenger() });
    const op = nextTurn(ctx, shape, onChain(), { operator: operator(), challenger: SILENT_CHALLENGER });
    if (vigil.kind === 'refuse') {
      // The operator's refusal: both sides see it; the operator sweeps the pot through the refusal leaf.
      expect(op).toEqual(vigil);
      const all: PublishedSignatures = { ...published, kickoff };
      const to = taprootOutput(fx.spec.operator).scriptPubKey;
      confirm(
        game.chain,
        leafSpendTx(game.graph, vigil.site, vigil.leaf, all, fx.secrets.operator, to, 2_000n),
      );
      return { sent, end: { kind: 'refused', site: vigil.site, leaf: vigil.leaf }, game };
    }
    if (vigil.kind === 'silent' && vigil.side === 'operator') {
      // Vigil waits for the operator's move; the operator owes exactly that one.
      expect(op.kind === 'silent' ? op.side : op.kind, `turn ${guard}`).not.toBe('challenger');
      if (op.kind !== 'move' || op.id === stopAt) return { sent, end: { kind: 'stuck', turn: vigil }, game };
      if (op.id === 'assert') {
        // The assert is the claim graph's transaction; once confirmed its signatures are public.
        assert = op.values;
        for (const [label, bytes] of op.values) published.operator.set(label, fx.sign.operator(label, bytes));
        sent.push('assert');
        continue;
      }
      send(op.id, op.values, 'operator');
      continue;
    }
    // The operator waits for Vigil.
    expect(op, `turn ${guard}`).toMatchObject({ kind: 'silent', side: 'challenger' });
    if (vigil.kind === 'move') {
      send(vigil.id, vigil.values, 'challenger');
      continue;
    }
    if (vigil.kind === 'disprove') {
      const all: PublishedSignatures = { ...published, kickoff };
      confirm(
        game.chain,
        slashTx(game.graph, game.sigs, vigil.site, vigil.leaf, all, fx.secrets.challenger, vigil.extras),
      );
      return { sent, end: { kind: 'slashed', leaf: vigil.leaf }, game };
    }
    return { sent, end: { kind: 'stuck', turn: vigil }, game };
  }
  throw new Error('the game did not end in 100 turns');

  function send(id: string, values: MoveValues, side: 'operator' | 'challenger') {
    const tx = moveTx(game.graph, game.sigs, id, values, published, fx.sign[side], fx.secrets.challenger);
    confirm(game.chain, tx);
    const mined = game.chain.findTx(txidHex(tx))?.tx as Tx;
    const read = readMoveWitness(game.graph, id, mined);
    moves.set(
      id,
      new Map(
        read.filter((p) => p.signer === side && !p.label.startsWith('echo.')).map((p) => [p.label, p.value]),
      ),
    );
    const own = moves.get(id) as Map<string, Uint8Array>;
    for (const p of read) {
      published[p.signer].set(p.label, p.signature);
      if (p.signer === side && p.label.startsWith('echo.')) own.set(p.label, p.value);
    }
    sent.push(id);
  }
}

describe('a game driven turn by turn from the chain alone', () => {
  it('a wrong result: both sides agree on every turn, and Vigil slashes through the last-step leaf', () => {
    const r = playByTurns(epoch, contextOf(epoch, honestRoot ^ 1n), () => operatorOf(shape, epoch));
    expect(r.end).toEqual({ kind: 'slashed', leaf: 'last-step' });
    expect(r.sent).toEqual(['assert', ...MOVES_TO_REVEAL]);
  });

  it('a halt that says it read the claimed root: the read request, the second search, and RV1 at the write', () => {
    const steps = epoch.honest.steps;
    const T = steps.length;
    const halt = steps[T - 1] as StepRecord;
    const claimed = honestRoot ^ 1n;
    const lastWrite = lastWriteBefore(steps, T - 1, halt.r1.addr) as number;
    const liar = () => haltReadsRootLiar(shape, epoch, claimed, lastWrite);
    const r = playByTurns(epoch, contextOf(epoch, claimed), liar);
    expect(r.end).toEqual({ kind: 'slashed', leaf: 'read-value:1' });
    expect(r.sent).toContain('requestRead');
    expect(r.sent.at(-1)).toBe('read/reveal′');
  });

  it('a run over another tape: the tape request and both tape reveals, then tape-top', () => {
    const other = otherTapeRun(epoch);
    const ctx = contextOf(epoch, other.run.result as bigint);
    const r = playByTurns(epoch, ctx, () => operatorOf(shape, epoch, other.run.steps, other.tape));
    expect(r.end).toEqual({ kind: 'slashed', leaf: 'tape-top' });
    expect(r.sent.slice(-3)).toEqual(['requestTape', 'tape/tapeReveal1', 'tape/tapeReveal2']);
  });

  it('an honest claim: Vigil’s rule never disproves; it falls silent after the reveal and sends nothing more', () => {
    const r = playByTurns(epoch, contextOf(epoch, honestRoot), () => operatorOf(shape, epoch));
    expect(r.end).toMatchObject({ kind: 'stuck', turn: { kind: 'silent', side: 'challenger' } });
    expect(r.sent.at(-1)).toBe('reveal');
  });

  it('a griefer’s out-of-range choice (200 in a 5-bit round) does not end the game: the operator answers on and refuses at the last choice', () => {
    const griefer = (): ChallengerPlayer => {
      const rule = ruleChallenger(contextOf(epoch, honestRoot), shape, epoch.view);
      return { ...rule, choose: (view, b) => (view.round === 2 ? 200 : rule.choose(view, b)) };
    };
    const r = playByTurns(
      epoch,
      contextOf(epoch, honestRoot),
      () => operatorOf(shape, epoch),
      undefined,
      griefer,
    );
    expect(r.sent).toEqual(['assert', ...MOVES_TO_REVEAL.slice(0, -1)]);
    expect(r.end).toEqual({ kind: 'refused', site: 'choice4', leaf: 'past-end' });
  });

  it('the operator silent at answer 3: Vigil’s turn is to wait, and its timeout slash confirms after t, not before', () => {
    const r = playByTurns(
      epoch,
      contextOf(epoch, honestRoot ^ 1n),
      () => operatorOf(shape, epoch),
      'answer3',
    );
    expect(r.end).toEqual({ kind: 'stuck', turn: { kind: 'silent', side: 'operator', at: 'answer3' } });
    expect(r.sent.at(-1)).toBe('choice2');
    const fx = makeGameFixture({ shape, agreedImageRoot: epoch.tape.imageRoot });
    const tx = timeoutSlashTx(r.game.graph, r.game.sigs, 'choice2', fx.secrets.challenger);
    expect(acceptWhenMature(r.game.chain, tx, 20)).toBe(fx.spec.timelocks.move - 1);
    expect(r.game.chain.findTx(txidHex(tx))?.block).toBeDefined();
  });
});
