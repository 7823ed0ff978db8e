/**
 * `vigil devnet fault` and `vigil devnet operator`: change the operator of a served devnet by rewriting
 * its directory's control file, which the serving process reads before every block. Refused before
 * anything is written when the directory holds no devnet or the strategy cannot be served.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { VigilError, type VigilErrorCategory } from '../core/errors.ts';
import { readServeRecord, type ServeControl, serveDirPaths, servingPid, updateControl } from './serve-dir.ts';
import { checkControl } from './serve-operator-control.ts';

export class NoServedDevnetError extends VigilError {
  override name = 'NoServedDevnetError';
  override readonly category: VigilErrorCategory = 'config';
}

/**
 * Applies `change` to the control of the devnet in `dir`; returns one line saying what changed. An
 * epoch already committed keeps its claim: a fault applies to the epochs that end from now on, at or
 * after its `fromEpoch` and, when it has one, at or before its `toEpoch`.
 */
export async function changeControl(
  dir: string,
  change: (c: ServeControl) => Omit<ServeControl, 'revision'>,
): Promise<string> {
  const paths = serveDirPaths(resolve(dir));
  if (!existsSync(paths.serve)) {
    throw new NoServedDevnetError(`No devnet in ${paths.root}`, {
      metaMessages: ['Create one with: vigil devnet serve --dir <path>'],
    });
  }
  const game = readServeRecord(paths)?.game !== undefined;
  const next = updateControl(paths, (c) => {
    const changed = change(c);
    checkControl({ ...changed, revision: 0 }, game);
    return changed;
  });
  const pid = servingPid(paths);
  const what =
    next.fault === 'none'
      ? 'honest roots'
      : `fault ${next.fault} in every epoch ${faultRange(next)} that ends from now on`;
  return `the operator of ${paths.root}: strategy ${next.strategy}, ${what} (${pid === undefined ? 'not served now: applies when it is' : `served by process ${pid}, applies at its next block`})`;
}

/** "from 4", or "from 4 to 9". */
export const faultRange = (c: ServeControl): string =>
  c.toEpoch === undefined ? `from ${c.fromEpoch}` : `from ${c.fromEpoch} to ${c.toEpoch}`;

/** The control as the serving process tells it. */
export const describeControl = (c: ServeControl): string =>
  `operator: strategy ${c.strategy}; ${c.fault === 'none' ? 'honest roots' : `fault ${c.fault} in epochs ${faultRange(c)}`}`;
