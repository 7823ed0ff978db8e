/**
 * The echo check (circuits/gvm/echo.ts, docs/protocol.md §24.11 items 1 and 2), in Vigil's interpreter
 * with real Winternitz keys: a move whose echoes equal the opponent's values spends, any differing digit
 * or forged signature does not. And the holes it closes: a last-step leaf keyed to the challenger's own
 * choice keys is spent against an honest reveal by a challenger that re-signs its choices to spell
 * T′ − 1; keyed to the operator's echo of the played choices, it is not, whatever the challenger signs.
 * The other way round, the operator's refusals: past end keyed to the operator's own T′ key is spent by
 * an operator that re-signs T′ − 1 to dodge a reveal it owes, and not-a-tape-step keyed to its own pc and
 * waddr keys by one that re-signs another pc; keyed to the challenger's echoes of those values (carried
 * by choice 1 and the request), neither spends, while a refusal the operator is owed still does.
 */
import { describe, expect, it } from 'vitest';
import { echoLeaf, echoWitness } from '../../../circuits/gvm/echo.ts';
import {
  choiceBytes,
  isNotATapeStep,
  isPastEnd,
  isWrongLastStep,
  lastStepLeaf,
  lastStepWitness,
  notATapeStepLeaf,
  notATapeStepWitness,
  pastEndLeaf,
  pastEndWitness,
} from '../../../circuits/gvm/game-leaves.ts';
import type { SearchShape } from '../../../src/dispute/game/grid.ts';
import { wotsPublicKey } from '../../../src/dispute/winternitz/keys.ts';
import { NONE, smallBytes, wordBytes } from '../../../src/machine/isa.ts';
import { digitForgeries, expectStandardSpend, rng, spends, valueSecret, wotsSign } from './helpers.ts';

const SHAPE: SearchShape = { pointsPerRound: 8, depth: 6 };

/** Keys of one side: a seed byte, and one value index per committed value. */
const keyOf = (seed: string, index: number, bytes: number) => valueSecret(seed, 3, index, bytes);

describe('the echo check', () => {
  const values = [choiceBytes(5), choiceBytes(0), smallBytes(1_234_567), wordBytes(2n ** 255n + 77n)];
  const theirs = values.map((v, k) => keyOf('c1', k, v.length));
  const ours = values.map((v, k) => keyOf('a0', k, v.length));
  const pairs = values.map((_, k) => ({
    theirs: wotsPublicKey(theirs[k] as never),
    ours: wotsPublicKey(ours[k] as never),
  }));
  const script = echoLeaf(pairs);
  const witnessFor = (echoes: readonly Uint8Array[]) =>
    echoWitness(
      values.map((v, k) => ({
        theirs: wotsSign(theirs[k] as never, v),
        ours: wotsSign(ours[k] as never, echoes[k] as Uint8Array),
      })),
    );

  it('spends when every echo equals the opponent value, within standard limits', () => {
    expectStandardSpend(script, witnessFor(values));
  });

  it('refuses an echo that differs in any one value, by any one byte', () => {
    const next = rng(11);
    for (let k = 0; k < values.length; k++) {
      for (let t = 0; t < 6; t++) {
        const echoes = values.map((v) => v.slice());
        const echo = echoes[k] as Uint8Array;
        const at = next() % echo.length;
        echo[at] = ((echo[at] as number) + 1 + (next() % 255)) & 0xff;
        expect(echo).not.toEqual(values[k]);
        expect(spends(script, witnessFor(echoes)), `value ${k}`).toBe(false);
      }
    }
  });

  it('refuses forged signatures of the right values', () => {
    const next = rng(12);
    for (let t = 0; t < 20; t++) {
      for (const forged of digitForgeries(witnessFor(values), next))
        expect(spends(script, forged)).toBe(false);
    }
  });

  it('refuses pairs of different sizes at build time', () => {
    expect(() => echoLeaf([{ theirs: pairs[0]!.theirs, ours: pairs[2]!.ours }])).toThrow(
      /1 bytes, the echo 4/,
    );
    expect(() => echoLeaf([])).toThrow(/at least one/);
  });
});

describe('what the echo closes (§24.11 item 1)', () => {
  // An honest reveal of step 5 (choices [0, 5] played), T′ = 40, its pc not a halt.
  const played = [0, 5];
  const T = 40;
  const halts = [63];
  const revealPc = 7;
  const r1value = 99n;
  const root = 99n;
  const forged = [4, 7]; // spells 39 = T′ − 1
  const challengerChoice = played.map((_, r) => keyOf('c1', 10 + r, 1));
  const operatorEcho = played.map((_, r) => keyOf('a0', 10 + r, 1));
  const op = {
    steps: keyOf('a0', 20, 4),
    pc: keyOf('a0', 21, 4),
    r1value: keyOf('a0', 22, 32),
    root: keyOf('a0', 23, 32),
  };
  const opSigs = {
    steps: wotsSign(op.steps, smallBytes(T)),
    pc: wotsSign(op.pc, smallBytes(revealPc)),
    r1value: wotsSign(op.r1value, wordBytes(r1value)),
    root: wotsSign(op.root, wordBytes(root)),
  };
  const leafWith = (choiceKeys: typeof challengerChoice) =>
    lastStepLeaf(SHAPE, halts, {
      choices: choiceKeys.map((k) => wotsPublicKey(k)),
      steps: wotsPublicKey(op.steps),
      pc: wotsPublicKey(op.pc),
      r1value: wotsPublicKey(op.r1value),
      root: wotsPublicKey(op.root),
    }).script;
  const witness = (choiceKeys: typeof challengerChoice, choices: readonly number[]) =>
    lastStepWitness(SHAPE, {
      choices: choiceKeys.map((k, r) => wotsSign(k, choiceBytes(choices[r] as number))),
      ...opSigs,
    });

  it('keyed to the challenger’s own choice keys, a re-signed choice disproves an honest reveal (the hole)', () => {
    expect(isWrongLastStep(SHAPE, halts, played, T, revealPc, r1value, root)).toBe(false);
    expect(isWrongLastStep(SHAPE, halts, forged, T, revealPc, r1value, root)).toBe(true);
    expect(spends(leafWith(challengerChoice), witness(challengerChoice, played))).toBe(false);
    expect(spends(leafWith(challengerChoice), witness(challengerChoice, forged))).toBe(true);
  });

  it('keyed to the operator’s echo, only the played choices can be shown, and they do not disprove it', () => {
    const leaf = leafWith(operatorEcho);
    // The operator's echo of the played choices, copied from its reveal: no spend.
    expect(spends(leaf, witness(operatorEcho, played))).toBe(false);
    // The challenger holds only its own keys: its signatures of the forged choices fail the operator's keys.
    expect(spends(leaf, witness(challengerChoice, forged))).toBe(false);
    // And the reveal could only confirm with an echo equal to the choices played.
    const check = echoLeaf(
      played.map((_, r) => ({
        theirs: wotsPublicKey(challengerChoice[r]!),
        ours: wotsPublicKey(operatorEcho[r]!),
      })),
    );
    const echoed = (echo: readonly number[]) =>
      echoWitness(
        played.map((c, r) => ({
          theirs: wotsSign(challengerChoice[r]!, choiceBytes(c)),
          ours: wotsSign(operatorEcho[r]!, choiceBytes(echo[r] as number)),
        })),
      );
    expect(spends(check, echoed(played))).toBe(true);
    expect(spends(check, echoed(forged))).toBe(false);
  });
});

describe('what the echo closes (§24.11 item 2): refusals read the challenger’s echoes, never the operator’s own values', () => {
  // The operator asserted the true length T′ = 40 but lied on the way, and the challenger narrowed the
  // search to its last step, 39 (choices [4, 7]). It owes a reveal; past-end must not let it take the bond.
  const played = [4, 7];
  const T = 40;
  const choiceKeys = played.map((_, r) => keyOf('c1', 30 + r, 1));
  const choiceSigs = played.map((c, r) => wotsSign(choiceKeys[r]!, choiceBytes(c)));
  const operatorSteps = keyOf('a0', 30, 4);
  const challengerEchoOfSteps = keyOf('c1', 40, 4);
  const pastEnd = (stepsKey: typeof operatorSteps) =>
    pastEndLeaf(SHAPE, { choices: choiceKeys.map((k) => wotsPublicKey(k)), steps: wotsPublicKey(stepsKey) })
      .script;
  const refusal = (stepsKey: typeof operatorSteps, steps: number) =>
    pastEndWitness(SHAPE, { choices: choiceSigs, steps: wotsSign(stepsKey, smallBytes(steps)) });

  it('past end keyed to the operator’s own T′ key: it re-signs T′ − 1 and refuses (the hole)', () => {
    expect(isPastEnd(SHAPE, played, T)).toBe(false);
    expect(isPastEnd(SHAPE, played, T - 1)).toBe(true);
    expect(spends(pastEnd(operatorSteps), refusal(operatorSteps, T))).toBe(false);
    expect(spends(pastEnd(operatorSteps), refusal(operatorSteps, T - 1))).toBe(true);
  });

  it('keyed to the challenger’s echo of T′, the operator can show only the echo choice 1 carried', () => {
    const leaf = pastEnd(challengerEchoOfSteps);
    // The echo copied from choice 1's witness: no spend.
    expect(spends(leaf, refusal(challengerEchoOfSteps, T))).toBe(false);
    // T′ − 1 under the operator's own key fails the challenger's key.
    expect(spends(leaf, refusal(operatorSteps, T - 1))).toBe(false);
    // And choice 1 confirms only with an echo equal to the asserted T′ (its input's echo check).
    const check = echoLeaf([
      { theirs: wotsPublicKey(operatorSteps), ours: wotsPublicKey(challengerEchoOfSteps) },
    ]);
    const echoed = (echo: number) =>
      echoWitness([
        {
          theirs: wotsSign(operatorSteps, smallBytes(T)),
          ours: wotsSign(challengerEchoOfSteps, smallBytes(echo)),
        },
      ]);
    expect(spends(check, echoed(T))).toBe(true);
    expect(spends(check, echoed(T - 1))).toBe(false);
    // An honest refusal still works on the echo: choices that spell a step at or past T′.
    const pastChoices = [5, 0];
    expect(isPastEnd(SHAPE, pastChoices, T)).toBe(true);
    expect(
      spends(
        leaf,
        pastEndWitness(SHAPE, {
          choices: pastChoices.map((c, r) => wotsSign(choiceKeys[r]!, choiceBytes(c))),
          steps: wotsSign(challengerEchoOfSteps, smallBytes(T)),
        }),
      ),
    ).toBe(true);
  });

  // The reveal showed a `tape` step at pc 12 that wrote address 300; the challenger asked for its path.
  const tapePositions = [12, 31];
  const revealed = { pc: 12, waddr: 300 };
  const operatorPc = keyOf('a0', 50, 4);
  const operatorWaddr = keyOf('a0', 51, 4);
  const echoPc = keyOf('c1', 50, 4);
  const echoWaddr = keyOf('c1', 51, 4);
  const notTape = (pcKey: typeof operatorPc, waddrKey: typeof operatorPc) =>
    notATapeStepLeaf(tapePositions, { pc: wotsPublicKey(pcKey), waddr: wotsPublicKey(waddrKey) }).script;
  const refuseTape = (pcKey: typeof operatorPc, waddrKey: typeof operatorPc, pc: number, waddr: number) =>
    notATapeStepWitness({
      pc: wotsSign(pcKey, smallBytes(pc)),
      waddr: wotsSign(waddrKey, smallBytes(waddr)),
    });

  it('not a tape step keyed to the operator’s own pc and waddr keys: it re-signs them and refuses (the hole)', () => {
    expect(isNotATapeStep(tapePositions, revealed.pc, revealed.waddr)).toBe(false);
    const leaf = notTape(operatorPc, operatorWaddr);
    expect(spends(leaf, refuseTape(operatorPc, operatorWaddr, revealed.pc, revealed.waddr))).toBe(false);
    expect(spends(leaf, refuseTape(operatorPc, operatorWaddr, 13, revealed.waddr))).toBe(true);
    expect(spends(leaf, refuseTape(operatorPc, operatorWaddr, revealed.pc, NONE))).toBe(true);
  });

  it('keyed to the challenger’s echoes of pc and waddr, the revealed tape step cannot be refused', () => {
    const leaf = notTape(echoPc, echoWaddr);
    expect(spends(leaf, refuseTape(echoPc, echoWaddr, revealed.pc, revealed.waddr))).toBe(false);
    expect(spends(leaf, refuseTape(operatorPc, operatorWaddr, 13, NONE))).toBe(false);
    expect(spends(leaf, refuseTape(operatorPc, echoWaddr, 13, revealed.waddr))).toBe(false);
    // A step that is not a tape step is still refused on the echoes.
    expect(spends(leaf, refuseTape(echoPc, echoWaddr, 13, revealed.waddr))).toBe(true);
  });
});
