/**
 * The echo check (circuits/gvm/echo.ts, docs/protocol.md §24.11 item 1), in Vigil's interpreter with
 * real Winternitz keys: a move whose echoes equal the opponent's values spends, any differing digit or
 * forged signature does not. And the hole it closes: a last-step leaf keyed to the challenger's own
 * choice keys is spent against an honest reveal by a challenger that re-signs its choices to spell
 * T′ − 1; keyed to the operator's echo of the played choices, it is not, whatever the challenger signs.
 */
import { describe, expect, it } from 'vitest';
import { echoLeaf, echoWitness } from '../../../circuits/gvm/echo.ts';
import {
  choiceBytes,
  isWrongLastStep,
  lastStepLeaf,
  lastStepWitness,
} from '../../../circuits/gvm/game-leaves.ts';
import type { SearchShape } from '../../../src/dispute/game/grid.ts';
import { wotsPublicKey } from '../../../src/dispute/winternitz/keys.ts';
import { smallBytes, wordBytes } from '../../../src/machine/isa.ts';
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
