/**
 * The model's state as the governance program's tape holds it (docs/protocol.md §23): the state image,
 * one 32-byte word per field, whose root is the state root; and one epoch's tape, that image with the
 * epoch's inputs after it. Pure.
 */
import type { GovernanceInput, GovernanceState } from '../../governance/index.ts';
import { wordOf } from '../isa.ts';
import { Tape } from '../tape.ts';
import { encodeInputsTape } from './inputs-tape.ts';

/** The state image as words. */
export function imageWords(state: GovernanceState): bigint[] {
  const bytes = state.leaves.image();
  const words: bigint[] = [];
  for (let i = 0; i < bytes.length; i += 32) words.push(wordOf(bytes.subarray(i, i + 32)));
  return words;
}

/**
 * The tape of one epoch: the state before its first input, and its inputs. The image half is the state's
 * own tree from the record roots up, not hashed again.
 */
export function epochTape(before: GovernanceState, inputs: readonly GovernanceInput[]): Tape {
  const { words, recordLevels } = before.leaves.imageWithLevels();
  return Tape.fromStateImage(words, recordLevels, encodeInputsTape(inputs));
}
