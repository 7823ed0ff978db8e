/**
 * A served devnet's workload: the devnet's seeded workload (src/l2/devnet.ts `devnetWorkload`) with the
 * epoch length a served network was created with. The default, 30 inputs an epoch, is the devnet's own
 * and gives the same inputs as `devnetWorkload`; a soak serves short epochs (6) so that thousands of them
 * run in minutes.
 */
import type { GovernanceInput } from '../governance/index.ts';
import { generateWorkload, type Workload } from '../governance/workload.ts';
import { DEVNET_REJECTED_SHARE } from '../l2/devnet.ts';

/** The devnet's epoch length (src/l2/devnet.ts). */
export const DEFAULT_EPOCH_LENGTH = 30;
/** Below this an epoch has hardly room for an input besides its end. */
export const MIN_EPOCH_LENGTH = 2;

export function servedWorkload(o: { seed: number; epochs: number; epochLength: number }): Workload {
  const { epochs, epochLength } = o;
  // The generator's epochs run longer than `epochLength` when it is short; a workload that ends too
  // soon is made again, longer (the same seed gives the same inputs, so the result is still a function
  // of seed, epochs and epoch length).
  for (let inputs = Math.ceil(epochs * epochLength * 1.4) + 20; ; inputs *= 2) {
    const w = generateWorkload({ seed: o.seed, inputs, epochLength, rejected: DEVNET_REJECTED_SHARE });
    // Cut after the requested number of epoch ends.
    let seen = 0;
    const cut: GovernanceInput[] = [];
    for (const i of w.inputs) {
      cut.push(i);
      if (i.kind === 'endEpoch' && ++seen === epochs) return { genesis: w.genesis, inputs: cut };
    }
  }
}
