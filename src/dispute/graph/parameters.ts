/**
 * Protocol parameters of one epoch claim's graph, per network. Every amount, timelock and fee of the
 * graph is derived from these; an imported graph must match them exactly.
 *
 * Mainnet figures follow the field: BitVM's 3-day windows (432 blocks), Clementine's ordering
 * (challenge < assert < disprove), BitVM's 95 %/5 % timeout split and 50 %/50 % disprove split,
 * 330-sat connector outputs. Regtest keeps the same shape with windows of a few blocks.
 */
import type { BitcoinNetwork } from '../../bitcoin/network.ts';

export type GraphTimelocks = {
  /** Blocks after the kick-off confirms before the operator may take (nobody challenged). */
  challengeWindow: number;
  /** Blocks after the kick-off confirms before anyone may slash an operator that did not assert. */
  assertWindow: number;
  /** Blocks after the assert confirms before the operator may take the stake back (no disprove). */
  disproveWindow: number;
};

/** Fixed fees of the presigned transactions, in sats (bumped by CPFP through their outputs). */
export type GraphFees = {
  kickoff: bigint;
  take: bigint;
  assert: bigint;
  assertTimeout: bigint;
  disprove: bigint;
  payout: bigint;
};

export type GraphParameters = {
  /** The operator's stake, locked by the kick-off. */
  stake: bigint;
  /** Value of the challenge and assert connector outputs. */
  connectorValue: bigint;
  /** What a challenge pays the operator (output 0 of the challenge): covers its assert costs. */
  challengeAmount: bigint;
  timelocks: GraphTimelocks;
  /** Share of the stake burned by an assert-timeout, in basis points; the rest (minus fee) rewards. */
  timeoutBurnBps: number;
  /** Share of the asserted stake burned by a disprove, in basis points; the rest (minus fee) rewards. */
  disproveBurnBps: number;
  fees: GraphFees;
  /** Steps of the epoch trace the assert commits (roots r_0 … r_{k-1}; r_k is the claimed root). */
  traceSteps: number;
};

const mainnet: GraphParameters = {
  stake: 200_000_000n,
  connectorValue: 330n,
  challengeAmount: 10_000_000n,
  timelocks: { challengeWindow: 432, assertWindow: 864, disproveWindow: 432 },
  timeoutBurnBps: 9_500,
  disproveBurnBps: 5_000,
  fees: {
    kickoff: 50_000n,
    take: 10_000n,
    assert: 100_000n,
    assertTimeout: 10_000n,
    disprove: 60_000n,
    payout: 10_000n,
  },
  traceSteps: 4,
};

const testNetworks: GraphParameters = {
  ...mainnet,
  stake: 10_000_000n,
  challengeAmount: 1_000_000n,
  timelocks: { challengeWindow: 144, assertWindow: 288, disproveWindow: 144 },
  fees: {
    kickoff: 20_000n,
    take: 5_000n,
    assert: 40_000n,
    assertTimeout: 5_000n,
    disprove: 25_000n,
    payout: 5_000n,
  },
};

const regtest: GraphParameters = {
  ...testNetworks,
  timelocks: { challengeWindow: 6, assertWindow: 12, disproveWindow: 6 },
  traceSteps: 3,
};

export const defaultGraphParameters: Record<BitcoinNetwork, GraphParameters> = {
  mainnet,
  testnet: testNetworks,
  testnet4: testNetworks,
  signet: testNetworks,
  regtest,
};

/** The Winternitz-committed values of a graph, by value index (part of every key's domain). */
export const GraphValue = {
  epoch: 0,
  stateRoot: 1,
  l2BlockHash: 2,
  /** Trace root r_i has index traceBase + i. */
  traceBase: 3,
} as const;

export const EPOCH_VALUE_BYTES = 8;
export const ROOT_VALUE_BYTES = 32;
