/**
 * The devnet operator's equivocation (`--operator equivocate-at:<move>`): the move's transaction in two
 * versions with one txid, the mempool shown one that signs another value and the next block mining the
 * move as played. What Vigil must catch: the version it saw first against the one at depth (§24.7).
 */
import type { MoveValues } from '../dispute/game/move-values.ts';

/**
 * `values` with the first of the mover's own values (not an echo) changed in its last bit: another value
 * of the same size, under the same one-time key.
 */
export function anotherValue(values: MoveValues): MoveValues {
  const label = [...values.keys()].find((l) => !l.startsWith('echo.'));
  if (label === undefined) throw new RangeError('The move signs no value of its own');
  const changed = Uint8Array.from(values.get(label) as Uint8Array);
  changed[changed.length - 1] = (changed[changed.length - 1] as number) ^ 1;
  return new Map(values).set(label, changed);
}
