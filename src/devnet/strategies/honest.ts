/** The two behaviours the devnet always had: assert the operator's own trace, or never assert. */
import type { OperatorStrategy } from './types.ts';

export const assertStrategy: OperatorStrategy = {
  name: 'assert',
  doc: 'when challenged it asserts its own trace at once (a wrong claim is then disproved)',
  expect: 'slashed-by-disprove',
  hooks: () => ({}),
};

export const neverAssertStrategy: OperatorStrategy = {
  name: 'never-assert',
  doc: 'when challenged it never asserts (a wrong claim is then slashed by the assert-timeout)',
  expect: 'slashed-by-timeout',
  hooks: () => ({ assert: () => 'never' }),
};
