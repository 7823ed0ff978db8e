/** Header violations grouped into runs (src/l2/header-check.ts `ViolationRuns`): pure, no chain. */
import { describe, expect, it } from 'vitest';
import { ViolationRuns } from '../../src/l2/header-check.ts';

const params = { l2GasLimit: 100n, minBaseFee: 10n };
const header = (number: bigint, gasLimit: bigint, baseFeePerGas?: bigint) => ({
  number,
  hash: `0x${number.toString(16).padStart(64, '0')}` as `0x${string}`,
  gasLimit,
  baseFeePerGas,
});

describe('ViolationRuns', () => {
  it('starts a run at the first breaking block, continues it, and ends it when the chain obeys', () => {
    const runs = new ViolationRuns();
    expect(runs.check(header(1n, 100n, 10n), params)).toEqual({ started: [], continued: [], ended: [] });
    const first = runs.check(header(2n, 99n, 10n), params);
    expect(first.started).toEqual([
      {
        param: 'l2GasLimit',
        voted: 100n,
        observed: 99n,
        firstBlock: 2n,
        firstHash: header(2n, 0n).hash,
        blocks: 1,
      },
    ]);
    for (let b = 3n; b <= 1_002n; b++) expect(runs.check(header(b, 99n, 10n), params).started).toEqual([]);
    expect(runs.openRuns()[0]?.blocks).toBe(1_001);
    const end = runs.check(header(1_003n, 100n, 10n), params);
    expect(end.ended.map((r) => [r.param, r.firstBlock, r.blocks])).toEqual([['l2GasLimit', 2n, 1_001]]);
    expect(runs.openRuns()).toEqual([]);
  });

  it('a different observed or voted value is a new run; each parameter has its own', () => {
    const runs = new ViolationRuns();
    runs.check(header(1n, 99n, 5n), params);
    const next = runs.check(header(2n, 98n, 5n), params);
    expect(next.ended.map((r) => r.observed)).toEqual([99n]);
    expect(next.started.map((r) => [r.param, r.observed])).toEqual([['l2GasLimit', 98n]]);
    expect(next.continued.map((r) => r.param)).toEqual(['minBaseFee']);
    const voted = runs.check(header(3n, 98n, 5n), { ...params, l2GasLimit: 97n });
    expect(voted.started.map((r) => [r.voted, r.observed])).toEqual([[97n, 98n]]);
    // A header without baseFeePerGas counts as a base fee of 0.
    expect(runs.check(header(4n, 97n), params).started.map((r) => [r.param, r.voted, r.observed])).toEqual([
      ['l2GasLimit', 100n, 97n],
      ['minBaseFee', 10n, 0n],
    ]);
  });

  it('never counts a header twice, and a rewind forgets the orphaned blocks', () => {
    const runs = new ViolationRuns();
    for (let b = 1n; b <= 10n; b++) runs.check(header(b, 99n, 10n), params);
    expect(runs.check(header(7n, 99n, 10n), params)).toEqual({ started: [], continued: [], ended: [] });
    expect(runs.openRuns()[0]?.blocks).toBe(10);
    runs.rewind(6n);
    expect(runs.openRuns()[0]?.blocks).toBe(6);
    expect(runs.check(header(7n, 99n, 10n), params).continued).toHaveLength(1);
    runs.rewind(0n);
    expect(runs.openRuns()).toEqual([]);
    expect(runs.check(header(1n, 99n, 10n), params).started).toHaveLength(1);
  });
});
