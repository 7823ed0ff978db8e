import { describe, expect, it } from 'vitest';
import {
  checkpointBoundary,
  firstWrongCheckpoint,
  TraceCheckpointError,
  traceCheckpoints,
} from '../../src/dispute/trace-checkpoints.ts';

const root = (n: number) => Uint8Array.of(n);

describe('trace checkpoints', () => {
  it('cuts n inputs into k steps at floor(i·n/k)', () => {
    expect([0, 1, 2, 3].map((i) => checkpointBoundary(10, 3, i))).toEqual([0, 3, 6, 10]);
    const steps = Array.from({ length: 10 }, (_, j) => root(j + 1));
    expect(traceCheckpoints(root(0), steps, 3).map((r) => r[0])).toEqual([0, 3, 6, 10]);
  });

  it('repeats the pre-root when an epoch has fewer inputs than steps', () => {
    expect(traceCheckpoints(root(0), [root(7)], 3).map((r) => r[0])).toEqual([0, 0, 0, 7]);
  });

  it('refuses empty epochs and k < 1', () => {
    expect(() => traceCheckpoints(root(0), [], 3)).toThrow(TraceCheckpointError);
    expect(() => traceCheckpoints(root(0), [root(1)], 0)).toThrow(/k ≥ 1/);
  });

  it('names the first step whose post-root differs', () => {
    const mine = [0, 3, 6, 10].map(root);
    expect(firstWrongCheckpoint(mine, [0, 3, 6, 10].map(root))).toBeUndefined();
    expect(firstWrongCheckpoint(mine, [0, 3, 9, 11].map(root))).toBe(1);
    expect(firstWrongCheckpoint(mine, [0, 3, 6, 11].map(root))).toBe(2);
    expect(() => firstWrongCheckpoint(mine, [root(0)])).toThrow(/lengths differ/);
  });
});
