/** Whether this process may build and broadcast transactions: the mode and the mainnet switch. */
import type { BitcoinNetwork } from '../../bitcoin/network.ts';
import { VigilError } from '../../core/errors.ts';

export type WatcherMode = 'watch' | 'challenge' | 'dry-run';

export class SpendingRefusedError extends VigilError {
  override name = 'SpendingRefusedError';
}

export type SpendDecision = 'withhold' | 'build-only' | 'broadcast';

/**
 * Whether a Part II graph may be challenged: as `spendDecision`, except that on mainnet a graph whose
 * disprove leaves run a test circuit is never challenged (`test-circuit`). Such a graph is no fraud proof:
 * anyone holding its presignatures could disprove an honest step that changed the state, and a wrong step
 * that left a checkpoint unchanged could not be disproved, so a challenge could lose Vigil's money.
 */
export function graphChallengeDecision(
  mode: WatcherMode,
  network: BitcoinNetwork,
  allowMainnetSpending: boolean,
  circuit: { readonly test?: boolean },
): SpendDecision | 'test-circuit' {
  if (mode === 'watch') return 'withhold';
  if (network === 'mainnet' && circuit.test === true) return 'test-circuit';
  return spendDecision(mode, network, allowMainnetSpending);
}

export function spendDecision(
  mode: WatcherMode,
  network: BitcoinNetwork,
  allowMainnetSpending: boolean,
): SpendDecision {
  if (mode === 'watch') return 'withhold';
  if (mode === 'dry-run') return 'build-only';
  if (network === 'mainnet' && !allowMainnetSpending) {
    // The config schema refuses this combination already; this is the last line, next to the spend.
    throw new SpendingRefusedError('Refusing to spend on Bitcoin mainnet without allowMainnetSpending: true');
  }
  return 'broadcast';
}
