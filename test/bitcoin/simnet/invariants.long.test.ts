import { describe, it } from 'vitest';
import { randomWalk } from './invariants.ts';

describe('simnet invariants under long random walks', () => {
  it.each(Array.from({ length: 40 }, (_, i) => 1000 + i))('seed %i', (seed) => {
    randomWalk(seed, 400);
  });
});
