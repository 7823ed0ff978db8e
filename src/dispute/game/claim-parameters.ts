/**
 * The parameters of a claim graph that Vigil holds for each network (docs/protocol.md §24.2) and checks
 * every claim document against: never taken from the document. Regtest keeps mainnet's structure with
 * windows of a few blocks and a shorter trace bound, so a whole game plays in tens of blocks.
 */
import type { BitcoinNetwork } from '../../bitcoin/network.ts';
import { governanceProgram } from '../../machine/programs/governance.ts';
import type { ClaimParameters } from './claim-document.ts';
import { MAINNET_SEARCH, REGTEST_SEARCH } from './grid.ts';

function mainnet(): ClaimParameters {
  return {
    shape: MAINNET_SEARCH,
    program: governanceProgram(),
    // T_c, T_a, t, T_pay = (4R + 4)·t with R = 6, and the bond's refund after T_a + 2t.
    timelocks: { challenge: 432, assertWindow: 864, move: 72, payout: 2_016, bondRefund: 1_008 },
    // Above the usual mempool floor (§24.11 item 10): a challenger's move has no ladder.
    feeRate: 2n,
    challengeFeeRate: 8n,
    slashFeeRates: [2n, 16n, 128n],
    timeoutFeeRates: [2n, 128n, 2_048n],
    burnBps: 5_000,
    assertTimeoutBurnBps: 9_500,
    values: { stake: 200_000_000n, reserve: 10_000_000n, bond: 10_000_000n },
    maxChallengers: 32,
  };
}

function testNetworks(): ClaimParameters {
  return {
    ...mainnet(),
    timelocks: { challenge: 144, assertWindow: 288, move: 36, payout: 1_008, bondRefund: 360 },
    values: { stake: 10_000_000n, reserve: 1_000_000n, bond: 1_000_000n },
  };
}

function regtest(): ClaimParameters {
  return {
    shape: REGTEST_SEARCH,
    program: governanceProgram(),
    timelocks: { challenge: 6, assertWindow: 12, move: 3, payout: 60, bondRefund: 20 },
    feeRate: 1n,
    slashFeeRates: [1n, 8n, 64n],
    timeoutFeeRates: [1n, 64n, 1_024n],
    burnBps: 5_000,
    assertTimeoutBurnBps: 9_500,
    values: { stake: 10_000_000n, reserve: 600_000n, bond: 1_100_000n },
    // The registry keeps 8 slots for independent verifiers, so it lists up to 9 or more: W_max must allow it.
    maxChallengers: 10,
  };
}

const cache = new Map<BitcoinNetwork, ClaimParameters>();

/** Vigil's claim parameters for `network` (built once: the program is assembled on first use). */
export function claimParameters(network: BitcoinNetwork): ClaimParameters {
  let p = cache.get(network);
  if (p === undefined) {
    p = network === 'mainnet' ? mainnet() : network === 'regtest' ? regtest() : testNetworks();
    cache.set(network, p);
  }
  return p;
}

/**
 * The least a bond coin must hold to pay its challenge: the bond b, the challenge's fee at its rate (its
 * transaction is under 1,000 vB with a committee of any size the graph allows: a covenant leaf spend of
 * A_w, w's key-path spend, two outputs) and 330
 * sats of change. The claim graph refuses a bundle's coin that holds less.
 */
export const bondCoinMinimum = (p: ClaimParameters): bigint =>
  p.values.bond + (p.challengeFeeRate ?? p.feeRate) * 1_000n + 330n;
