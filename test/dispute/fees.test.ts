import { describe, expect, it } from 'vitest';
import {
  challengeChange,
  cpfpChildFee,
  type FeeCap,
  FeeCapExceededError,
  feeFor,
  feeRateOf,
  InsufficientFundsError,
  replacementFee,
} from '../../src/dispute/graph/fees.ts';

const cap: FeeCap = { maxFeeRate: 100n, maxFee: 500_000n };

describe('challenge fees: RBF, CPFP and the hard cap', () => {
  const replacements: [string, Parameters<typeof replacementFee>[0], bigint | 'cap'][] = [
    ['target above the old fee', { previousFee: 1_000n, vsize: 263, targetFeeRate: 20n, cap }, 5_260n],
    [
      'target below old fee + incremental',
      { previousFee: 5_000n, vsize: 263, targetFeeRate: 20n, cap },
      5_263n,
    ],
    [
      'custom incremental rate',
      { previousFee: 5_000n, vsize: 263, targetFeeRate: 1n, incrementalFeeRate: 2n, cap },
      5_526n,
    ],
    ['over the rate cap', { previousFee: 1_000n, vsize: 263, targetFeeRate: 101n, cap }, 'cap'],
    ['old fee already at the cap', { previousFee: 26_300n, vsize: 263, targetFeeRate: 10n, cap }, 'cap'],
  ];
  it.each(replacements)('replacement: %s', (_n, args, want) => {
    if (want === 'cap') expect(() => replacementFee(args)).toThrow(FeeCapExceededError);
    else expect(replacementFee(args)).toBe(want);
  });

  const children: [string, Parameters<typeof cpfpChildFee>[0], bigint | 'cap'][] = [
    [
      'lifts the package to the target',
      { parentFee: 263n, parentVsize: 263, childVsize: 111, targetFeeRate: 10n, cap },
      3_740n - 263n,
    ],
    [
      'pays at least its own relay fee',
      { parentFee: 20_000n, parentVsize: 263, childVsize: 111, targetFeeRate: 10n, cap },
      111n,
    ],
    [
      'the cap covers the package',
      { parentFee: 263n, parentVsize: 263, childVsize: 111, targetFeeRate: 150n, cap },
      'cap',
    ],
    [
      'the absolute cap',
      { parentFee: 263n, parentVsize: 10_000, childVsize: 111, targetFeeRate: 60n, cap },
      'cap',
    ],
  ];
  it.each(children)('CPFP child: %s', (_n, args, want) => {
    if (want === 'cap') expect(() => cpfpChildFee(args)).toThrow(FeeCapExceededError);
    else {
      const fee = cpfpChildFee(args);
      expect(fee).toBe(want);
      // The package never pays less than the target rate.
      expect(feeRateOf(args.parentFee + fee, args.parentVsize + args.childVsize)).toBeGreaterThanOrEqual(
        args.targetFeeRate,
      );
    }
  });

  it('computes challenge change, folds dust into the fee, refuses shortfalls', () => {
    const funds = { contributed: 1_100_000n, challengeAmount: 1_000_000n, connectorValue: 330n };
    expect(challengeChange(funds, 5_000n)).toBe(95_330n);
    expect(challengeChange(funds, 100_100n)).toBe(0n);
    expect(() => challengeChange(funds, 100_331n)).toThrow(InsufficientFundsError);
    expect(feeFor(263, 10n, cap)).toBe(2_630n);
    expect(() => feeFor(263, 101n, cap)).toThrow(FeeCapExceededError);
  });
});
