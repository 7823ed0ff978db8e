/**
 * Whose turn it is in one game on Bitcoin, and what to send, from what the chain shows (docs/protocol.md
 * §24.9). The referee (referee.ts) replays the game: every move already confirmed is read off the chain,
 * and the first move that is not is asked of the side that owes it. Vigil's watcher asks as the challenger
 * with its rule and a silent operator; the devnet's operator asks as the operator with its trace and a
 * silent challenger. Nothing is kept between calls: a crashed job asks again and gets the same turn, so
 * every job built on it may run twice. Pure: no I/O.
 */
import { preimageBlock } from '../../../circuits/gvm/preimage-leaves.ts';
import { CHAIN_BYTES, TAPE_HALF_DEPTH } from '../../machine/isa.ts';
import { roundBits, type SearchShape, splitPoints, stepOfChoices } from './grid.ts';
import { attemptLeafName, type LeafExtras } from './leaf-witness.ts';
import type { AssertAttempt, RevealAttempt, TapeRevealAttempt, WriteRevealAttempt } from './leaves.ts';
import {
  answerFromValues,
  answerValues,
  assertFromValues,
  assertValues,
  choiceFromValues,
  choiceValues,
  type MoveValues,
  requestValues,
  revealFromValues,
  revealValues,
  tapeFromValues,
  tapeValues,
  writeRevealFromValues,
  writeRevealValues,
} from './move-values.ts';
import type { AssertMove, GameContext, Query, StepReveal } from './moves.ts';
import type { ChallengerPlayer, OperatorPlayer } from './players.ts';
import { type GameOutcome, type GameSide, playGame } from './referee.ts';

/** What the chain shows of one game: the assert's values and each confirmed move's, by move id. */
export type GameOnChain = {
  readonly assert?: MoveValues;
  readonly moves: ReadonlyMap<string, MoveValues>;
};

export type GameTurn =
  /** `side` sends move `id` (the game graph's transaction), signing `values` (echoes as `echo.<label>`). */
  | { readonly kind: 'move'; readonly side: GameSide; readonly id: string; readonly values: MoveValues }
  /** w slashes the output of `site` (`reserve` for Q_w, else a move id) through the leaf `leaf`. */
  | { readonly kind: 'disprove'; readonly site: string; readonly leaf: string; readonly extras: LeafExtras }
  /** The operator sweeps the pot of `site` through the refusal leaf `leaf` and takes it. */
  | {
      readonly kind: 'refuse';
      readonly site: string;
      readonly leaf: 'past-end' | 'past-read' | 'not-a-tape-step';
    }
  /**
   * `side` owes the move at `at` and will not make it (its player is silent: the opponent's turn to wait
   * for, or a rule that concedes). The opponent takes its timeout t after the last confirmed move.
   */
  | { readonly kind: 'silent'; readonly side: GameSide; readonly at: string }
  /** No move is owed: the game ended by what is on chain (`outcome` says how, as the referee judged it). */
  | { readonly kind: 'over'; readonly outcome: GameOutcome };

/** Where the two sides' moves come from: each side's player is asked only for moves not yet on chain. */
export type TurnPlayers = { readonly operator: OperatorPlayer; readonly challenger: ChallengerPlayer };

/** An operator that never moves: the watcher's view of the opponent, whose moves come from the chain. */
export const SILENT_OPERATOR: OperatorPlayer = {
  assert: () => undefined,
  answer: () => undefined,
  reveal: () => undefined,
  answerRead: () => undefined,
  revealWrite: () => undefined,
  revealTape: () => undefined,
};

/** A challenger that never moves: the operator's view of w, whose moves come from the chain. */
export const SILENT_CHALLENGER: ChallengerPlayer = {
  onAssert: () => undefined,
  choose: () => undefined,
  onReveal: () => undefined,
  chooseRead: () => undefined,
  onWriteReveal: () => undefined,
  onTapeReveal: () => undefined,
};

class TurnFound extends Error {}

/** The next turn of the game whose confirmed moves are `chain`. */
export function nextTurn(
  ctx: GameContext,
  shape: SearchShape,
  chain: GameOnChain,
  players: TurnPlayers,
): GameTurn {
  const bits = roundBits(shape);
  const R = bits.length;
  let turn: GameTurn | undefined;
  const found = (t: GameTurn): never => {
    turn = t;
    throw new TurnFound();
  };
  // What later moves echo or depend on, as the chain (or the pending move) says.
  let assert: AssertMove | undefined;
  const choices = new Map<number, number>();
  const choicesRead = new Map<number, number>();
  let reveal: StepReveal | undefined;
  let query: Query | undefined;
  // A choice on chain outside its round's range (w signed, say, 200 in a 5-bit round: no script checks
  // it). Bitcoin does not end the game there (§24.11 item 7): the operator answers the clamped segment and
  // refuses at the last choice, whose refusal leaf spends whenever any choice is out of range.
  let badChoice = false;
  let badChoiceRead = false;
  const onChain = (id: string) => chain.moves.get(id);

  const disprove = (
    site: string,
    attempt: AssertAttempt | RevealAttempt | WriteRevealAttempt | TapeRevealAttempt,
    second: boolean,
  ): never => {
    const leaf = attemptLeafName(
      attempt,
      {
        shape,
        program: ctx.program,
        choices: [...(second ? choicesRead : choices).values()],
        ...(reveal === undefined ? {} : { pc: reveal.record.pc }),
        ...(query === 1 || query === 2 ? { read: query } : {}),
      },
      second ? 'second' : 'first',
    );
    const preimage = 'preimage' in attempt ? attempt.preimage : undefined;
    return found({
      kind: 'disprove',
      site,
      leaf,
      extras: preimage === undefined ? {} : { block: preimageBlock(preimage) },
    });
  };

  const operator: OperatorPlayer = {
    assert() {
      const mine = players.operator.assert();
      if (chain.assert !== undefined) {
        assert = assertFromValues(
          chain.assert,
          splitPoints({ left: 0, width: 2 ** shape.depth }, bits[0] as number).length,
          CHAIN_BYTES,
        );
        return assert;
      }
      if (mine === undefined) return found({ kind: 'silent', side: 'operator', at: 'assert' });
      return found({ kind: 'move', side: 'operator', id: 'assert', values: assertValues(mine) });
    },
    answer(view, points) {
      const id = `answer${view.round}`;
      const mine = players.operator.answer(view, points);
      const values = onChain(id);
      if (values !== undefined)
        return answerFromValues(values, 'answer', view.round, points.length, CHAIN_BYTES);
      if (mine === undefined) return found({ kind: 'silent', side: 'operator', at: id });
      return found({ kind: 'move', side: 'operator', id, values: answerValues('answer', view.round, mine) });
    },
    reveal(step) {
      const mine = players.operator.reveal(step);
      const values = onChain('reveal');
      if (values !== undefined) {
        reveal = revealFromValues(values, CHAIN_BYTES);
        return reveal;
      }
      if (badChoice) return found({ kind: 'refuse', site: `choice${R}`, leaf: 'past-end' });
      if (mine === undefined) return found({ kind: 'silent', side: 'operator', at: 'reveal' });
      if ('refuse' in mine) return found({ kind: 'refuse', site: `choice${R}`, leaf: 'past-end' });
      return found({ kind: 'move', side: 'operator', id: 'reveal', values: revealValues(mine, choices) });
    },
    answerRead(q, view, points) {
      const id = `read/answer′${view.round}`;
      const mine = players.operator.answerRead(q, view, points);
      const values = onChain(id);
      const i =
        (reveal as StepReveal | undefined) === undefined ? 0 : stepOfChoices(shape, [...choices.values()]);
      // On Bitcoin an answer′ signs every grid point: h_i (the reveal's) at each one at or past i.
      const all = splitPoints(view.segment, bits[view.round - 1] as number);
      if (values !== undefined) {
        return answerFromValues(values, 'answer′', view.round, all.length, CHAIN_BYTES).filter(
          (_, k) => (all[k] as number) < i,
        );
      }
      if (mine === undefined) return found({ kind: 'silent', side: 'operator', at: id });
      let next = 0;
      const signed = all.map((p) => (p < i ? (mine[next++] as Uint8Array) : (reveal as StepReveal).h));
      return found({
        kind: 'move',
        side: 'operator',
        id,
        values: answerValues('answer′', view.round, signed),
      });
    },
    revealWrite(q, step) {
      const mine = players.operator.revealWrite(q, step);
      const values = onChain('read/reveal′');
      if (values !== undefined) return writeRevealFromValues(values, CHAIN_BYTES);
      // The second search's refusal leaf is past-read (the choices′ spell a step at or past i).
      if (badChoiceRead) return found({ kind: 'refuse', site: `read/choice′${R}`, leaf: 'past-read' });
      if (mine === undefined) return found({ kind: 'silent', side: 'operator', at: 'read/reveal′' });
      if ('refuse' in mine) return found({ kind: 'refuse', site: `read/choice′${R}`, leaf: 'past-read' });
      return found({
        kind: 'move',
        side: 'operator',
        id: 'read/reveal′',
        values: writeRevealValues(mine, choicesRead),
      });
    },
    revealTape(step) {
      const mine = players.operator.revealTape(step);
      const first = onChain('tape/tapeReveal1');
      const second = onChain('tape/tapeReveal2');
      if (first !== undefined && second !== undefined) {
        return tapeFromValues(new Map([...first, ...second]), TAPE_HALF_DEPTH + 1, TAPE_HALF_DEPTH);
      }
      const at = first === undefined ? 'tape/tapeReveal1' : 'tape/tapeReveal2';
      if (mine === undefined) return found({ kind: 'silent', side: 'operator', at });
      if ('refuse' in mine) return found({ kind: 'refuse', site: 'requestTape', leaf: 'not-a-tape-step' });
      return found({ kind: 'move', side: 'operator', id: at, values: tapeValues(mine) });
    },
  };

  const challenger: ChallengerPlayer = {
    onAssert(a) {
      const mine = players.challenger.onAssert(a);
      // A disprove of the assert ends the game, so it is never "on chain" as a move: the caller sees the slash.
      if (mine !== undefined && onChain('choice1') === undefined) return disprove('reserve', mine, false);
      return undefined;
    },
    choose(view, b) {
      const id = `choice${view.round}`;
      const mine = players.challenger.choose(view, b);
      const values = onChain(id);
      if (values === undefined) {
        if (mine === undefined) return found({ kind: 'silent', side: 'challenger', at: id });
        const steps = view.round === 1 ? assert?.steps : undefined;
        return found({
          kind: 'move',
          side: 'challenger',
          id,
          values: choiceValues('choice', view.round, mine, steps),
        });
      }
      const c = choiceFromValues(values, 'choice', view.round);
      if (c >= 2 ** b) badChoice = true;
      choices.set(view.round, c);
      return Math.min(c, 2 ** b - 1);
    },
    onReveal(site, r) {
      const mine = players.challenger.onReveal(site, r);
      const read = onChain('requestRead');
      const tape = onChain('requestTape');
      if (tape !== undefined) {
        query = 3;
        return { request: 3 };
      }
      if (read !== undefined) {
        // Which read the second search disputes is not on chain (both reads share one request): the
        // challenger's own rule says it; an operator's answers do not depend on it.
        query = mine !== undefined && 'request' in mine && mine.request !== 3 ? mine.request : 1;
        return { request: query };
      }
      if (mine === undefined) return found({ kind: 'silent', side: 'challenger', at: 'after the reveal' });
      if ('disprove' in mine) return disprove('reveal', mine.disprove, false);
      query = mine.request;
      return found({
        kind: 'move',
        side: 'challenger',
        id: mine.request === 3 ? 'requestTape' : 'requestRead',
        values: requestValues(r),
      });
    },
    chooseRead(q, view, b, readStep) {
      const id = `read/choice′${view.round}`;
      const mine = players.challenger.chooseRead(q, view, b, readStep);
      const values = onChain(id);
      if (values === undefined) {
        if (mine === undefined) return found({ kind: 'silent', side: 'challenger', at: id });
        return found({
          kind: 'move',
          side: 'challenger',
          id,
          values: choiceValues('choice′', view.round, mine),
        });
      }
      const c = choiceFromValues(values, 'choice′', view.round);
      if (c >= 2 ** b) badChoiceRead = true;
      choicesRead.set(view.round, c);
      return Math.min(c, 2 ** b - 1);
    },
    onWriteReveal(site, r) {
      const mine = players.challenger.onWriteReveal(site, r);
      if (mine === undefined) return found({ kind: 'silent', side: 'challenger', at: 'after reveal′' });
      return disprove('read/reveal′', mine, true);
    },
    onTapeReveal(site, path) {
      const mine = players.challenger.onTapeReveal(site, path);
      if (mine === undefined)
        return found({ kind: 'silent', side: 'challenger', at: 'after the tape reveal' });
      return disprove('tape/tapeReveal2', mine, false);
    },
  };

  let outcome: GameOutcome;
  try {
    outcome = playGame(ctx, shape, operator, challenger);
  } catch (err) {
    if (err instanceof TurnFound && turn !== undefined) return turn;
    throw err;
  }
  return { kind: 'over', outcome };
}
