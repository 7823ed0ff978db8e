import { describe, it } from 'vitest';
import { randomWalk } from './invariants.ts';

describe('simnet invariants under random walks', () => {
  it.each([1, 2, 3, 4, 5])('seed %i: value conserved, reorgs undone exactly, mempool consistent', (seed) => {
    randomWalk(seed, 80);
  });
});
