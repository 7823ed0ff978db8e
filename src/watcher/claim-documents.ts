/**
 * The operator's published claim documents (docs/protocol.md §24.1): `claim-<epoch>.json` beside the
 * Part II graph files (`epoch-<n>.json`) in the graph directory. A file is read as the graph files are
 * (no link followed, no FIFO or device opened, nothing past the bound read), and only its text is
 * returned: whether it is the document the operator committed on the L2 is the import's to say.
 */
import { join } from 'node:path';
import { GraphImportError } from '../dispute/graph/errors.ts';
import { readGraphFile } from './graph-registry.ts';

export const claimFileName = (epoch: bigint): string => `claim-${epoch}.json`;

/**
 * Reads epoch `epoch`'s claim document from `dir`: its text, undefined while there is no file, or a
 * GraphImportError for a file that cannot be one (too large, not a regular file, not UTF-8).
 */
export function claimDocumentReader(
  dir: string,
  maxBytes: number,
): (epoch: bigint) => Promise<string | undefined> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return async (epoch) => {
    const file = claimFileName(epoch);
    const read = await readGraphFile(join(dir, file), maxBytes);
    if (read.kind === 'gone') return undefined;
    if (read.kind === 'refused') {
      const defect = read.refusal.reason === 'too_large' ? 'DOCUMENT_TOO_LARGE' : 'MALFORMED';
      throw new GraphImportError(defect, file, read.refusal.message);
    }
    try {
      return decoder.decode(read.bytes);
    } catch (err) {
      throw new GraphImportError('MALFORMED', file, 'not UTF-8 text', { cause: err });
    }
  };
}
