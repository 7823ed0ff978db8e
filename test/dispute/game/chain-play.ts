/**
 * Plays a game's transactions on simnet: a chain funded with the game's D, Q_w and C_w, the covenant's
 * presignatures, and each move signed from the values the pure players chose (recorded while the referee
 * played them). Shared by the game's simnet tests.
 */
import { expect } from 'vitest';
import { preimageBlock } from '../../../circuits/gvm/preimage-leaves.ts';
import { SimChain } from '../../../src/bitcoin/simnet/chain.ts';
import { taprootOutput } from '../../../src/bitcoin/taproot/output.ts';
import { txid, txidHex } from '../../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../../src/bitcoin/tx/types.ts';
import { buildGameGraph, type GameGraph, type GameOutpoints } from '../../../src/dispute/game/game-graph.ts';
import {
  collectGamePresignatures,
  type GamePresignatures,
  signGameInput,
} from '../../../src/dispute/game/game-spend.ts';
import { roundBits, type Segment, splitPoints, stepOfChoices } from '../../../src/dispute/game/grid.ts';
import {
  attemptLeafName,
  type LeafExtras,
  type PublishedSignatures,
} from '../../../src/dispute/game/leaf-witness.ts';
import type {
  AssertAttempt,
  RevealAttempt,
  TapeRevealAttempt,
  WriteRevealAttempt,
} from '../../../src/dispute/game/leaves.ts';
import { readMoveWitness } from '../../../src/dispute/game/move-reader.ts';
import { moveTx, slashTx } from '../../../src/dispute/game/move-tx.ts';
import {
  assertValues,
  revealValues,
  tapeValues,
  writeRevealValues,
} from '../../../src/dispute/game/move-values.ts';
import type {
  AssertMove,
  Query,
  Refusal,
  StepReveal,
  TapeReveal,
  WriteReveal,
} from '../../../src/dispute/game/moves.ts';
import type { ChallengerPlayer, OperatorPlayer } from '../../../src/dispute/game/players.ts';
import type { WotsSignature } from '../../../src/dispute/winternitz/sign.ts';
import { wotsSign } from '../../../src/dispute/winternitz/sign.ts';
import { smallBytes, wordBytes } from '../../../src/machine/isa.ts';
import { type Coin, mineCoins, out, rejection, spend } from '../../../testkit/bitcoin/simnet/fixture.ts';

export { assertValues, rejection, revealValues, tapeValues, writeRevealValues };

import { txVsize } from '../../../src/bitcoin/tx/serialize.ts';
import { gameTx } from '../../../src/dispute/game/game-graph.ts';
import type { SearchShape } from '../../../src/dispute/game/grid.ts';
import type { GameContext } from '../../../src/dispute/game/moves.ts';
import { playGame } from '../../../src/dispute/game/referee.ts';
import { ruleChallenger } from '../../../src/dispute/game/rule.ts';
import { BURN_SCRIPT_PUBKEY } from '../../../src/dispute/graph/scripts.ts';
import {
  type GameFixture,
  makeGameFixture,
  placeholderOutpoints,
} from '../../../testkit/dispute/game-fixture.ts';
import { secretOf, xOnly } from '../../../testkit/dispute/graph-fixture.ts';
import type { Epoch } from './setup.ts';

const p2tr = (label: string) => taprootOutput(xOnly(secretOf(label))).scriptPubKey;
export const MINER = p2tr('game miner');

/** The moves of a first search at regtest's shape (R = 4) from choice 1 to the reveal. */
export const MOVES_TO_REVEAL = [
  'choice1',
  'answer2',
  'choice2',
  'answer3',
  'choice3',
  'answer4',
  'choice4',
  'reveal',
] as const;

/** One thing a player said while the referee played them, in play order. */
export type GameEvent =
  | { readonly kind: 'assert'; readonly move: AssertMove }
  | { readonly kind: 'answer'; readonly round: number; readonly values: readonly Uint8Array[] }
  | { readonly kind: 'choice'; readonly round: number; readonly choice: number }
  | { readonly kind: 'reveal'; readonly reveal: StepReveal }
  | { readonly kind: 'request'; readonly q: Query }
  | {
      readonly kind: 'answer′';
      readonly q: Query;
      readonly round: number;
      readonly segment: Segment;
      readonly values: readonly Uint8Array[];
    }
  | { readonly kind: 'choice′'; readonly q: Query; readonly round: number; readonly choice: number }
  | { readonly kind: 'reveal′'; readonly q: Query; readonly reveal: WriteReveal }
  | { readonly kind: 'tape'; readonly path: TapeReveal }
  | {
      readonly kind: 'disprove';
      readonly at: 'assert' | 'reveal' | 'reveal′' | 'tape';
      readonly attempt: AssertAttempt | RevealAttempt | WriteRevealAttempt | TapeRevealAttempt;
    };

/** Wraps both players so that every move they make is also recorded, in order. */
export function recorded(
  operator: OperatorPlayer,
  challenger: ChallengerPlayer,
): { operator: OperatorPlayer; challenger: ChallengerPlayer; events: GameEvent[] } {
  const events: GameEvent[] = [];
  const isValue = <T extends object>(v: T | Refusal | undefined): v is T =>
    v !== undefined && !('refuse' in v);
  return {
    events,
    operator: {
      assert() {
        const a = operator.assert();
        if (a !== undefined) events.push({ kind: 'assert', move: a });
        return a;
      },
      answer(view, points) {
        const v = operator.answer(view, points);
        if (v !== undefined) events.push({ kind: 'answer', round: view.round, values: v });
        return v;
      },
      reveal(step) {
        const r = operator.reveal(step);
        if (isValue(r)) events.push({ kind: 'reveal', reveal: r });
        return r;
      },
      answerRead(q, view, points) {
        const v = operator.answerRead(q, view, points);
        if (v !== undefined)
          events.push({ kind: 'answer′', q, round: view.round, segment: view.segment, values: v });
        return v;
      },
      revealWrite(q, step) {
        const r = operator.revealWrite(q, step);
        if (isValue(r)) events.push({ kind: 'reveal′', q, reveal: r });
        return r;
      },
      revealTape(step) {
        const r = operator.revealTape(step);
        if (isValue(r)) events.push({ kind: 'tape', path: r });
        return r;
      },
    },
    challenger: {
      onAssert(a) {
        const r = challenger.onAssert(a);
        if (r !== undefined) events.push({ kind: 'disprove', at: 'assert', attempt: r });
        return r;
      },
      choose(view, bits) {
        const c = challenger.choose(view, bits);
        if (c !== undefined) events.push({ kind: 'choice', round: view.round, choice: c });
        return c;
      },
      onReveal(site, reveal) {
        const r = challenger.onReveal(site, reveal);
        if (r !== undefined) {
          events.push(
            'disprove' in r
              ? { kind: 'disprove', at: 'reveal', attempt: r.disprove }
              : { kind: 'request', q: r.request },
          );
        }
        return r;
      },
      chooseRead(q, view, bits, readStep) {
        const c = challenger.chooseRead(q, view, bits, readStep);
        if (c !== undefined) events.push({ kind: 'choice′', q, round: view.round, choice: c });
        return c;
      },
      onWriteReveal(site, reveal) {
        const r = challenger.onWriteReveal(site, reveal);
        if (r !== undefined) events.push({ kind: 'disprove', at: 'reveal′', attempt: r });
        return r;
      },
      onTapeReveal(site, reveal) {
        const r = challenger.onTapeReveal(site, reveal);
        if (r !== undefined) events.push({ kind: 'disprove', at: 'tape', attempt: r });
        return r;
      },
    },
  };
}

export type ChainGame = {
  readonly chain: SimChain;
  readonly graph: GameGraph;
  readonly sigs: GamePresignatures;
  /** The operator's wallet coin: a key-path P2TR of its key, confirmed with the game's funding. */
  readonly operatorCoin: { readonly txid: Uint8Array; readonly vout: number; readonly value: bigint };
};

/** A chain where a funding transaction holds the game's D, Q_w and C_w, and the game built on it. */
export function fundGame(fx: GameFixture): ChainGame {
  let now = 1_700_000_000;
  const chain = new SimChain({ clock: () => (now += 600) });
  const [coin] = mineCoins(chain, 1) as [Coin];
  for (let i = 0; i < 100; i++) chain.mine(MINER);
  // The scripts do not depend on the outpoints: learn them from a build on placeholders.
  const scripts = buildGameGraph(fx.spec, placeholderOutpoints());
  const v = fx.spec.values;
  const funding = spend({
    coins: [coin],
    outputs: [
      out(v.stake, scripts.stake.scriptPubKey),
      out(v.reserve, scripts.reserve.scriptPubKey),
      out(v.bond, scripts.bond.scriptPubKey),
      // The operator's own wallet coin (a key-path P2TR of its key), for what it does beside the game.
      out(OPERATOR_COIN, taprootOutput(fx.spec.operator).scriptPubKey),
      out(coin.value - v.stake - v.reserve - v.bond - OPERATOR_COIN - 10_000n),
    ],
  });
  chain.acceptTx(funding.tx);
  chain.mine(MINER);
  const id = txid(funding.tx);
  const outpoints: GameOutpoints = {
    stake: { txid: id, vout: 0 },
    reserve: { txid: id, vout: 1 },
    bond: { txid: id, vout: 2 },
  };
  const graph = buildGameGraph(fx.spec, outpoints);
  const sigs = collectGamePresignatures(
    graph,
    fx.secrets.covenant.map((s) => graph.presigned.map((p) => signGameInput(graph, p.tx, p.input, s))),
  );
  return { chain, graph, sigs, operatorCoin: { txid: id, vout: 3, value: OPERATOR_COIN } };
}

/** What the operator's wallet coin holds. */
const OPERATOR_COIN = 100_000_000n;

/** Sends and mines a transaction; fails the test with the node's reason if it is refused. */
export function confirm(chain: SimChain, tx: Tx): void {
  const r = rejection(chain, tx);
  expect(r, `${txidHex(tx)} refused`).toBe('accepted');
  const block = chain.mine(MINER);
  expect(block.txs.map((t) => t.txid)).toContain(txidHex(tx));
}

/** Signatures both sides published in the game so far (read from the chain), by label, so later moves can echo them. */
export type Signed = { operator: Map<string, WotsSignature>; challenger: Map<string, WotsSignature> };

/**
 * One move's transaction, signed: the mover signs `values` (label → bytes) under its keys, each echo pairs
 * the opponent's published signature with the mover's own of the same bytes, and w adds its Schnorr
 * signature on each input of its own moves.
 */
export function signedMove(
  fx: GameFixture,
  game: ChainGame,
  id: string,
  values: ReadonlyMap<string, Uint8Array>,
  signed: Signed,
): Tx {
  const mover = game.graph.nodes.get(id)?.move.mover ?? 'operator';
  return moveTx(game.graph, game.sigs, id, values, signed, fx.sign[mover], fx.secrets.challenger);
}

/** The kick-off's signatures of R′ and its two roots, as the claim graph's kick-off would publish them. */
export function kickoffSignatures(
  fx: GameFixture,
  values: { root: bigint; imageRoot: Uint8Array; inputsRoot: Uint8Array },
): PublishedSignatures['kickoff'] {
  return {
    root: wotsSign(fx.kickoffSecrets.root, wordBytes(values.root)),
    imageRoot: wotsSign(fx.kickoffSecrets.imageRoot, values.imageRoot),
    inputsRoot: wotsSign(fx.kickoffSecrets.inputsRoot, values.inputsRoot),
  };
}

export type Replay = {
  /** The moves confirmed, in order (transaction ids of the game). */
  readonly played: string[];
  readonly signed: Signed;
  /** The slash the last event asked for, complete but not sent: its site, leaf, and transaction. */
  readonly slash?: { readonly site: string; readonly leaf: string; readonly tx: Tx };
};

/**
 * Sends every recorded move as its game transaction, confirming each, and builds the challenger's final
 * disprove as the slash of the output it sits on (the leaf found by name, its witness from the published
 * signatures). Stops before sending the slash so a test can attack it first.
 */
export function replayOnChain(
  fx: GameFixture,
  game: ChainGame,
  events: readonly GameEvent[],
  kickoff: PublishedSignatures['kickoff'],
  afterMove?: (id: string, signed: Signed) => void,
): Replay {
  const shape = fx.spec.shape;
  const bits = roundBits(shape);
  const signed: Signed = { operator: new Map(), challenger: new Map() };
  const played: string[] = [];
  const choices = new Map<number, number>();
  const choicesRead = new Map<number, number>();
  let reveal: StepReveal | undefined;
  let steps = 0;
  let query: Query | undefined;
  const send = (id: string, values: ReadonlyMap<string, Uint8Array>) => {
    const tx = signedMove(fx, game, id, values, signed);
    confirm(game.chain, tx);
    // What each side knows of the move is what the chain has: read back from the mined transaction.
    const mined = game.chain.findTx(txidHex(tx));
    if (mined?.block === undefined) throw new Error(`${id} is not in a block`);
    for (const p of readMoveWitness(game.graph, id, mined.tx)) signed[p.signer].set(p.label, p.signature);
    played.push(id);
    afterMove?.(id, signed);
  };
  for (const ev of events) {
    switch (ev.kind) {
      case 'assert':
        // The assert is the claim graph's transaction; its signatures are public once it confirms.
        steps = ev.move.steps;
        for (const [label, bytes] of assertValues(ev.move))
          signed.operator.set(label, fx.sign.operator(label, bytes));
        afterMove?.('assert', signed);
        break;
      case 'answer':
        send(`answer${ev.round}`, new Map(ev.values.map((p, k) => [`answer${ev.round}.point${k + 1}`, p])));
        break;
      case 'choice': {
        choices.set(ev.round, ev.choice);
        const values = new Map<string, Uint8Array>([[`choice${ev.round}`, Uint8Array.of(ev.choice)]]);
        if (ev.round === 1) values.set('echo.steps', smallBytes(steps));
        send(`choice${ev.round}`, values);
        break;
      }
      case 'reveal':
        reveal = ev.reveal;
        send('reveal', revealValues(ev.reveal, choices));
        break;
      case 'request': {
        query = ev.q;
        const r = reveal as StepReveal;
        send(
          ev.q === 3 ? 'requestTape' : 'requestRead',
          new Map([
            ['echo.record.pc', smallBytes(r.record.pc)],
            ['echo.record.waddr', smallBytes(r.record.w.addr)],
          ]),
        );
        break;
      }
      case 'answer′': {
        // On Bitcoin the answer′ signs every grid point: h_i (the reveal's) at each one at or past i.
        const i = stepOfChoices(shape, [...choices.values()]);
        const points = splitPoints(ev.segment, bits[ev.round - 1] as number);
        const values = new Map(
          points.map((p, k) => [
            `answer′${ev.round}.point${k + 1}`,
            p < i ? (ev.values[k] as Uint8Array) : (reveal as StepReveal).h,
          ]),
        );
        send(`read/answer′${ev.round}`, values);
        break;
      }
      case 'choice′':
        choicesRead.set(ev.round, ev.choice);
        send(`read/choice′${ev.round}`, new Map([[`choice′${ev.round}`, Uint8Array.of(ev.choice)]]));
        break;
      case 'reveal′':
        send('read/reveal′', writeRevealValues(ev.reveal, choicesRead));
        break;
      case 'tape': {
        const values = tapeValues(ev.path);
        send('tape/tapeReveal1', values);
        send('tape/tapeReveal2', values);
        break;
      }
      case 'disprove': {
        const site =
          ev.at === 'assert'
            ? 'reserve'
            : ev.at === 'reveal'
              ? 'reveal'
              : ev.at === 'reveal′'
                ? 'read/reveal′'
                : 'tape/tapeReveal2';
        const second = ev.at === 'reveal′';
        const leaf = attemptLeafName(
          ev.attempt,
          {
            shape,
            program: fx.spec.program,
            choices: [...(second ? choicesRead : choices).values()],
            ...(reveal === undefined ? {} : { pc: reveal.record.pc }),
            ...(query === 1 || query === 2 ? { read: query } : {}),
          },
          second ? 'second' : 'first',
        );
        const preimage = 'preimage' in ev.attempt ? ev.attempt.preimage : undefined;
        const tx = slashThrough(
          fx,
          game,
          site,
          leaf,
          { ...signed, kickoff },
          preimage === undefined ? {} : { block: preimageBlock(preimage) },
        );
        return { played, signed, slash: { site, leaf, tx } };
      }
    }
  }
  return { played, signed };
}

/** w's slash of `site`'s output through the leaf named `leaf`, its witness from the published signatures. */
export function slashThrough(
  fx: GameFixture,
  game: ChainGame,
  site: string,
  leaf: string,
  published: PublishedSignatures,
  extras: LeafExtras = {},
): Tx {
  return slashTx(game.graph, game.sigs, site, leaf, published, fx.secrets.challenger, extras);
}

/** The events up to and including the `nth` (1-based) event of `kind`. */
export function eventsThrough(events: readonly GameEvent[], kind: GameEvent['kind'], nth = 1): GameEvent[] {
  let seen = 0;
  const end = events.findIndex((e) => e.kind === kind && ++seen === nth);
  if (end < 0) throw new Error(`the game has no ${nth}th ${kind}`);
  return events.slice(0, end + 1);
}

/** Mines until `tx` is accepted; returns the blocks mined after `since` before it was (its lock's age). */
export function acceptWhenMature(chain: SimChain, tx: Tx, limit: number): number {
  for (let mined = 0; ; mined++) {
    const r = rejection(chain, tx);
    if (r === 'accepted') {
      chain.mine(MINER);
      return mined;
    }
    expect(r).toBe('non-BIP68-final');
    if (mined > limit) throw new Error(`still immature after ${mined} blocks`);
    chain.mine(MINER);
  }
}

export type PlayOptions = {
  readonly challenger?: ChallengerPlayer;
  /** The pre-state root the graph fixes (default: the epoch's own). */
  readonly agreedImageRoot?: Uint8Array;
  /** Keeps the moves up to some point: a side falls silent there. */
  readonly cut?: (events: GameEvent[]) => GameEvent[];
  /** Called after each move confirms, with what both sides have published so far. */
  readonly afterMove?: (id: string, signed: Signed, game: ChainGame, fx: GameFixture) => void;
};

/**
 * Plays `operator` against Vigil's rule over `epoch` (or against `challenger`) in the pure referee, then
 * the same moves on simnet, on a game graph with real keys.
 */
export function playEpochOnChain(
  epoch: Epoch,
  shape: SearchShape,
  ctx: GameContext,
  operator: OperatorPlayer,
  options: PlayOptions = {},
) {
  const fx = makeGameFixture({ shape, agreedImageRoot: options.agreedImageRoot ?? epoch.tape.imageRoot });
  const game = fundGame(fx);
  const players = recorded(operator, options.challenger ?? ruleChallenger(ctx, shape, epoch.view));
  const outcome = playGame(ctx, shape, players.operator, players.challenger);
  const kickoff = kickoffSignatures(fx, {
    root: ctx.claimedRoot,
    imageRoot: ctx.imageRoot,
    inputsRoot: ctx.inputsRoot,
  });
  const replay = replayOnChain(
    fx,
    game,
    options.cut?.(players.events) ?? players.events,
    kickoff,
    options.afterMove && ((id, signed) => options.afterMove?.(id, signed, game, fx)),
  );
  return { fx, game, outcome, replay, kickoff, events: players.events };
}

/** Sends the slash and checks where the money went: half of D burned, the rest and the pot to w. */
export function expectSlashed(r: ReturnType<typeof playEpochOnChain>, leaf: string | RegExp): void {
  const slash = r.replay.slash;
  expect(slash, 'the challenger made no disprove').toBeDefined();
  if (slash === undefined) return;
  expect(slash.leaf).toMatch(leaf);
  confirm(r.game.chain, slash.tx);
  expect(slash.tx.outputs[0]?.script).toEqual(BURN_SCRIPT_PUBKEY);
  expect(slash.tx.outputs[0]?.value).toBe((r.fx.spec.values.stake * BigInt(r.fx.spec.burnBps)) / 10_000n);
  expect(slash.tx.outputs[1]?.script).toEqual(taprootOutput(r.fx.spec.challenger).scriptPubKey);
  // The presigned fee covers the transaction as sent at the graph's rate.
  const gtx = gameTx(r.game.graph, `slash:${slash.site}`);
  expect(gtx.fee).toBeGreaterThanOrEqual(BigInt(txVsize(slash.tx)) * r.fx.spec.feeRate);
}
