/**
 * Which refusals make a governance input (docs/protocol.md §1): a table of revert reports, and the
 * canonical-calldata check against viem's encoder. The chain-level cases are in reverted.test.ts.
 */
import { type Abi, encodeAbiParameters, encodeErrorResult, encodeFunctionData, type Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { stakingAbi } from '../../src/l2/contracts/artifacts/abis.ts';
import { classifyRefusal, isCanonicalCall, type RevertReport } from '../../src/l2/refusal.ts';

const errorAbi = [
  { type: 'error', name: 'Rejected', inputs: [{ name: 'rule', type: 'string' }] },
  { type: 'error', name: 'TooEarly', inputs: [{ name: 'nextAllowedBlock', type: 'uint64' }] },
  { type: 'error', name: 'InsufficientBalance', inputs: [] },
  { type: 'error', name: 'InsufficientAllowance', inputs: [] },
  { type: 'error', name: 'NotGovernor', inputs: [] },
] as const satisfies Abi;

const rejected = (rule: string) => encodeErrorResult({ abi: errorAbi, errorName: 'Rejected', args: [rule] });
const panic = (code: bigint): Hex =>
  `0x4e487b71${encodeAbiParameters([{ type: 'uint256' }], [code]).slice(2)}`;
const trace = (data: Hex | undefined, error = 'execution reverted'): RevertReport => ({
  source: 'trace',
  data,
  error,
});

describe('classifyRefusal', () => {
  const table: [string, RevertReport, boolean, ReturnType<typeof classifyRefusal>][] = [
    [
      'a rule named by the contract',
      trace(rejected('queue.quorum')),
      true,
      { kind: 'governance', rule: 'queue.quorum' },
    ],
    [
      'a rule, from non-canonical calldata the contract decoded',
      trace(rejected('stake')),
      false,
      { kind: 'governance', rule: 'stake' },
    ],
    [
      'a rule, learned by eth_call',
      { source: 'call', data: rejected('vote.once'), error: 'execution reverted' },
      true,
      { kind: 'governance', rule: 'vote.once' },
    ],
    ['out of gas (geth)', trace(undefined, 'out of gas'), true, { kind: 'not-input', reason: 'out-of-gas' }],
    [
      'out of gas (anvil eth_call)',
      { source: 'call', data: undefined, error: 'EVM error OutOfGas' },
      true,
      { kind: 'not-input', reason: 'out-of-gas' },
    ],
    [
      'the token: balance',
      trace(encodeErrorResult({ abi: errorAbi, errorName: 'InsufficientBalance' })),
      true,
      { kind: 'not-input', reason: 'token-balance' },
    ],
    [
      'the token: allowance',
      trace(encodeErrorResult({ abi: errorAbi, errorName: 'InsufficientAllowance' })),
      true,
      { kind: 'not-input', reason: 'token-allowance' },
    ],
    [
      'pacing',
      trace(encodeErrorResult({ abi: errorAbi, errorName: 'TooEarly', args: [42n] })),
      true,
      { kind: 'not-input', reason: 'too-early', detail: 'next allowed block 42' },
    ],
    [
      'an arithmetic panic',
      trace(panic(0x11n)),
      true,
      { kind: 'not-input', reason: 'panic', detail: 'code 0x11' },
    ],
    [
      'an empty revert of dirty calldata',
      trace('0x'),
      false,
      { kind: 'not-input', reason: 'malformed-calldata' },
    ],
    [
      'an empty revert of clean calldata',
      trace('0x'),
      true,
      { kind: 'not-input', reason: 'unexplained', detail: 'revert data 0x' },
    ],
    [
      'another contract error',
      trace(encodeErrorResult({ abi: errorAbi, errorName: 'NotGovernor' })),
      true,
      {
        kind: 'not-input',
        reason: 'unexplained',
        detail: `revert data ${encodeErrorResult({ abi: errorAbi, errorName: 'NotGovernor' })}`,
      },
    ],
    [
      'no revert data at all',
      trace(undefined),
      true,
      { kind: 'not-input', reason: 'unexplained', detail: 'the node gave no revert data' },
    ],
    [
      'a re-run that did not revert',
      { source: 'call', data: undefined, error: 'did not revert when re-run at the parent block' },
      true,
      { kind: 'not-input', reason: 'unexplained', detail: 'the node gave no revert data' },
    ],
    [
      'a truncated Rejected',
      trace(rejected('stake').slice(0, 40) as Hex),
      true,
      { kind: 'not-input', reason: 'unexplained', detail: `revert data ${rejected('stake').slice(0, 40)}` },
    ],
  ];
  it.each(table)('%s', (_name, report, canonical, expected) => {
    expect(classifyRefusal(report, canonical)).toEqual(expected);
  });
  it('a governance rule wins over a gas-sounding error only when gas did not run out', () => {
    expect(classifyRefusal(trace(rejected('stake'), 'out of gas'), true)).toEqual({
      kind: 'not-input',
      reason: 'out-of-gas',
    });
  });
});

describe('isCanonicalCall', () => {
  const validator = '0xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1' as const;
  const clean = encodeFunctionData({ abi: stakingAbi, functionName: 'delegate', args: [validator, 5n] });
  const call = { functionName: 'delegate', args: [validator, 5n] as const };
  it('accepts the encoding viem makes', () => {
    expect(isCanonicalCall(stakingAbi as Abi, clean, call)).toBe(true);
  });
  it('refuses dirty address padding, extended and truncated calldata', () => {
    expect(isCanonicalCall(stakingAbi as Abi, `${clean.slice(0, 10)}ff${clean.slice(12)}` as Hex, call)).toBe(
      false,
    );
    expect(isCanonicalCall(stakingAbi as Abi, `${clean}00` as Hex, call)).toBe(false);
    expect(isCanonicalCall(stakingAbi as Abi, clean.slice(0, -2) as Hex, call)).toBe(false);
  });
  it('refuses a value outside its ABI type', () => {
    expect(
      isCanonicalCall(stakingAbi as Abi, clean, { functionName: 'registerValidator', args: [65536] }),
    ).toBe(false);
  });
});
