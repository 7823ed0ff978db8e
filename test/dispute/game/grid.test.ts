/** The search grid (docs/protocol.md §24.2–24.3): rounds, split points, and choices that spell a step. */
import { describe, expect, it } from 'vitest';
import {
  choiceFor,
  MAINNET_SEARCH,
  narrow,
  REGTEST_SEARCH,
  roundBits,
  SearchShapeError,
  searchRounds,
  splitPoints,
  stepOfChoices,
  wholeTrace,
} from '../../../src/dispute/game/grid.ts';
import { paddedChainValue } from '../../../src/machine/chain.ts';

describe('the search grid', () => {
  it("has §24.2's rounds: 6 at K = 29 (the last of 4 bits), 4 at K = 20, ⌈K / log2 n⌉ in general", () => {
    expect(roundBits(MAINNET_SEARCH)).toEqual([5, 5, 5, 5, 5, 4]);
    expect(roundBits(REGTEST_SEARCH)).toEqual([5, 5, 5, 5]);
    expect(roundBits({ pointsPerRound: 2, depth: 3 })).toEqual([1, 1, 1]);
    // §24.2's table of rounds per search.
    const table: Array<[number, number, number]> = [
      [20, 2, 20],
      [20, 8, 7],
      [20, 16, 5],
      [20, 64, 4],
      [25, 8, 9],
      [25, 16, 7],
      [25, 32, 5],
      [25, 64, 5],
      [29, 8, 10],
      [29, 16, 8],
      [29, 32, 6],
      [29, 64, 5],
    ];
    for (const [depth, pointsPerRound, rounds] of table) {
      expect(searchRounds({ pointsPerRound, depth }), `K = ${depth}, n = ${pointsPerRound}`).toBe(rounds);
    }
  });

  it('splits a segment into 2^bits parts at its 2^bits − 1 interior points', () => {
    expect(splitPoints({ left: 0, width: 32 }, 2)).toEqual([8, 16, 24]);
    expect(splitPoints(wholeTrace(REGTEST_SEARCH), 5)).toHaveLength(31);
    expect(narrow({ left: 64, width: 32 }, 2, 3)).toEqual({ left: 88, width: 8 });
    expect(choiceFor({ left: 64, width: 32 }, 2, 88)).toBe(3);
    expect(choiceFor({ left: 64, width: 32 }, 2, 87)).toBe(2);
  });

  it('spells every step back from the choices that aim at it, for every shape', () => {
    for (const shape of [
      MAINNET_SEARCH,
      REGTEST_SEARCH,
      { pointsPerRound: 8, depth: 22 },
      { pointsPerRound: 2, depth: 7 },
    ]) {
      const bits = roundBits(shape);
      for (const step of [0, 1, 2, 31, 32, 12_345, 2 ** shape.depth - 2, 2 ** shape.depth - 1]) {
        if (step >= 2 ** shape.depth) continue;
        let segment = wholeTrace(shape);
        const choices = bits.map((b) => {
          const c = choiceFor(segment, b, step);
          segment = narrow(segment, b, c);
          return c;
        });
        expect(segment).toEqual({ left: step, width: 1 });
        expect(stepOfChoices(shape, choices)).toBe(step);
      }
    }
  });

  it('refuses shapes and moves that cannot be played, with a clear error', () => {
    expect(() => roundBits({ pointsPerRound: 24, depth: 20 })).toThrow(/power of two/);
    expect(() => roundBits({ pointsPerRound: 32, depth: 30 })).toThrow(/depth K must be 1 \.\. 29/);
    expect(() => roundBits({ pointsPerRound: 32, depth: 0 })).toThrow(SearchShapeError);
    expect(() => narrow({ left: 0, width: 32 }, 5, 32)).toThrow(/0 \.\. 31/);
    expect(() => narrow({ left: 0, width: 2 }, 5, 0)).toThrow(/cannot be split/);
    expect(() => choiceFor({ left: 0, width: 32 }, 5, 32)).toThrow(/outside/);
    expect(() => stepOfChoices(REGTEST_SEARCH, [0, 0, 0])).toThrow(/4 choices/);
  });

  it('pads a chain with its last value', () => {
    const chain = [Uint8Array.of(0), Uint8Array.of(1), Uint8Array.of(2)];
    expect(paddedChainValue(chain, 1)).toEqual(Uint8Array.of(1));
    expect(paddedChainValue(chain, 2)).toEqual(Uint8Array.of(2));
    expect(paddedChainValue(chain, 2 ** 29)).toEqual(Uint8Array.of(2));
    expect(() => paddedChainValue([], 0)).toThrow(/empty chain/);
    expect(() => paddedChainValue(chain, -1)).toThrow(/position/);
  });
});
