/**
 * What an ended epoch's tape is rebuilt from, as plain data that can be posted to another thread: the
 * state the journal starts from (its base, deflated as the derivation keeps it, or genesis), the inputs
 * between that and the epoch, and the epoch's own inputs. Rebuilding is a re-execution of the history
 * since the base (256 epochs behind the newest by default): on a mainnet-size state, seconds of CPU, and
 * then the image's words. The watcher does it on the honest run's thread, never on the main one.
 */
import { inflateRawSync } from 'node:zlib';
import { bytesToHex, equalBytes } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import {
  computeStateRoot,
  createGenesisState,
  type GenesisOptions,
  type GovernanceInput,
  reexecute,
} from '../governance/index.ts';
import { decodeStateSnapshot } from '../governance/state-snapshot.ts';
import { epochTape } from '../machine/programs/state-image.ts';
import type { Tape } from '../machine/tape.ts';

export type TapeRecipe = {
  readonly epoch: bigint;
  /** The journal base's state snapshot, deflated; undefined when the journal starts at genesis. */
  readonly base: Uint8Array | undefined;
  readonly genesis: GenesisOptions;
  /** The inputs from the base to the epoch's first, those the chain overruled left out. */
  readonly prior: readonly GovernanceInput[];
  /** The epoch's inputs, its endEpoch last. */
  readonly inputs: readonly GovernanceInput[];
  /** The root the state before the epoch has: ingestion's, at the previous epoch's end. */
  readonly preRoot: Uint8Array;
};

/** The rebuilt state's root is not the one ingestion computed: a bug or a corrupted base, never played on. */
export class TapeRecipeError extends VigilError {
  override name = 'TapeRecipeError';
}

/** The epoch's tape, by the reference executor, checked to start on the recipe's pre-state root. */
export function tapeOfRecipe(r: TapeRecipe): Tape {
  const state =
    r.base === undefined ? createGenesisState(r.genesis) : decodeStateSnapshot(inflateRawSync(r.base));
  if (r.prior.length > 0) reexecute(r.prior, { state });
  const root = computeStateRoot(state);
  if (!equalBytes(root, r.preRoot)) {
    throw new TapeRecipeError(
      `Epoch ${r.epoch}'s state rebuilt from the journal has root 0x${bytesToHex(root)}, ingestion computed 0x${bytesToHex(r.preRoot)}`,
    );
  }
  return epochTape(state, r.inputs);
}
