/** Whether this process may build and broadcast transactions: the mode and the mainnet switch. */
import type { BitcoinNetwork } from '../../bitcoin/network.ts';
import { VigilError } from '../../core/errors.ts';

export type WatcherMode = 'watch' | 'challenge' | 'dry-run';

export class SpendingRefusedError extends VigilError {
  override name = 'SpendingRefusedError';
}

export type SpendDecision = 'withhold' | 'build-only' | 'broadcast';

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
