/** The devnet summary's judgement of L2 execution faults against a faulty sequencer's own record. */
import { describe, expect, it } from 'vitest';
import { judgeL2Faults } from '../../src/devnet/rollup-expectations.ts';
import type { L2ExecutionFault } from '../../src/l2/governance-ingester.ts';
import type { SequencerDeviation } from '../../src/l2/rollup-sequencer.ts';

const violation = (block: bigint, param: 'l2GasLimit' | 'minBaseFee', voted: bigint, observed: bigint) =>
  ({
    kind: 'rollup-param-violated',
    block,
    blockHash: `0x${'ab'.repeat(32)}`,
    param,
    voted,
    observed,
  }) as const;
const deviation: SequencerDeviation = { block: 40n, param: 'l2GasLimit', inForce: 10n, observed: 12n };

describe('judgeL2Faults', () => {
  it('accepts Vigil reporting the first broken block with its values, then every later one', () => {
    const faults: L2ExecutionFault[] = [
      violation(40n, 'l2GasLimit', 10n, 12n),
      violation(41n, 'l2GasLimit', 10n, 12n),
    ];
    expect(judgeL2Faults(faults, [deviation])).toEqual({
      findings: [{ block: 40n, param: 'l2GasLimit', voted: 10n, observed: 12n }],
      problems: [],
    });
  });

  it('names a break Vigil missed, a late or wrong report, and a report of a chain that obeyed', () => {
    expect(judgeL2Faults([], [deviation]).problems).toEqual([
      'the L2 broke l2GasLimit at block 40 (in force 10, block has 12) and Vigil did not report it',
    ]);
    expect(judgeL2Faults([violation(41n, 'l2GasLimit', 10n, 12n)], [deviation]).problems[0]).toContain(
      'Vigil reported l2GasLimit broken at block 41',
    );
    expect(judgeL2Faults([violation(40n, 'l2GasLimit', 11n, 12n)], [deviation]).problems).toHaveLength(1);
    expect(judgeL2Faults([violation(7n, 'minBaseFee', 5n, 1n)], []).problems).toEqual([
      'Vigil reported minBaseFee broken at block 7 (voted 5, observed 1), but the L2 obeyed it',
    ]);
  });

  it('counts every other kind of L2 execution fault as a problem in any run', () => {
    const other: L2ExecutionFault = {
      kind: 'reverted-input-accepted',
      block: 3n,
      txHash: '0x01',
      inputKind: 'stake',
      rule: 'stake',
    };
    expect(judgeL2Faults([other], []).problems).toEqual([
      "1 L2 execution faults (reverted-input-accepted): the contracts' state differs from the reference model (a bug in one of them)",
    ]);
  });
});
